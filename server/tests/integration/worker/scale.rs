//! The scale figures of BENCHMARKS.md (an ignored test run by `.ci/bench`): many gateways of
//! the seed's shape in one account and region, converged from empty by the worker as `portico
//! serve` runs it (one task per gateway, one pacer per account and region), then left idle,
//! with the sandbox enforcing AWS's request quotas so that any throttling provoked is counted.

use super::bench::quota_bound;
use super::*;
use std::sync::Arc;

/// Gateways in the benchmark: `PORTICO_BENCH_GATEWAYS`, 200 unless set.
fn gateways_wanted() -> usize {
    std::env::var("PORTICO_BENCH_GATEWAYS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}

async fn in_sync(rig: &Rig) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM gateway_status WHERE state = ?")
        .bind(portico_core::plan::lifecycle::GatewayState::InSync.as_str())
        .fetch_one(rig.app.db())
        .await
        .unwrap()
}

/// (reads, writes, throttled) in the sandbox's call log.
fn tally(log: &serde_json::Value) -> (u64, u64, u64) {
    let (mut reads, mut writes) = (0, 0);
    for service in ["apigateway", "elasticloadbalancing"] {
        for (op, n) in log["calls"][service].as_object().into_iter().flatten() {
            let n = n.as_u64().unwrap_or(0);
            if ["Get", "Describe", "List"]
                .iter()
                .any(|p| op.starts_with(p))
            {
                reads += n;
            } else {
                writes += n;
            }
        }
    }
    let throttled = log["injected"]
        .as_object()
        .into_iter()
        .flat_map(|s| s.values())
        .flat_map(|ops| ops.as_object().into_iter().flat_map(|o| o.values()))
        .filter_map(|kinds| kinds["quota"].as_u64())
        .sum();
    (reads, writes, throttled)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: prints figures, run by .ci/bench"]
async fn bench_many_gateways() {
    let n = gateways_wanted();
    let rig = rig().await;
    for i in 2..=n {
        let mut t = rig.seed.clone();
        t.gateway.name = format!("seed{i:03}");
        gateways::create(&rig.app.store, "bench", t, false)
            .await
            .expect("create a gateway");
    }
    // Warm the sandbox's service models up, then count from here, with AWS's quotas on.
    let c = rig.turn().clients(REGION, 1).await;
    c.elb.describe_load_balancers().send().await.unwrap();
    c.apigateway.get_rest_apis().send().await.unwrap();
    rig.turn()
        .control("POST", "/quotas", Some(json!({ "enforce": true })))
        .await;
    rig.reset_calls().await;

    // Converge: the worker as `serve` runs it, waits long enough for a queue of n gateways.
    let config = WorkerConfig {
        waits: Waits {
            timeout: Duration::from_secs(1800),
            every: Duration::from_millis(500),
        },
        ..fast()
    };
    let worker = Arc::new(rig.worker(config).await);
    let started = std::time::Instant::now();
    let supervisor = worker.clone().spawn(Arc::new(tokio::sync::Notify::new()));
    let mut last_report = 0;
    while in_sync(&rig).await < n as i64 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let s = started.elapsed().as_secs();
        if s >= last_report + 120 {
            last_report = s;
            eprintln!("{s} s: {} of {n} gateways in sync", in_sync(&rig).await);
        }
        assert!(s < 3 * 3600, "{n} gateways did not converge in 3 hours");
    }
    let wall = started.elapsed().as_secs_f64();
    supervisor.abort();
    let _ = supervisor.await;
    let log = rig.turn().control("GET", "/calls", None).await;
    let (reads, writes, throttled) = tally(&log);
    let quota = quota_bound(&log);

    // Idle: the worker with its default intervals (drift checks every minute, health every
    // 15 s); the first minute settles (every gateway's first no-op check), the next two count.
    let idle = Arc::new(
        rig.worker(WorkerConfig {
            settle: Duration::ZERO,
            ..WorkerConfig::default()
        })
        .await,
    );
    let defaults = WorkerConfig::default();
    let supervisor = idle.spawn(Arc::new(tokio::sync::Notify::new()));
    tokio::time::sleep(Duration::from_secs(60)).await;
    rig.reset_calls().await;
    let minutes = 2;
    tokio::time::sleep(Duration::from_secs(60 * minutes)).await;
    let idle_log = rig.turn().control("GET", "/calls", None).await;
    supervisor.abort();
    let _ = supervisor.await;
    let (idle_reads, idle_writes, idle_throttled) = tally(&idle_log);
    let per_minute = |service: &str| -> u64 {
        idle_log["calls"][service]
            .as_object()
            .map(|m| m.values().filter_map(|v| v.as_u64()).sum::<u64>())
            .unwrap_or(0)
            / minutes
    };

    println!("## {n} gateways of the seed's shape in one account and region (sandbox, AWS's quotas enforced)");
    println!();
    println!(
        "Converged from empty in {wall:.1} s: {writes} writes and {reads} reads; quota bound for these calls \
         {quota:.1} s; ratio ×{:.2}. Throttling answers provoked: {throttled}.",
        wall / quota.max(f64::EPSILON)
    );
    println!(
        "Idle (drift checks every {} s, health every {} s): {} reads a minute (API Gateway {}, ELB {}), \
         {} writes, {idle_throttled} throttling answers provoked; API Gateway's quota allows 600 calls a \
         minute for everything, ELB's 600 `Describe*`.",
        defaults.drift_interval.as_secs(),
        defaults.health_interval.as_secs(),
        idle_reads / minutes,
        per_minute("apigateway"),
        per_minute("elasticloadbalancing"),
        idle_writes,
    );
    assert_eq!(idle_writes, 0, "an idle worker writes nothing");
}
