//! The audit log: who did what and when. Each entry is written in the same transaction as the
//! change it describes (callers pass `&mut tx`), so the log never claims a change that was
//! rolled back, nor misses one that was saved.

use crate::sql;
use crate::{now_unix, Store, StoreResult};
use portico_core::model::keys::format_timestamp;

/// One entry, as the audit page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    /// "2026-11-25 19:40:12" (UTC).
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// JSON of what the entry looked like before and after, when there is one.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A page of entries, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub entries: Vec<Entry>,
    /// The id to pass as `before` for the next, older page; `None` on the last page.
    pub older: Option<i64>,
}

/// Records that `actor` did `action` to `target`. `exec` is the caller's transaction
/// (`&mut tx`) when the change is written in one, or `&db.pool` for a standalone fact
/// (a sign-in).
pub(crate) async fn record<'e>(
    exec: impl crate::sql::Exec<'e>,
    actor: &str,
    action: &str,
    target: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> StoreResult<()> {
    sql::query(
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

/// Up to `size` entries older than `before` (the newest when `None`), newest first.
pub async fn page(db: &Store, before: Option<i64>, size: i64) -> StoreResult<Page> {
    // One more than asked tells whether an older page exists without counting.
    type Row = (
        i64,
        i64,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = sql::query_as(
        "SELECT id, at, actor, action, target, before, after FROM audit \
         WHERE id < ? ORDER BY id DESC LIMIT ?",
    )
    .bind(before.unwrap_or(i64::MAX))
    .bind(size + 1)
    .fetch_all(&db.pool)
    .await?;
    let mut entries: Vec<Entry> = rows
        .into_iter()
        .map(|(id, at, actor, action, target, before, after)| Entry {
            id,
            at: format_timestamp(at),
            actor,
            action,
            target,
            before,
            after,
        })
        .collect();
    let older = (entries.len() as i64 > size).then(|| {
        entries.truncate(size.max(0) as usize);
        entries.last().map(|e| e.id)
    });
    Ok(Page {
        entries,
        older: older.flatten(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pages_go_from_newest_to_oldest() {
        let (_held, db) = crate::testing::store().await;
        for target in ["a", "b", "c"] {
            let after = serde_json::json!({ "name": target });
            record(&db.pool, "ann", "user.add", target, None, Some(&after))
                .await
                .unwrap();
        }
        let first = page(&db, None, 2).await.unwrap();
        let targets: Vec<&str> = first.entries.iter().map(|e| e.target.as_str()).collect();
        assert_eq!(targets, ["c", "b"]);
        assert_eq!(first.entries[0].after.as_deref(), Some(r#"{"name":"c"}"#));
        assert_eq!(first.entries[0].before, None);
        let rest = page(&db, first.older, 2).await.unwrap();
        assert_eq!(rest.entries.len(), 1);
        assert_eq!(rest.entries[0].target, "a");
        assert_eq!(rest.older, None);
    }
}
