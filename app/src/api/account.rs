//! One's own account: change the password, sign out everywhere. Either ends every other
//! session of the user at once (their session epoch moves on) while this one carries on. An
//! admin resetting someone else's password is in `users`.

use crate::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(current: String, new_password: String) -> Result<(), AppError> {
    use crate::api::context::{client_addr, require, session, sign_in_session};
    use portico_core::model::user::validate_password;

    let (me, state) = require(portico_core::model::Role::Viewer, "change your password").await?;
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
    let epoch = portico_store::users::set_password(
        &state.store,
        &me.name,
        &me.name,
        &hash,
        "user.password",
    )
    .await?;
    sign_in_session(&session().await?, me.id, epoch).await
}

#[server(prefix = "/api", endpoint = "sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<(), AppError> {
    use crate::api::context::{require, session, sign_in_session};

    let (me, state) = require(
        portico_core::model::Role::Viewer,
        "sign out your other sessions",
    )
    .await?;
    let epoch = portico_store::users::end_sessions(&state.store, &me.name, &me.name).await?;
    sign_in_session(&session().await?, me.id, epoch).await
}
