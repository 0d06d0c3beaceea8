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
    use crate::api::context::{client_addr, session, state, SESSION_USER};
    use crate::throttle::wait_in_words;
    use portico_core::model::Role;
    use std::time::Instant;

    let state = state()?;
    let addr = client_addr();
    if let Err(wait) = state.throttle.check(&name, addr, Instant::now()) {
        return Err(AppError::TooManyAttempts(format!(
            "Too many failed sign-ins for this account from your address. Try again in {}.",
            wait_in_words(wait)
        )));
    }
    let found = portico_store::users::credentials(&state.store, &name).await?;
    // Verify against a dummy hash when the user is unknown, so timing does not tell which
    // names exist.
    let hash = match &found {
        Some(user) => user.password_hash.clone(),
        None => crate::passwords::dummy_hash().await?,
    };
    let verified = crate::passwords::verify(password, hash).await?;
    let Some(user) = found.filter(|_| verified) else {
        state.throttle.record_failure(&name, addr, Instant::now());
        tracing::warn!(user = %name.trim(), %addr, "failed sign-in");
        return Err(AppError::Invalid("Wrong user name or password.".into()));
    };
    if user.disabled {
        return Err(AppError::Forbidden(
            "This account is disabled. Ask an admin to enable it.".into(),
        ));
    }
    state.throttle.record_success(&name, addr);

    let session = session().await?;
    // A fresh id at sign-in defeats session fixation.
    session
        .cycle_id()
        .await
        .map_err(|e| AppError::internal("session cycle", e))?;
    session
        .insert(SESSION_USER, user.id)
        .await
        .map_err(|e| AppError::internal("session insert", e))?;
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
    if let Some(user) = resolve(&state.store, &session).await? {
        portico_store::users::record_sign_out(&state.store, &user.name).await?;
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
