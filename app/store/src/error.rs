//! What a store call can answer besides its value. The first four are for people (the web
//! layer turns them into 404 / 409 / 422 / 503 with the message as it is); `Internal` is logged
//! and never shown.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The caller's role may not make this change.
    #[error("{0}")]
    Forbidden(String),
    /// The input breaks a rule (validation problems, one per line).
    #[error("{0}")]
    Invalid(String),
    /// Another writer held the database longer than the busy timeout: retry shortly.
    #[error("The database is busy; nothing was saved. Please try again in a moment.")]
    Busy,
    /// The server is shutting down and has closed the database: work still running for a
    /// request its client already left (a page's data, read in a task of its own) ends here.
    #[error("Portico is shutting down; nothing was saved. Please try again in a moment.")]
    Closed,
    #[error("{context}: {detail}")]
    Internal { context: String, detail: String },
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    pub fn internal(context: &str, detail: impl std::fmt::Display) -> Self {
        StoreError::Internal {
            context: context.to_owned(),
            detail: detail.to_string(),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            if contention(db.as_ref()) {
                return StoreError::Busy;
            }
        }
        if matches!(err, sqlx::Error::PoolTimedOut) {
            return StoreError::Busy;
        }
        if matches!(err, sqlx::Error::PoolClosed) {
            return StoreError::Closed;
        }
        StoreError::internal("database error", err)
    }
}

/// Whether a database refused for contention (retry shortly), not for a fault.
fn contention(db: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = db.code() else {
        return false;
    };
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // SQLITE_BUSY (5) and its extended codes (517 busy snapshot, 261 busy recovery),
        // SQLITE_LOCKED (6).
        return code
            .parse::<i64>()
            .is_ok_and(|code| matches!(code & 0xff, 5 | 6));
    }
    // PostgreSQL's SQLSTATEs: a serialization failure, a deadlock, a lock not had within
    // `lock_timeout` (the write lock, `Store::write`), a server shutting down or starting.
    matches!(
        code.as_ref(),
        "40001" | "40P01" | "55P03" | "57P01" | "57P02" | "57P03"
    )
}

/// Turns a unique-constraint violation into a clear `Conflict` (the row already exists).
pub(crate) trait OnUnique<T> {
    fn on_unique(self, message: impl FnOnce() -> String) -> StoreResult<T>;
}

impl<T> OnUnique<T> for Result<T, sqlx::Error> {
    fn on_unique(self, message: impl FnOnce() -> String) -> StoreResult<T> {
        self.map_err(|err| match err {
            sqlx::Error::Database(e) if e.is_unique_violation() => StoreError::Conflict(message()),
            other => other.into(),
        })
    }
}

/// Reads a JSON column written by this crate; a row that no longer parses is an internal error.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> StoreResult<T> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::internal(&format!("stored {what} unreadable"), e))
}

pub(crate) fn encode<T: serde::Serialize>(what: &str, value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::internal(&format!("encode {what}"), e))
}

/// Reads a stored word (`PlanStatus`, `Role` …).
pub(crate) fn word<T: std::str::FromStr>(what: &str, s: &str) -> StoreResult<T>
where
    T::Err: std::fmt::Display,
{
    s.parse()
        .map_err(|e| StoreError::internal(&format!("stored {what} unreadable"), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql;

    /// A write that waited past the busy timeout is contention, shown as "busy" (503), not
    /// an internal error (500).
    #[tokio::test]
    async fn a_locked_database_reads_as_busy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = crate::Store::open(&path).await.unwrap();
        let mut holder = store.write().await.unwrap();
        sql::query("INSERT INTO audit (at, actor, action, target) VALUES (0, 'a', 'b', 'c')")
            .execute(&mut holder)
            .await
            .unwrap();
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .busy_timeout(std::time::Duration::from_millis(50));
        let other = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let err = sqlx::query("BEGIN IMMEDIATE")
            .execute(&other)
            .await
            .unwrap_err();
        assert!(matches!(StoreError::from(err), StoreError::Busy));
        holder.rollback().await.unwrap();
    }

    /// Work still running when the server shuts down finds the database closed: it says so,
    /// and is not an internal error (those are logged as errors).
    #[tokio::test]
    async fn a_closed_database_is_shutting_down() {
        let (_held, store) = crate::testing::store().await;
        store.close().await;
        let err = crate::users::count(&store).await.unwrap_err();
        assert!(matches!(err, StoreError::Closed), "{err:?}");
    }
}
