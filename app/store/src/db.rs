//! Opening the database: a SQLite file (WAL for concurrent readers, foreign keys on, a busy
//! timeout so writers queue instead of failing) or a PostgreSQL server (`postgres://…`), the
//! migrations applied before anything else runs; and the one way a write transaction starts.

use crate::sql::{Connection, Exec, On};
use crate::{Sessions, Store, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, Postgres};
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::Transaction;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
/// PostgreSQL's migrations, one per SQLite migration (`schema_parity` holds them in step).
pub static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// The key of the PostgreSQL advisory lock every write transaction takes first (`Store::write`):
/// "portico" in ASCII.
const WRITE_LOCK: i64 = 0x0070_6f72_7469_636f;

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("cannot apply the database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The store's connections, to one database or the other.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A write transaction. Callers run their statements on `&mut tx` and `commit()`; dropping it
/// rolls back.
#[derive(Debug)]
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// One connection taken from the pool, for reads that must see one state of the database.
pub(crate) enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await,
            Tx::Postgres(tx) => tx.rollback().await,
        }
    }
}

impl Connection for Tx {
    fn on(&mut self) -> On<'_> {
        match self {
            Tx::Sqlite(tx) => On::Sqlite(tx),
            Tx::Postgres(tx) => On::Postgres(tx),
        }
    }
}

impl Connection for Conn {
    fn on(&mut self) -> On<'_> {
        match self {
            Conn::Sqlite(c) => On::Sqlite(c),
            Conn::Postgres(c) => On::Postgres(c),
        }
    }
}

impl<'c> Exec<'c> for &'c Pool {
    fn on(self) -> On<'c> {
        match self {
            Pool::Sqlite(p) => On::SqlitePool(p),
            Pool::Postgres(p) => On::PostgresPool(p),
        }
    }
}

impl<'c> Exec<'c> for &'c Store {
    fn on(self) -> On<'c> {
        (&self.pool).on()
    }
}

impl Pool {
    pub(crate) async fn acquire(&self) -> Result<Conn, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite(p) => Conn::Sqlite(p.acquire().await?),
            Pool::Postgres(p) => Conn::Postgres(p.acquire().await?),
        })
    }

    /// A transaction that only reads: it sees one state of the database throughout (SQLite's
    /// deferred transaction; PostgreSQL's REPEATABLE READ, whose snapshot is taken at its first
    /// statement) and queues behind no writer.
    pub(crate) async fn begin_read(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Pool::Postgres(p) => Tx::Postgres(
                p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
        })
    }

    pub(crate) async fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

/// Whether `db` (what `--db` says) names a PostgreSQL database rather than a SQLite file
/// (the scheme in any case, as URLs allow).
pub fn is_postgres(db: &str) -> bool {
    ["postgres://", "postgresql://"].iter().any(|scheme| {
        db.get(..scheme.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
    })
}

/// `db` as messages and logs show it: a URL without its password, whether in the user part or
/// as a `password` (or `sslpassword`) parameter. A URL that cannot be read is not shown at
/// all: it could hold a password anywhere.
pub fn shown(db: &str) -> String {
    if !is_postgres(db) {
        return db.to_owned();
    }
    let Ok(mut url) = url::Url::parse(db) else {
        return "a PostgreSQL URL that could not be read".into();
    };
    let _ = url.set_password(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !k.to_ascii_lowercase().ends_with("password"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    url.to_string()
}

impl Store {
    /// Opens the database `db` names, a file path (SQLite, created if missing) or a
    /// `postgres://` URL, and applies the migrations.
    pub async fn connect(db: &str) -> Result<Store, OpenError> {
        if is_postgres(db) {
            Store::open_postgres(db).await
        } else {
            Store::open(Path::new(db)).await
        }
    }

    /// Opens (creating if missing) the SQLite database file and applies the migrations.
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
        Ok(Store::on(Pool::Sqlite(pool)))
    }

    /// Connects to the PostgreSQL database `url` names and applies the migrations.
    pub async fn open_postgres(url: &str) -> Result<Store, OpenError> {
        let shown = shown(url);
        let options = PgConnectOptions::from_str(url).map_err(|source| OpenError::Open {
            path: shown.clone(),
            source,
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|source| OpenError::Open {
                path: shown,
                source,
            })?;
        POSTGRES_MIGRATOR.run(&pool).await?;
        Ok(Store::on(Pool::Postgres(pool)))
    }

    fn on(pool: Pool) -> Store {
        Store {
            pool,
            memo: None,
            kept: Default::default(),
        }
    }

    /// Starts a write transaction that holds the database's one write lock from its start: on
    /// SQLite `BEGIN IMMEDIATE` (queueing behind another writer for up to the busy timeout), on
    /// PostgreSQL a transaction-scoped advisory lock. Writers thus go one at a time on both, so
    /// a transaction that reads before it writes can never find the rows it read changed under
    /// it (nor fail to upgrade with SQLITE_BUSY_SNAPSHOT). Every multi-statement write goes
    /// through here.
    pub(crate) async fn write(&self) -> Result<Tx, StoreError> {
        debug_assert!(
            self.memo.is_none(),
            "a page render's store (Store::for_one_render) writes nothing"
        );
        Ok(match &self.pool {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                // Waits as long as SQLite's busy timeout, then fails as busy (55P03).
                sqlx::query("SET LOCAL lock_timeout = '5s'")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Tx::Postgres(tx)
            }
        })
    }

    /// Tells the worker, on whichever server holds it, that the desired state changed. On
    /// PostgreSQL a notification on the `portico_changes` channel wakes it at once; SQLite has
    /// no channel, and the worker's look at the database every second finds the change.
    pub async fn announce_change(&self) -> Result<(), StoreError> {
        if let Pool::Postgres(p) = &self.pool {
            sqlx::query("SELECT pg_notify('portico_changes', '')")
                .execute(p)
                .await?;
        }
        Ok(())
    }

    /// On PostgreSQL, listens for `announce_change` from every server on the database and
    /// wakes `wake` at each; it is listening when this returns. It holds one of the pool's
    /// connections: abort the task before closing the store. When the connection is lost,
    /// sqlx makes it again on the next wait where it can tell (a closed connection; not every
    /// reset); the worker's look at the database every second finds what was announced
    /// meanwhile, so a lost notification costs at most that second. `None` on SQLite.
    pub async fn watch_changes(
        &self,
        wake: std::sync::Arc<tokio::sync::Notify>,
    ) -> Result<Option<tokio::task::JoinHandle<()>>, StoreError> {
        let Pool::Postgres(p) = &self.pool else {
            return Ok(None);
        };
        let mut listener = sqlx::postgres::PgListener::connect_with(p).await?;
        listener.listen("portico_changes").await?;
        Ok(Some(tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(_) => wake.notify_one(),
                    // The server is stopping: the connection goes back for the pool to close.
                    Err(sqlx::Error::PoolClosed) => return,
                    Err(e) => {
                        tracing::warn!("listening for changes: {e}; listening again in 1 s");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        })))
    }

    /// Whether the store is on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.pool, Pool::Postgres(_))
    }

    /// Answers when the database does (`/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        crate::sql::query_scalar::<i64>("SELECT CAST(1 AS BIGINT)")
            .fetch_one(&self.pool)
            .await?;
        Ok(())
    }

    /// The data version: it moves with every committed change to a table pages read, by any
    /// process on the database (triggers move it: `migrations/sqlite/0019_data_version.sql`).
    /// Read before a page's rows, a version that has not moved means those rows have not
    /// changed since a page was rendered under it.
    pub async fn data_version(&self) -> Result<i64, StoreError> {
        Ok(
            crate::sql::query_scalar::<i64>("SELECT version FROM data_version WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Waits for open connections to finish and closes them (at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The session store over the same database, its table created.
    pub async fn sessions(&self) -> Result<Sessions, StoreError> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => {
                let store = tower_sessions_sqlx_store::SqliteStore::new(p.clone());
                store.migrate().await?;
                Sessions::Sqlite(store)
            }
            Pool::Postgres(p) => {
                let store = tower_sessions_sqlx_store::PostgresStore::new(p.clone());
                store.migrate().await?;
                Sessions::Postgres(store)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql;

    /// An edit saved on one server wakes the worker on another at once.
    #[tokio::test]
    async fn a_change_announced_on_one_server_wakes_another_on_postgresql() {
        let pg = crate::testing::TestPostgres::start().await;
        let worker = Store::open_postgres(pg.url()).await.unwrap();
        let editor = Store::open_postgres(pg.url()).await.unwrap();
        let wake = std::sync::Arc::new(tokio::sync::Notify::new());
        let watching = worker.watch_changes(wake.clone()).await.unwrap().unwrap();
        editor.announce_change().await.unwrap();
        tokio::time::timeout(Duration::from_secs(10), wake.notified())
            .await
            .expect("woken");
        watching.abort();
        // SQLite has no channel: announcing is nothing, and there is nothing to watch.
        let dir = tempfile::tempdir().unwrap();
        let file = Store::open(&dir.path().join("t.db")).await.unwrap();
        file.announce_change().await.unwrap();
        assert!(file.watch_changes(wake).await.unwrap().is_none());
    }

    /// A committed change moves the data version (on PostgreSQL once per transaction, however
    /// many rows it wrote); a rolled-back one and a sign-in attempt do not.
    #[tokio::test]
    async fn a_committed_change_moves_the_data_version() {
        let (_held, db) = crate::testing::store().await;
        let before = db.data_version().await.unwrap();
        // A user and its audit row: two tables, one transaction.
        crate::users::create(&db, "test", "ada", portico_core::model::Role::Admin, "hash")
            .await
            .unwrap();
        let after = db.data_version().await.unwrap();
        assert!(after > before, "{before} → {after}");
        if db.is_postgres() {
            assert_eq!(after, before + 1);
        }
        let mut tx = db.write().await.unwrap();
        sql::query("UPDATE users SET role = 'viewer'")
            .execute(&mut tx)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(db.data_version().await.unwrap(), after, "rolled back");
        crate::sign_in::attempt(&db, "ada", "192.0.2.1", crate::now_ms(), 60_000, |_, _| {
            Ok::<(), ()>(())
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(db.data_version().await.unwrap(), after, "a sign-in attempt");
        sql::query("UPDATE users SET role = 'viewer'")
            .execute(&db)
            .await
            .unwrap();
        assert!(
            db.data_version().await.unwrap() > after,
            "a single statement"
        );
    }

    #[test]
    fn a_url_is_shown_without_its_password() {
        assert_eq!(
            shown("postgres://portico:s3cr%40t@db.internal:5432/portico?sslmode=require"),
            "postgres://portico@db.internal:5432/portico?sslmode=require"
        );
        assert_eq!(shown("postgresql://db/portico"), "postgresql://db/portico");
        assert_eq!(shown("state/portico.db"), "state/portico.db");
        assert_eq!(
            shown("POSTGRES://u@db/p?password=s3cret&sslmode=require&sslpassword=k3y"),
            "postgres://u@db/p?sslmode=require"
        );
        assert_eq!(
            shown("postgres://u@db/p?password=s3cret"),
            "postgres://u@db/p"
        );
        assert!(!shown("postgres://u:s3cret@[db/p").contains("s3cret"));
        assert!(is_postgres("PostgreSQL://db/p") && !is_postgres("portico.db"));
        assert!(is_postgres("postgres://db/p") && !is_postgres("postgres.db"));
    }

    #[tokio::test]
    async fn opens_with_wal_foreign_keys_and_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        let mode: String = sql::query_scalar("PRAGMA journal_mode")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sql::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(fk, 1);
        let users: i64 = sql::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(users, 0);
        // Opening again is a no-op for migrations.
        store.close().await;
        Store::open(&dir.path().join("t.db")).await.unwrap();
    }

    /// A transaction that reads, then writes while another connection wrote in between, is
    /// what failed with SQLITE_BUSY_SNAPSHOT (code 517) under a deferred BEGIN, and what would
    /// lose an increment under PostgreSQL's READ COMMITTED without the write lock.
    #[tokio::test]
    async fn a_read_then_write_transaction_survives_a_concurrent_writer() {
        let (_held, store) = crate::testing::store().await;
        sql::query("CREATE TABLE counter (n BIGINT NOT NULL)")
            .execute(&store.pool)
            .await
            .unwrap();
        sql::query("INSERT INTO counter VALUES (0)")
            .execute(&store.pool)
            .await
            .unwrap();
        let mut tasks = vec![];
        for _ in 0..16 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = store.write().await?;
                let n: i64 = sql::query_scalar("SELECT n FROM counter")
                    .fetch_one(&mut tx)
                    .await?;
                tokio::task::yield_now().await;
                sql::query("UPDATE counter SET n = ?")
                    .bind(n + 1)
                    .execute(&mut tx)
                    .await?;
                tx.commit().await?;
                Ok::<_, StoreError>(())
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let n: i64 = sql::query_scalar("SELECT n FROM counter")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(n, 16, "no increment lost, none failed");
    }
}
