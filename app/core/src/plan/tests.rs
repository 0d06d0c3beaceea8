//! Planner properties (generated topologies): converging is a fixed point, the same inputs give
//! the same plan, no step reads what a later step makes, and AWS's ordering rules hold (the
//! simulation panics on a step AWS would refuse).

use super::actual::Actual;
use super::keys::DesiredKey;
use super::simulate;
use super::*;
use crate::model::tests::valid_topology;
use crate::model::topology::Topology;
use proptest::prelude::*;

fn seed() -> Topology {
    let text = include_str!("../../../../examples/seed-topology.yaml");
    serde_yaml_ng::from_str::<Topology>(text)
        .unwrap()
        .normalised()
}

/// Plans and runs until nothing is left to do; returns the state and the plans made.
fn converge(desired: Option<&Topology>, from: &Actual) -> (Actual, Plan) {
    converge_keys(desired, &[], from)
}

fn converge_keys(desired: Option<&Topology>, keys: &[DesiredKey], from: &Actual) -> (Actual, Plan) {
    let first = plan(desired, keys, from);
    assert!(
        ordered(&first),
        "a step reads a later step's output:\n{}",
        first.lines().join("\n")
    );
    let after = simulate::run(&first, from);
    let again = plan(desired, keys, &after);
    assert!(
        again.is_empty(),
        "planning again is not empty:\n{}\nfirst plan:\n{}",
        again.lines().join("\n"),
        first.lines().join("\n")
    );
    (after, first)
}

#[test]
fn seed_from_empty_builds_everything_in_order() {
    let (after, p) = converge(Some(&seed()), &Actual::default());
    let kinds: Vec<Kind> = p.steps.iter().map(|s| s.kind).collect();
    let mut sorted = kinds.clone();
    sorted.sort();
    assert_eq!(kinds, sorted, "creates follow the kinds' order");
    assert_eq!(after.target_groups.len(), 3);
    assert_eq!(after.load_balancers.len(), 1);
    let lb = after.load_balancers.values().next().unwrap();
    assert_eq!(lb.listeners.len(), 3);
    assert_eq!(after.vpc_links.len(), 1);
    let api = after.rest_apis.values().next().unwrap();
    assert_eq!(api.stages.len(), 3);
    assert_eq!(api.deployments.len(), 1);
    // "/", three prefixes, three proxies.
    assert_eq!(api.resources.len(), 7);
    assert_eq!(after.usage_plans.len(), 1);
    assert!(!p.needs_approval(), "building from nothing deletes nothing");
    // Writes: 3 TGs + 3 delays + 3 registrations, NLB, 3 listeners, link, API, 6 resources,
    // 3 methods + 3 integrations, deployment, 3 stages + 3 throttles, usage plan.
    assert_eq!(p.writes(), 35, "{}", p.lines().join("\n"));
}

#[test]
fn a_route_change_redeploys_and_moves_every_stage() {
    let t = seed();
    let (state, _) = converge(Some(&t), &Actual::default());
    let mut edited = t.clone();
    edited.routes[0].api_key_required = false;
    let (_, p) = converge(Some(&edited), &state);
    let lines = p.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("~ route /dev/{proxy+} ANY: api_key_required true → false")),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l.starts_with("+ deployment")));
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("~ stage")).count(),
        3,
        "{lines:?}"
    );
    // The old deployment goes once no stage serves it.
    assert!(
        lines.last().unwrap().starts_with("- deployment"),
        "{lines:?}"
    );
    assert!(!p.needs_approval());
}

#[test]
fn a_stage_port_change_touches_only_that_stage() {
    let t = seed();
    let (state, _) = converge(Some(&t), &Actual::default());
    let mut edited = t.clone();
    edited.stages[0].backend_port = 8081;
    let (_, p) = converge(Some(&edited), &state);
    assert_eq!(
        p.lines(),
        vec!["~ stage dev: variables.backendPort 8080 → 8081".to_string()]
    );
}

#[test]
fn an_access_log_is_a_step_of_its_own_after_the_stages_other_changes() {
    use crate::model::topology::{AccessLog, AccessLogging};
    let t = seed();
    let (state, _) = converge(Some(&t), &Actual::default());
    let group = format!(
        "arn:aws:logs:{}:123456789012:log-group:api",
        t.gateway.region
    );
    let mut edited = t.clone();
    edited.stages[0].backend_port = 8081;
    edited.stages[0].access_log = Some(AccessLogging::To(AccessLog {
        destination: group.clone(),
        format: None,
    }));
    let (mut state, p) = converge(Some(&edited), &state);
    assert_eq!(
        p.lines(),
        vec![
            "~ stage dev: variables.backendPort 8080 → 8081".to_string(),
            format!("~ stage dev: access_log.destination (none) → {group}, access_log.format (none) → JSON (default)"),
        ]
    );
    // AWS writing the group with `:*` and the format with spaces is the same log.
    let api = state.rest_apis.values_mut().next().unwrap();
    let log = api
        .stages
        .get_mut("dev")
        .unwrap()
        .access_log
        .as_mut()
        .unwrap();
    log.destination.push_str(":*");
    log.format = log.format.as_ref().map(|f| format!(" {f} "));
    assert!(plan(Some(&edited), &[], &state).is_empty());
    // A stage whose topology says nothing keeps AWS's log; off removes it.
    edited.stages[0].access_log = None;
    assert!(plan(Some(&edited), &[], &state).is_empty());
    edited.stages[0].access_log = Some(AccessLogging::Off);
    let (state, p) = converge(Some(&edited), &state);
    assert_eq!(
        p.lines(),
        vec![format!("~ stage dev: access_log {group} → off")]
    );
    assert!(state.rest_apis.values().next().unwrap().stages["dev"]
        .access_log
        .is_none());
}

#[test]
fn new_subnets_replace_the_network_before_removing_the_old_one() {
    let t = seed();
    let (state, _) = converge(Some(&t), &Actual::default());
    let mut edited = t.clone();
    edited
        .gateway
        .subnet_ids
        .push("subnet-0fffffffffffffff0".into());
    let (after, p) = converge(Some(&edited), &state);
    assert!(
        p.needs_approval(),
        "replacing the NLB and VPC link needs an admin"
    );
    let guarded = p.guarded_steps();
    assert!(
        guarded.iter().any(|s| s.starts_with("VPC link")),
        "{guarded:?}"
    );
    assert!(
        guarded.iter().any(|s| s.starts_with("load balancer")),
        "{guarded:?}"
    );
    assert_eq!(after.load_balancers.len(), 1);
    assert_eq!(after.vpc_links.len(), 1);
    assert_eq!(after.target_groups.len(), 3);
}

#[test]
fn deleting_the_gateway_removes_everything() {
    let (state, _) = converge(Some(&seed()), &Actual::default());
    let (after, p) = converge(None, &state);
    assert!(after.is_empty(), "{after:?}");
    assert!(p.needs_approval());
}

#[test]
fn a_pending_link_is_waited_for_and_a_failed_one_replaced() {
    let t = seed();
    let (mut state, _) = converge(Some(&t), &Actual::default());
    let link = state.vpc_links.values_mut().next().unwrap();
    link.status = "PENDING".into();
    let p = plan(Some(&t), &[], &state);
    assert_eq!(p.writes(), 0);
    assert_eq!(p.steps.len(), 1);
    assert_eq!(p.steps[0].action, Action::Wait);
    let link = state.vpc_links.values_mut().next().unwrap();
    link.status = "FAILED".into();
    link.status_message = Some("NLB not found".into());
    let (_, p) = converge(Some(&t), &state);
    assert!(p
        .guarded_steps()
        .iter()
        .any(|s| s.contains("FAILED: NLB not found")));
}

#[test]
fn duplicates_left_by_a_crash_go_without_an_admin_but_serving_ones_need_one() {
    let t = seed();
    let (mut state, _) = converge(Some(&t), &Actual::default());
    // A create cut off by a crash finished after the restart had looked: a second link (same
    // name and target) that nothing uses, and a stage-less copy of the REST API.
    let (id, link) = state
        .vpc_links
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap();
    state.vpc_links.insert(format!("{id}-dup"), link);
    let api = state.rest_apis.values().next().unwrap().clone();
    let mut copy = api.clone();
    copy.stages.clear();
    state.rest_apis.insert("zzz-copy".into(), copy);
    let (after, p) = converge(Some(&t), &state);
    assert!(!p.needs_approval(), "{:?}", p.lines());
    assert_eq!(p.writes(), 2, "{:?}", p.lines());
    assert_eq!(after.vpc_links.len(), 1);
    assert_eq!(after.rest_apis.len(), 1);
    // A second API that does serve stages is another matter.
    state.rest_apis.insert("zzz-copy".into(), api);
    assert!(plan(Some(&t), &[], &state).needs_approval());
}

fn key(id: i64, enabled: bool, plans: &[&str]) -> DesiredKey {
    DesiredKey {
        id,
        name: format!("key{id}"),
        description: String::new(),
        enabled,
        usage_plans: plans.iter().map(|p| p.to_string()).collect(),
        aws_id: None,
    }
}

#[test]
fn keys_join_their_plans_then_are_disabled_then_deleted() {
    let t = seed();
    let (state, p) = converge_keys(Some(&t), &[key(1, true, &["standard"])], &Actual::default());
    let lines = p.lines();
    assert!(
        lines
            .iter()
            .any(|l| l == "+ API key key1: enabled (none) → true, usage plans (none) → standard"),
        "{lines:?}"
    );
    let k = &state.api_keys[&1];
    assert!(k.enabled);
    assert_eq!(
        k.usage_plans,
        vec![state.usage_plans["seed-standard"].id.clone()]
    );
    // Expired or revoked: disabled, still in its plan.
    let (state, p) = converge_keys(Some(&t), &[key(1, false, &["standard"])], &state);
    assert_eq!(
        p.lines(),
        vec!["~ API key key1: enabled true → false".to_string()]
    );
    // Deleted later: gone from AWS, first among the deletes.
    let (state, p) = converge_keys(Some(&t), &[], &state);
    assert_eq!(p.lines(), vec!["- API key seed-key1-1".to_string()]);
    assert!(state.api_keys.is_empty());
    assert!(!p.needs_approval());
}

#[test]
fn duplicates_are_drift_the_plan_removes() {
    let t = seed();
    let keys = [key(1, true, &["standard"])];
    let (mut state, _) = converge_keys(Some(&t), &keys, &Actual::default());
    // A second usage plan of the same name (covering nothing) and a second AWS key for key 1.
    let mut plan_copy = state.usage_plans["seed-standard"].clone();
    plan_copy.id = "plan-copy".into();
    plan_copy.api_stages.clear();
    state.add_usage_plan("seed-standard".into(), plan_copy);
    let mut key_copy = state.api_keys[&1].clone();
    key_copy.id = "zzz-key-copy".into();
    key_copy.usage_plans.clear();
    state.add_api_key(1, key_copy.clone());
    assert_eq!(
        state.extra_usage_plans.len(),
        1,
        "the copy covering fewer stages is extra"
    );
    assert_eq!(state.extra_api_keys.len(), 1);
    let (after, p) = converge_keys(Some(&t), &keys, &state);
    let lines = p.lines();
    assert!(
        lines.contains(&"- API key seed-key1-1 (a duplicate, AWS id zzz-key-copy)".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"- usage plan seed-standard (a duplicate, id plan-copy)".to_string()),
        "{lines:?}"
    );
    assert!(after.extra_usage_plans.is_empty() && after.extra_api_keys.is_empty());
    assert!(!p.needs_approval());
    // A copy made by a retried create covers the same stages, and the key joined the copy:
    // the key leaves it before joining the plan kept (AWS refuses a key in two plans over
    // one stage), and that move waits for the full plan rather than going first.
    let mut state = after.clone();
    let kept_id = state.usage_plans["seed-standard"].id.clone();
    let mut twin = state.usage_plans["seed-standard"].clone();
    twin.id = "zzz-plan-twin".into();
    state.add_usage_plan("seed-standard".into(), twin.clone());
    assert_eq!(
        state.usage_plans["seed-standard"].id, kept_id,
        "same stages: smaller id kept"
    );
    state.api_keys.get_mut(&1).unwrap().usage_plans = vec![twin.id.clone()];
    let p = plan(Some(&t), &keys, &state);
    assert!(
        p.keys_first()
            .steps
            .iter()
            .all(|s| !matches!(s.op, Op::CreateUsagePlanKey { .. })),
        "{:?}",
        p.keys_first().lines()
    );
    let (moved, _) = converge_keys(Some(&t), &keys, &state);
    assert_eq!(moved.api_keys[&1].usage_plans, vec![kept_id]);
    assert!(moved.extra_usage_plans.is_empty());
    // The copy Portico recorded is the one kept, even when it is not the map's first.
    let mut recorded = keys.clone();
    recorded[0].aws_id = Some(key_copy.id.clone());
    let mut state = after;
    let original = state.api_keys[&1].id.clone();
    state.add_api_key(1, key_copy.clone());
    let (after, p) = converge_keys(Some(&t), &recorded, &state);
    assert!(
        p.lines().contains(&format!(
            "- API key seed-key1-1 (a duplicate, AWS id {original})"
        )),
        "{:?}",
        p.lines()
    );
    assert_eq!(after.api_keys[&1].id, key_copy.id);
    assert_eq!(
        after.api_keys[&1].usage_plans,
        vec![after.usage_plans["seed-standard"].id.clone()],
        "the kept copy joins the usage plan"
    );
    // Deleting the gateway removes the copies too.
    let mut state = after;
    state.add_api_key(1, key_copy_of(&state, "another-copy"));
    let (gone, _) = converge(None, &state);
    assert!(gone.is_empty());
}

fn key_copy_of(state: &Actual, id: &str) -> super::actual::ApiKey {
    let mut c = state.api_keys[&1].clone();
    c.id = id.into();
    c.usage_plans.clear();
    c
}

#[test]
fn key_steps_run_first_on_their_own_where_their_usage_plans_exist() {
    let t = seed();
    // From nothing, the key can be made ahead, but its membership waits for its usage plan.
    let keys = [key(1, true, &["standard"])];
    let ahead = plan(Some(&t), &keys, &Actual::default()).keys_first();
    assert_eq!(
        ahead.lines(),
        vec!["+ API key key1: enabled (none) → true, usage plans (none) → standard".to_string()]
    );
    // Converged, then a key issued beside a topology edit: the key's steps run first, alone.
    let (state, _) = converge(Some(&t), &Actual::default());
    let mut edited = t.clone();
    edited.stages[0].throttle = None;
    edited.ports[0].deregistration_delay += 1;
    let full = plan(Some(&edited), &keys, &state);
    let first = full.keys_first();
    assert!(ordered(&first));
    let key_lines: Vec<String> = full
        .steps
        .iter()
        .filter(|s| s.kind == Kind::ApiKey)
        .map(Step::line)
        .collect();
    assert_eq!(first.lines(), key_lines);
    assert_eq!(
        key_lines.len(),
        2,
        "the key and its membership: {key_lines:?}"
    );
    assert!(first.steps.iter().all(|s| s.kind == Kind::ApiKey));
    assert!(full.steps.len() > first.steps.len());
    // Applied on their own, they leave the rest of the plan as it was.
    let after = simulate::run(&first, &state);
    let rest = plan(Some(&edited), &keys, &after);
    assert!(rest.keys_first().is_empty());
    assert_eq!(rest.steps.len(), full.steps.len() - first.steps.len());
    // A revoked key is disabled ahead of everything too.
    let (state, _) = converge_keys(Some(&t), &keys, &state);
    let revoked = plan(Some(&edited), &[key(1, false, &["standard"])], &state);
    assert_eq!(
        revoked.keys_first().lines(),
        vec!["~ API key key1: enabled true → false".to_string()]
    );
}

fn keys_for(t: &Topology) -> impl Strategy<Value = Vec<DesiredKey>> {
    let plans: Vec<String> = t.usage_plans.iter().map(|p| p.name.clone()).collect();
    prop::collection::vec((any::<bool>(), any::<bool>()), 0..4).prop_map(move |flags| {
        flags
            .into_iter()
            .enumerate()
            .map(|(i, (enabled, in_plan))| DesiredKey {
                id: i as i64 + 1,
                name: format!("k{i}"),
                description: String::new(),
                enabled,
                usage_plans: if in_plan { plans.clone() } else { vec![] },
                aws_id: None,
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn keys_converge_to_a_fixed_point(
        (t, first, second) in valid_topology().prop_flat_map(|t| (Just(t.clone()), keys_for(&t), keys_for(&t)))
    ) {
        let (state, _) = converge_keys(Some(&t), &first, &Actual::default());
        let (state, _) = converge_keys(Some(&t), &second, &state);
        let (after, _) = converge(None, &state);
        prop_assert!(after.is_empty());
    }

    #[test]
    fn converging_from_empty_is_a_fixed_point(t in valid_topology()) {
        converge(Some(&t), &Actual::default());
    }

    #[test]
    fn converging_from_another_topology_is_a_fixed_point(a in valid_topology(), b in valid_topology()) {
        let (state, _) = converge(Some(&a), &Actual::default());
        // Same gateway name, so b takes over a's resources.
        let mut b = b;
        b.gateway.name = a.gateway.name.clone();
        converge(Some(&b), &state);
    }

    #[test]
    fn deleting_removes_everything(t in valid_topology()) {
        let (state, _) = converge(Some(&t), &Actual::default());
        let (after, _) = converge(None, &state);
        prop_assert!(after.is_empty());
    }

    #[test]
    fn the_same_inputs_give_the_same_plan(a in valid_topology(), b in valid_topology()) {
        let (state, _) = converge(Some(&a), &Actual::default());
        let mut b = b;
        b.gateway.name = a.gateway.name.clone();
        let one = plan(Some(&b), &[], &state);
        let two = plan(Some(&b.clone()), &[], &state.clone());
        prop_assert_eq!(&one, &two);
        prop_assert_eq!(serde_json::to_string(&one).unwrap(), serde_json::to_string(&two).unwrap());
    }
}
