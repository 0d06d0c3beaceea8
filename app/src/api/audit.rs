//! The audit log: who did what and when. Each change writes its entry in the same transaction
//! (`portico_store::audit::record`); this is the page's read of it.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    let (_, state) =
        crate::api::context::require(portico_core::model::Role::Viewer, "read the audit log")
            .await?;
    let page = portico_store::audit::page(&state.store, before, PAGE_SIZE).await?;
    Ok(AuditPage {
        entries: page.entries.into_iter().map(AuditEntry::from).collect(),
        older: page.older,
    })
}

#[cfg(feature = "ssr")]
impl From<portico_store::audit::Entry> for AuditEntry {
    fn from(e: portico_store::audit::Entry) -> Self {
        AuditEntry {
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            target: e.target,
            before: e.before,
            after: e.after,
        }
    }
}
