//! An installation moved from SQLite to PostgreSQL and back arrives whole: every row of every
//! table equal, ids going on after the copied ones, and nothing copied into a database that
//! is not empty or while a server works on the source.

use super::*;
use crate::keys::NewKey;
use crate::testing::TestPostgres;
use crate::traffic::{Point, ReadUpTo};
use crate::{gateways, installation, keys, traffic, users};
use portico_core::model::topology::Topology;
use portico_core::model::Role;
use std::collections::BTreeMap;

/// Every table's rows as text, read with the column kinds `shapes` (a PostgreSQL store) has,
/// so both databases' flags read as flags.
async fn dump(db: &Store, shapes: &Store) -> BTreeMap<&'static str, Vec<String>> {
    let mut tables = BTreeMap::new();
    for table in TABLES {
        let columns = columns(shapes, table).await.unwrap();
        let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
        let kinds: Vec<Kind> = columns.iter().map(|(_, k)| *k).collect();
        let order = (1..=names.len()).map(|i| i.to_string()).collect::<Vec<_>>();
        let rows = sql::fetch_values(
            &format!(
                "SELECT {} FROM {table} ORDER BY {}",
                names.join(", "),
                order.join(", ")
            ),
            &kinds,
            &db.pool,
        )
        .await
        .unwrap();
        tables.insert(*table, rows.iter().map(|r| format!("{r:?}")).collect());
    }
    tables
}

/// A SQLite installation with a little of everything: users (one disabled), a gateway with a
/// second generation, a key and its rotation, traffic points, the audit of it all.
async fn populated(dir: &std::path::Path) -> Store {
    let db = Store::open(&dir.join("source.db")).await.unwrap();
    users::create(&db, "cli", "ann", Role::Admin, "hash-a")
        .await
        .unwrap();
    users::create(&db, "ann", "bob", Role::Viewer, "hash-b")
        .await
        .unwrap();
    users::set_disabled(&db, "ann", "bob", true).await.unwrap();
    let seed =
        Topology::from_yaml(include_str!("../../../../examples/seed-topology.yaml")).unwrap();
    gateways::create(&db, "ann", seed, false).await.unwrap();
    let key = NewKey {
        name: "mobile".into(),
        owner: "team".into(),
        description: "the app".into(),
        usage_plans: vec!["standard".into()],
        expires: None,
        expires_at: None,
    };
    let first = keys::issue(&db, "ann", "seed", &key, 1_000).await.unwrap();
    keys::rotate(&db, "ann", "seed", first, 3_600, 2_000)
        .await
        .unwrap();
    let id = gateways::load(&db, "seed").await.unwrap().id;
    let points: Vec<Point> = (0..5)
        .map(|i| Point {
            series: "stage/dev/Count/Sum".into(),
            period: 300,
            at: 1_000_000 + i * 300,
            value: 1.5 * i as f64,
        })
        .collect();
    let read = ReadUpTo {
        every: Some(1_001_500),
        extras: None,
        points: None,
        resources: "r".into(),
    };
    traffic::record(&db, id, &points, &read, 1_001_500)
        .await
        .unwrap();
    db
}

#[tokio::test]
async fn an_installation_moves_to_postgresql_and_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let source = populated(dir.path()).await;
    let pg = TestPostgres::start().await;
    let target = Store::open_postgres(pg.url()).await.unwrap();

    let copied: BTreeMap<_, _> = source.copy_to(&target).await.unwrap().into_iter().collect();
    assert_eq!(copied["users"], 2);
    assert_eq!(copied["generations"], 1);
    assert_eq!(copied["api_keys"], 2);
    assert_eq!(copied["metric_points"], 5);
    assert!(copied["audit"] >= 5, "{copied:?}");
    assert_eq!(dump(&source, &target).await, dump(&target, &target).await);
    assert_eq!(
        installation::id(&target).await.unwrap(),
        installation::id(&source).await.unwrap()
    );
    let listed = users::list(&target).await.unwrap();
    assert!(listed.iter().any(|u| u.name == "bob" && u.disabled));

    // Ids go on after the copied rows.
    let carol = users::create(&target, "ann", "carol", Role::Editor, "hash-c")
        .await
        .unwrap();
    assert_eq!(carol, 3);

    // Never into a database that holds something.
    assert!(matches!(
        source.copy_to(&target).await,
        Err(CopyError::NotEmpty(t)) if t == "users"
    ));

    // And back, into a new SQLite file.
    let back = Store::open(&dir.path().join("back.db")).await.unwrap();
    target.copy_to(&back).await.unwrap();
    assert_eq!(dump(&back, &target).await, dump(&target, &target).await);
}

#[tokio::test]
async fn nothing_is_copied_while_a_server_works_on_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let source = populated(dir.path()).await;
    assert!(
        lease::claim(&source, "host 1 x", std::time::Duration::from_secs(30))
            .await
            .unwrap()
    );
    let target = Store::open(&dir.path().join("target.db")).await.unwrap();
    let err = source.copy_to(&target).await.unwrap_err();
    assert!(
        matches!(err, CopyError::InUse("the source", ref h) if h == "host 1 x"),
        "{err}"
    );
    assert_eq!(users::count(&target).await.unwrap(), 0);
}
