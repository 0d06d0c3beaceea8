//! The diagram: a stable snapshot of the seed, boxes that never overlap at (and well past) the
//! sizes people run, labels that stay inside their boxes, and a plan's overlay.

use super::layout::{layout, text_width, Layout, HALO, PAD};
use super::svg::{fit, render};
use super::*;
use crate::cost::{estimate, prices, Money};
use crate::health::{assess, Part};
use crate::model::tests::valid_topology;
use crate::model::topology::{BackendPort, HealthCheck, Route, Stage};
use crate::plan::actual::Actual;
use crate::plan::{plan, simulate};
use proptest::prelude::*;

fn seed() -> Topology {
    let text = include_str!("../../../../examples/seed-topology.yaml");
    serde_yaml_ng::from_str::<Topology>(text)
        .unwrap()
        .normalised()
}

/// AWS as it is once the seed converged (the planner's simulation of it).
fn converged(t: &Topology) -> Actual {
    simulate::run(&plan(Some(t), &[], &Actual::default()), &Actual::default())
}

fn seed_svg(plan: Option<(i64, &Plan)>) -> String {
    let t = seed();
    let mut health = assess(&t, &[], &converged(&t));
    // The simulation leaves targets `initial`; show the mix a real gateway has.
    for p in &mut health.parts {
        if p.resource.starts_with("target ") {
            p.level = Level::Healthy;
            p.reason = "healthy".into();
        }
    }
    health.parts.push(Part {
        resource: "API key partner".into(),
        level: Level::Degraded,
        reason:
            "API key partner should be off (expired, revoked or rotated) but AWS still accepts it"
                .into(),
    });
    let (p, exact) = prices::for_region(&t.gateway.region, &[]);
    let e = estimate(&t, &p, exact);
    let d = build(
        &t,
        &Inputs {
            health: Some(&health),
            estimate: Some(&e),
            keys: 2,
            plan,
            generation: 3,
        },
    );
    render(&d)
}

#[test]
fn the_seed_diagram_is_stable() {
    let svg = seed_svg(None);
    assert_eq!(svg, seed_svg(None), "the same inputs drew different bytes");
    insta::assert_snapshot!("seed", svg);
}

#[test]
fn when_aws_cannot_be_read_every_box_says_unknown() {
    let t = seed();
    let blind = crate::health::unreadable("could not reach AWS: Connection refused", Some(4));
    let d = build(
        &t,
        &Inputs {
            health: Some(&blind),
            ..Inputs::default()
        },
    );
    for id in ["nlb", "api", "stage:dev"] {
        let n = d.node(id).unwrap();
        assert_eq!(n.level, Some(Level::Unknown), "{id}");
    }
    assert_eq!(
        blind.reason,
        "no read of AWS has worked for 4 minutes: could not reach AWS: Connection refused"
    );
}

#[test]
fn the_seed_diagram_says_health_and_cost() {
    let t = seed();
    let (p, exact) = prices::for_region(&t.gateway.region, &[]);
    let e = estimate(&t, &p, exact);
    let health = assess(&t, &[], &converged(&t));
    let d = build(
        &t,
        &Inputs {
            health: Some(&health),
            estimate: Some(&e),
            ..Inputs::default()
        },
    );
    let nlb = d.node("nlb").unwrap();
    let nlb_cost: Money = e
        .lines
        .iter()
        .filter(|l| l.resource.starts_with("NLB"))
        .map(|l| l.amount)
        .sum();
    assert!(
        nlb.details[1].contains(&nlb_cost.cents()),
        "{:?}",
        nlb.details
    );
    assert!(d.node("api").unwrap().details[1].ends_with("/mo"));
    for s in ["dev", "release", "sprint"] {
        let n = d.node(&format!("stage:{s}")).unwrap();
        assert_eq!(n.details[1], "$0.00/mo", "no cache, no cost of its own");
        assert_eq!(n.level, Some(Level::Healthy));
    }
    // The simulation leaves targets `initial`: pending, with AWS's words on hover.
    let tg = d.node("tg:8080").unwrap();
    assert_eq!(tg.level, Some(Level::Pending));
    assert!(
        tg.about.iter().any(|a| a.contains("initial")),
        "{:?}",
        tg.about
    );
    assert_eq!(d.column(Column::Instances).len(), 1);
    assert_eq!(
        d.edges
            .iter()
            .filter(|e| e.from.starts_with("stage:"))
            .count(),
        9,
        "every stage serves every route"
    );
}

/// A topology at the sizes the diagram must hold: `stages` stages, `routes` routes, `ports`
/// ports and `instances` instances spread over them, with long names.
fn big(stages: usize, routes: usize, ports: usize, instances: usize) -> Topology {
    let mut t = seed();
    t.gateway.name = "a-gateway-with-a-long-name-for-labels".into();
    t.ports = (0..ports)
        .map(|i| BackendPort {
            port: 8080 + i as u32,
            listener_port: None,
            health_check: HealthCheck::default(),
            deregistration_delay: 30,
            instances: (0..instances)
                .filter(|j| j % ports.max(1) == i || j % 3 == i % 3)
                .map(|j| format!("i-0123456789abcd{j:03}"))
                .collect(),
        })
        .collect();
    t.stages = (0..stages)
        .map(|i| Stage {
            name: format!("stage-with-long-name-{i:02}"),
            backend_port: 8080 + (i % ports.max(1)) as u32,
            throttle: None,
            cache_gb: (i % 2 == 0).then(|| "0.5".into()),
            variables: Default::default(),
            access_log: None,
        })
        .collect();
    t.routes = (0..routes)
        .map(|i| Route {
            path: format!("/service-{i:02}/orders/{{proxy+}}"),
            methods: vec!["GET".into(), "POST".into()],
            api_key_required: i % 2 == 0,
            port: (i % 3 != 0).then(|| 8080 + (i % ports.max(1)) as u32),
            backend_path: None,
        })
        .collect();
    t.normalised()
}

fn assert_readable(d: &Diagram) {
    let l = layout(d);
    let placed: Vec<(&String, &layout::Rect)> = l.boxes.iter().collect();
    assert_eq!(placed.len(), d.nodes.len(), "every node is placed");
    for (i, (a, ra)) in placed.iter().enumerate() {
        assert!(ra.x >= 0 && ra.right() <= l.width, "{a} leaves the picture");
        assert!(
            ra.y >= layout::NODES_TOP && ra.y + ra.h <= l.height,
            "{a} leaves the picture"
        );
        for (b, rb) in &placed[i + 1..] {
            assert!(!ra.overlaps(rb), "{a} {ra:?} overlaps {b} {rb:?}");
        }
    }
    // Every label and detail line, as drawn, fits inside its box.
    for n in &d.nodes {
        let r = l.boxes[&n.id];
        let inner = r.w - 2 * (HALO + PAD);
        let label = fit(&n.label, Layout::label_chars(n.column));
        assert!(
            text_width(label.chars().count(), layout::LABEL_PX) + layout::BADGE_ROOM <= inner,
            "label {label:?} runs out of its box"
        );
        for line in &n.details {
            let shown = fit(line, Layout::detail_chars(n.column));
            assert!(
                text_width(shown.chars().count(), layout::DETAIL_PX) <= inner,
                "{shown:?} runs out of its box"
            );
        }
    }
    // Column headings do not run into the next column.
    for w in l.columns.windows(2) {
        let (c, x, _) = w[0];
        assert!(
            x + text_width(c.heading().len(), 12) < w[1].1,
            "{c:?}'s heading"
        );
    }
}

#[test]
fn nothing_overlaps_at_ten_stages_twenty_routes_ports_and_instances() {
    let t = big(10, 20, 20, 20);
    let d = build(&t, &Inputs::default());
    assert_eq!(d.column(Column::Stages).len(), 10);
    assert_eq!(d.column(Column::Routes).len(), 20);
    assert_eq!(d.column(Column::TargetGroups).len(), 20);
    assert_eq!(d.column(Column::Instances).len(), 20);
    assert_readable(&d);
    // Ports sort as numbers, so listener and target group of a port share a row.
    let l = layout(&d);
    for p in &t.ports {
        assert_eq!(
            l.boxes[&format!("listener:{}", p.port)].y,
            l.boxes[&format!("tg:{}", p.port)].y
        );
    }
}

#[test]
fn labels_are_escaped() {
    let mut t = seed();
    t.stages[0].name = "<dev&\"x\">".into();
    let svg = render(&build(&t, &Inputs::default()));
    assert!(!svg.contains("<dev&"));
    assert!(svg.contains("&lt;dev&amp;&quot;x&quot;&gt;"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_topology_lays_out_without_overlap(t in valid_topology()) {
        let d = build(&t, &Inputs::default());
        assert_readable(&d);
    }

    #[test]
    fn larger_topologies_lay_out_without_overlap(
        stages in 0usize..30, routes in 0usize..60, ports in 1usize..40, instances in 0usize..40
    ) {
        assert_readable(&build(&big(stages, routes, ports, instances), &Inputs::default()));
    }
}

fn overlay(t: &Topology, from: &Topology) -> Diagram {
    let p = plan(Some(t), &[], &converged(from));
    build(
        t,
        &Inputs {
            plan: Some((7, &p)),
            ..Inputs::default()
        },
    )
}

#[test]
fn a_plan_from_nothing_adds_every_node() {
    let t = seed();
    let p = plan(Some(&t), &[], &Actual::default());
    let d = build(
        &t,
        &Inputs {
            plan: Some((1, &p)),
            ..Inputs::default()
        },
    );
    for n in &d.nodes {
        if n.column == Column::Clients || n.column == Column::Instances {
            continue;
        }
        assert_eq!(n.change, Some(Change::Added), "{}", n.id);
    }
    assert_eq!(
        d.node("clients").unwrap().change,
        Some(Change::Added),
        "usage plan made"
    );
    assert!(d.edges.iter().all(|e| e.change == Some(Change::Added)));
    assert!(render(&d).contains("plan 1 laid over"));
    // Every step but waits, the deployment and route parents has a node.
    let unmapped: Vec<String> = p
        .steps
        .iter()
        .filter(|s| overlay::subject(s, &t).is_none())
        .map(|s| s.line())
        .collect();
    assert!(
        unmapped.iter().all(|l| l.starts_with("…")
            || l.starts_with("+ deployment")
            || l.starts_with("+ resource")),
        "{unmapped:?}"
    );
}

#[test]
fn a_plan_marks_what_it_adds_changes_and_removes() {
    let before = seed();
    let mut after = seed();
    after.ports.retain(|p| p.port != 8082);
    after.stages.retain(|s| s.name != "release");
    after.routes.retain(|r| !r.path.starts_with("/release"));
    after.usage_plans[0].stages.retain(|s| s != "release");
    after.ports.push(BackendPort {
        port: 9090,
        listener_port: None,
        health_check: HealthCheck::default(),
        deregistration_delay: 30,
        instances: vec!["i-0feedfeedfeedfeed".into()],
    });
    after.stages[0].backend_port = 8081;
    let after = after.normalised();
    let d = overlay(&after, &before);
    let change = |id: &str| d.node(id).and_then(|n| n.change);
    assert_eq!(change("tg:9090"), Some(Change::Added));
    assert_eq!(change("listener:9090"), Some(Change::Added));
    assert_eq!(change("tg:8082"), Some(Change::Removed), "drawn, dashed");
    assert_eq!(change("listener:8082"), Some(Change::Removed));
    assert_eq!(change("stage:release"), Some(Change::Removed));
    assert_eq!(
        change("route:/release"),
        Some(Change::Removed),
        "the topmost resource goes"
    );
    assert_eq!(change("stage:dev"), Some(Change::Changed), "its port moved");
    assert_eq!(change("tg:8080"), None);
    assert_eq!(
        change("instance:i-0feedfeedfeedfeed"),
        None,
        "new instance, existing box"
    );
    let new_edge = d
        .edges
        .iter()
        .find(|e| e.from == "tg:9090" && e.to == "instance:i-0feedfeedfeedfeed")
        .unwrap();
    assert_eq!(new_edge.change, Some(Change::Added));
    assert!(d
        .edges
        .iter()
        .any(|e| e.to == "stage:release" && e.change == Some(Change::Removed)));
    assert_readable(&d);
    let svg = render(&d);
    assert!(svg.contains("stroke-dasharray"), "removed boxes are dashed");
    insta::assert_snapshot!("seed-plan-overlay", svg);
}

#[test]
fn replacing_the_network_reads_as_a_change() {
    let before = seed();
    let mut after = seed();
    after.gateway.subnet_ids = vec![
        "subnet-0aaaaaaaaaaaaaaaa".into(),
        "subnet-0bbbbbbbbbbbbbbbb".into(),
    ];
    let d = overlay(&after.normalised(), &before);
    assert_eq!(d.node("nlb").unwrap().change, Some(Change::Changed));
    assert_eq!(d.node("link").unwrap().change, Some(Change::Changed));
}
