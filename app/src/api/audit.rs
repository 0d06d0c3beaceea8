//! The audit log: who did what and when. Written in the same transaction as each change.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AuditEntry {
    pub id: i64,
    /// "2026-11-25 19:40:12" (UTC), formatted by SQLite.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// The id to pass as `before` for the next, older page.
    pub older: Option<i64>,
}

pub const PAGE_SIZE: i64 = 50;

/// Newest first; every signed-in user may read it (reviewers included).
#[server(prefix = "/api", endpoint = "list_audit")]
pub async fn list_audit(before: Option<i64>) -> Result<AuditPage, AppError> {
    crate::auth::ssr::require(crate::model::Role::Viewer, "read the audit log").await?;
    let state = crate::state::state()?;
    ssr::page(&state.pool, before).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::{AuditEntry, AuditPage, PAGE_SIZE};
    use crate::error::AppError;
    use crate::state::now_unix;

    pub async fn record<'e>(
        exec: impl sqlx::SqliteExecutor<'e>,
        actor: &str,
        action: &str,
        target: &str,
        before: Option<&serde_json::Value>,
        after: Option<&serde_json::Value>,
    ) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO audit (at, actor, action, target, before, after) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(now_unix())
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(before.map(|v| v.to_string()))
        .bind(after.map(|v| v.to_string()))
        .execute(exec)
        .await?;
        Ok(())
    }

    pub async fn page(pool: &sqlx::SqlitePool, before: Option<i64>) -> Result<AuditPage, AppError> {
        let mut entries: Vec<AuditEntry> = sqlx::query_as(
            "SELECT id, strftime('%Y-%m-%d %H:%M:%S', at, 'unixepoch') AS at, actor, action, \
             target, before, after FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(PAGE_SIZE + 1)
        .fetch_all(pool)
        .await?;
        let older = (entries.len() as i64 > PAGE_SIZE).then(|| {
            entries.truncate(PAGE_SIZE as usize);
            entries.last().map(|e| e.id)
        });
        Ok(AuditPage {
            entries,
            older: older.flatten(),
        })
    }
}
