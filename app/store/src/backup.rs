//! Backing up and restoring the whole database. A backup is a consistent online copy
//! (`VACUUM INTO`, one read transaction: writers go on meanwhile); a restore replaces the
//! database file with a checked backup and refuses while a server works on it.

use crate::{lease, now_ms, OpenError, Store, StoreError, StoreResult};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::Path;

impl Store {
    /// Writes a consistent copy of the database to `to` (which must not exist yet).
    pub async fn backup_to(&self, to: &Path) -> StoreResult<()> {
        if to.exists() {
            return Err(StoreError::Conflict(format!(
                "{} exists already; choose a new file for the backup.",
                to.display()
            )));
        }
        let crate::db::Pool::Sqlite(pool) = &self.pool else {
            return Err(StoreError::Invalid(
                "This installation keeps its state in PostgreSQL: back it up with PostgreSQL's \
                 own tools (pg_dump, or your provider's snapshots)."
                    .into(),
            ));
        };
        sqlx::query("VACUUM INTO ?")
            .bind(to.display().to_string())
            .execute(pool)
            .await?;
        Ok(())
    }

    /// Replaces the database at `to` by the backup `from`, after checking the backup is a
    /// whole Portico database and that no server works on `to` (it would hold the worker
    /// lease). Opens the result, so migrations newer than the backup are applied.
    pub async fn restore(from: &Path, to: &Path) -> Result<Store, RestoreError> {
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same(from, to) {
            return Err(RestoreError::NotABackup("it is the database itself".into()));
        }
        check_backup(from).await?;
        if to.exists() {
            let current = Store::open(to).await?;
            if let Some(l) = lease::current(&current).await? {
                if l.expires_ms > now_ms() {
                    return Err(RestoreError::InUse(l.holder));
                }
            }
            current.close().await;
            refuse_if_open(to).await?;
        }
        // Staged beside the database under a name of its own, flushed, then renamed over it.
        let staged = to.with_extension(format!("restoring-{}", std::process::id()));
        let io = |e: std::io::Error| RestoreError::Io(e.to_string());
        std::fs::copy(from, &staged).map_err(io)?;
        std::fs::File::open(&staged)
            .and_then(|f| f.sync_all())
            .map_err(io)?;
        for side in ["-wal", "-shm"] {
            let mut p = to.as_os_str().to_owned();
            p.push(side);
            let _ = std::fs::remove_file(std::path::PathBuf::from(p));
        }
        std::fs::rename(&staged, to).map_err(io)?;
        if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        Ok(Store::open(to).await?)
    }
}

/// Any process with the database open (a server without the worker, a standby) keeps a
/// shared lock on it in WAL mode; leaving WAL needs every other connection gone, so a refusal
/// here means someone still has it open. A connection that is closing is waited for (up to
/// two seconds): sqlx answers a pool's close before its worker thread has closed the file, and
/// on a busy machine a restore right after a close found it still open.
async fn refuse_if_open(path: &Path) -> Result<(), RestoreError> {
    let mut tries = 0;
    loop {
        match still_open(path).await {
            Err(RestoreError::StillOpen) if tries < 20 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
}

async fn still_open(path: &Path) -> Result<(), RestoreError> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(std::time::Duration::from_millis(200))
        .connect()
        .await
        .map_err(|e| RestoreError::Io(e.to_string()))?;
    let mode: Result<String, _> = sqlx::query_scalar("PRAGMA journal_mode = DELETE")
        .fetch_one(&mut conn)
        .await;
    // Closed and waited for, not dropped: a dropped connection closes later on its worker
    // thread, and a restore right after would find this check's own connection still open.
    let _ = conn.close().await;
    match mode {
        Ok(m) if m.eq_ignore_ascii_case("delete") => Ok(()),
        _ => Err(RestoreError::StillOpen),
    }
}

/// The backup opens, passes SQLite's integrity check, and holds Portico's tables.
async fn check_backup(from: &Path) -> Result<(), RestoreError> {
    let mut conn = SqliteConnectOptions::new()
        .filename(from)
        .read_only(true)
        .connect()
        .await
        .map_err(|e| RestoreError::NotABackup(e.to_string()))?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| RestoreError::NotABackup(e.to_string()))?;
    if verdict != "ok" {
        return Err(RestoreError::NotABackup(verdict));
    }
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' \
         AND name IN ('_sqlx_migrations', 'gateways', 'users', 'audit')",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| RestoreError::NotABackup(e.to_string()))?;
    let _ = conn.close().await;
    if tables != 4 {
        return Err(RestoreError::NotABackup(
            "it does not hold Portico's tables".into(),
        ));
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("that file is not a Portico backup: {0}")]
    NotABackup(String),
    #[error(
        "a server works on this database ({0} holds the worker lease): stop every portico serve \
         on it first; nothing was changed"
    )]
    InUse(String),
    #[error(
        "another process has this database open (a server without the worker?): stop every \
         portico serve on it first; nothing was changed"
    )]
    StillOpen,
    #[error("could not put the backup in place: {0}")]
    Io(String),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_backup_taken_during_writes_restores_whole() {
        let dir = tempfile::tempdir().unwrap();
        let live = Store::open(&dir.path().join("live.db")).await.unwrap();
        let writer = {
            let live = live.clone();
            tokio::spawn(async move {
                for i in 0..200 {
                    crate::audit::record(&live.pool, "t", "test.write", &i.to_string(), None, None)
                        .await
                        .unwrap();
                }
            })
        };
        let backup = dir.path().join("backup.db");
        live.backup_to(&backup).await.unwrap();
        writer.await.unwrap();
        assert!(matches!(
            live.backup_to(&backup).await,
            Err(StoreError::Conflict(_))
        ));
        let count = |s: Store| async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit")
                .fetch_one(s.raw_pool_for_tests())
                .await
                .unwrap()
        };
        let in_backup = count(Store::open(&backup).await.unwrap()).await;
        // Into a new place; over a database still open elsewhere, refused; once closed, done.
        let fresh = Store::restore(&backup, &dir.path().join("fresh.db"))
            .await
            .unwrap();
        assert_eq!(count(fresh).await, in_backup);
        let err = Store::restore(&backup, &dir.path().join("live.db"))
            .await
            .unwrap_err();
        assert!(matches!(err, RestoreError::StillOpen), "{err}");
        live.close().await;
        let over = Store::restore(&backup, &dir.path().join("live.db"))
            .await
            .unwrap();
        assert_eq!(count(over).await, in_backup);
        assert!(matches!(
            Store::restore(&backup, &backup).await,
            Err(RestoreError::NotABackup(_))
        ));
    }

    #[tokio::test]
    async fn restore_refuses_a_database_in_use_and_a_file_that_is_no_backup() {
        let dir = tempfile::tempdir().unwrap();
        let live = Store::open(&dir.path().join("live.db")).await.unwrap();
        let backup = dir.path().join("backup.db");
        live.backup_to(&backup).await.unwrap();
        lease::claim(&live, "server-a", Duration::from_secs(60))
            .await
            .unwrap();
        let err = Store::restore(&backup, &dir.path().join("live.db"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, RestoreError::InUse(ref h) if h == "server-a"),
            "{err}"
        );
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"not a database at all").unwrap();
        let err = Store::restore(&junk, &dir.path().join("x.db"))
            .await
            .unwrap_err();
        assert!(matches!(err, RestoreError::NotABackup(_)), "{err}");
        assert!(
            !dir.path().join("x.db").exists(),
            "nothing was put in place"
        );
    }
}
