//! The schedule keeps every rule the plan's order kept: whatever order the worker finishes
//! steps in, as long as each waited for its dependencies, AWS ends up where the plan leads (the
//! simulation panics on a step AWS would refuse, and planning again finds nothing to do).

use super::*;
use crate::model::tests::valid_topology;
use crate::model::topology::Topology;
use crate::plan::actual::Actual;
use crate::plan::{plan, simulate, Kind};
use proptest::prelude::*;

fn seed() -> Topology {
    let text = include_str!("../../../../../examples/seed-topology.yaml");
    serde_yaml_ng::from_str::<Topology>(text)
        .unwrap()
        .normalised()
}

/// An order the dependencies allow: among the steps ready at each point, the one `pick` chooses
/// (its argument: the ready steps, ascending).
fn order_by(deps: &[Vec<usize>], mut pick: impl FnMut(&[usize]) -> usize) -> Vec<usize> {
    let mut done = vec![false; deps.len()];
    let mut order = Vec::with_capacity(deps.len());
    while order.len() < deps.len() {
        let ready: Vec<usize> = (0..deps.len())
            .filter(|&j| !done[j] && deps[j].iter().all(|&i| done[i]))
            .collect();
        assert!(!ready.is_empty(), "the dependencies have a cycle");
        let j = ready[pick(&ready) % ready.len()];
        done[j] = true;
        order.push(j);
    }
    order
}

/// The order the worker's own picking (`Ready`) gives when each step finishes before the next
/// starts, never letting held steps go early (`next(false)`). Panics if that ever leaves
/// nothing to start: the worker would then have to wait for its fallback.
fn order_yielding(p: &Plan, deps: &[Vec<usize>]) -> Vec<usize> {
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut ready = Ready::new(p, deps);
    for j in (0..deps.len()).filter(|&j| waiting[j] == 0) {
        ready.add(j);
    }
    let mut order = Vec::with_capacity(deps.len());
    while order.len() < deps.len() {
        let j = ready
            .next(false)
            .unwrap_or_else(|| panic!("held steps block what goes first: {order:?}"));
        order.push(j);
        for k in (j + 1..deps.len()).filter(|&k| deps[k].contains(&j)) {
            waiting[k] -= 1;
            if waiting[k] == 0 {
                ready.add(k);
            }
        }
    }
    order
}

/// Runs `desired`'s plan from `from` in an order the schedule allows and checks the result is
/// a fixed point; returns it.
fn converge_in(
    desired: Option<&Topology>,
    from: &Actual,
    pick: impl FnMut(&[usize]) -> usize,
) -> Actual {
    let p = plan(desired, &[], from);
    let deps = dependencies(&p);
    for (j, d) in deps.iter().enumerate() {
        assert!(
            d.iter().all(|&i| i < j),
            "step {j} waits for a later step: {d:?}"
        );
        for input in p.steps[j].op.inputs() {
            if let Some(i) = input.step() {
                assert!(
                    d.contains(&i),
                    "step {j} reads step {i}'s output without waiting for it"
                );
            }
        }
    }
    let order = order_by(&deps, pick);
    let after = simulate::run_in_order(&p, from, &order);
    let again = plan(desired, &[], &after);
    assert!(
        again.is_empty(),
        "after the plan ran in the order {order:?}, planning again is not empty:\n{}\nplan:\n{}",
        again.lines().join("\n"),
        p.lines().join("\n")
    );
    after
}

#[test]
fn the_seed_from_empty_overlaps_the_load_balancer_and_the_rest_api() {
    let p = plan(Some(&seed()), &[], &Actual::default());
    let deps = dependencies(&p);
    let first_api = p
        .steps
        .iter()
        .position(|s| s.kind == Kind::RestApi)
        .unwrap();
    // The REST API waits for nothing: it is made while the load balancer is.
    assert_eq!(deps[first_api], Vec::<usize>::new());
    // Target groups are independent of each other.
    let groups: Vec<usize> = (0..p.steps.len())
        .filter(|&j| matches!(p.steps[j].op, Op::CreateTargetGroup { .. }))
        .collect();
    assert_eq!(groups.len(), 3);
    assert!(groups.iter().all(|&j| deps[j].is_empty()));
    let path = critical_path(&p);
    assert!(
        path < p.steps.len() * 3 / 4,
        "critical path {path} of {} steps",
        p.steps.len()
    );
    // Latest-ready-first: as far from the plan's own order as the schedule allows.
    converge_in(Some(&seed()), &Actual::default(), |ready| ready.len() - 1);
}

#[test]
fn deregistration_delays_let_the_request_path_use_elb_quota_first() {
    let p = plan(Some(&seed()), &[], &Actual::default());
    let deps = dependencies(&p);
    let first = goes_first(&p, &deps);
    let of = |f: fn(&Op) -> bool| -> Vec<usize> {
        (0..p.steps.len()).filter(|&j| f(&p.steps[j].op)).collect()
    };
    let delays = of(|op| matches!(op, Op::SetDeregistrationDelay { .. }));
    let listeners = of(|op| matches!(op, Op::CreateListener { .. }));
    assert_eq!((delays.len(), listeners.len()), (3, 3));
    assert!(delays
        .iter()
        .all(|&j| yields_to_traffic(&p.steps[j].op) && !first[j]));
    assert!(listeners
        .iter()
        .all(|&j| first[j] && !yields_to_traffic(&p.steps[j].op)));
    // The delays are ready long before the listeners; the listeners still go first.
    let order = order_yielding(&p, &deps);
    let at = |j: usize| order.iter().position(|&k| k == j).unwrap();
    let last_listener = listeners.iter().map(|&j| at(j)).max().unwrap();
    assert!(delays.iter().all(|&j| at(j) > last_listener), "{order:?}");
    let after = simulate::run_in_order(&p, &Actual::default(), &order);
    assert!(plan(Some(&seed()), &[], &after).is_empty());
}

#[test]
fn stages_move_only_once_the_network_is_ready() {
    let p = plan(Some(&seed()), &[], &Actual::default());
    let deps = dependencies(&p);
    // Every step before a deployment or stage step, transitively.
    let before = |j: usize| {
        let mut seen = vec![false; p.steps.len()];
        let mut todo = deps[j].clone();
        while let Some(i) = todo.pop() {
            if !seen[i] {
                seen[i] = true;
                todo.extend(deps[i].iter().copied());
            }
        }
        seen
    };
    for (j, step) in p.steps.iter().enumerate() {
        if matches!(step.kind, Kind::Deployment | Kind::Stage) {
            let seen = before(j);
            for (i, earlier) in p.steps.iter().enumerate().take(j) {
                if matches!(earlier.op, Op::SetDeregistrationDelay { .. }) {
                    // Draining time: it does not hold traffic back.
                    assert!(!seen[i], "{} waits for {}", step.line(), earlier.line());
                } else if matches!(
                    earlier.kind,
                    Kind::TargetGroup | Kind::LoadBalancer | Kind::Listener | Kind::VpcLink
                ) {
                    assert!(seen[i], "{} may run before {}", step.line(), earlier.line());
                }
            }
        }
    }
}

/// After a crash the load balancer may still be provisioning and the link PENDING: the plan
/// waits on their known ids, and what needs them waits for those waits.
#[test]
fn waits_on_known_resources_hold_what_needs_them() {
    let mut state = converge_in(Some(&seed()), &Actual::default(), |_| 0);
    for lb in state.load_balancers.values_mut() {
        lb.state = "provisioning".into();
    }
    for link in state.vpc_links.values_mut() {
        link.status = "PENDING".into();
    }
    // A new port: a listener on the provisioning NLB; a route change: integrations on the link.
    let mut t = seed();
    let mut port = t.ports[0].clone();
    port.port = 9090;
    t.ports.push(port);
    t.routes[0].port = Some(9090);
    let p = plan(Some(&t), &[], &state);
    let deps = dependencies(&p);
    let waits: Vec<usize> = (0..p.steps.len())
        .filter(|&j| p.steps[j].action == crate::plan::Action::Wait)
        .collect();
    assert!(!waits.is_empty(), "no waits in:\n{}", p.lines().join("\n"));
    for (j, step) in p.steps.iter().enumerate() {
        let needs_ready = matches!(
            step.op,
            Op::CreateListener { .. } | Op::PutIntegration { .. } | Op::CreateVpcLink { .. }
        );
        if needs_ready {
            for &w in waits.iter().filter(|&&w| w < j) {
                let same = p.steps[w]
                    .op
                    .inputs()
                    .iter()
                    .any(|v| step.op.inputs().contains(v));
                if same {
                    assert!(
                        deps[j].contains(&w),
                        "{} does not wait for {}",
                        step.line(),
                        p.steps[w].line()
                    );
                }
            }
        }
    }
    converge_in(Some(&t), &state, |ready| ready.len() - 1);
}

#[test]
fn deletes_run_one_at_a_time_after_everything_else() {
    let state = converge_in(Some(&seed()), &Actual::default(), |_| 0);
    let p = plan(None, &[], &state);
    let deps = dependencies(&p);
    for (j, d) in deps.iter().enumerate().skip(1) {
        assert!(
            d.contains(&(j - 1)),
            "delete {j} does not wait for {}",
            j - 1
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_allowed_order_converges_from_empty(t in valid_topology(), picks in prop::collection::vec(any::<usize>(), 1..64)) {
        let mut n = 0;
        converge_in(Some(&t), &Actual::default(), |_| { n += 1; picks[n % picks.len()] });
    }

    #[test]
    fn any_allowed_order_converges_from_another_topology(
        a in valid_topology(),
        b in valid_topology(),
        picks in prop::collection::vec(any::<usize>(), 1..64),
    ) {
        let from = converge_in(Some(&a), &Actual::default(), |_| 0);
        let mut b = b;
        b.gateway.name = a.gateway.name.clone();
        let mut n = 0;
        let after = converge_in(Some(&b), &from, |_| { n += 1; picks[n % picks.len()] });
        converge_in(None, &after, |ready| ready.len() - 1);
    }

    /// Holding back the steps that yield to traffic never leaves the worker with nothing to
    /// start, whatever the plan changes (listener changes and deletes wait for earlier delays).
    #[test]
    fn holding_yielding_steps_never_stalls(a in valid_topology(), b in valid_topology()) {
        let from = converge_in(Some(&a), &Actual::default(), |_| 0);
        let mut b = b;
        b.gateway.name = a.gateway.name.clone();
        for desired in [Some(&b), None] {
            let p = plan(desired, &[], &from);
            let deps = dependencies(&p);
            let order = order_yielding(&p, &deps);
            let after = simulate::run_in_order(&p, &from, &order);
            prop_assert!(plan(desired, &[], &after).is_empty());
        }
    }
}
