//! Sign-in, sign-out and "who is asking": the session holds a user id, and every request
//! re-reads that user (`context::resolve`), so a role change or a disabled account takes
//! effect at once.

use crate::error::AppError;
use leptos::prelude::*;
use portico_core::model::user::CurrentUser;

#[server(prefix = "/api", endpoint = "me")]
pub async fn who_am_i() -> Result<Option<CurrentUser>, AppError> {
    Ok(crate::api::context::optional_user().await?.0)
}

/// True while no user exists: the login page then says how to create the first admin.
#[server(prefix = "/api", endpoint = "needs_first_admin")]
pub async fn needs_first_admin() -> Result<bool, AppError> {
    let state = crate::api::context::state()?;
    Ok(portico_store::users::count(&state.store).await? == 0)
}

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(name: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::api::context::{client_addr, session, sign_in_session, state};
    use crate::throttle::NAME_MAX;
    use portico_core::model::Role;

    let state = state()?;
    let addr = client_addr();
    // Names past the cap are no account's: refused before they reach the throttle or a log.
    if name.trim().chars().count() > NAME_MAX {
        return Err(AppError::Invalid("Wrong user name or password.".into()));
    }
    let Some(user) = ssr::check_password(&state, &name, addr, password).await? else {
        tracing::warn!(user = %name.trim(), %addr, "failed sign-in");
        return Err(AppError::Invalid("Wrong user name or password.".into()));
    };
    if user.disabled {
        return Err(AppError::Forbidden(
            "This account is disabled. Ask an admin to enable it.".into(),
        ));
    }
    let session = session().await?;
    sign_in_session(&session, user.id, user.session_epoch).await?;
    portico_store::users::record_sign_in(&state.store, name.trim()).await?;
    // Reviewers come for the picture: a viewer signing in without a destination lands on a
    // gateway's diagram.
    let to = match next.as_deref().map(str::trim) {
        None | Some("") | Some("/") if user.role == Role::Viewer => {
            crate::api::diagram::ssr::landing(&state.store).await?
        }
        other => safe_next(other),
    };
    leptos_axum::redirect(&to);
    Ok(())
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::api::context::{resolve, session, state};

    let state = state()?;
    let session = session().await?;
    if let Some(user) = resolve(&state, &session).await? {
        portico_store::users::record_sign_out(&state.store, &user.name).await?;
    }
    session
        .flush()
        .await
        .map_err(|e| AppError::internal("session flush", e))?;
    leptos_axum::redirect("/login");
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::error::AppError;
    use crate::state::AppState;
    use portico_store::users::Credentials;
    use std::net::IpAddr;

    /// Checks `name`'s password as sign-in does, for sign-in and for "change my password":
    /// the attempt is counted by the throttle before the hash is checked (so parallel guesses
    /// are each counted), an unknown name is checked against a dummy hash (timing does not
    /// tell which names exist), and at most a few hashes run at once. The account when the
    /// password is right (disabled or not: the caller says what that means).
    ///
    /// A turn in the hashing queue comes first, before the throttle counts in the database:
    /// a flood of sign-ins waits in that bounded queue (or is refused, uncounted) instead of
    /// queueing for the database's write lock, so it cannot hold up the worker's and other
    /// users' writes on any server.
    pub async fn check_password(
        state: &AppState,
        name: &str,
        addr: IpAddr,
        password: String,
    ) -> Result<Option<Credentials>, AppError> {
        // No account has a name that breaks the naming rule. PostgreSQL compares names
        // case-insensitively by Unicode rules, under which fullwidth or styled letters match
        // an ASCII name; each such spelling would be an account of its own to the throttle.
        if portico_core::model::user::validate_name(name.trim()).is_err() {
            return Ok(None);
        }
        let _turn = state.throttle.hashing().await.map_err(|r| r.into_error())?;
        let attempt = state
            .throttle
            .begin(&state.store, name, addr, portico_store::now_ms())
            .await?
            .map_err(|r| r.into_error())?;
        let found = portico_store::users::credentials(&state.store, name).await?;
        let hash = match &found {
            Some(user) => user.password_hash.clone(),
            None => crate::passwords::dummy_hash().await?,
        };
        let verified = crate::passwords::verify(password, hash).await?;
        let user = found.filter(|_| verified);
        if user.is_some() {
            state
                .throttle
                .succeeded(&state.store, name, addr, attempt)
                .await?;
        }
        Ok(user)
    }
}

/// Only same-site paths: an open redirect after sign-in would hand phishers a trusted link.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p) if is_local_path(p) => p.into(),
        _ => "/".into(),
    }
}

/// A path on this server, and nothing a browser could read as another host: one leading `/`
/// not followed by `/` or `\`, and no control character, whitespace or backslash anywhere —
/// browsers drop tabs and newlines (`/\t/evil.example` becomes `//evil.example`) and read `\`
/// as `/`; a newline could also split the Location header.
fn is_local_path(p: &str) -> bool {
    let mut chars = p.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !p
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
        && p.len() <= 2048
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_site() {
        for ok in [
            "/",
            "/admin",
            "/gateways/seed/diagram?plan=none",
            "/audit?before=9#x",
        ] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        assert_eq!(safe_next(None), "/");
    }

    /// Known open-redirect payloads: each lands on "/".
    #[test]
    fn open_redirect_payloads_are_refused() {
        let payloads = [
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/ /evil.example",
            " /evil.example",
            "/\u{0}/evil.example",
            "/\u{7f}/evil.example",
            "/\u{a0}/evil.example",
            "/\u{3000}/evil.example",
            "https://evil.example",
            "http:/evil.example",
            "//evil.example/%2f..",
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "evil.example",
            "/x\r\nSet-Cookie: a=b",
            "/a\\b",
            "",
        ];
        for p in payloads {
            assert_eq!(safe_next(Some(p)), "/", "{p:?} was accepted");
        }
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(3000)))), "/");
    }
}
