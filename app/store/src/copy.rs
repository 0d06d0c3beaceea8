//! Moving an installation to another database (`portico migrate --from … --to …`): SQLite to
//! PostgreSQL when a team outgrows one machine, PostgreSQL to a SQLite file for a portable copy.
//! Every table is copied but what lives only while servers run: the sign-in sessions (everyone
//! signs in again), the worker lease (the next server to start takes it), the sign-in attempts
//! and the pages' AWS budget. The installation's id goes along, so the AWS resources tagged
//! with it stay this installation's.
//!
//! The source is read in one snapshot; the target is written in one transaction, so a copy
//! that fails leaves the target as empty as it was. The row counts of both are compared in
//! those, before the target commits.

use crate::db::Pool;
use crate::sql::{self, Kind};
use crate::{lease, now_ms, Store, StoreError};

/// Every table a copy moves, each after the tables its rows refer to.
const TABLES: &[&str] = &[
    "installation",
    "users",
    "audit",
    "gateways",
    "generations",
    "plans",
    "plan_steps",
    "gateway_status",
    "api_keys",
    "health_events",
    "prices",
    "webhooks",
    "webhook_deliveries",
    "metric_points",
    "metric_reads",
];

/// At most this many values in one INSERT (SQLite's oldest limit is 999).
const VALUES_PER_INSERT: usize = 900;

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(
        "a server is working on {0} (its worker lease is held by {1}): stop every server on \
         it first, so nothing changes during the copy"
    )]
    InUse(&'static str, String),
    #[error("the target database holds {0} already: copy into an empty database only")]
    NotEmpty(String),
    #[error("{table}: {from} rows in the source, {to} in the target after the copy")]
    Mismatch { table: String, from: i64, to: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CopyError {
    fn from(err: sqlx::Error) -> Self {
        CopyError::Store(err.into())
    }
}

/// A table's columns and what each holds.
async fn columns(db: &Store, table: &str) -> Result<Vec<(String, Kind)>, CopyError> {
    let rows: Vec<(String, String)> = match &db.pool {
        Pool::Sqlite(_) => {
            sql::query_as("SELECT name, type FROM pragma_table_info(?) ORDER BY cid")
                .bind(table)
                .fetch_all(&db.pool)
                .await?
        }
        Pool::Postgres(_) => {
            sql::query_as(
                "SELECT column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(&db.pool)
            .await?
        }
    };
    rows.into_iter()
        .map(|(name, kind)| {
            let kind = match kind.as_str() {
                "INTEGER" | "bigint" => Kind::Int,
                "REAL" | "double precision" => Kind::Real,
                "boolean" => Kind::Flag,
                "TEXT" | "text" => Kind::Text,
                other => {
                    return Err(StoreError::internal(
                        &format!("copying {table}.{name}"),
                        format!("a column of type {other}"),
                    )
                    .into())
                }
            };
            Ok((name, kind))
        })
        .collect()
}

async fn count(db: &Store, table: &str) -> Result<i64, CopyError> {
    Ok(sql::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&db.pool)
        .await?)
}

/// Refuses a database a server works on: its worker lease is live.
async fn refuse_in_use(db: &Store, which: &'static str) -> Result<(), CopyError> {
    match lease::current(db).await? {
        Some(l) if l.expires_ms > now_ms() => Err(CopyError::InUse(which, l.holder)),
        _ => Ok(()),
    }
}

impl Store {
    /// Copies everything but what lives only while servers run (sessions, the worker lease,
    /// sign-in attempts, the pages' AWS budget) into `to`, which must be empty
    /// (freshly opened: its migrations applied, nothing else). Returns each table's rows.
    pub async fn copy_to(&self, to: &Store) -> Result<Vec<(&'static str, i64)>, CopyError> {
        refuse_in_use(self, "the source").await?;
        refuse_in_use(to, "the target").await?;
        for table in TABLES.iter().filter(|t| **t != "installation") {
            if count(to, table).await? > 0 {
                return Err(CopyError::NotEmpty((*table).to_owned()));
            }
        }
        // Flags are integers in SQLite and BOOLEAN in PostgreSQL: the PostgreSQL side says
        // which columns are flags.
        let shapes = if matches!(to.pool, Pool::Postgres(_)) {
            to
        } else {
            self
        };
        let mut source = self.pool.begin_read().await?;
        let mut target = to.write().await?;
        sql::query("DELETE FROM installation")
            .execute(&mut target)
            .await?;
        for table in TABLES {
            let columns = columns(shapes, table).await?;
            let names = columns
                .iter()
                .map(|(name, _)| name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let kinds: Vec<Kind> = columns.iter().map(|(_, kind)| *kind).collect();
            // In id order: a key refers to the key it was rotated from, an older one.
            let order = if names.split(", ").any(|n| n == "id") {
                " ORDER BY id"
            } else {
                ""
            };
            let rows = sql::fetch_values(
                &format!("SELECT {names} FROM {table}{order}"),
                &kinds,
                &mut source,
            )
            .await?;
            let row_marks = format!("({})", vec!["?"; kinds.len()].join(", "));
            let per_insert = (VALUES_PER_INSERT / kinds.len()).max(1);
            let mut rows = rows.into_iter().peekable();
            while rows.peek().is_some() {
                let batch: Vec<_> = rows.by_ref().take(per_insert).collect();
                let marks = vec![row_marks.as_str(); batch.len()].join(", ");
                let statement = format!("INSERT INTO {table} ({names}) VALUES {marks}");
                sql::query(&statement)
                    .bind_all(batch.into_iter().flatten())
                    .execute(&mut target)
                    .await?;
            }
        }
        if matches!(to.pool, Pool::Postgres(_)) {
            // Rows came with their ids: each identity column goes on after the largest.
            let identities: Vec<String> = sql::query_scalar(
                "SELECT table_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES'",
            )
            .fetch_all(&mut target)
            .await?;
            for table in identities {
                sql::query(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
                ))
                .execute(&mut target)
                .await?;
            }
        }
        // Counted in the source's snapshot and in the target's transaction, before it
        // commits: a mismatch leaves the target as it was, whatever the source does meanwhile.
        let mut copied = Vec::new();
        for table in TABLES {
            let statement = format!("SELECT COUNT(*) FROM {table}");
            let from: i64 = sql::query_scalar(&statement).fetch_one(&mut source).await?;
            let to: i64 = sql::query_scalar(&statement).fetch_one(&mut target).await?;
            if from != to {
                return Err(CopyError::Mismatch {
                    table: (*table).to_owned(),
                    from,
                    to,
                });
            }
            copied.push((*table, to));
        }
        target.commit().await?;
        drop(source);
        Ok(copied)
    }
}

#[cfg(test)]
mod tests;
