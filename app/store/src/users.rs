//! Accounts: who may sign in, with which role. Users are disabled, never deleted, so audit rows
//! keep their meaning. Password hashes go in and out as opaque strings: hashing happens in the
//! web layer, off the database's connections.

use crate::error::{word, OnUnique};
use crate::sql::{self, Connection};
use crate::{audit, now_unix, Store, StoreError, StoreResult};
use portico_core::model::keys::format_time;
use portico_core::model::user::CurrentUser;
use portico_core::model::Role;
use serde_json::json;

/// A user as the admin page and `portico user list` show them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    /// "2026-11-25 19:40" (UTC)
    pub created: String,
}

/// What sign-in checks a password against (no `Debug`: the hash stays out of logs).
#[derive(Clone)]
pub struct Credentials {
    pub id: i64,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub disabled: bool,
    /// The epoch a session signed in now carries.
    pub session_epoch: i64,
}

/// The user a session points at, if they exist, are enabled and the session's epoch is still
/// theirs: every request re-reads it, so a role change, a disabled account or a password
/// change takes effect at once.
pub async fn session_user(db: &Store, id: i64, epoch: i64) -> StoreResult<Option<CurrentUser>> {
    let row: Option<(i64, String, String)> = sql::query_as(
        "SELECT id, name, role FROM users WHERE id = ? AND NOT disabled AND session_epoch = ?",
    )
    .bind(id)
    .bind(epoch)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|(id, name, role)| {
        Ok(CurrentUser {
            id,
            name,
            role: word("role", &role)?,
        })
    })
    .transpose()
}

/// How many users exist (none: the login page explains how to add the first admin).
pub async fn count(db: &Store) -> StoreResult<i64> {
    Ok(sql::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db.pool)
        .await?)
}

/// Every user, by name.
pub async fn list(db: &Store) -> StoreResult<Vec<UserRecord>> {
    let mut rows: Vec<(i64, String, String, bool, i64)> =
        sql::query_as("SELECT id, name, role, disabled, created_at FROM users")
            .fetch_all(&db.pool)
            .await?;
    // Sorted here, as names compare (without case, ASCII): the databases' collations would
    // order punctuation differently.
    rows.sort_by_cached_key(|r| r.1.to_ascii_lowercase());
    rows.into_iter()
        .map(|(id, name, role, disabled, created)| {
            Ok(UserRecord {
                id,
                name,
                role: word("role", &role)?,
                disabled,
                created: format_time(created),
            })
        })
        .collect()
}

/// The account a sign-in names (names compare without case), disabled or not: sign-in tells a
/// disabled account apart only after the password matched.
pub async fn credentials(db: &Store, name: &str) -> StoreResult<Option<Credentials>> {
    let row: Option<(i64, String, String, bool, String, i64)> = sql::query_as(
        "SELECT id, name, password_hash, disabled, role, session_epoch FROM users WHERE name = ?",
    )
    .bind(name.trim())
    .fetch_optional(&db.pool)
    .await?;
    row.map(|(id, name, password_hash, disabled, role, session_epoch)| {
        Ok(Credentials {
            id,
            name,
            password_hash,
            role: word("role", &role)?,
            disabled,
            session_epoch,
        })
    })
    .transpose()
}

/// Adds a user (the caller validated the name and hashed the password) and audits it.
pub async fn create(
    db: &Store,
    actor: &str,
    name: &str,
    role: Role,
    password_hash: &str,
) -> StoreResult<i64> {
    let mut tx = db.write().await?;
    let now = now_unix();
    let id: i64 = sql::query_scalar(
        "INSERT INTO users (name, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?) \
         RETURNING id",
    )
    .bind(name)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(now)
    .bind(now)
    .fetch_one(&mut tx)
    .await
    .on_unique(|| format!("A user named {name:?} already exists."))?;
    let after = json!({ "name": name, "role": role, "disabled": false });
    audit::record(&mut tx, actor, "user.add", name, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(id)
}

struct Found {
    name: String,
    role: Role,
    disabled: bool,
}

async fn find(conn: &mut impl Connection, name: &str) -> StoreResult<Found> {
    let row: Option<(String, String, bool)> =
        sql::query_as("SELECT name, role, disabled FROM users WHERE name = ?")
            .bind(name.trim())
            .fetch_optional(&mut *conn)
            .await?;
    let (name, role, disabled) =
        row.ok_or_else(|| StoreError::NotFound(format!("No user named {:?}.", name.trim())))?;
    Ok(Found {
        name,
        role: word("role", &role)?,
        disabled,
    })
}

/// Refuses a change that would leave no enabled admin: nobody could manage users then.
async fn keep_an_admin(conn: &mut impl Connection, user: &Found) -> StoreResult<()> {
    if user.role != Role::Admin || user.disabled {
        return Ok(());
    }
    let admins: i64 =
        sql::query_scalar("SELECT count(*) FROM users WHERE role = ? AND NOT disabled")
            .bind(Role::Admin.as_str())
            .fetch_one(&mut *conn)
            .await?;
    if admins <= 1 {
        return Err(StoreError::Conflict(format!(
            "{:?} is the last active admin; make another user admin first.",
            user.name
        )));
    }
    Ok(())
}

/// Gives a user another role (nothing happens when it is theirs already), never taking the
/// last enabled admin's away.
pub async fn set_role(db: &Store, actor: &str, name: &str, role: Role) -> StoreResult<()> {
    // The check and the write in one write transaction: two admins demoting each other at
    // the same moment cannot both pass `keep_an_admin`.
    let mut tx = db.write().await?;
    let user = find(&mut tx, name).await?;
    if user.role == role {
        return Ok(());
    }
    if role != Role::Admin {
        keep_an_admin(&mut tx, &user).await?;
    }
    sql::query("UPDATE users SET role = ?, updated_at = ? WHERE name = ?")
        .bind(role.as_str())
        .bind(now_unix())
        .bind(&user.name)
        .execute(&mut tx)
        .await?;
    let (before, after) = (json!({ "role": user.role }), json!({ "role": role }));
    audit::record(
        &mut tx,
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

/// Disables or enables a user (nothing happens when they are so already). Nobody disables
/// their own account, nor the last enabled admin.
pub async fn set_disabled(db: &Store, actor: &str, name: &str, disabled: bool) -> StoreResult<()> {
    let mut tx = db.write().await?;
    let user = find(&mut tx, name).await?;
    if user.disabled == disabled {
        return Ok(());
    }
    if disabled {
        if user.name.eq_ignore_ascii_case(actor) {
            return Err(StoreError::Conflict(
                "You cannot disable your own account.".into(),
            ));
        }
        keep_an_admin(&mut tx, &user).await?;
    }
    // Disabling ends their sessions for good: enabling again does not bring them back.
    sql::query(
        "UPDATE users SET disabled = ?1, updated_at = ?2, \
         session_epoch = session_epoch + CASE WHEN ?1 THEN 1 ELSE 0 END WHERE name = ?3",
    )
    .bind(disabled)
    .bind(now_unix())
    .bind(&user.name)
    .execute(&mut tx)
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
    audit::record(
        &mut tx,
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

/// Refused when the user's epoch moved on since `expected` was read: their own session that
/// asked was ended meanwhile (a reset, another change), so its change must not win.
fn ended_meanwhile() -> StoreError {
    StoreError::Conflict(
        "Your session was ended meanwhile (your password was reset or changed elsewhere): \
         sign in again."
            .into(),
    )
}

/// A new password hash for `name` (the caller checked and hashed it): every session of theirs
/// ends (the epoch moves on); returns the new epoch, for the session that made the change to
/// carry on. `expected`: the epoch of the user's own session making the change, which must
/// still be current (None for an admin's reset). Audited as `action` (`user.password` by the
/// user, `user.password_reset` by an admin), never with the hash.
pub async fn set_password(
    db: &Store,
    actor: &str,
    name: &str,
    hash: &str,
    action: &str,
    expected: Option<i64>,
) -> StoreResult<i64> {
    let mut tx = db.write().await?;
    let user = find(&mut tx, name).await?;
    let epoch: i64 = sql::query_scalar(
        "UPDATE users SET password_hash = ?, session_epoch = session_epoch + 1, updated_at = ? \
         WHERE name = ? AND (?4 IS NULL OR session_epoch = ?4) RETURNING session_epoch",
    )
    .bind(hash)
    .bind(now_unix())
    .bind(&user.name)
    .bind(expected)
    .fetch_optional(&mut tx)
    .await?
    .ok_or_else(ended_meanwhile)?;
    audit::record(&mut tx, actor, action, &user.name, None, None).await?;
    tx.commit().await?;
    Ok(epoch)
}

/// Ends every session of `name` ("sign out everywhere", or an admin's); returns the new epoch.
/// `expected` as for `set_password`.
pub async fn end_sessions(
    db: &Store,
    actor: &str,
    name: &str,
    expected: Option<i64>,
) -> StoreResult<i64> {
    let mut tx = db.write().await?;
    let user = find(&mut tx, name).await?;
    let epoch: i64 = sql::query_scalar(
        "UPDATE users SET session_epoch = session_epoch + 1 \
         WHERE name = ? AND (?2 IS NULL OR session_epoch = ?2) RETURNING session_epoch",
    )
    .bind(&user.name)
    .bind(expected)
    .fetch_optional(&mut tx)
    .await?
    .ok_or_else(ended_meanwhile)?;
    audit::record(
        &mut tx,
        actor,
        "auth.sign_out_everywhere",
        &user.name,
        None,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(epoch)
}

/// Audits a sign-in (the user acts on themselves).
pub async fn record_sign_in(db: &Store, name: &str) -> StoreResult<()> {
    audit::record(&db.pool, name, "auth.login", name, None, None).await
}

/// Audits a sign-out.
pub async fn record_sign_out(db: &Store, name: &str) -> StoreResult<()> {
    audit::record(&db.pool, name, "auth.logout", name, None, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (crate::testing::Held, Store) {
        let (dir, store) = crate::testing::store().await;
        (dir, store)
    }

    #[tokio::test]
    async fn the_last_admin_stays_an_enabled_admin() {
        let (_dir, db) = store().await;
        let root = create(&db, "test", "root", Role::Admin, "x").await.unwrap();
        create(&db, "test", "bob", Role::Viewer, "x").await.unwrap();
        assert!(matches!(
            set_role(&db, "bob", "root", Role::Editor).await,
            Err(StoreError::Conflict(m)) if m.contains("last active admin")
        ));
        assert!(matches!(
            set_disabled(&db, "root", "ROOT", true).await,
            Err(StoreError::Conflict(m)) if m.contains("your own account")
        ));
        assert!(matches!(
            set_disabled(&db, "bob", "root", true).await,
            Err(StoreError::Conflict(m)) if m.contains("last active admin")
        ));
        set_role(&db, "root", "bob", Role::Admin).await.unwrap();
        assert!(session_user(&db, root, 0).await.unwrap().is_some());
        set_disabled(&db, "bob", "root", true).await.unwrap();
        assert_eq!(session_user(&db, root, 0).await.unwrap(), None);
        // Enabled again, the sessions of before stay over.
        set_disabled(&db, "bob", "root", false).await.unwrap();
        assert_eq!(session_user(&db, root, 0).await.unwrap(), None);
        assert!(session_user(&db, root, 1).await.unwrap().is_some());
        // A new password or "sign out everywhere" moves the epoch on.
        assert_eq!(
            set_password(&db, "root", "root", "h", "user.password", Some(1))
                .await
                .unwrap(),
            2
        );
        // A change from a session that was ended meanwhile loses.
        assert!(matches!(
            set_password(&db, "root", "root", "h2", "user.password", Some(1)).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            end_sessions(&db, "root", "root", Some(1)).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(end_sessions(&db, "root", "root", None).await.unwrap(), 3);
        assert!(session_user(&db, root, 2).await.unwrap().is_none());
        set_disabled(&db, "bob", "root", true).await.unwrap();
        assert_eq!(count(&db).await.unwrap(), 2);
        let names: Vec<(String, Role, bool)> = list(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|u| (u.name, u.role, u.disabled))
            .collect();
        assert_eq!(
            names,
            vec![
                ("bob".into(), Role::Admin, false),
                ("root".into(), Role::Admin, true)
            ]
        );
    }

    #[tokio::test]
    async fn names_are_unique_without_case() {
        let (_dir, db) = store().await;
        create(&db, "test", "Alice", Role::Editor, "x")
            .await
            .unwrap();
        assert!(matches!(
            create(&db, "test", "alice", Role::Viewer, "x").await,
            Err(StoreError::Conflict(m)) if m.contains("already exists")
        ));
        let found = credentials(&db, " ALICE ").await.unwrap().unwrap();
        assert_eq!((found.name.as_str(), found.role), ("Alice", Role::Editor));
        assert!(credentials(&db, "nobody").await.unwrap().is_none());
    }
}
