//! Portico's database. Every SQL statement of the project lives in this crate, one module per
//! family of tables; the rest of Portico (server functions, the CLI, the worker) calls these
//! functions with typed values and never sees a pool, a row or a query. That is also the seam
//! where a second database can stand behind the same interface.
//!
//! - `gateways`: gateways and their generations (the desired topology, the edit core)
//! - `plans`: reconcile plans and the journal of their steps
//! - `status`: each gateway's observed state and health, and health history
//! - `keys`: API keys' metadata (never their values)
//! - `users`: accounts (sessions live in tower-sessions' table, see `Store::sessions`)
//! - `audit`: who did what, written in the same transaction as the change
//! - `alerts`: webhooks and their deliveries, queued in the same transaction as the event
//! - `prices`: prices refreshed from the AWS Price List API
//! - `lease`: which server process is the one worker that writes to AWS
//! - `sign_in`: sign-in attempts, counted for the throttle by every server alike
//!
//! Writes of more than one statement start with `Store::write` (`BEGIN IMMEDIATE`).

mod backup;
mod copy;
mod db;
mod error;
mod kept;
mod memo;
#[cfg(test)]
mod schema_parity;
mod sessions;
mod sql;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub mod alerts;
pub mod audit;
pub mod budget;
pub mod gateways;
pub mod installation;
pub mod keys;
pub mod lease;
pub mod plans;
pub mod prices;
pub mod sign_in;
pub mod status;
pub mod traffic;
pub mod users;

pub use backup::RestoreError;
pub use copy::CopyError;
pub use db::{is_postgres, shown, OpenError, Tx, MIGRATOR, POSTGRES_MIGRATOR};
pub use error::{StoreError, StoreResult};
pub use kept::key_version;
pub use sessions::Sessions;

/// A handle on the database; cheap to clone (a connection pool inside).
#[derive(Clone, Debug)]
pub struct Store {
    pool: db::Pool,
    /// Set on the handle of one page render (`for_one_render`).
    memo: Option<std::sync::Arc<memo::Memo>>,
    /// What pages work out from rows, kept across requests (`kept`).
    kept: std::sync::Arc<kept::Kept>,
}

impl Store {
    /// A handle for one page render: a gateway read by name and a region's prices are read
    /// once, however many of the page's server functions ask. The rule: only a render that
    /// changes nothing reads through it (a page, never a server function called over HTTP),
    /// since what it read before a change is what it would answer after; debug builds refuse
    /// its multi-statement writes (`Store::write`).
    pub fn for_one_render(&self) -> Store {
        Store {
            pool: self.pool.clone(),
            memo: Some(std::sync::Arc::default()),
            kept: self.kept.clone(),
        }
    }

    /// The pool itself, for tests that inspect rows no store function reads. Nothing in
    /// Portico calls it.
    #[doc(hidden)]
    pub fn raw_pool_for_tests(&self) -> &sqlx::SqlitePool {
        match &self.pool {
            db::Pool::Sqlite(pool) => pool,
            db::Pool::Postgres(_) => panic!("raw_pool_for_tests: a SQLite store only"),
        }
    }
}

/// Seconds since the Unix epoch, UTC: every stored time.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch (the step journal's timings).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The first `bytes` bytes of `text`'s SHA-256, in hex: a short name for text that is the same
/// on every server and version (a chart's URL version, an alert's event key).
pub(crate) fn short_digest(text: &str, bytes: usize) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(text.as_bytes());
    digest[..bytes].iter().map(|b| format!("{b:02x}")).collect()
}
