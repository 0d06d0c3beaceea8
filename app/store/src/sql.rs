//! One SQL text for both databases. The store's statements are written once, in the SQL that
//! SQLite and PostgreSQL share, with SQLite's `?` placeholders; this module binds their values
//! and runs them on whichever database the store was opened on (numbering the placeholders
//! `$1, $2 …` for PostgreSQL).
//!
//! Why not `sqlx::Any`: it decodes a value by the column's declared type only, so SQLite's
//! INTEGER flags could not be read as `bool` (PostgreSQL's are BOOLEAN), and it copies every
//! row into owned values on the way; here each database's own driver decodes its rows.
//!
//! The calls mirror sqlx's: `sql::query_as::<T>(text).bind(v).fetch_all(on)`, where `on` is
//! the store's pool (`&db.pool`), a transaction (`&mut tx`) or a connection (`&mut conn`).

use sqlx::postgres::{PgArguments, PgConnection, PgPool, PgRow, Postgres};
use sqlx::sqlite::{Sqlite, SqliteArguments, SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{Arguments, Decode, FromRow, Type};
use std::borrow::Cow;
use std::marker::PhantomData;

/// Where a statement runs: a pool (a connection of its own per statement) or one connection.
pub enum On<'c> {
    SqlitePool(&'c SqlitePool),
    Sqlite(&'c mut SqliteConnection),
    PostgresPool(&'c PgPool),
    Postgres(&'c mut PgConnection),
}

/// What a statement can run on.
pub trait Exec<'c>: Send {
    fn on(self) -> On<'c>;
}

/// One connection that several statements share in turn (a transaction, or a connection
/// taken from the pool): pass `&mut conn`.
pub trait Connection: Send {
    fn on(&mut self) -> On<'_>;
}

impl<'c, C: Connection> Exec<'c> for &'c mut C {
    fn on(self) -> On<'c> {
        Connection::on(self)
    }
}

/// A value bound to a placeholder. Nulls carry their type, which PostgreSQL wants.
#[derive(Debug)]
pub enum Arg<'q> {
    Int(Option<i64>),
    Real(Option<f64>),
    Flag(Option<bool>),
    Text(Option<Cow<'q, str>>),
}

macro_rules! arg_from {
    ($variant:ident: $($t:ty => $conv:expr),* $(,)?) => {$(
        impl<'q> From<$t> for Arg<'q> {
            fn from(v: $t) -> Self {
                #[allow(clippy::redundant_closure_call)]
                Arg::$variant(Some(($conv)(v)))
            }
        }
        impl<'q> From<Option<$t>> for Arg<'q> {
            fn from(v: Option<$t>) -> Self {
                #[allow(clippy::redundant_closure_call)]
                Arg::$variant(v.map($conv))
            }
        }
    )*};
}
arg_from!(Int: i64 => |v| v, i32 => i64::from, u32 => i64::from, &i64 => |v: &i64| *v);
arg_from!(Real: f64 => |v| v, &f64 => |v: &f64| *v);
arg_from!(Flag: bool => |v| v, &bool => |v: &bool| *v);
arg_from!(Text:
    &'q str => Cow::Borrowed,
    &'q String => |v: &'q String| Cow::Borrowed(v.as_str()),
    String => Cow::Owned,
);

fn sqlite_args(args: Vec<Arg<'_>>) -> SqliteArguments<'_> {
    let mut out = SqliteArguments::default();
    for arg in args {
        let added = match arg {
            Arg::Int(v) => out.add(v),
            Arg::Real(v) => out.add(v),
            Arg::Flag(v) => out.add(v),
            Arg::Text(v) => out.add(v),
        };
        added.expect("SQLite encodes every Arg");
    }
    out
}

fn postgres_args(args: Vec<Arg<'_>>) -> PgArguments {
    let mut out = PgArguments::default();
    for arg in args {
        let added = match arg {
            Arg::Int(v) => out.add(v),
            Arg::Real(v) => out.add(v),
            Arg::Flag(v) => out.add(v),
            Arg::Text(v) => out.add(v.as_deref()),
        };
        added.expect("PostgreSQL encodes every Arg");
    }
    out
}

/// `sql` with SQLite's placeholders (`?`, `?NNN`) as PostgreSQL's (`$1`, `$NNN`), numbered by
/// SQLite's rule: a bare `?` takes one more than the largest number given so far. Quoted text
/// and identifiers are left as they are.
pub(crate) fn numbered(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut largest: u32 = 0;
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) => out.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                let n = match digits.parse::<u32>() {
                    Ok(n) => n,
                    Err(_) => largest + 1,
                };
                largest = largest.max(n);
                out.push('$');
                out.push_str(&n.to_string());
            }
            (None, c) => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A row type both drivers decode (a tuple, or a struct deriving `sqlx::FromRow`).
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

/// A single value both drivers decode.
pub trait Value:
    for<'r> Decode<'r, Sqlite>
    + Type<Sqlite>
    + for<'r> Decode<'r, Postgres>
    + Type<Postgres>
    + Send
    + Unpin
{
}
impl<T> Value for T where
    T: for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
        + for<'r> Decode<'r, Postgres>
        + Type<Postgres>
        + Send
        + Unpin
{
}

/// What a statement that returns no rows did.
#[derive(Clone, Copy, Debug)]
pub struct Done {
    rows_affected: u64,
}

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

/// A statement and its bound values; `O` is what each row is read as.
#[must_use = "a statement does nothing until it is run"]
pub struct Query<'q, O> {
    sql: &'q str,
    args: Vec<Arg<'q>>,
    row: PhantomData<fn() -> O>,
}

/// A statement whose rows are read as `O`'s one column.
#[must_use = "a statement does nothing until it is run"]
pub struct Scalar<'q, O>(Query<'q, O>);

pub fn query(sql: &str) -> Query<'_, ()> {
    query_as(sql)
}

pub fn query_as<O>(sql: &str) -> Query<'_, O> {
    Query {
        sql,
        args: Vec::new(),
        row: PhantomData,
    }
}

pub fn query_scalar<O>(sql: &str) -> Scalar<'_, O> {
    Scalar(query_as(sql))
}

/// Runs `$run` (a sqlx query built from `$sql` and arguments) on `$on`'s database.
macro_rules! run {
    ($query:expr, $on:expr, |$sql:ident, $args:ident, $exec:ident| $run:expr) => {{
        let Query { sql, args, .. } = $query;
        match $on.on() {
            On::SqlitePool($exec) => {
                let ($sql, $args) = (sql, sqlite_args(args));
                $run
            }
            On::Sqlite($exec) => {
                let ($sql, $args) = (sql, sqlite_args(args));
                $run
            }
            On::PostgresPool($exec) => {
                let numbered = numbered(sql);
                let ($sql, $args) = (numbered.as_ref(), postgres_args(args));
                $run
            }
            On::Postgres($exec) => {
                let numbered = numbered(sql);
                let ($sql, $args) = (numbered.as_ref(), postgres_args(args));
                $run
            }
        }
    }};
}

impl<'q, O> Query<'q, O> {
    pub fn bind(mut self, value: impl Into<Arg<'q>>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Binds values as they are (read by `fetch_values`).
    pub fn bind_all(mut self, values: impl IntoIterator<Item = Arg<'q>>) -> Self {
        self.args.extend(values);
        self
    }

    pub async fn execute<'c>(self, on: impl Exec<'c>) -> Result<Done, sqlx::Error> {
        let rows_affected = run!(self, on, |sql, args, exec| {
            sqlx::query_with(sql, args)
                .execute(exec)
                .await?
                .rows_affected()
        });
        Ok(Done { rows_affected })
    }
}

impl<'q, O: Row> Query<'q, O> {
    pub async fn fetch_one<'c>(self, on: impl Exec<'c>) -> Result<O, sqlx::Error> {
        run!(self, on, |sql, args, exec| sqlx::query_as_with(sql, args)
            .fetch_one(exec)
            .await)
    }

    pub async fn fetch_all<'c>(self, on: impl Exec<'c>) -> Result<Vec<O>, sqlx::Error> {
        run!(self, on, |sql, args, exec| sqlx::query_as_with(sql, args)
            .fetch_all(exec)
            .await)
    }

    pub async fn fetch_optional<'c>(self, on: impl Exec<'c>) -> Result<Option<O>, sqlx::Error> {
        run!(self, on, |sql, args, exec| sqlx::query_as_with(sql, args)
            .fetch_optional(exec)
            .await)
    }
}

impl<'q, O> Scalar<'q, O> {
    pub fn bind(self, value: impl Into<Arg<'q>>) -> Self {
        Scalar(self.0.bind(value))
    }
}

impl<'q, O: Value> Scalar<'q, O> {
    pub async fn fetch_all<'c>(self, on: impl Exec<'c>) -> Result<Vec<O>, sqlx::Error> {
        run!(self.0, on, |sql, args, exec| sqlx::query_scalar_with(
            sql, args
        )
        .fetch_all(exec)
        .await)
    }

    pub async fn fetch_optional<'c>(self, on: impl Exec<'c>) -> Result<Option<O>, sqlx::Error> {
        run!(self.0, on, |sql, args, exec| sqlx::query_scalar_with(
            sql, args
        )
        .fetch_optional(exec)
        .await)
    }

    pub async fn fetch_one<'c>(self, on: impl Exec<'c>) -> Result<O, sqlx::Error> {
        run!(self.0, on, |sql, args, exec| sqlx::query_scalar_with(
            sql, args
        )
        .fetch_one(exec)
        .await)
    }
}

/// What a column holds, as both databases agree (`schema_parity`): for reading rows whose shape
/// is only known when the program runs (copying a whole table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Real,
    Flag,
    Text,
}

fn decode_row<'r, R>(row: &'r R, kinds: &[Kind]) -> Result<Vec<Arg<'static>>, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    Option<f64>: Decode<'r, R::Database> + Type<R::Database>,
    Option<bool>: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
{
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            Ok(match kind {
                Kind::Int => Arg::Int(row.try_get(i)?),
                Kind::Real => Arg::Real(row.try_get(i)?),
                Kind::Flag => Arg::Flag(row.try_get(i)?),
                Kind::Text => Arg::Text(row.try_get::<Option<String>, _>(i)?.map(Cow::Owned)),
            })
        })
        .collect()
}

/// Every row of `sql` (no placeholders), each column read as `kinds` says, as values to bind.
pub(crate) async fn fetch_values<'c>(
    sql: &str,
    kinds: &[Kind],
    on: impl Exec<'c>,
) -> Result<Vec<Vec<Arg<'static>>>, sqlx::Error> {
    match on.on() {
        On::SqlitePool(p) => rows_of(sqlx::query(sql).fetch_all(p).await?, kinds),
        On::Sqlite(c) => rows_of(sqlx::query(sql).fetch_all(c).await?, kinds),
        On::PostgresPool(p) => rows_of(sqlx::query(sql).fetch_all(p).await?, kinds),
        On::Postgres(c) => rows_of(sqlx::query(sql).fetch_all(c).await?, kinds),
    }
}

fn rows_of<R>(rows: Vec<R>, kinds: &[Kind]) -> Result<Vec<Vec<Arg<'static>>>, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<f64>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<bool>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
{
    rows.iter().map(|row| decode_row(row, kinds)).collect()
}

#[cfg(test)]
mod tests {
    use super::numbered;
    use proptest::prelude::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c = '?' AND \"d?\" = ? LIMIT ?"),
            "SELECT a FROM t WHERE b = $1 AND c = '?' AND \"d?\" = $2 LIMIT $3"
        );
        assert_eq!(
            numbered("UPDATE t SET a = ?1, b = ?2 + ?1"),
            "UPDATE t SET a = $1, b = $2 + $1"
        );
        assert_eq!(numbered("SELECT 'it''s ?'"), "SELECT 'it''s ?'");
        // SQLite's rule: a bare `?` after `?4` is the fifth.
        assert_eq!(
            numbered("UPDATE t SET a = ?, b = ? WHERE c = ? AND (?4 IS NULL OR d = ?4) AND e = ?"),
            "UPDATE t SET a = $1, b = $2 WHERE c = $3 AND ($4 IS NULL OR d = $4) AND e = $5"
        );
    }

    proptest! {
        /// Text without placeholders is untouched, and each `?` outside quotes becomes the next
        /// number.
        #[test]
        fn numbering_counts_the_placeholders(parts in proptest::collection::vec("[a-z =,()]{0,8}", 1..8)) {
            let sql = parts.join("?");
            let out = numbered(&sql);
            let mut expected = parts[0].clone();
            for (i, part) in parts.iter().enumerate().skip(1) {
                expected.push_str(&format!("${i}{part}"));
            }
            prop_assert_eq!(out.as_ref(), expected.as_str());
        }
    }
}
