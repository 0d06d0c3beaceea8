//! Planner and cost-model timings at growing sizes, printed as figures (no assertions: the
//! targets are read off the output, see BENCHMARKS.md). Each case: 10 / 100 / 1,000 backend
//! ports with 5 targets each, 200 stages and 2,000 routes; planned from nothing (every create)
//! and against the converged state (the no-op a drift check makes). Then the cost model, and
//! the diagram (estimate, layout and SVG) from the seed up, which tells the diagram page when
//! its work is worth handing to the blocking pool.

use portico_core::cost::{alternatives, estimate, prices, LambdaInputs};
use portico_core::diagram::{build, svg, Inputs};
use portico_core::model::topology::{BackendPort, HealthCheck, Route, Stage, Topology};
use portico_core::plan::{actual::Actual, plan, simulate};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn topology(ports: u32) -> Topology {
    let seed = include_str!("../../../examples/seed-topology.yaml");
    let mut t: Topology = serde_yaml_ng::from_str(seed).expect("the seed parses");
    t.ports = (0..ports)
        .map(|i| BackendPort {
            port: 8080 + i,
            listener_port: None,
            health_check: HealthCheck::default(),
            deregistration_delay: 30,
            instances: (0..5).map(|j| format!("i-{:017x}", i * 5 + j)).collect(),
        })
        .collect();
    t.stages = (0..200)
        .map(|i| Stage {
            name: format!("stage{i:03}"),
            backend_port: 8080 + i % ports,
            throttle: None,
            cache_gb: None,
            variables: Default::default(),
            access_log: None,
        })
        .collect();
    t.routes = (0..2000)
        .map(|i| Route {
            path: format!("/svc{i:04}/{{proxy+}}"),
            methods: vec!["ANY".into()],
            api_key_required: true,
            port: (i % 2 == 0).then_some(8080 + i % ports),
            backend_path: None,
        })
        .collect();
    t.usage_plans[0].stages = t.stages.iter().map(|s| s.name.clone()).collect();
    t.normalised()
}

/// The median of repeated runs (at least 5, up to 0.5 s of them).
fn time(mut f: impl FnMut()) -> Duration {
    f();
    let mut samples = vec![];
    let start = Instant::now();
    while samples.len() < 5 || (start.elapsed() < Duration::from_millis(500) && samples.len() < 200)
    {
        let t = Instant::now();
        f();
        samples.push(t.elapsed());
    }
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    println!("## Planner (median of repeated runs; 5 targets per port, 200 stages, 2,000 routes)");
    println!();
    println!("| ports | steps from empty | plan from empty | steps when converged | plan when converged |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    let mut converged_times = vec![];
    let mut empty_times = vec![];
    for ports in [10u32, 100, 1000] {
        let t = topology(ports);
        let empty = Actual::default();
        let first = plan(Some(&t), &[], &empty);
        let actual = simulate::run(&first, &empty);
        let again = plan(Some(&t), &[], &actual);
        let from_empty = time(|| {
            black_box(plan(Some(black_box(&t)), &[], black_box(&empty)));
        });
        let converged = time(|| {
            black_box(plan(Some(black_box(&t)), &[], black_box(&actual)));
        });
        println!(
            "| {ports} | {} | {} | {} | {} |",
            first.steps.len(),
            ms(from_empty),
            again.steps.len(),
            ms(converged)
        );
        empty_times.push(from_empty);
        converged_times.push(converged);
    }
    let ratio = |v: &[Duration], a: usize, b: usize| v[b].as_secs_f64() / v[a].as_secs_f64();
    println!();
    println!(
        "Growth from empty: 10→100 ports ×{:.2}, 100→1,000 ports ×{:.2}; when converged: ×{:.2}, ×{:.2} (ports ×10 each time; the 2,000 routes and 200 stages stay).",
        ratio(&empty_times, 0, 1),
        ratio(&empty_times, 1, 2),
        ratio(&converged_times, 0, 1),
        ratio(&converged_times, 1, 2)
    );
    let worst = empty_times[2].max(converged_times[2]);
    println!(
        "Target: plan at 1,000 ports under 20 ms. Measured (slower of the two): {} — {}.",
        ms(worst),
        if worst < Duration::from_millis(20) {
            "met"
        } else {
            "MISSED"
        }
    );
    println!();

    println!("## Cost model");
    println!();
    let t = topology(1000);
    let (p, exact) = prices::for_region(&t.gateway.region, &[]);
    let lambda = LambdaInputs {
        duration_ms: 100,
        memory_mb: 256,
    };
    let e = time(|| {
        black_box(estimate(black_box(&t), &p, exact));
    });
    let a = time(|| {
        black_box(alternatives(black_box(&t), &p, lambda));
    });
    println!(
        "Estimate of the 1,000-port topology: {} (µs: {:.1}); the four alternatives: {} (µs: {:.1}). The page re-estimates on each keystroke in wasm, so both stay far below a frame (16 ms).",
        ms(e),
        e.as_secs_f64() * 1e6,
        ms(a),
        a.as_secs_f64() * 1e6
    );

    println!();
    diagram();
}

/// The diagram page's CPU work (estimate, layout, SVG) at growing sizes, by the count the page
/// decides on (ports + stages + routes).
fn diagram() {
    println!("## Diagram: estimate, layout and SVG");
    println!();
    println!("| topology | ports + stages + routes | time |");
    println!("| --- | ---: | ---: |");
    let seed: Topology =
        serde_yaml_ng::from_str(include_str!("../../../examples/seed-topology.yaml"))
            .expect("the seed parses");
    let mut cases = vec![("the seed".to_string(), seed.normalised())];
    for ports in [10u32, 100] {
        let mut t = topology(ports);
        t.stages.truncate(ports as usize);
        t.routes.truncate(10 * ports as usize);
        t.usage_plans[0].stages = t.stages.iter().map(|s| s.name.clone()).collect();
        cases.push((format!("{ports} ports"), t.normalised()));
    }
    cases.push(("1,000 ports".into(), topology(1000)));
    for (label, t) in cases {
        let (p, exact) = prices::for_region(&t.gateway.region, &[]);
        let took = time(|| {
            let e = estimate(&t, &p, exact);
            let d = build(
                &t,
                &Inputs {
                    health: None,
                    estimate: Some(&e),
                    keys: 0,
                    plan: None,
                    generation: 1,
                },
            );
            black_box(svg::render(&d));
        });
        println!(
            "| {label} | {} | {} |",
            t.ports.len() + t.stages.len() + t.routes.len(),
            ms(took)
        );
    }
}
