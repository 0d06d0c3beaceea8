//! Users: admins add them, change their roles and disable them. The command line
//! (`portico user …`) goes through the same `ssr` functions, so the rules hold everywhere.

use crate::error::AppError;
use crate::model::Role;
use leptos::prelude::*;
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
    crate::auth::ssr::require(Role::Admin, "manage users").await?;
    ssr::list(&crate::state::state()?.pool).await
}

#[server(prefix = "/api", endpoint = "add_user")]
pub async fn add_user(name: String, role: String, password: String) -> Result<(), AppError> {
    let me = crate::auth::ssr::require(Role::Admin, "manage users").await?;
    let role = parse_role(&role)?;
    ssr::create(
        &crate::state::state()?.pool,
        &me.name,
        &name,
        role,
        &password,
    )
    .await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "set_user_role")]
pub async fn set_user_role(name: String, role: String) -> Result<(), AppError> {
    let me = crate::auth::ssr::require(Role::Admin, "manage users").await?;
    let role = parse_role(&role)?;
    ssr::set_role(&crate::state::state()?.pool, &me.name, &name, role).await
}

#[server(prefix = "/api", endpoint = "set_user_disabled")]
pub async fn set_user_disabled(name: String, disabled: bool) -> Result<(), AppError> {
    let me = crate::auth::ssr::require(Role::Admin, "manage users").await?;
    ssr::set_disabled(&crate::state::state()?.pool, &me.name, &name, disabled).await
}

#[cfg(feature = "ssr")]
fn parse_role(role: &str) -> Result<Role, AppError> {
    role.parse()
        .map_err(|e: String| AppError::Invalid(format!("Role: {e}.")))
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::UserRow;
    use crate::api::audit::ssr::record;
    use crate::auth::ssr::hash_password;
    use crate::error::{AppError, OnUnique};
    use crate::model::user::{validate_name, validate_password};
    use crate::model::Role;
    use crate::state::now_unix;
    use serde_json::json;
    use sqlx::{SqliteConnection, SqlitePool};

    pub async fn count(pool: &SqlitePool) -> Result<i64, AppError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(pool)
            .await?)
    }

    pub async fn list(pool: &SqlitePool) -> Result<Vec<UserRow>, AppError> {
        let rows: Vec<(i64, String, String, bool, String)> = sqlx::query_as(
            "SELECT id, name, role, disabled, strftime('%Y-%m-%d %H:%M', created_at, 'unixepoch') \
             FROM users ORDER BY name",
        )
        .fetch_all(pool)
        .await?;
        rows.into_iter()
            .map(|(id, name, role, disabled, created)| {
                let role = role
                    .parse()
                    .map_err(|e| AppError::internal("stored role unreadable", e))?;
                Ok(UserRow {
                    id,
                    name,
                    role,
                    disabled,
                    created,
                })
            })
            .collect()
    }

    pub async fn create(
        pool: &SqlitePool,
        actor: &str,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<i64, AppError> {
        let name = name.trim();
        validate_name(name).map_err(AppError::Invalid)?;
        validate_password(password).map_err(AppError::Invalid)?;
        let hash = hash_password(password.to_owned()).await?;
        let mut tx = pool.begin().await?;
        let now = now_unix();
        let id = sqlx::query(
            "INSERT INTO users (name, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(name)
        .bind(&hash)
        .bind(role.as_str())
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await
        .on_unique(|| format!("A user named {name:?} already exists."))?
        .last_insert_rowid();
        let after = json!({ "name": name, "role": role, "disabled": false });
        record(&mut *tx, actor, "user.add", name, None, Some(&after)).await?;
        tx.commit().await?;
        Ok(id)
    }

    struct Found {
        name: String,
        role: Role,
        disabled: bool,
    }

    async fn find(conn: &mut SqliteConnection, name: &str) -> Result<Found, AppError> {
        let row: Option<(String, String, bool)> =
            sqlx::query_as("SELECT name, role, disabled FROM users WHERE name = ?")
                .bind(name.trim())
                .fetch_optional(&mut *conn)
                .await?;
        let (name, role, disabled) =
            row.ok_or_else(|| AppError::NotFound(format!("No user named {:?}.", name.trim())))?;
        let role = role
            .parse()
            .map_err(|e| AppError::internal("stored role unreadable", e))?;
        Ok(Found {
            name,
            role,
            disabled,
        })
    }

    /// Refuses a change that would leave no enabled admin: nobody could manage users then.
    async fn keep_an_admin(conn: &mut SqliteConnection, user: &Found) -> Result<(), AppError> {
        if user.role != Role::Admin || user.disabled {
            return Ok(());
        }
        let admins: i64 =
            sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0")
                .fetch_one(&mut *conn)
                .await?;
        if admins <= 1 {
            return Err(AppError::Conflict(format!(
                "{:?} is the last active admin; make another user admin first.",
                user.name
            )));
        }
        Ok(())
    }

    pub async fn set_role(
        pool: &SqlitePool,
        actor: &str,
        name: &str,
        role: Role,
    ) -> Result<(), AppError> {
        let mut tx = pool.begin().await?;
        let user = find(&mut tx, name).await?;
        if user.role == role {
            return Ok(());
        }
        if role != Role::Admin {
            keep_an_admin(&mut tx, &user).await?;
        }
        sqlx::query("UPDATE users SET role = ?, updated_at = ? WHERE name = ?")
            .bind(role.as_str())
            .bind(now_unix())
            .bind(&user.name)
            .execute(&mut *tx)
            .await?;
        let (before, after) = (json!({ "role": user.role }), json!({ "role": role }));
        record(
            &mut *tx,
            actor,
            "user.role",
            &user.name,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_disabled(
        pool: &SqlitePool,
        actor: &str,
        name: &str,
        disabled: bool,
    ) -> Result<(), AppError> {
        let mut tx = pool.begin().await?;
        let user = find(&mut tx, name).await?;
        if user.disabled == disabled {
            return Ok(());
        }
        if disabled {
            if user.name.eq_ignore_ascii_case(actor) {
                return Err(AppError::Conflict(
                    "You cannot disable your own account.".into(),
                ));
            }
            keep_an_admin(&mut tx, &user).await?;
        }
        sqlx::query("UPDATE users SET disabled = ?, updated_at = ? WHERE name = ?")
            .bind(disabled)
            .bind(now_unix())
            .bind(&user.name)
            .execute(&mut *tx)
            .await?;
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        let (before, after) = (
            json!({ "disabled": user.disabled }),
            json!({ "disabled": disabled }),
        );
        record(
            &mut *tx,
            actor,
            action,
            &user.name,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
