//! The two databases' migrations kept in step: the same versions, and the schemas they make
//! with the same tables, columns (each of a type the other's reads decode alike, nullable
//! alike), primary keys and other indexes (by columns and uniqueness).

use crate::db::{MIGRATOR, POSTGRES_MIGRATOR};
use crate::testing::TestPostgres;
use std::collections::BTreeMap;

/// A table as both databases can describe it.
#[derive(Debug, Default, PartialEq)]
struct Table {
    /// Column name → (type, not null), the type in the words of `same_type`.
    columns: BTreeMap<String, (String, bool)>,
    primary_key: Vec<String>,
    /// Every other index: (unique, its columns in order), sorted.
    indexes: Vec<(bool, Vec<String>)>,
}

/// Whether a PostgreSQL column of `pg` type holds what a SQLite column declared `sqlite` does,
/// as Rust reads and binds it: i64 (or a flag's bool), String, f64.
fn same_type(sqlite: &str, pg: &str) -> bool {
    matches!(
        (sqlite, pg),
        ("INTEGER", "bigint" | "boolean") | ("TEXT", "text") | ("REAL", "double precision")
    )
}

async fn sqlite_schema() -> BTreeMap<String, Table> {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::Store::open(&dir.path().join("t.db")).await.unwrap();
    let pool = store.raw_pool_for_tests();
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut tables = BTreeMap::new();
    for name in names {
        let mut table = Table::default();
        let columns: Vec<(String, String, bool, i64)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?) ORDER BY pk",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .unwrap();
        for (column, declared, not_null, pk) in columns {
            if pk > 0 {
                table.primary_key.push(column.clone());
            }
            // A primary key's columns are never null in PostgreSQL; SQLite's can be, by an old
            // quirk, but Portico never writes one.
            table.columns.insert(column, (declared, not_null || pk > 0));
        }
        let indexes: Vec<(String, bool)> = sqlx::query_as(
            "SELECT name, \"unique\" FROM pragma_index_list(?) WHERE origin <> 'pk'",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .unwrap();
        for (index, unique) in indexes {
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(pool)
                    .await
                    .unwrap();
            table.indexes.push((unique, columns));
        }
        table.indexes.sort();
        tables.insert(name, table);
    }
    store.close().await;
    tables
}

async fn postgres_schema(url: &str) -> BTreeMap<String, Table> {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    POSTGRES_MIGRATOR.run(&pool).await.unwrap();
    let columns: Vec<(String, String, String, bool)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable = 'NO' \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for (table, column, data_type, not_null) in columns {
        tables
            .entry(table)
            .or_default()
            .columns
            .insert(column, (data_type, not_null));
    }
    // Every index, the primary key's among them, with its columns in order.
    let indexes: Vec<(String, String, bool, bool, String)> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text, x.indisprimary, x.indisunique, a.attname::text \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k (attnum, ord) \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE n.nspname = current_schema() AND t.relname <> '_sqlx_migrations' \
         ORDER BY i.relname, k.ord",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut by_index: BTreeMap<(String, String), (bool, bool, Vec<String>)> = BTreeMap::new();
    for (table, index, primary, unique, column) in indexes {
        by_index
            .entry((table, index))
            .or_insert((primary, unique, vec![]))
            .2
            .push(column);
    }
    for ((table, _), (primary, unique, columns)) in by_index {
        let table = tables.entry(table).or_default();
        if primary {
            table.primary_key = columns;
        } else {
            table.indexes.push((unique, columns));
        }
    }
    for table in tables.values_mut() {
        table.indexes.sort();
    }
    pool.close().await;
    tables
}

#[test]
fn both_folders_hold_the_same_versions() {
    let versions = |m: &sqlx::migrate::Migrator| -> Vec<(i64, String)> {
        m.iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    };
    assert_eq!(versions(&MIGRATOR), versions(&POSTGRES_MIGRATOR));
}

#[tokio::test]
async fn both_databases_have_the_same_tables_columns_and_indexes() {
    let pg = TestPostgres::start().await;
    let sqlite = sqlite_schema().await;
    let postgres = postgres_schema(pg.url()).await;
    assert_eq!(
        sqlite.keys().collect::<Vec<_>>(),
        postgres.keys().collect::<Vec<_>>(),
        "tables"
    );
    assert!(sqlite.len() >= 15, "{:?}", sqlite.keys());
    for (name, lite) in &sqlite {
        let pg = &postgres[name];
        assert_eq!(
            lite.columns.keys().collect::<Vec<_>>(),
            pg.columns.keys().collect::<Vec<_>>(),
            "the columns of {name}"
        );
        for (column, (declared, not_null)) in &lite.columns {
            let (pg_type, pg_not_null) = &pg.columns[column];
            assert!(
                same_type(declared, pg_type),
                "{name}.{column}: {declared} in SQLite, {pg_type} in PostgreSQL"
            );
            assert_eq!(not_null, pg_not_null, "{name}.{column}: NOT NULL");
        }
        assert_eq!(
            lite.primary_key, pg.primary_key,
            "the primary key of {name}"
        );
        assert_eq!(lite.indexes, pg.indexes, "the indexes of {name}");
    }
}

/// The tables no page reads, whose writes leave the data version where it was
/// (`migrations/sqlite/0019_data_version.sql` says why).
const PAGES_NEVER_READ: [&str; 3] = ["aws_budget", "sign_in_attempts", "worker_lease"];

/// Every other table moves the data version a kept page is keyed by, on both databases: a
/// table added without its triggers would let pages show what it held before a change.
#[tokio::test]
async fn every_table_pages_read_moves_the_data_version() {
    let pg = TestPostgres::start().await;
    let expected: Vec<String> = sqlite_schema()
        .await
        .into_keys()
        .filter(|t| t != "data_version" && !PAGES_NEVER_READ.contains(&t.as_str()))
        .collect();
    assert!(expected.len() >= 15, "{expected:?}");

    let dir = tempfile::tempdir().unwrap();
    let store = crate::Store::open(&dir.path().join("t.db")).await.unwrap();
    let sqlite: Vec<(String, i64)> = sqlx::query_as(
        "SELECT tbl_name, COUNT(*) FROM sqlite_master WHERE type = 'trigger' \
         AND sql LIKE '%UPDATE data_version SET version = version + 1%' \
         GROUP BY tbl_name ORDER BY tbl_name",
    )
    .fetch_all(store.raw_pool_for_tests())
    .await
    .unwrap();
    store.close().await;
    assert_eq!(
        sqlite,
        expected.iter().map(|t| (t.clone(), 3)).collect::<Vec<_>>(),
        "SQLite: an insert, an update and a delete trigger on each table pages read"
    );

    let pool = sqlx::PgPool::connect(pg.url()).await.unwrap();
    POSTGRES_MIGRATOR.run(&pool).await.unwrap();
    let postgres: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT c.relname::text FROM pg_trigger t \
         JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid \
         WHERE p.proname = 'move_data_version' AND t.tgdeferrable AND t.tginitdeferred \
         AND (t.tgtype & 28) = 28 ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert_eq!(
        postgres, expected,
        "PostgreSQL: a deferred trigger on insert, update and delete of each table pages read"
    );
}
