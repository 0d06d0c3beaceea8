//! One writer: several workers on one database elect one through the lease; the others stand
//! by and write nothing, to AWS or to the plans. A server cut off from the database stops
//! writing to AWS; what one server saves shows as progress on the pages another serves.

use super::*;
use axum::http::StatusCode;
use portico_core::model::Role;
use portico_core::plan::lifecycle::GatewayState;

fn named(holder: &str) -> WorkerConfig {
    WorkerConfig {
        holder: Some(holder.into()),
        lease_ttl: Duration::from_secs(2),
        ..fast()
    }
}

async fn state(rig: &Rig) -> Option<GatewayState> {
    portico_store::status::observed(&rig.app.store, rig.id)
        .await
        .unwrap()
        .map(|o| o.state)
}

/// Waits (a minute at most) until the worker reports the gateway in sync.
async fn wait_in_sync(rig: &Rig) {
    let started = std::time::Instant::now();
    while state(rig).await != Some(GatewayState::InSync) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not in sync: {:?}",
            state(rig).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn two_workers_on_one_database_converge_the_seed_once() {
    let rig = rig().await;
    let a = std::sync::Arc::new(rig.worker(named("server-a")).await);
    let b = std::sync::Arc::new(rig.worker(named("server-b")).await);
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let tasks = [a.clone().spawn(wake.clone()), b.clone().spawn(wake.clone())];
    wait_in_sync(&rig).await;
    for t in &tasks {
        t.abort();
    }
    assert_eq!(rig.inventory().await, seed_inventory(), "one of everything");
    let (_, writes) = rig.calls().await;
    for op in [
        "CreateRestApi",
        "CreateVpcLink",
        "CreateLoadBalancer",
        "CreateDeployment",
    ] {
        assert_eq!(writes.get(op), Some(&1), "{op}: {writes:?}");
    }
    let holder = portico_store::lease::current(&rig.app.store)
        .await
        .unwrap()
        .unwrap()
        .holder;
    assert!(holder == "server-a" || holder == "server-b", "{holder}");
    // The standby ran nothing: every plan of the gateway was made by the holder's runs, and
    // none was cut off by the other.
    let statuses: Vec<String> =
        portico_store::testing::query_scalar("SELECT status FROM plans ORDER BY id")
            .fetch_all(rig.app.db())
            .await
            .unwrap();
    assert_eq!(statuses, vec!["done".to_string()]);
}

#[tokio::test]
async fn a_worker_without_the_lease_writes_nothing_and_one_that_lost_it_stops() {
    let rig = rig().await;
    let a = rig.worker(named("server-a")).await;
    let b = rig.worker(named("server-b")).await;
    assert!(a.claim_lease().await.unwrap());
    rig.reset_calls().await;
    assert_eq!(b.reconcile(rig.id).await, Outcome::Standby);
    let (reads, writes) = rig.calls().await;
    assert!(
        reads.is_empty() && writes.is_empty(),
        "{reads:?} {writes:?}"
    );
    // `a` goes quiet past its lease; `b` takes over and converges.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    rig.converge(&b, 4).await;
    assert_eq!(rig.inventory().await, seed_inventory());
    // `a` comes back believing it leads: it finds the lease taken and does nothing.
    rig.edit(|t| {
        t.stages[0].variables.insert("x".into(), "1".into());
    })
    .await;
    rig.reset_calls().await;
    assert_eq!(a.reconcile(rig.id).await, Outcome::Standby);
    let (_, writes) = rig.calls().await;
    assert!(writes.is_empty(), "{writes:?}");
}

/// The write guard the caller asks before it tries a change again.
#[derive(Debug)]
struct Guard(bool);

impl portico::aws::call::WriteGuard for Guard {
    fn may_write(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + '_>> {
        Box::pin(async move { self.0 })
    }
}

/// A change goes out, and one that failed with a 5xx is tried again, only while this server
/// may still write: the wait for the pacer, or a backoff of many seconds, is long enough for
/// another server to have taken the lease.
#[tokio::test]
async fn a_change_is_not_sent_once_the_lease_is_lost() {
    let rig = rig().await;
    let worker = rig.worker(fast()).await;
    rig.converge(&worker, 3).await;
    let c = rig.turn().clients(REGION, 1).await;
    let api = c.apigateway.get_rest_apis().send().await.unwrap().items()[0]
        .id()
        .unwrap()
        .to_owned();
    let update = |caller: portico::aws::call::Caller| {
        let (c, api) = (c.clone(), api.clone());
        async move {
            caller
                .call(
                    portico::aws::call::Service::ApiGateway,
                    "UpdateRestApi",
                    || {
                        c.apigateway
                            .update_rest_api()
                            .rest_api_id(&api)
                            .patch_operations(
                                aws_sdk_apigateway::types::PatchOperation::builder()
                                    .op(aws_sdk_apigateway::types::Op::Replace)
                                    .path("/description")
                                    .value("retried")
                                    .build(),
                            )
                            .send()
                    },
                )
                .await
                .map(|_| ())
        }
    };
    let caller = |may_write: bool| portico::aws::call::Caller {
        retry: fast().retry,
        write_guard: Some(std::sync::Arc::new(Guard(may_write))),
        ..portico::aws::call::Caller::new(Default::default(), REGION, None)
    };
    for (may_write, attempts) in [(false, 0), (true, 2)] {
        rig.turn()
            .control(
                "POST",
                "/faults",
                Some(json!({"service": "apigateway", "operation": "UpdateRestApi", "kind": "500", "count": 1})),
            )
            .await;
        rig.reset_calls().await;
        let result = update(caller(may_write)).await;
        let calls = rig.turn().calls("apigateway", "UpdateRestApi").await;
        assert_eq!(calls, attempts, "may write: {may_write}");
        match (may_write, result) {
            (false, Err(e)) => {
                assert_eq!(e.kind, portico::aws::call::ErrorKind::Superseded);
                assert!(e.message.contains("worker lease"), "{e}");
            }
            (true, Ok(())) => {}
            (w, r) => panic!("may write {w}: {r:?}"),
        }
        rig.turn().control("DELETE", "/faults", None).await;
    }
}

/// A restart: the holder gives the lease up at a clean stop and the next one takes it at once,
/// but makes no AWS call until `settle` has passed since the last one's last call (AWS's
/// buckets it spent refill meanwhile), and keeps renewing the lease while it waits.
#[tokio::test]
async fn the_next_holder_settles_after_a_clean_stop_holding_the_lease() {
    let rig = rig().await;
    let a = rig.worker(named("server-a")).await;
    assert!(a.claim_lease().await.unwrap());
    rig.reset_calls().await;
    a.release_lease().await;
    let settle = Duration::from_secs(5);
    let b = std::sync::Arc::new(
        rig.worker(WorkerConfig {
            settle,
            ..named("server-b")
        })
        .await,
    );
    let task = b
        .clone()
        .spawn(std::sync::Arc::new(tokio::sync::Notify::new()));
    // Past its 2 s lease: held all the same, renewed while it settles; no call to AWS yet.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let lease = portico_store::lease::current(&rig.app.store)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lease.holder, "server-b");
    assert!(lease.expires_ms > portico_store::now_ms(), "{lease:?}");
    let (reads, writes) = rig.calls().await;
    assert!(
        reads.is_empty() && writes.is_empty(),
        "{reads:?} {writes:?}"
    );
    // Then it works as any holder does.
    wait_in_sync(&rig).await;
    task.abort();
}

/// A server cut off from the database in the middle of a plan stops writing to AWS: every
/// write first renews the lease, which it can no longer do. Another server takes over once
/// the lease has run out, and finishes with one of everything.
#[tokio::test]
async fn a_server_cut_off_from_the_database_stops_writing_to_aws() {
    let rig = rig().await;
    rig.turn()
        .control(
            "POST",
            "/faults",
            Some(json!({ "kind": "latency", "latency_ms": 150, "rate": 1.0 })),
        )
        .await;
    // Server a on a connection pool of its own, so it alone is cut off.
    let own = portico_store::Store::connect(&rig.app.db_arg())
        .await
        .unwrap();
    let a = std::sync::Arc::new(Worker::new(
        own.clone(),
        rig.turn().sdk_config(REGION, 1).await,
        named("server-a"),
    ));
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let task = a.clone().spawn(wake.clone());
    let started = std::time::Instant::now();
    loop {
        let running: i64 = portico_store::testing::query_scalar(
            "SELECT COUNT(*) FROM plan_steps WHERE idx >= 10 AND status = 'running'",
        )
        .fetch_one(rig.app.db())
        .await
        .unwrap();
        if running > 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no step 10");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    own.close().await;
    // What was in flight (150 ms a call) lands; after that, nothing more is written.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, cut) = rig.calls().await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_, later) = rig.calls().await;
    assert_eq!(cut, later, "writes after the cut");
    let lease = portico_store::lease::current(rig.app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lease.holder, "server-a");
    assert!(
        lease.expires_ms <= portico_store::now_ms(),
        "its lease ran out: {lease:?}"
    );
    // Another server takes over and finishes the plan's work.
    rig.turn().control("DELETE", "/faults", None).await;
    let b = std::sync::Arc::new(rig.worker(named("server-b")).await);
    let other = b.clone().spawn(wake);
    wait_in_sync(&rig).await;
    other.abort();
    task.abort();
    assert_eq!(rig.inventory().await, seed_inventory(), "one of everything");
}

/// An edit saved through one server shows as live progress on the page another serves: the
/// plan and its steps are read from the database, and so is the session (no stickiness).
#[tokio::test]
async fn an_edit_on_one_server_shows_as_progress_on_another() {
    let rig = rig().await;
    let password = rig.app.password.clone();
    app::api::users::ssr::create(rig.app.db(), "test", "ada", Role::Editor, &password)
        .await
        .unwrap();
    let other = rig.app.replica().await;
    let cookie = rig.app.login("ada").await;
    let mut edited = portico_store::gateways::load(rig.app.db(), "seed")
        .await
        .unwrap()
        .topology;
    edited.stages[0]
        .variables
        .insert("release".into(), "2".into());
    let yaml = edited.to_yaml().unwrap();
    let r = rig
        .app
        .call(
            "upload_topology",
            Some(&cookie),
            &[("gateway", "seed"), ("yaml", &yaml)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let generation = rig.app.generation("seed").await;
    // A worker on neither server, as on a third; slow calls, so the run can be watched.
    rig.turn()
        .control(
            "POST",
            "/faults",
            Some(json!({ "kind": "latency", "latency_ms": 50, "rate": 1.0 })),
        )
        .await;
    let worker = std::sync::Arc::new(rig.worker(named("server-c")).await);
    let task = worker
        .clone()
        .spawn(std::sync::Arc::new(tokio::sync::Notify::new()));
    // The other server's page, as the browser asks for it every few seconds.
    let mut seen = std::collections::BTreeSet::new();
    let started = std::time::Instant::now();
    let last = loop {
        let r = other
            .call("gateway_runs", Some(&cookie), &[("name", "seed")])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let view: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let plan = &view["plans"][0];
        if plan["generation"] == generation {
            let done = plan["steps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["status"] == "done")
                .count();
            seen.insert(done);
            if plan["status"] == "done" {
                break view;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    task.abort();
    assert_eq!(last["generation"], generation);
    assert!(
        seen.len() >= 3,
        "the steps' progress, as the other server showed it: {seen:?}"
    );
}
