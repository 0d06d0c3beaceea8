//! The real `portico` binary against the sandbox: `kill -9` in the middle of a plan and a
//! restart converge with no duplicate resource and the cut-off plan marked; `portico plan` and
//! `portico status --json` read AWS without writing; `/metrics` counts the worker's calls.

use crate::common::sandbox::Turn;
use crate::common::{TestApp, REGION};
use portico_store::Store;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_portico");

/// The database the binary runs on (`--db`), and where its servers' log goes.
struct Db {
    arg: String,
    log: PathBuf,
}

/// The seed in the sandbox's demo account, stored in a fresh app's database: the binary runs on
/// that same database while the test reads it through the store.
async fn seeded() -> (TestApp, Db) {
    let app = TestApp::builder().with_sandbox(REGION).build().await;
    app.seed_in_sandbox(|_| {}).await;
    let db = Db {
        arg: app.db_arg(),
        log: app._dir.path().join("portico.log"),
    };
    (app, db)
}

fn portico(turn: &Turn, db: &Db) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--db")
        .arg(&db.arg)
        .env("AWS_ENDPOINT_URL", &turn.url)
        .env("AWS_ACCESS_KEY_ID", "sandbox")
        .env("AWS_SECRET_ACCESS_KEY", "sandbox")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("RUST_LOG", "warn")
        // A server killed with -9 can't give the lease up: the next takes it 2 s later.
        .env("PORTICO_LEASE_SECONDS", "2")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    c
}

/// A running `portico serve`, killed (SIGKILL) when dropped, so a failing test leaves no
/// server behind.
struct Server(Child);

impl Server {
    fn kill(&mut self) {
        let _ = self.0.kill(); // std's kill is SIGKILL on Unix
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `portico serve`, its log in the test's `portico.log` (shown when a wait times out).
fn serve(turn: &Turn, db: &Db) -> Server {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&db.log)
        .unwrap();
    portico(turn, db)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map(Server)
        .expect("start portico serve")
}

async fn wait_for(store: &Store, db: &Db, what: &str, sql: &str, timeout: Duration) {
    let started = Instant::now();
    loop {
        let n: i64 = portico_store::testing::query_scalar(sql)
            .fetch_one(store)
            .await
            .unwrap();
        if n > 0 {
            return;
        }
        if started.elapsed() > timeout {
            let status: Vec<(String, String)> =
                portico_store::testing::query_as("SELECT state, message FROM gateway_status")
                    .fetch_all(store)
                    .await
                    .unwrap_or_default();
            let plans: Vec<(i64, String, String)> =
                portico_store::testing::query_as("SELECT id, status, plan FROM plans")
                    .fetch_all(store)
                    .await
                    .unwrap_or_default();
            let plans: Vec<String> = plans
                .into_iter()
                .map(|(id, status, json)| {
                    let p: portico_core::plan::Plan = serde_json::from_str(&json).unwrap();
                    format!("plan {id} {status}:\n  {}", p.lines().join("\n  "))
                })
                .collect();
            panic!(
                "timed out waiting for {what}; status {status:?}; plans:\n{}\nserver log:\n{}",
                plans.join("\n"),
                std::fs::read_to_string(&db.log).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn count(turn: &Turn) -> (usize, usize, usize, usize, usize) {
    let c = turn.clients(REGION, 3).await;
    let lbs = c
        .elb
        .describe_load_balancers()
        .send()
        .await
        .unwrap()
        .load_balancers()
        .len();
    let tgs = c
        .elb
        .describe_target_groups()
        .send()
        .await
        .unwrap()
        .target_groups()
        .len();
    let links = c
        .apigateway
        .get_vpc_links()
        .send()
        .await
        .unwrap()
        .items()
        .len();
    let apis = c.apigateway.get_rest_apis().send().await.unwrap();
    let deployments = match apis.items().first() {
        Some(a) => c
            .apigateway
            .get_deployments()
            .rest_api_id(a.id().unwrap())
            .send()
            .await
            .unwrap()
            .items()
            .len(),
        None => 0,
    };
    (lbs, tgs, links, apis.items().len(), deployments)
}

#[tokio::test]
async fn kill_9_in_the_middle_of_a_plan_then_a_restart_converges_without_duplicates() {
    let (app, db) = seeded().await;
    let (turn, store) = (app.turn(), &app.store);
    turn.control(
        "POST",
        "/config",
        Some(json!({ "vpc_link_pending_seconds": 0.5, "target_initial_seconds": 0.2 })),
    )
    .await;
    // Slow calls, so the kill lands while a step is in flight.
    turn.control(
        "POST",
        "/faults",
        Some(json!({ "kind": "latency", "latency_ms": 150, "rate": 1.0 })),
    )
    .await;
    let mut server = serve(turn, &db);
    wait_for(
        store,
        &db,
        "step 14 to start",
        "SELECT COUNT(*) FROM plan_steps WHERE idx = 14 AND status = 'running'",
        Duration::from_secs(60),
    )
    .await;
    server.kill();
    turn.control("DELETE", "/faults", None).await;
    let (lbs, tgs, _, _, _) = count(turn).await;
    assert_eq!(
        (lbs, tgs),
        (1, 3),
        "the first run got as far as the listeners"
    );

    let mut server = serve(turn, &db);
    wait_for(
        store,
        &db,
        "the gateway to be in sync",
        "SELECT COUNT(*) FROM gateway_status WHERE state = 'in_sync'",
        Duration::from_secs(60),
    )
    .await;
    server.kill();
    assert_eq!(count(turn).await, (1, 3, 1, 1, 1), "one of everything");
    let statuses: Vec<String> =
        portico_store::testing::query_scalar("SELECT status FROM plans ORDER BY id")
            .fetch_all(store)
            .await
            .unwrap();
    assert_eq!(
        statuses,
        vec!["interrupted".to_string(), "done".to_string()]
    );
    let cut: Vec<(i64, String)> = portico_store::testing::query_as(
        "SELECT idx, status FROM plan_steps WHERE status NOT IN ('done', 'pending')",
    )
    .fetch_all(store)
    .await
    .unwrap();
    // Steps run side by side: whatever was in flight at the kill (step 14 among them) reads
    // as interrupted, nothing as still running or failed.
    assert!(cut.contains(&(14, "interrupted".to_string())), "{cut:?}");
    assert!(cut.iter().all(|(_, s)| s == "interrupted"), "{cut:?}");
}

/// Three servers on one database (replicas behind a load balancer): one holds the worker
/// lease and writes; `kill -9` it mid-plan and another takes over within the lease time and
/// finishes, with one of everything in AWS.
#[tokio::test]
async fn three_servers_one_writer_and_a_takeover_after_kill_9() {
    let (app, db) = seeded().await;
    let (turn, store) = (app.turn(), &app.store);
    turn.control(
        "POST",
        "/faults",
        Some(json!({ "kind": "latency", "latency_ms": 150, "rate": 1.0 })),
    )
    .await;
    let mut servers = [serve(turn, &db), serve(turn, &db), serve(turn, &db)];
    wait_for(
        store,
        &db,
        "step 14 to start",
        "SELECT COUNT(*) FROM plan_steps WHERE idx = 14 AND status = 'running'",
        Duration::from_secs(60),
    )
    .await;
    let holder = portico_store::lease::current(store)
        .await
        .unwrap()
        .expect("a server holds the lease")
        .holder;
    let pid = |s: &Server| format!(" pid {} ", s.0.id());
    let killed = servers
        .iter()
        .position(|s| holder.contains(&pid(s)))
        .unwrap_or_else(|| panic!("{holder} is none of the three"));
    servers[killed].kill();
    let killed_at = Instant::now();
    turn.control("DELETE", "/faults", None).await;
    let survivors: Vec<String> = (0..3)
        .filter(|i| *i != killed)
        .map(|i| pid(&servers[i]))
        .collect();
    let taker = loop {
        let now = portico_store::lease::current(store).await.unwrap().unwrap();
        if let Some(taker) = survivors.iter().position(|p| now.holder.contains(p)) {
            break taker;
        }
        assert!(killed_at.elapsed() < Duration::from_secs(30), "no takeover");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!(
        "takeover after kill -9 of the holder, one of two standbys: {} ms (lease 2 s)",
        killed_at.elapsed().as_millis()
    );
    wait_for(
        store,
        &db,
        "the gateway to be in sync",
        "SELECT COUNT(*) FROM gateway_status WHERE state = 'in_sync'",
        Duration::from_secs(60),
    )
    .await;
    // The standby that did not take over wrote nothing: it still stands by.
    let lease = portico_store::lease::current(store).await.unwrap().unwrap();
    assert!(lease.holder.contains(&survivors[taker]), "{lease:?}");
    for s in &mut servers {
        s.kill();
    }
    assert_eq!(count(turn).await, (1, 3, 1, 1, 1), "one of everything");
    let statuses: Vec<String> =
        portico_store::testing::query_scalar("SELECT status FROM plans ORDER BY id")
            .fetch_all(store)
            .await
            .unwrap();
    assert_eq!(
        statuses,
        vec!["interrupted".to_string(), "done".to_string()]
    );
}

#[tokio::test]
async fn plan_and_status_read_aws_without_writing() {
    let (app, db) = seeded().await;
    let (turn, store) = (app.turn(), &app.store);
    turn.control("POST", "/calls/reset", Some(json!({}))).await;
    let out = portico(turn, &db).args(["plan", "seed"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("37 step(s), 35 write(s)"), "{text}");
    assert!(text.contains("+ REST API seed"), "{text}");
    let log = turn.control("GET", "/calls", None).await;
    for (service, ops) in log["calls"].as_object().unwrap() {
        for op in ops.as_object().unwrap().keys() {
            assert!(
                op.starts_with("Describe") || op.starts_with("Get"),
                "`portico plan` called {service} {op}"
            );
        }
    }

    // Converge with the server, then status says in sync, resource by resource.
    let mut server = serve(turn, &db);
    wait_for(
        store,
        &db,
        "the gateway to be in sync",
        "SELECT COUNT(*) FROM gateway_status WHERE state = 'in_sync'",
        Duration::from_secs(60),
    )
    .await;
    server.kill();
    let out = portico(turn, &db)
        .args(["status", "seed", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["in_sync"], true);
    let kinds: Vec<&str> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "load balancer",
        "listener",
        "target group",
        "VPC link",
        "REST API",
        "stage",
        "usage plan",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let text = portico(turn, &db)
        .args(["status", "seed"])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    // First who writes to AWS (the killed server's lease, until it runs out), this
    // installation's id, then the report.
    let (worker, rest) = text.split_once('\n').unwrap();
    assert!(
        worker.starts_with("Worker: ") && worker.contains(" pid "),
        "{text}"
    );
    let (installation, report) = rest.split_once('\n').unwrap();
    assert!(installation.starts_with("Installation: "), "{text}");
    assert!(
        report.starts_with("Gateway seed: in sync with AWS"),
        "{text}"
    );
    assert!(text.contains("AVAILABLE"), "{text}");

    // An unknown gateway is a clear error, not a panic.
    let out = portico(turn, &db).args(["plan", "nope"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("No gateway named \"nope\""));
}

#[tokio::test]
async fn metrics_count_reconciles_and_aws_calls() {
    let (app, _) = seeded().await;
    let (turn, store) = (app.turn(), app.store.clone());
    portico::web::metrics::handle();
    let id = portico_store::gateways::load(&store, "seed")
        .await
        .unwrap()
        .id;
    let worker =
        portico::worker::Worker::new(store, turn.sdk_config(REGION, 1).await, Default::default());
    worker.reconcile(id).await;
    worker.reconcile(id).await;
    let text = portico::web::metrics::handle().render();
    for needle in [
        "portico_reconciles_total{outcome=\"applied\"} 1",
        "portico_reconciles_total{outcome=\"in_sync\"} 1",
        "portico_aws_calls_total{service=\"apigateway\",operation=\"CreateRestApi\"} 1",
        "portico_aws_calls_total{service=\"elbv2\",operation=\"CreateTargetGroup\"} 3",
        "portico_reconcile_seconds",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

#[tokio::test]
async fn prices_refresh_without_the_price_list_keeps_the_embedded_table() {
    let (app, db) = seeded().await;
    let (turn, store) = (app.turn(), &app.store);
    // The sandbox has no Price List API: the refresh says so, and estimates keep the table.
    let out = portico(turn, &db)
        .args(["prices", "refresh"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Could not read the AWS Price List API"),
        "{err}"
    );
    assert!(
        err.contains("the embedded prices of 2026-11-24 stay in use"),
        "{err}"
    );
    let rows: i64 = portico_store::testing::query_scalar("SELECT COUNT(*) FROM prices")
        .fetch_one(store)
        .await
        .unwrap();
    assert_eq!(rows, 0);
}
