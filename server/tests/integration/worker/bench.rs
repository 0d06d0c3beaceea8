//! The AWS figures of BENCHMARKS.md (an ignored test run by `.ci/bench`).

use super::*;

/// The figures of BENCHMARKS.md's AWS section (run by `.ci/bench`: `cargo test --test
/// integration worker::bench:: -- --ignored`): calls per operation for converging the seed from empty and for a
/// no-op reconcile, beside the fewest each needs, and the wall time beside the quota bound.
#[tokio::test]
#[ignore = "a benchmark: prints figures, run by .ci/bench"]
async fn bench_seed_calls_and_convergence() {
    let rig = rig().await;
    let worker = rig.worker(fast()).await;
    // Warm the sandbox up (its first answer per service loads that service's models), so the
    // time below is Portico's and the round trips', not Python's imports.
    let c = rig.turn().clients(REGION, 1).await;
    c.elb.describe_load_balancers().send().await.unwrap();
    c.apigateway.get_rest_apis().send().await.unwrap();
    c.apigateway.get_vpc_links().send().await.unwrap();
    rig.reset_calls().await;
    let started = std::time::Instant::now();
    let first = worker.reconcile(rig.id).await;
    let wall = started.elapsed().as_secs_f64();
    assert!(matches!(first, Outcome::Applied { .. }), "{first:?}");
    rig.converge(&worker, 2).await;
    let (reads, writes) = rig.calls().await;
    let log = rig.turn().control("GET", "/calls", None).await;
    let apigw: Vec<(String, u64)> = log["calls"]["apigateway"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    let quota = quota_bound(&log);
    let elb_calls: u64 = log["calls"]["elasticloadbalancing"]
        .as_object()
        .map(|m| m.values().filter_map(|v| v.as_u64()).sum())
        .unwrap_or(0);
    // The sandbox keeps the VPC link PENDING for 0.2 s (the rig's setting): no plan can finish
    // sooner, quotas or not.
    let bound = quota.max(0.2);
    rig.reset_calls().await;
    let started = std::time::Instant::now();
    rig.converge(&worker, 1).await;
    let noop_wall = started.elapsed().as_secs_f64();
    let (noop_reads, noop_writes) = rig.calls().await;

    let table = |title: &str, m: &BTreeMap<String, u64>| {
        println!("{title}: {} calls", total(m));
        for (op, n) in m {
            println!("  {op:<32} {n}");
        }
    };
    println!("## AWS calls for the seed topology (sandbox call log)");
    println!();
    println!("```");
    table("Converge from empty, writes", &writes);
    table(
        "Converge from empty, reads (two observes and the waits)",
        &reads,
    );
    table("No-op reconcile, writes", &noop_writes);
    table("No-op reconcile, reads", &noop_reads);
    println!("```");
    println!();
    // Fewest writes: every one of the plan's steps is a different resource or setting AWS
    // has no call to combine with another (the targets of a group go in one call already).
    let fewest_writes = 35;
    println!(
        "Writes from empty: {} (fewest possible: {fewest_writes}, one per resource or setting AWS cannot take at creation).",
        total(&writes)
    );
    println!(
        "No-op: {} writes, {} reads (reading every kind of drift on every check would take 17: one listing \
         per kind, plus target health and attributes per target group; target-group attributes and \
         deployments are kept up to an hour, forgotten whenever Portico writes, and read at once when a \
         stage serves an unknown deployment; API keys are listed only for a gateway that ever had one). \
         Target: at most 12 — {}.",
        total(&noop_writes),
        total(&noop_reads),
        if total(&noop_writes) == 0 && total(&noop_reads) <= 12 { "met" } else { "MISSED" }
    );
    println!();
    println!("## Convergence time (seed, from empty, sandbox)");
    println!();
    println!(
        "Wall time of the applying reconcile {:.3} s; quota bound (API Gateway's quotas and ELB's buckets as Portico \
         paces them) {:.3} s for these {} calls; with the sandbox's 0.2 s PENDING link the bound is {:.3} s; \
         ratio ×{:.2} (target ×1.2 — {}). No-op reconcile: {:.3} s.",
        wall,
        quota,
        apigw.iter().map(|(_, n)| n).sum::<u64>() + elb_calls,
        bound,
        wall / bound,
        if wall / bound <= 1.2 { "met" } else { "MISSED" },
        noop_wall
    );
    println!();

    // The same seed, from empty, as gateway `latency`, with every AWS call 50 ms slower (real
    // AWS answers in tens of milliseconds), beside the two bounds no schedule can beat: the
    // quota bound of the calls it made, and the plan's critical path (its longest chain of
    // steps that wait for each other) at 50 ms a call, plus the sandbox's PENDING link. A
    // fresh worker: its quota buckets start full, as the bound assumes.
    let worker = rig.worker(fast()).await;
    let (id, topology) = rig
        .app
        .seed_in_sandbox(|t| t.gateway.name = "latency".into())
        .await;
    let plan = portico_core::plan::plan(
        Some(&topology),
        &[],
        &portico_core::plan::actual::Actual::default(),
    );
    let path = portico_core::plan::schedule::critical_path(&plan);
    rig.turn()
        .control(
            "POST",
            "/faults",
            Some(serde_json::json!({ "kind": "latency", "latency_ms": 50 })),
        )
        .await;
    rig.reset_calls().await;
    let started = std::time::Instant::now();
    let applied = worker.reconcile(id).await;
    let wall = started.elapsed().as_secs_f64();
    assert!(matches!(applied, Outcome::Applied { .. }), "{applied:?}");
    rig.turn().control("DELETE", "/faults", None).await;
    let log = rig.turn().control("GET", "/calls", None).await;
    let calls: u64 = log["total"].as_u64().unwrap_or(0);
    let quota = quota_bound(&log);
    let chain = path as f64 * 0.05 + 0.2;
    let bound = quota.max(chain);
    println!("## Convergence with 50 ms per AWS call (seed, from empty, sandbox)");
    println!();
    println!(
        "{} steps, critical path {path} steps; {calls} calls in {wall:.3} s (sequentially they would take at \
         least {:.3} s). Bounds: quota {quota:.3} s, critical path {path} × 50 ms + 0.2 s PENDING link = {chain:.3} s; \
         ratio to the larger ×{:.2} (target ×1.5 — {}).",
        plan.steps.len(),
        calls as f64 * 0.05,
        wall / bound,
        if wall / bound <= 1.5 { "met" } else { "MISSED" }
    );
}

/// The quota bound of the calls in a sandbox call log: API Gateway's quotas and ELB's buckets,
/// the slower deciding.
pub(super) fn quota_bound(log: &serde_json::Value) -> f64 {
    let calls = |service: &str| -> Vec<(String, u64)> {
        log["calls"][service]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let apigw = calls("apigateway");
    let elb = calls("elasticloadbalancing");
    portico::aws::pace::api_gateway_lower_bound(apigw.iter().map(|(k, n)| (k.as_str(), *n))).max(
        portico::aws::pace::elb_lower_bound(elb.iter().map(|(k, n)| (k.as_str(), *n))),
    )
}
