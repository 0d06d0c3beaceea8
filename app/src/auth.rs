//! Sign-in, sign-out and "who is asking": the session holds a user id, and every request
//! re-reads that user, so a role change or a disabled account takes effect at once.

use crate::error::AppError;
use crate::model::Role;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

#[server(prefix = "/api", endpoint = "me")]
pub async fn who_am_i() -> Result<Option<CurrentUser>, AppError> {
    ssr::session_user().await
}

/// True while no user exists: the login page then says how to create the first admin.
#[server(prefix = "/api", endpoint = "needs_first_admin")]
pub async fn needs_first_admin() -> Result<bool, AppError> {
    let state = crate::state::state()?;
    Ok(crate::api::users::ssr::count(&state.pool).await? == 0)
}

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(name: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::throttle::wait_in_words;
    use std::time::Instant;

    let state = crate::state::state()?;
    let addr = ssr::client_addr();
    if let Err(wait) = state.throttle.check(&name, addr, Instant::now()) {
        return Err(AppError::TooManyAttempts(format!(
            "Too many failed sign-ins for this account from your address. Try again in {}.",
            wait_in_words(wait)
        )));
    }
    let found: Option<(i64, String, bool, String)> =
        sqlx::query_as("SELECT id, password_hash, disabled, role FROM users WHERE name = ?")
            .bind(name.trim())
            .fetch_optional(&state.pool)
            .await?;
    // Verify against a dummy hash when the user is unknown, so timing does not tell which
    // names exist.
    let hash = match &found {
        Some((_, hash, ..)) => hash.clone(),
        None => ssr::dummy_hash().await?,
    };
    let verified = ssr::verify_password(password, hash).await?;
    let Some((id, _, disabled, role)) = found.filter(|_| verified) else {
        state.throttle.record_failure(&name, addr, Instant::now());
        tracing::warn!(user = %name.trim(), %addr, "failed sign-in");
        return Err(AppError::Invalid("Wrong user name or password.".into()));
    };
    if disabled {
        return Err(AppError::Forbidden(
            "This account is disabled. Ask an admin to enable it.".into(),
        ));
    }
    state.throttle.record_success(&name, addr);

    let session = ssr::session().await?;
    // A fresh id at sign-in defeats session fixation.
    session
        .cycle_id()
        .await
        .map_err(|e| AppError::internal("session cycle", e))?;
    session
        .insert(ssr::SESSION_USER, id)
        .await
        .map_err(|e| AppError::internal("session insert", e))?;
    crate::api::audit::ssr::record(
        &state.pool,
        name.trim(),
        "auth.login",
        name.trim(),
        None,
        None,
    )
    .await?;
    // Reviewers come for the picture: a viewer signing in without a destination lands on a
    // gateway's diagram.
    let to = match next.as_deref().map(str::trim) {
        None | Some("") | Some("/") if role == Role::Viewer.as_str() => {
            crate::api::diagram::ssr::landing(&state.pool).await?
        }
        other => safe_next(other),
    };
    leptos_axum::redirect(&to);
    Ok(())
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let state = crate::state::state()?;
    let session = ssr::session().await?;
    if let Some(user) = ssr::resolve(&state.pool, &session).await? {
        crate::api::audit::ssr::record(
            &state.pool,
            &user.name,
            "auth.logout",
            &user.name,
            None,
            None,
        )
        .await?;
    }
    session
        .flush()
        .await
        .map_err(|e| AppError::internal("session flush", e))?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Only same-site paths: an open redirect after sign-in would hand phishers a trusted link.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.into(),
        _ => "/".into(),
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::CurrentUser;
    use crate::error::AppError;
    use crate::model::Role;
    use crate::state::state;
    use argon2::password_hash::{rand_core::OsRng, SaltString};
    use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
    use sqlx::SqlitePool;
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    use tokio::sync::OnceCell;
    use tower_sessions::Session;

    pub const SESSION_USER: &str = "uid";

    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>()
            .await
            .map_err(|e| AppError::internal("session layer missing", e))
    }

    /// The signed-in, enabled user of this session, if any.
    pub async fn resolve(
        pool: &SqlitePool,
        session: &Session,
    ) -> Result<Option<CurrentUser>, AppError> {
        let id = session
            .get::<i64>(SESSION_USER)
            .await
            .map_err(|e| AppError::internal("session read", e))?;
        let Some(id) = id else { return Ok(None) };
        let row: Option<(i64, String, String)> =
            sqlx::query_as("SELECT id, name, role FROM users WHERE id = ? AND disabled = 0")
                .bind(id)
                .fetch_optional(pool)
                .await?;
        Ok(row.and_then(|(id, name, role)| {
            Some(CurrentUser {
                id,
                name,
                role: role.parse().ok()?,
            })
        }))
    }

    pub async fn session_user() -> Result<Option<CurrentUser>, AppError> {
        resolve(&state()?.pool, &session().await?).await
    }

    /// The caller, if their role is at least `min`. `action` completes "Your role cannot …".
    pub async fn require(min: Role, action: &str) -> Result<CurrentUser, AppError> {
        match session_user().await? {
            None => Err(AppError::Unauthenticated),
            Some(user) if user.role < min => Err(AppError::Forbidden(format!(
                "Your role ({}) cannot {action}: that needs {min}{}.",
                user.role,
                if min == Role::Admin { "" } else { " or admin" }
            ))),
            Some(user) => Ok(user),
        }
    }

    pub fn client_addr() -> IpAddr {
        leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|p| {
                p.extensions
                    .get::<axum::extract::ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip())
            })
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    /// argon2id with the crate's defaults (19 MiB, 2 passes): CPU-heavy, so off the runtime.
    pub async fn hash_password(password: String) -> Result<String, AppError> {
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await
        .map_err(|e| AppError::internal("hash task", e))?
        .map_err(|e| AppError::internal("hash password", e))
    }

    pub async fn verify_password(password: String, hash: String) -> Result<bool, AppError> {
        tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .map_err(|e| AppError::internal("verify task", e))?
        .map_err(|e| AppError::internal("stored hash unreadable", e))
    }

    /// A password for a person to type once and change: 24 characters from an alphabet
    /// without look-alikes (about 140 bits).
    pub fn generate_password() -> String {
        use argon2::password_hash::rand_core::RngCore;
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        let mut out = String::with_capacity(24);
        while out.len() < 24 {
            // Rejection sampling keeps every character equally likely.
            let b = (OsRng.next_u32() & 0xff) as usize;
            if b < 256 - 256 % ALPHABET.len() {
                out.push(ALPHABET[b % ALPHABET.len()] as char);
            }
        }
        out
    }

    pub async fn dummy_hash() -> Result<String, AppError> {
        static DUMMY: OnceCell<String> = OnceCell::const_new();
        DUMMY
            .get_or_try_init(|| hash_password("portico-no-such-user".into()))
            .await
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_site() {
        assert_eq!(safe_next(Some("/admin")), "/admin");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
