//! One's own account: change the password, sign out everywhere. Either ends every other
//! session of the user at once (their session epoch moves on) while this one carries on. An
//! admin resetting someone else's password is in `users`.

use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(current: String, new_password: String) -> Result<(), AppError> {
    use crate::api::context::{carry_session, client_addr, require, session, session_epoch};
    use portico_core::model::user::validate_password;

    let (me, state) = require(portico_core::model::Role::Viewer, "change your password").await?;
    let session = session().await?;
    let epoch = session_epoch(&session).await?;
    validate_password(&new_password).map_err(AppError::Invalid)?;
    if new_password == current {
        return Err(AppError::Invalid(
            "The new password is the current one: choose another.".into(),
        ));
    }
    // Guesses at the current password count like sign-in attempts.
    let checked =
        crate::api::session::ssr::check_password(&state, &me.name, client_addr(), current).await?;
    if checked.is_none() {
        return Err(AppError::Invalid("The current password is wrong.".into()));
    }
    let hash = crate::passwords::hash(new_password).await?;
    // Only if nothing ended this session meanwhile (an admin's reset, another change).
    let epoch = portico_store::users::set_password(
        &state.store,
        &me.name,
        &me.name,
        &hash,
        "user.password",
        Some(epoch),
    )
    .await?;
    carry_session(&session, me.id, epoch).await
}

#[server(prefix = "/api", endpoint = "sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<(), AppError> {
    use crate::api::context::{carry_session, require, session, session_epoch};

    let (me, state) = require(
        portico_core::model::Role::Viewer,
        "sign out your other sessions",
    )
    .await?;
    let session = session().await?;
    let epoch = session_epoch(&session).await?;
    let epoch =
        portico_store::users::end_sessions(&state.store, &me.name, &me.name, Some(epoch)).await?;
    carry_session(&session, me.id, epoch).await
}
