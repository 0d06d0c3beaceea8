//! Users: admins add them, change their roles and disable them. The command line
//! (`portico user …`) goes through the same `ssr` functions, so the rules hold everywhere.

use crate::error::AppError;
use leptos::prelude::*;
use portico_core::model::Role;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    /// "2026-11-25 19:40" (UTC)
    pub created: String,
}

#[server(prefix = "/api", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserRow>, AppError> {
    let (_, state) = crate::api::context::require(Role::Admin, "manage users").await?;
    ssr::list(&state.store).await
}

#[server(prefix = "/api", endpoint = "add_user")]
pub async fn add_user(name: String, role: String, password: String) -> Result<(), AppError> {
    let (me, state) = crate::api::context::require(Role::Admin, "manage users").await?;
    let role = parse_role(&role)?;
    ssr::create(&state.store, &me.name, &name, role, &password).await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "set_user_role")]
pub async fn set_user_role(name: String, role: String) -> Result<(), AppError> {
    let (me, state) = crate::api::context::require(Role::Admin, "manage users").await?;
    let role = parse_role(&role)?;
    Ok(portico_store::users::set_role(&state.store, &me.name, &name, role).await?)
}

#[server(prefix = "/api", endpoint = "set_user_disabled")]
pub async fn set_user_disabled(name: String, disabled: bool) -> Result<(), AppError> {
    let (me, state) = crate::api::context::require(Role::Admin, "manage users").await?;
    ssr::set_disabled(&state.store, &me.name, &name, disabled).await
}

/// A password an admin reset: whose, and the new one (shown once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reset {
    pub name: String,
    pub password: String,
}

/// Gives `name` a new generated password, shown once to the admin, and ends every session of
/// theirs. An admin's own password is changed on their account page (knowing the current one).
#[server(prefix = "/api", endpoint = "reset_password")]
pub async fn reset_password(name: String) -> Result<Reset, AppError> {
    let (me, state) = crate::api::context::require(Role::Admin, "reset passwords").await?;
    if name.trim().eq_ignore_ascii_case(&me.name) {
        return Err(AppError::Invalid(
            "Change your own password on your account page.".into(),
        ));
    }
    // The answer holds a password: no cache keeps it.
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.insert_header(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
    }
    let password = ssr::reset_password(&state.store, &me.name, &name).await?;
    Ok(Reset {
        name: name.trim().to_owned(),
        password,
    })
}

#[cfg(feature = "ssr")]
fn parse_role(role: &str) -> Result<Role, AppError> {
    role.parse()
        .map_err(|e: String| AppError::Invalid(format!("Role: {e}.")))
}

/// What the server functions and the command line share.
#[cfg(feature = "ssr")]
pub mod ssr {
    use super::UserRow;
    use crate::error::AppError;
    use portico_core::model::user::{validate_name, validate_password};
    use portico_core::model::Role;
    use portico_store::Store;

    pub async fn list(db: &Store) -> Result<Vec<UserRow>, AppError> {
        Ok(portico_store::users::list(db)
            .await?
            .into_iter()
            .map(|u| UserRow {
                id: u.id,
                name: u.name,
                role: u.role,
                disabled: u.disabled,
                created: u.created,
            })
            .collect())
    }

    /// Checks the name and password, hashes the password (off the runtime) and adds the user.
    pub async fn create(
        db: &Store,
        actor: &str,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<i64, AppError> {
        let name = name.trim();
        validate_name(name).map_err(AppError::Invalid)?;
        validate_password(password).map_err(AppError::Invalid)?;
        let hash = crate::passwords::hash(password.to_owned()).await?;
        Ok(portico_store::users::create(db, actor, name, role, &hash).await?)
    }

    /// A generated password for `name`, their sessions ended; the password is returned once.
    pub async fn reset_password(db: &Store, actor: &str, name: &str) -> Result<String, AppError> {
        let password = crate::passwords::generate();
        set_password(db, actor, name, &password).await?;
        Ok(password)
    }

    /// Sets `name`'s password (checked, hashed off the runtime) and ends their sessions.
    pub async fn set_password(
        db: &Store,
        actor: &str,
        name: &str,
        password: &str,
    ) -> Result<(), AppError> {
        validate_password(password).map_err(AppError::Invalid)?;
        let hash = crate::passwords::hash(password.to_owned()).await?;
        portico_store::users::set_password(db, actor, name, &hash, "user.password_reset", None)
            .await?;
        Ok(())
    }

    pub async fn set_disabled(
        db: &Store,
        actor: &str,
        name: &str,
        disabled: bool,
    ) -> Result<(), AppError> {
        Ok(portico_store::users::set_disabled(db, actor, name, disabled).await?)
    }
}
