//! Sign-in sessions, in tower-sessions' table of the store's own database (`Store::sessions`):
//! every server on one database knows every session, so a load balancer needs no stickiness.

use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{ExpiredDeletion, Result, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// tower-sessions' store for the database the store was opened on.
#[derive(Clone, Debug)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// Calls `$call` on whichever store this is.
macro_rules! either {
    ($self:expr, |$s:ident| $call:expr) => {
        match $self {
            Sessions::Sqlite($s) => $call,
            Sessions::Postgres($s) => $call,
        }
    };
}

#[async_trait::async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> Result<()> {
        either!(self, |s| s.create(record).await)
    }

    async fn save(&self, record: &Record) -> Result<()> {
        either!(self, |s| s.save(record).await)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        either!(self, |s| s.load(id).await)
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        either!(self, |s| s.delete(id).await)
    }
}

#[async_trait::async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> Result<()> {
        either!(self, |s| s.delete_expired().await)
    }
}
