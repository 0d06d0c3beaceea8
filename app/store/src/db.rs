//! Opening the SQLite database (WAL for concurrent readers, foreign keys on, a busy timeout so
//! writers queue instead of failing, the migrations applied before anything else runs) and the
//! one way a write transaction starts.

use crate::{Store, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
/// PostgreSQL's migrations, one per SQLite migration (`schema_parity` holds them in step).
pub static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("cannot apply the database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A write transaction. Callers run their statements on `&mut *tx` and `commit()`; dropping it
/// rolls back.
pub type Tx = Transaction<'static, Sqlite>;

impl Store {
    /// Opens (creating if missing) the database file and applies the migrations.
    pub async fn open(path: &Path) -> Result<Store, OpenError> {
        let shown = path.display().to_string();
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{shown}"))
            .map_err(|source| OpenError::Open {
                path: shown.clone(),
                source,
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // A connection is a file handle in this process: it cannot go stale as a network
            // connection can, so it is not pinged on its way out of the pool. (sqlx pings each
            // on its way back in anyway.) A ping is a round trip to the connection's thread:
            // with it, each statement cost three round trips instead of two.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|source| OpenError::Open {
                path: shown,
                source,
            })?;
        MIGRATOR.run(&pool).await?;
        Ok(Store {
            pool,
            memo: None,
            kept: Default::default(),
        })
    }

    /// Starts a write transaction with `BEGIN IMMEDIATE`: it takes SQLite's write lock up
    /// front (queueing behind another writer for up to the busy timeout), so a transaction that
    /// reads before it writes can never fail to upgrade with SQLITE_BUSY_SNAPSHOT because
    /// someone else wrote in between. Every multi-statement write goes through here.
    pub(crate) async fn write(&self) -> Result<Tx, StoreError> {
        debug_assert!(
            self.memo.is_none(),
            "a page render's store (Store::for_one_render) writes nothing"
        );
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Answers when the database does (`/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query_scalar::<_, i64>("SELECT 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(())
    }

    /// Waits for open connections to finish and closes them (at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The session store over the same database, its table created.
    pub async fn sessions(&self) -> Result<tower_sessions_sqlx_store::SqliteStore, StoreError> {
        let store = tower_sessions_sqlx_store::SqliteStore::new(self.pool.clone());
        store.migrate().await?;
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_with_wal_foreign_keys_and_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(fk, 1);
        let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(users, 0);
        // Opening again is a no-op for migrations.
        store.close().await;
        Store::open(&dir.path().join("t.db")).await.unwrap();
    }

    /// A transaction that reads, then writes while another connection wrote in between, is
    /// what failed with SQLITE_BUSY_SNAPSHOT (code 517) under a deferred BEGIN.
    #[tokio::test]
    async fn a_read_then_write_transaction_survives_a_concurrent_writer() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        sqlx::query("CREATE TABLE counter (n INTEGER NOT NULL)")
            .execute(&store.pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO counter VALUES (0)")
            .execute(&store.pool)
            .await
            .unwrap();
        let mut tasks = vec![];
        for _ in 0..16 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = store.write().await?;
                let n: i64 = sqlx::query_scalar("SELECT n FROM counter")
                    .fetch_one(&mut *tx)
                    .await?;
                tokio::task::yield_now().await;
                sqlx::query("UPDATE counter SET n = ?")
                    .bind(n + 1)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok::<_, StoreError>(())
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let n: i64 = sqlx::query_scalar("SELECT n FROM counter")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(n, 16, "no increment lost, none failed");
    }
}
