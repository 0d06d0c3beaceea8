//! The topology as a file: upload (dry run, all or nothing), download, and the CLI's
//! export → apply round trip.

use crate::common::{refused, TestApp};
use axum::http::StatusCode;
use portico_core::model::Role;

async fn app_with_editor() -> (TestApp, String) {
    let app = TestApp::new()
        .await
        .user("alice", Role::Editor)
        .await
        .seed_gateway()
        .await;
    let alice = app.login("alice").await;
    (app, alice)
}

#[tokio::test]
async fn upload_dry_run_changes_nothing_then_applies_all_or_nothing() {
    let (app, alice) = app_with_editor().await;
    let seed = include_str!("../../../examples/seed-topology.yaml");
    let edited = seed.replace("backend_port: 8082", "backend_port: 8080");
    let r = app
        .call(
            "upload_topology",
            Some(&alice),
            &[("gateway", "seed"), ("yaml", &edited), ("dry_run", "on")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("~ stage release: backend_port 8082 → 8080"),
        "{}",
        r.body
    );
    assert_eq!(app.generation("seed").await, 2);
    let broken = edited.replace("port: 8081\n", "port: 70000\n");
    let r = app
        .call(
            "upload_topology",
            Some(&alice),
            &[("gateway", "seed"), ("yaml", &broken)],
        )
        .await;
    refused(&r, StatusCode::UNPROCESSABLE_ENTITY, "out of range");
    let r = app
        .call(
            "upload_topology",
            Some(&alice),
            &[("gateway", "seed"), ("yaml", "gateway: [")],
        )
        .await;
    refused(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "The topology file is not valid",
    );
    assert_eq!(app.generation("seed").await, 2);
    let r = app
        .call(
            "upload_topology",
            Some(&alice),
            &[("gateway", "seed"), ("yaml", &edited)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.generation("seed").await, 3);
    let huge = format!("{seed}\n#{}", "x".repeat(portico::web::BODY_LIMIT));
    let r = app
        .call(
            "upload_topology",
            Some(&alice),
            &[("gateway", "seed"), ("yaml", &huge)],
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_yaml_download_needs_a_signed_in_user() {
    let app = TestApp::new()
        .await
        .user("val", Role::Viewer)
        .await
        .seed_gateway()
        .await;
    assert_eq!(
        app.get("/gateways/seed/topology.yaml", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let viewer = app.login("val").await;
    let r = app.get("/gateways/seed/topology.yaml", Some(&viewer)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.starts_with("# gateway seed, generation 2\n") && r.body.contains("name: seed"),
        "{}",
        r.body
    );
    assert_eq!(
        app.get("/gateways/nope/topology.yaml", Some(&viewer))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// The CLI: apply the seed file, export it, apply the export: nothing changes.
#[test]
fn cli_export_then_apply_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let bin = env!("CARGO_BIN_EXE_portico");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/seed-topology.yaml"
    );
    let dry = run(&["topology", "apply", "-f", seed, "--dry-run"]);
    assert!(
        dry.contains("would change") && dry.contains("+ gateway") && dry.contains("+ port 8081"),
        "{dry}"
    );
    run(&["topology", "apply", "-f", seed]);
    let exported = run(&["topology", "export", "seed"]);
    let file = dir.path().join("exported.yaml");
    std::fs::write(&file, &exported).unwrap();
    let again = run(&["topology", "apply", "-f", file.to_str().unwrap()]);
    assert_eq!(again.trim(), "seed: nothing to change.");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, exported.replace("port: 8081", "port: 70000")).unwrap();
    let out = std::process::Command::new(bin)
        .arg("--db")
        .arg(&db)
        .args(["topology", "apply", "-f", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Backend port 70000 is out of range"));
}

/// An editor may restore an old generation of the topology, but not one that would change the
/// gateway's own settings back: those are an admin's.
#[tokio::test]
async fn an_editor_cannot_restore_the_gateways_settings() {
    let app = TestApp::new()
        .await
        .user("root", Role::Admin)
        .await
        .user("ed", Role::Editor)
        .await
        .seed_gateway()
        .await;
    let mut t = portico_store::gateways::load(&app.store, "seed")
        .await
        .unwrap()
        .topology;
    t.gateway.drift_mode = portico_core::model::topology::DriftMode::Report;
    portico_store::gateways::replace(&app.store, "root", "seed", None, t, "settings", false)
        .await
        .unwrap();
    let ed = app.login("ed").await;
    let r = app
        .call(
            "restore_generation",
            Some(&ed),
            &[("gateway", "seed"), ("from", "3"), ("generation", "2")],
        )
        .await;
    refused(
        &r,
        StatusCode::FORBIDDEN,
        "Only an admin can change the gateway's settings",
    );
    assert_eq!(app.generation("seed").await, 3, "nothing saved");
    let admin = app.login("root").await;
    let r = app
        .call(
            "restore_generation",
            Some(&admin),
            &[("gateway", "seed"), ("from", "3"), ("generation", "2")],
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(app.generation("seed").await, 4);
}

/// `portico backup` copies a database in use; `portico restore` puts the copy in place of
/// another, which then holds the same topology, users and audit; a restore over a database a
/// server works on is refused.
#[tokio::test]
async fn backup_and_restore_from_the_command_line() {
    let app = TestApp::new()
        .await
        .user("root", Role::Admin)
        .await
        .seed_gateway()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (backup, restored) = (dir.path().join("backup.db"), dir.path().join("restored.db"));
    if app.postgres.is_some() {
        // PostgreSQL is backed up with its own tools; both commands say so and write nothing.
        for command in ["backup", "restore"] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_portico"))
                .args(["--db", &app.db_arg(), command])
                .arg(&backup)
                .output()
                .unwrap();
            assert!(!out.status.success(), "{command}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("PostgreSQL's own tools"),
                "{command}: {stderr}"
            );
            assert!(!backup.exists());
        }
        return;
    }
    let live = app._dir.path().join("portico.db");
    let portico = |db: &std::path::Path, args: &[&std::path::Path]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_portico"));
        c.arg("--db").arg(db);
        for a in args {
            c.arg(a);
        }
        c.output().unwrap()
    };
    let out = portico(&live, &[std::path::Path::new("backup"), &backup]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = portico(&restored, &[std::path::Path::new("restore"), &backup]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = portico_store::Store::open(&restored).await.unwrap();
    let seed = |s: &portico_store::Store| {
        let s = s.clone();
        async move { portico_store::gateways::load(&s, "seed").await.unwrap() }
    };
    let (a, b) = (seed(&app.store).await, seed(&copy).await);
    assert_eq!((a.generation, a.topology), (b.generation, b.topology));
    let users = |s: &portico_store::Store| {
        let s = s.clone();
        async move {
            portico_store::users::list(&s)
                .await
                .unwrap()
                .into_iter()
                .map(|u| (u.name, u.role))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(users(&app.store).await, users(&copy).await);
    let audit = |s: &portico_store::Store| {
        let s = s.clone();
        async move {
            portico_store::testing::query_scalar::<i64>("SELECT COUNT(*) FROM audit")
                .fetch_one(&s)
                .await
                .unwrap()
        }
    };
    assert_eq!(audit(&app.store).await, audit(&copy).await);
    // A server holds the lease on the live database: restoring over it is refused.
    portico_store::lease::claim(&app.store, "a server", std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let out = portico(&live, &[std::path::Path::new("restore"), &backup]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("stop every portico serve"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn migrate_moves_an_installation_to_the_other_database_once() {
    let app = TestApp::new()
        .await
        .user("root", Role::Admin)
        .await
        .seed_gateway()
        .await;
    // Into the other kind of database: a SQLite run moves to PostgreSQL, a PostgreSQL run to
    // a SQLite file.
    let pg;
    let target = if app.postgres.is_some() {
        app._dir.path().join("moved.db").display().to_string()
    } else {
        pg = portico_store::testing::TestPostgres::start().await;
        pg.url().to_owned()
    };
    let migrate = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_portico"))
            .args(["--db", &app.db_arg(), "migrate", "--to", &target])
            .output()
            .unwrap()
    };
    let out = migrate();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("the counts match"), "{stdout}");
    let moved = portico_store::Store::connect(&target).await.unwrap();
    let (a, b) = (
        portico_store::gateways::load(&app.store, "seed")
            .await
            .unwrap(),
        portico_store::gateways::load(&moved, "seed").await.unwrap(),
    );
    assert_eq!((a.generation, a.topology), (b.generation, b.topology));
    let names = |users: Vec<portico_store::users::UserRecord>| {
        users.into_iter().map(|u| u.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(portico_store::users::list(&app.store).await.unwrap()),
        names(portico_store::users::list(&moved).await.unwrap())
    );
    // A second run finds the target holding the first one's rows, and changes nothing.
    let out = migrate();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("holds users already"), "{stderr}");
    assert!(stderr.contains("nothing was copied"), "{stderr}");
}
