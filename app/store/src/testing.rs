//! Databases for the store's tests. `store()` opens the one a test runs on: SQLite in a
//! temporary directory, or, with `PORTICO_TEST_DB=postgres` (the test script runs the store's
//! tests both ways), PostgreSQL.
//!
//! A PostgreSQL database for a test comes from Debian's `postgresql` (no docker).
//! The test script (`.ci/postgres.sh`) starts one server for the whole run and names it in
//! `PORTICO_TEST_POSTGRES`; each test then gets a database of its own on it. A test run without
//! the script (`cargo test` by hand) starts a private server instead, for that test alone. Either
//! way the server listens on a Unix socket in its own temporary directory only, so no port is
//! ever taken from another process, and no two runs meet.

/// Statements for the rows no store function reads, on either database: `query_scalar::<i64>(
/// "SELECT COUNT(*) FROM plans").fetch_one(&store)`, with SQLite's `?` placeholders.
pub use crate::sql::{query, query_as, query_scalar};

use sqlx::{Connection, PgConnection};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// Which database `store()` opens: `postgres`, or SQLite when unset.
pub const DATABASE: &str = "PORTICO_TEST_DB";

/// What keeps a test's database alive: its directory, or its PostgreSQL database.
pub enum Held {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Postgres(TestPostgres),
}

impl Held {
    /// Another store on the same database (a second server, or the same one opened again).
    pub async fn open_again(&self) -> crate::Store {
        match self {
            Held::Dir(dir) => crate::Store::open(&dir.path().join("t.db")).await.unwrap(),
            Held::Postgres(pg) => crate::Store::open_postgres(pg.url()).await.unwrap(),
        }
    }
}

/// Whether this run's tests are on PostgreSQL (`PORTICO_TEST_DB=postgres`) or SQLite.
pub fn on_postgres() -> bool {
    match std::env::var(DATABASE).as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("{DATABASE}={other}: postgres or sqlite"),
    }
}

/// A new, empty store (migrations applied) on the database the run is for.
pub async fn store() -> (Held, crate::Store) {
    let held = if on_postgres() {
        Held::Postgres(TestPostgres::start().await)
    } else {
        Held::Dir(tempfile::tempdir().unwrap())
    };
    let store = held.open_again().await;
    (held, store)
}

/// The environment variable the test script sets: a URL of the shared server's `postgres`
/// database, as a user who may create databases.
pub const SHARED: &str = "PORTICO_TEST_POSTGRES";

/// A database of the test's own; a private server goes when this is dropped.
pub struct TestPostgres {
    url: String,
    /// Held for its drop.
    _private: Option<PrivateServer>,
}

impl TestPostgres {
    pub async fn start() -> TestPostgres {
        let (admin_url, private) = match std::env::var(SHARED) {
            Ok(url) => (url, None),
            Err(_) => {
                let server = PrivateServer::start();
                (server.url("postgres"), Some(server))
            }
        };
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "portico_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {admin_url}: {e}"));
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("a database of the test's own");
        admin.close().await.ok();
        let url = with_database(&admin_url, &name);
        TestPostgres {
            url,
            _private: private,
        }
    }

    /// The URL of this test's database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// `url` with its database (the path) replaced by `database`; the query (the socket) kept.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    if query.is_empty() {
        format!("{server}/{database}")
    } else {
        format!("{server}/{database}?{query}")
    }
}

/// A server in a temporary directory, stopped (immediately: its data is thrown away) on drop.
struct PrivateServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
}

impl PrivateServer {
    fn start() -> PrivateServer {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("portico-pg")
            .tempdir()
            .unwrap();
        // initdb refuses to run as root: the server then runs as Debian's `postgres` user, in a
        // directory it owns.
        let as_root = run_as_root();
        if as_root {
            let (uid, gid) = postgres_user();
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
        }
        let data = dir.path().join("data");
        let socket = dir.path().to_str().unwrap();
        run(
            as_root,
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "portico",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
        );
        let options = format!(
            "-c listen_addresses='' -k {socket} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off"
        );
        let log = dir.path().join("log");
        run(
            as_root,
            &bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-o",
                &options,
                "start",
            ],
        );
        PrivateServer { dir, bin }
    }

    fn url(&self, database: &str) -> String {
        format!(
            "postgres://portico@localhost/{database}?host={}",
            self.dir.path().display()
        )
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = command(run_as_root(), &self.bin.join("pg_ctl"))
            .args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
    }
}

/// Where the PostgreSQL programs are: on the PATH, else Debian's newest version.
fn bin_dir() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
    });
    if let Some(dir) = on_path {
        return dir;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .expect("PostgreSQL's initdb: install Debian's postgresql (`.ci/test` does)")
}

fn run_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}

fn postgres_user() -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .unwrap();
        assert!(out.status.success(), "Debian's `postgres` user is missing");
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    (id("-u"), id("-g"))
}

fn command(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(as_root: bool, program: &Path, args: &[&str]) {
    let out = command(as_root, program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} failed: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_url_names_the_database_and_keeps_the_socket() {
    assert_eq!(
        with_database("postgres://portico@localhost/postgres?host=/tmp/x", "t1"),
        "postgres://portico@localhost/t1?host=/tmp/x"
    );
    assert_eq!(
        with_database("postgres://u:p@db.example:5433", "t1"),
        "postgres://u:p@db.example:5433/t1"
    );
}
