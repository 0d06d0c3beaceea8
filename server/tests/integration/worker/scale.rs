//! The scale figures of BENCHMARKS.md (an ignored test run by `.ci/bench`): many gateways of
//! the seed's shape in one account and region, converged from empty by the worker as `portico
//! serve` runs it (one task per gateway, one pacer per account and region), then left idle,
//! with the sandbox enforcing AWS's request quotas so that any throttling provoked is counted.

use super::bench::quota_bound;
use super::*;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Gateways in the benchmark: `PORTICO_BENCH_GATEWAYS`, 200 unless set.
fn gateways_wanted() -> usize {
    std::env::var("PORTICO_BENCH_GATEWAYS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}

/// Gateways whose health was read at or after `since` (unix seconds).
async fn looked_since(rig: &Rig, since: i64) -> i64 {
    portico_store::testing::query_scalar("SELECT COUNT(*) FROM gateway_status WHERE health_at >= ?")
        .bind(since)
        .fetch_one(rig.app.db())
        .await
        .unwrap()
}

async fn in_sync(rig: &Rig) -> i64 {
    portico_store::testing::query_scalar("SELECT COUNT(*) FROM gateway_status WHERE state = ?")
        .bind(portico_core::plan::lifecycle::GatewayState::InSync.as_str())
        .fetch_one(rig.app.db())
        .await
        .unwrap()
}

/// The operations AWS's quotas refused (service, operation, count), from the call log.
fn throttled_by(log: &serde_json::Value) -> String {
    let mut named = vec![];
    for (service, ops) in log["injected"].as_object().into_iter().flatten() {
        for (op, kinds) in ops.as_object().into_iter().flatten() {
            if let Some(n) = kinds["quota"].as_u64().filter(|n| *n > 0) {
                named.push(format!("{service} {op} {n}"));
            }
        }
    }
    if named.is_empty() {
        String::new()
    } else {
        format!(" ({})", named.join(", "))
    }
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
    (reads, writes, quota_answers(log))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: prints figures, run by .ci/bench"]
async fn bench_many_gateways() {
    // The worker's warnings (a failed reconcile says why), to tell what the idle reads were.
    let logs = crate::common::logs::captured_logs("warn");
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
    // A clean stop, as `portico serve` makes one: the lease is given up.
    supervisor.abort();
    let _ = supervisor.await;
    worker.release_lease().await;
    let log = rig.turn().control("GET", "/calls", None).await;
    let (reads, writes, throttled) = tally(&log);
    let quota = quota_bound(&log);

    // A restart: a new process (another holder of the lease) with the default settings: it
    // lets AWS's buckets refill from the last holder's calls (`settle`), then first looks at
    // every gateway (not routine: nothing waits for the budget) with drift checks every
    // minute and health every 15 s. Idle is counted once every gateway had its first look,
    // for two minutes.
    rig.reset_calls().await;
    // Health read from the next whole second on is the new worker's.
    let restarted = portico_store::now_unix() + 1;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let idle = Arc::new(
        rig.worker(WorkerConfig {
            holder: Some("restarted".into()),
            ..WorkerConfig::default()
        })
        .await,
    );
    let defaults = WorkerConfig::default();
    let started = std::time::Instant::now();
    let supervisor = idle.clone().spawn(Arc::new(tokio::sync::Notify::new()));
    while looked_since(&rig, restarted).await < n as i64 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            started.elapsed() < Duration::from_secs(3600),
            "the first looks after a restart took over an hour"
        );
    }
    let first_looks = started.elapsed().as_secs_f64();
    let first_log = rig.turn().control("GET", "/calls", None).await;
    let (first_reads, _, first_throttled) = tally(&first_log);
    rig.reset_calls().await;
    let logged_before_idle = logs.text().len();
    let minutes = 2;
    // Meanwhile, once a second: how much of ELB's routine budget is left (a look of the seed's
    // shape is admitted with 4 of its tokens).
    let pacers = idle.pacers();
    let (mut samples, mut room, mut least) = (0u32, 0u32, f64::MAX);
    let idle_from = std::time::Instant::now();
    let until = idle_from + Duration::from_secs(60 * minutes);
    // The reads of the first minute, apart: a backlog left by the first looks would show there.
    let mut first_minute = None;
    while std::time::Instant::now() < until {
        if first_minute.is_none() && idle_from.elapsed() >= Duration::from_secs(60) {
            let so_far = rig.turn().control("GET", "/calls", None).await;
            first_minute = Some(tally(&so_far).0);
        }
        let left = pacers.routine_balance("default", REGION, portico::aws::pace::Budget::Elb);
        samples += 1;
        room += u32::from(left >= 4.0);
        least = least.min(left);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
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
         {quota:.1} s; ratio ×{:.2}. Throttling answers provoked: {throttled}{}.",
        wall / quota.max(f64::EPSILON),
        throttled_by(&log)
    );
    println!(
        "Restarted: the first look at every gateway took {first_looks:.1} s and {first_reads} reads \
         (one listing of the account and region serves every gateway's look within {} s); \
         {first_throttled} throttling answers provoked{}.",
        defaults.listing_age.as_secs(),
        throttled_by(&first_log)
    );
    println!(
        "Idle after that (drift checks every {} s, health every {} s): {} reads a minute (API Gateway {}, ELB {}), \
         {} writes, {idle_throttled} throttling answers provoked{}; API Gateway's quota allows 600 calls a \
         minute for everything, ELB's 600 `Describe*`.",
        defaults.drift_interval.as_secs(),
        defaults.health_interval.as_secs(),
        idle_reads / minutes,
        per_minute("apigateway"),
        per_minute("elasticloadbalancing"),
        idle_writes,
        throttled_by(&idle_log)
    );
    // What the idle reads were, a minute, busiest first.
    let mut by_op: Vec<(u64, String)> = vec![];
    for (service, ops) in idle_log["calls"].as_object().into_iter().flatten() {
        for (op, n) in ops.as_object().into_iter().flatten() {
            by_op.push((n.as_u64().unwrap_or(0) / minutes, format!("{service} {op}")));
        }
    }
    by_op.sort_by(|a, b| b.cmp(a));
    println!();
    println!(
        "Idle reads a minute by operation: {}.",
        by_op
            .iter()
            .map(|(n, op)| format!("{op} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let first_minute = first_minute.unwrap_or(0);
    println!(
        "Idle reads by minute: {first_minute} in the first, {} in the second.",
        idle_reads.saturating_sub(first_minute)
    );
    println!(
        "ELB's routine budget while idle: at least {least:.1} tokens; room for a look in {room} \
         of {samples} one-second samples."
    );
    // What the worker warned of meanwhile (a failed reconcile is tried again at once, not as a
    // routine look; a lost lease starts every gateway's first look again), grouped.
    let idle_text = logs.text();
    let mut warned: BTreeMap<String, usize> = BTreeMap::new();
    for line in idle_text[logged_before_idle.min(idle_text.len())..]
        .lines()
        .filter(|l| l.contains(" WARN "))
    {
        let message = line.split(" WARN ").nth(1).unwrap_or(line);
        // The gateway's id follows the message: group by the message alone.
        let message = message.rsplit_once(" gateway=").map_or(message, |(m, _)| m);
        *warned
            .entry(message.chars().take(160).collect())
            .or_default() += 1;
    }
    println!(
        "Warnings while idle: {}{}",
        warned.values().sum::<usize>(),
        warned
            .iter()
            .map(|(w, n)| format!("\n- {n}× {w}"))
            .collect::<String>()
    );
    assert_eq!(idle_writes, 0, "an idle worker writes nothing");
}
