//! One writer: several workers on one database elect one through the lease; the others stand
//! by and write nothing, to AWS or to the plans.

use super::*;
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
