//! The worker against the local AWS sandbox, through the real SDK: convergence from nothing,
//! no-op runs, edits with only the writes they need, faults, crashes at every step, waits,
//! foreign resources, drift, approvals and deleting a gateway.

#[allow(
    dead_code,
    reason = "each test binary uses its own part of the helpers"
)]
mod common;

use app::api::gateways::ssr as gateways;
use app::model::topology::{ApplyMode, DriftMode, Topology};
use common::sandbox::{Sandbox, Turn};
use common::TestApp;
use portico::aws::call::Retry;
use portico::worker::apply::Waits;
use portico::worker::{Outcome, Worker, WorkerConfig};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

const REGION: &str = "ap-northeast-2";

fn fast() -> WorkerConfig {
    WorkerConfig {
        drift_interval: Duration::from_secs(3600),
        poll: Duration::from_millis(50),
        health_interval: Duration::from_secs(3600),
        // Health reads here follow reconciles back to back: they wait for quota instead.
        health_reserve: None,
        waits: Waits {
            timeout: Duration::from_secs(30),
            every: Duration::from_millis(100),
        },
        retry: Retry {
            attempts: 10,
            base: Duration::from_millis(5),
            cap: Duration::from_millis(100),
        },
        max_backoff: Duration::from_secs(1),
        settle: Duration::ZERO,
        crash_after_call: None,
    }
}

struct Rig {
    app: TestApp,
    turn: Turn,
    id: i64,
    seed: Topology,
}

/// The seed topology with the sandbox's demo VPC, subnets and instance.
async fn rig_with(edit: impl FnOnce(&mut Topology)) -> Rig {
    let turn = Sandbox::lock().await;
    // Short waits: a link is PENDING for 0.2 s, targets `initial` for 0.2 s.
    turn.control(
        "POST",
        "/config",
        Some(json!({ "vpc_link_pending_seconds": 0.2, "target_initial_seconds": 0.2 })),
    )
    .await;
    let demo = turn.demo(REGION).await;
    let app = TestApp::new().await;
    let mut seed = gateways::parse_yaml(include_str!("../../examples/seed-topology.yaml")).unwrap();
    seed.gateway.vpc_id = demo["vpc_id"].as_str().unwrap().to_owned();
    seed.gateway.subnet_ids = demo["subnet_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    let instance = demo["instance_ids"][0].as_str().unwrap().to_owned();
    for p in &mut seed.ports {
        p.instances = vec![instance.clone()];
    }
    edit(&mut seed);
    gateways::create(&app.pool, "test", seed.clone(), false)
        .await
        .expect("create the seed gateway");
    let id = sqlx::query_scalar("SELECT id FROM gateways WHERE name = 'seed'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    Rig {
        app,
        turn,
        id,
        seed: seed.normalised(),
    }
}

async fn rig() -> Rig {
    rig_with(|_| {}).await
}

impl Rig {
    async fn worker(&self, config: WorkerConfig) -> Worker {
        Worker::new(
            self.app.pool.clone(),
            self.turn.sdk_config(REGION, 1).await,
            config,
        )
    }

    /// Reconciles until in sync (at most `runs` runs); returns the outcomes.
    async fn converge(&self, worker: &Worker, runs: usize) -> Vec<Outcome> {
        let mut outcomes = vec![];
        for _ in 0..runs {
            let o = worker.reconcile(self.id).await;
            let done = matches!(o, Outcome::InSync | Outcome::Removed);
            outcomes.push(o);
            if done {
                return outcomes;
            }
        }
        panic!("not converged after {runs} runs: {outcomes:?}");
    }

    /// Calls since the last reset, by operation, split into (reads, writes).
    async fn calls(&self) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
        let log = self.turn.control("GET", "/calls", None).await;
        let mut reads = BTreeMap::new();
        let mut writes = BTreeMap::new();
        for service in ["apigateway", "elasticloadbalancing"] {
            if let Some(ops) = log["calls"][service].as_object() {
                for (op, n) in ops {
                    let n = n.as_u64().unwrap_or(0);
                    let read = op.starts_with("Get") || op.starts_with("Describe");
                    let map = if read { &mut reads } else { &mut writes };
                    *map.entry(op.clone()).or_default() += n;
                }
            }
        }
        (reads, writes)
    }

    async fn reset_calls(&self) {
        self.turn
            .control("POST", "/calls/reset", Some(json!({})))
            .await;
    }

    async fn edit(&self, edit: impl FnOnce(&mut Topology)) {
        self.edit_gateway("seed", edit).await
    }

    async fn edit_gateway(&self, name: &str, edit: impl FnOnce(&mut Topology)) {
        let (_, generation, mut t) = gateways::load(&self.app.pool, name).await.unwrap();
        edit(&mut t);
        gateways::replace(
            &self.app.pool,
            "test",
            name,
            Some(generation),
            t,
            "test",
            false,
        )
        .await
        .expect("edit");
    }

    /// How many of each kind AWS holds in the region (all owners).
    async fn inventory(&self) -> BTreeMap<&'static str, usize> {
        let c = self.turn.clients(REGION, 3).await;
        let mut out = BTreeMap::new();
        let lbs = c.elb.describe_load_balancers().send().await.unwrap();
        out.insert("load balancers", lbs.load_balancers().len());
        let mut listeners = 0;
        for lb in lbs.load_balancers() {
            listeners += c
                .elb
                .describe_listeners()
                .load_balancer_arn(lb.load_balancer_arn().unwrap())
                .send()
                .await
                .unwrap()
                .listeners()
                .len();
        }
        out.insert("listeners", listeners);
        let tgs = c.elb.describe_target_groups().send().await.unwrap();
        out.insert("target groups", tgs.target_groups().len());
        let links = c.apigateway.get_vpc_links().send().await.unwrap();
        out.insert("vpc links", links.items().len());
        let apis = c.apigateway.get_rest_apis().send().await.unwrap();
        out.insert("rest apis", apis.items().len());
        let mut deployments = 0;
        let mut stages = 0;
        let mut resources = 0;
        for a in apis.items() {
            let id = a.id().unwrap();
            deployments += c
                .apigateway
                .get_deployments()
                .rest_api_id(id)
                .send()
                .await
                .unwrap()
                .items()
                .len();
            stages += c
                .apigateway
                .get_stages()
                .rest_api_id(id)
                .send()
                .await
                .unwrap()
                .item()
                .len();
            resources += c
                .apigateway
                .get_resources()
                .rest_api_id(id)
                .send()
                .await
                .unwrap()
                .items()
                .len();
        }
        out.insert("deployments", deployments);
        out.insert("stages", stages);
        out.insert("resources", resources);
        let plans = c.apigateway.get_usage_plans().send().await.unwrap();
        out.insert("usage plans", plans.items().len());
        out
    }
}

fn seed_inventory() -> BTreeMap<&'static str, usize> {
    BTreeMap::from([
        ("load balancers", 1),
        ("listeners", 3),
        ("target groups", 3),
        ("vpc links", 1),
        ("rest apis", 1),
        ("deployments", 1),
        ("stages", 3),
        ("resources", 7),
        ("usage plans", 1),
    ])
}

fn total(m: &BTreeMap<String, u64>) -> u64 {
    m.values().sum()
}

#[tokio::test]
async fn the_seed_converges_from_empty_and_reads_back_exactly() {
    let rig = rig().await;
    let worker = rig.worker(fast()).await;
    rig.reset_calls().await;
    let started = std::time::Instant::now();
    let outcomes = rig.converge(&worker, 3).await;
    let wall = started.elapsed();
    assert_eq!(
        outcomes,
        vec![Outcome::Applied { writes: 35 }, Outcome::InSync]
    );
    let (reads, writes) = rig.calls().await;
    eprintln!(
        "converge from empty: {} writes {writes:?}; {} reads {reads:?}; {:.2} s",
        total(&writes),
        total(&reads),
        wall.as_secs_f64()
    );
    assert_eq!(total(&writes), 35, "{writes:?}");
    assert_eq!(rig.inventory().await, seed_inventory());

    // Reads back exactly: planning against what AWS now holds is empty, and the fields a
    // person checks are AWS's own answers.
    let (_, actual, plan) = worker.preview(rig.id).await.unwrap().unwrap();
    assert!(plan.is_empty(), "{:?}", plan.lines());
    for port in &rig.seed.ports {
        let tg = actual
            .target_groups
            .values()
            .find(|t| t.port == port.port)
            .expect("a target group per port");
        assert_eq!(tg.health_check, port.health_check);
        assert_eq!(tg.deregistration_delay, port.deregistration_delay);
        assert_eq!(
            tg.targets.keys().cloned().collect::<Vec<_>>(),
            port.instances
        );
    }
    let api = actual.rest_apis.values().next().unwrap();
    let lb = actual.load_balancers.values().next().unwrap();
    let link = actual.vpc_links.keys().next().unwrap();
    let dev = &api.resources["/dev/{proxy+}"].methods["ANY"];
    assert!(dev.api_key_required);
    let integration = dev.integration.as_ref().unwrap();
    assert_eq!(
        integration.uri,
        format!("http://{}:8080/dev/{{proxy}}", lb.dns)
    );
    assert_eq!(integration.connection_id.as_deref(), Some(link.as_str()));
    assert_eq!(integration.kind, "HTTP_PROXY");
    assert_eq!(api.stages["sprint"].variables["backendPort"], "8081");
    assert_eq!(api.stages["release"].throttle, rig.seed.stages[1].throttle);
    let plan = &actual.usage_plans["seed-standard"];
    assert_eq!(plan.quota, rig.seed.usage_plans[0].quota);
    assert_eq!(plan.throttle, rig.seed.usage_plans[0].throttle);
    assert_eq!(plan.api_stages.len(), 3);

    // The journal: every step done, with AWS's request id.
    let steps: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT status, request_id FROM plan_steps ORDER BY plan_id, idx")
            .fetch_all(&rig.app.pool)
            .await
            .unwrap();
    assert_eq!(steps.len(), 37);
    assert!(steps.iter().all(|(s, _)| s == "done"), "{steps:?}");
    assert!(steps.iter().filter(|(_, r)| r.is_some()).count() >= 35);
}

#[tokio::test]
async fn a_no_op_reconcile_makes_zero_writes() {
    let rig = rig().await;
    let worker = rig.worker(fast()).await;
    rig.converge(&worker, 3).await;
    rig.reset_calls().await;
    assert_eq!(worker.reconcile(rig.id).await, Outcome::InSync);
    let (reads, writes) = rig.calls().await;
    eprintln!("no-op reconcile: {} reads {reads:?}", total(&reads));
    assert!(writes.is_empty(), "{writes:?}");
}

#[tokio::test]
async fn edits_converge_with_only_the_writes_they_need() {
    let rig = rig().await;
    let worker = rig.worker(fast()).await;
    rig.converge(&worker, 3).await;

    // A stage's port: one UpdateStage.
    rig.edit(|t| t.stages[0].backend_port = 8081).await;
    rig.reset_calls().await;
    rig.converge(&worker, 3).await;
    let (_, writes) = rig.calls().await;
    assert_eq!(writes, BTreeMap::from([("UpdateStage".to_string(), 1)]));

    // A route's key requirement: the method, a new deployment, every stage moved to it, the
    // old deployment removed.
    rig.edit(|t| t.routes[0].api_key_required = false).await;
    rig.reset_calls().await;
    rig.converge(&worker, 3).await;
    let (_, writes) = rig.calls().await;
    assert_eq!(
        writes,
        BTreeMap::from([
            ("UpdateMethod".to_string(), 1),
            ("CreateDeployment".to_string(), 1),
            ("UpdateStage".to_string(), 3),
            ("DeleteDeployment".to_string(), 1),
        ])
    );

    // A port's health check: one ModifyTargetGroup.
    rig.edit(|t| t.ports[1].health_check.interval_seconds = 10)
        .await;
    rig.reset_calls().await;
    rig.converge(&worker, 3).await;
    let (_, writes) = rig.calls().await;
    assert_eq!(
        writes,
        BTreeMap::from([("ModifyTargetGroup".to_string(), 1)])
    );
    assert_eq!(rig.inventory().await, seed_inventory());
}

#[tokio::test]
async fn it_converges_with_throttling_and_5xx_on_every_operation() {
    let rig = rig().await;
    let worker = rig.worker(fast()).await;
    // 20 % of every call fails: half throttled (429 / Throttling), half 500 or 503.
    for (kind, rate) in [("throttle", 0.1), ("500", 0.05), ("503", 0.05)] {
        rig.turn
            .control(
                "POST",
                "/faults",
                Some(json!({ "service": "*", "kind": kind, "rate": rate })),
            )
            .await;
    }
    rig.reset_calls().await;
    let outcomes = rig.converge(&worker, 6).await;
    let log = rig.turn.control("GET", "/calls", None).await;
    eprintln!("with faults: {outcomes:?}; injected: {}", log["injected"]);
    assert!(
        log["injected"].as_object().is_some_and(|m| !m.is_empty()),
        "faults were injected"
    );
    rig.turn.control("DELETE", "/faults", None).await;
    assert_eq!(rig.inventory().await, seed_inventory());
}

/// A crash right after the AWS call of each step in `steps` (before the journal records it),
/// then a new worker: it converges with one of everything.
async fn crash_after_each_of(steps: std::ops::Range<usize>) {
    for crash_at in steps {
        let rig = rig().await;
        let crashing = rig
            .worker(WorkerConfig {
                crash_after_call: Some(crash_at),
                ..fast()
            })
            .await;
        assert_eq!(
            crashing.reconcile(rig.id).await,
            Outcome::Crashed,
            "step {crash_at}"
        );
        drop(crashing);
        // A new process: whatever was running is marked cut off, then AWS is observed again.
        portico::worker::store::interrupt_running(&rig.app.pool)
            .await
            .unwrap();
        let worker = rig.worker(fast()).await;
        rig.converge(&worker, 4).await;
        assert_eq!(
            rig.inventory().await,
            seed_inventory(),
            "after a crash at step {crash_at}"
        );
        let interrupted: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM plans WHERE status = 'interrupted'")
                .fetch_one(&rig.app.pool)
                .await
                .unwrap();
        assert_eq!(interrupted, 1);
    }
}

/// The seed plan has 37 steps (checked here); three tests share them so they run in parallel.
#[tokio::test]
async fn a_crash_after_steps_1_to_12_converges_without_duplicates() {
    let rig = rig().await;
    let steps = rig
        .worker(fast())
        .await
        .preview(rig.id)
        .await
        .unwrap()
        .unwrap()
        .2
        .steps
        .len();
    assert_eq!(steps, 37);
    drop(rig);
    crash_after_each_of(0..12).await;
}

#[tokio::test]
async fn a_crash_after_steps_13_to_24_converges_without_duplicates() {
    crash_after_each_of(12..24).await;
}

#[tokio::test]
async fn a_crash_after_steps_25_to_37_converges_without_duplicates() {
    crash_after_each_of(24..37).await;
}

#[tokio::test]
async fn a_pending_vpc_link_is_waited_for_without_failing() {
    let rig = rig().await;
    rig.turn
        .control(
            "POST",
            "/config",
            Some(json!({ "vpc_link_pending_seconds": 1.5 })),
        )
        .await;
    let worker = rig.worker(fast()).await;
    rig.converge(&worker, 3).await;
    let waited: i64 = sqlx::query_scalar(
        "SELECT finished_ms - started_ms FROM plan_steps WHERE operation = 'GetVpcLink'",
    )
    .fetch_one(&rig.app.pool)
    .await
    .unwrap();
    assert!(waited >= 1000, "the wait took {waited} ms");
}

#[tokio::test]
async fn a_failed_vpc_link_shows_aws_reason() {
    let rig = rig().await;
    rig.turn
        .control(
            "POST",
            "/config",
            Some(json!({ "vpc_link_pending_seconds": 0.2, "vpc_link_fail_message": "NLB is not in a usable state" })),
        )
        .await;
    let worker = rig.worker(fast()).await;
    match worker.reconcile(rig.id).await {
        Outcome::Failed(why) => assert!(why.contains("NLB is not in a usable state"), "{why}"),
        other => panic!("{other:?}"),
    }
    let view = app::api::runs::ssr::view(&rig.app.pool, "seed")
        .await
        .unwrap();
    assert_eq!(view.state, "error");
    assert!(
        view.message.contains("NLB is not in a usable state"),
        "{}",
        view.message
    );
}

#[tokio::test]
async fn resources_of_others_are_never_touched() {
    let rig = rig().await;
    let c = rig.turn.clients(REGION, 3).await;
    let vpc = rig.seed.gateway.vpc_id.clone();
    // Same names Portico would use, no tag (or another gateway's).
    let foreign_tg = c
        .elb
        .create_target_group()
        .name("someone-elses-8080")
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Tcp)
        .port(8080)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let foreign_lb = c
        .elb
        .create_load_balancer()
        .name("someone-elses-nlb")
        .r#type(aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum::Network)
        .set_subnets(Some(rig.seed.gateway.subnet_ids.clone()))
        .send()
        .await
        .unwrap();
    let foreign_api = c
        .apigateway
        .create_rest_api()
        .name("seed")
        .tags("portico:gateway", "another")
        .send()
        .await
        .unwrap();
    let worker = rig.worker(fast()).await;
    rig.converge(&worker, 3).await;
    // Delete the gateway: everything it owns goes, nothing else.
    gateways::delete(&rig.app.pool, "test", "seed")
        .await
        .unwrap();
    assert_eq!(
        rig.converge(&worker, 3).await.last(),
        Some(&Outcome::Removed)
    );
    let inv = rig.inventory().await;
    assert_eq!(inv["load balancers"], 1);
    assert_eq!(inv["target groups"], 1);
    assert_eq!(inv["rest apis"], 1);
    assert_eq!(inv["vpc links"], 0);
    assert_eq!(inv["usage plans"], 0);
    let tg_arn = foreign_tg.target_groups()[0].target_group_arn().unwrap();
    let lb_arn = foreign_lb.load_balancers()[0].load_balancer_arn().unwrap();
    assert!(c
        .elb
        .describe_target_groups()
        .target_group_arns(tg_arn)
        .send()
        .await
        .is_ok());
    assert!(c
        .elb
        .describe_load_balancers()
        .load_balancer_arns(lb_arn)
        .send()
        .await
        .is_ok());
    assert!(c
        .apigateway
        .get_rest_api()
        .rest_api_id(foreign_api.id().unwrap())
        .send()
        .await
        .is_ok());
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM gateways")
        .fetch_one(&rig.app.pool)
        .await
        .unwrap();
    assert_eq!(rows, 0, "the finalizer removes the rows last");
}

async fn make_drift(rig: &Rig) {
    let c = rig.turn.clients(REGION, 3).await;
    let lbs = c.elb.describe_load_balancers().send().await.unwrap();
    let lb = lbs.load_balancers()[0].load_balancer_arn().unwrap();
    let listeners = c
        .elb
        .describe_listeners()
        .load_balancer_arn(lb)
        .send()
        .await
        .unwrap();
    let l8081 = listeners
        .listeners()
        .iter()
        .find(|l| l.port() == Some(8081))
        .unwrap();
    c.elb
        .delete_listener()
        .listener_arn(l8081.listener_arn().unwrap())
        .send()
        .await
        .unwrap();
    let api = c.apigateway.get_rest_apis().send().await.unwrap().items()[0]
        .id()
        .unwrap()
        .to_owned();
    c.apigateway
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(
            aws_sdk_apigateway::types::PatchOperation::builder()
                .op(aws_sdk_apigateway::types::Op::Replace)
                .path("/variables/backendPort")
                .value("9999")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let tgs = c.elb.describe_target_groups().send().await.unwrap();
    let tg = tgs
        .target_groups()
        .iter()
        .find(|t| t.port() == Some(8082))
        .unwrap();
    c.elb
        .deregister_targets()
        .target_group_arn(tg.target_group_arn().unwrap())
        .targets(
            aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
                .id(&rig.seed.ports[2].instances[0])
                .port(8082)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn drift_is_reported_in_report_mode_and_corrected_in_correct_mode() {
    let rig = rig_with(|t| t.gateway.drift_mode = DriftMode::Report).await;
    let worker = rig.worker(fast()).await;
    rig.converge(&worker, 3).await;
    make_drift(&rig).await;
    rig.reset_calls().await;
    assert_eq!(worker.reconcile(rig.id).await, Outcome::DriftReported);
    let (_, writes) = rig.calls().await;
    assert!(writes.is_empty(), "report mode writes nothing: {writes:?}");
    let view = app::api::runs::ssr::view(&rig.app.pool, "seed")
        .await
        .unwrap();
    assert_eq!(view.state, "drift");
    let lines: Vec<&str> = view.plans[0]
        .steps
        .iter()
        .map(|s| s.line.as_str())
        .collect();
    assert!(
        lines.contains(&"+ listener 8081: forwards to (none) → target group 8081"),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"~ stage dev: variables.backendPort 9999 → 8080"),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("~ targets of port 8082: target (none) → i-")),
        "{lines:?}"
    );
    // Reported again: the same plan is not stored twice.
    assert_eq!(worker.reconcile(rig.id).await, Outcome::DriftReported);
    let reported: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM plans WHERE status = 'reported'")
        .fetch_one(&rig.app.pool)
        .await
        .unwrap();
    assert_eq!(reported, 1);

    // Correct mode repairs it on the next run.
    rig.edit(|t| t.gateway.drift_mode = DriftMode::Correct)
        .await;
    rig.reset_calls().await;
    rig.converge(&worker, 3).await;
    let (_, writes) = rig.calls().await;
    assert_eq!(
        writes,
        BTreeMap::from([
            ("CreateListener".to_string(), 1),
            ("RegisterTargets".to_string(), 1),
            ("UpdateStage".to_string(), 1),
        ])
    );
}

#[tokio::test]
async fn approve_mode_waits_for_an_admin_and_never_runs_a_stale_plan() {
    let rig = rig_with(|t| t.gateway.apply_mode = ApplyMode::Approve).await;
    let worker = rig.worker(fast()).await;
    rig.reset_calls().await;
    assert_eq!(worker.reconcile(rig.id).await, Outcome::AwaitingApproval);
    assert_eq!(worker.reconcile(rig.id).await, Outcome::AwaitingApproval);
    let (_, writes) = rig.calls().await;
    assert!(writes.is_empty(), "{writes:?}");
    let first: i64 = sqlx::query_scalar("SELECT id FROM plans")
        .fetch_one(&rig.app.pool)
        .await
        .unwrap();

    // An edit after the plan was made: approving the old plan is refused, and it never runs.
    rig.edit(|t| t.stages[0].backend_port = 8082).await;
    let err = app::api::runs::ssr::approve(&rig.app.pool, "admin", "seed", first)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("will never run"), "{err}");
    assert_eq!(worker.reconcile(rig.id).await, Outcome::AwaitingApproval);
    let (status, second): (String, i64) =
        sqlx::query_as("SELECT (SELECT status FROM plans WHERE id = ?), MAX(id) FROM plans")
            .bind(first)
            .fetch_one(&rig.app.pool)
            .await
            .unwrap();
    assert_eq!(status, "superseded");
    app::api::runs::ssr::approve(&rig.app.pool, "admin", "seed", second)
        .await
        .unwrap();
    let outcomes = rig.converge(&worker, 3).await;
    assert_eq!(outcomes[0], Outcome::Applied { writes: 35 });
    let audit: Vec<String> = rig.app.audit_actions().await;
    assert!(audit.contains(&"plan.approve".to_string()), "{audit:?}");
}

#[tokio::test]
async fn replacing_the_network_needs_approval_even_in_auto_mode() {
    let rig = rig().await;
    let worker = rig.worker(fast()).await;
    rig.converge(&worker, 3).await;
    // One subnet fewer: a new NLB (and so a new link) beside the old ones.
    rig.edit(|t| {
        t.gateway.subnet_ids.pop();
    })
    .await;
    assert_eq!(worker.reconcile(rig.id).await, Outcome::AwaitingApproval);
    let plan: i64 = sqlx::query_scalar("SELECT MAX(id) FROM plans")
        .fetch_one(&rig.app.pool)
        .await
        .unwrap();
    app::api::runs::ssr::approve(&rig.app.pool, "admin", "seed", plan)
        .await
        .unwrap();
    rig.converge(&worker, 3).await;
    assert_eq!(rig.inventory().await, seed_inventory());
}

#[tokio::test]
async fn deleting_a_gateway_survives_a_crash_midway() {
    let rig = rig().await;
    let worker = rig.worker(fast()).await;
    rig.converge(&worker, 3).await;
    gateways::delete(&rig.app.pool, "test", "seed")
        .await
        .unwrap();
    // Edits are refused from now on.
    let refused = gateways::replace(
        &rig.app.pool,
        "test",
        "seed",
        None,
        rig.seed.clone(),
        "test",
        false,
    )
    .await;
    assert!(refused.unwrap_err().to_string().contains("being deleted"));
    let crashing = rig
        .worker(WorkerConfig {
            crash_after_call: Some(2),
            ..fast()
        })
        .await;
    assert_eq!(crashing.reconcile(rig.id).await, Outcome::Crashed);
    portico::worker::store::interrupt_running(&rig.app.pool)
        .await
        .unwrap();
    assert_eq!(
        rig.converge(&worker, 4).await.last(),
        Some(&Outcome::Removed)
    );
    let inv = rig.inventory().await;
    assert!(inv.values().all(|n| *n == 0), "{inv:?}");
}

#[tokio::test]
async fn gateways_run_in_parallel_and_a_wait_holds_only_its_own() {
    use app::model::topology::Topology;
    let rig = rig().await;
    // The seed's VPC link stays PENDING for a long time.
    rig.turn
        .control(
            "POST",
            "/config",
            Some(json!({ "vpc_link_pending_seconds": 30 })),
        )
        .await;
    let mut other = Topology::new(rig.seed.gateway.clone());
    other.gateway.name = "other".into();
    gateways::create(&rig.app.pool, "test", other, false)
        .await
        .unwrap();
    let worker = std::sync::Arc::new(
        rig.worker(WorkerConfig {
            waits: Waits {
                timeout: Duration::from_secs(120),
                every: Duration::from_millis(100),
            },
            ..fast()
        })
        .await,
    );
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let supervisor = worker.clone().spawn(wake.clone());
    let started = std::time::Instant::now();
    let state = |name: &'static str| {
        let pool = rig.app.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT s.state FROM gateway_status s JOIN gateways g ON g.id = s.gateway_id WHERE g.name = ?",
            )
            .bind(name)
            .fetch_optional(&pool)
            .await
            .unwrap()
        }
    };
    let running = || {
        let pool = rig.app.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT operation FROM plan_steps WHERE status = 'running'",
            )
            .fetch_optional(&pool)
            .await
            .unwrap()
        }
    };
    // The seed reaches its wait for the VPC link …
    while running().await.as_deref() != Some("GetVpcLink") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the seed never waited for its link"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // … and the other gateway converges meanwhile.
    while state("other").await.as_deref() != Some("in_sync") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the other gateway waited"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        state("seed").await.as_deref(),
        Some("applying"),
        "the seed still waits for its link"
    );
    assert_eq!(running().await.as_deref(), Some("GetVpcLink"));

    // An edit wakes the other gateway's task within a second, while the seed still waits.
    rig.edit_gateway("other", |t| {
        t.gateway.endpoint_type = app::model::topology::EndpointType::Edge
    })
    .await;
    wake.notify_one();
    let edited = std::time::Instant::now();
    loop {
        let converged: i64 =
            sqlx::query_scalar("SELECT converged_generation FROM gateways WHERE name = 'other'")
                .fetch_one(&rig.app.pool)
                .await
                .unwrap();
        if converged == 2 {
            break;
        }
        assert!(
            edited.elapsed() < Duration::from_secs(5),
            "the edit was not applied"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    supervisor.abort();
}

#[tokio::test]
async fn health_reads_aws_in_words_part_by_part() {
    use app::health::Level;
    let rig = rig().await;
    rig.turn
        .control(
            "POST",
            "/config",
            Some(json!({ "vpc_link_pending_seconds": 3, "target_initial_seconds": 0.2 })),
        )
        .await;
    let worker = rig
        .worker(WorkerConfig {
            waits: Waits {
                timeout: Duration::from_millis(300),
                every: Duration::from_millis(100),
            },
            ..fast()
        })
        .await;
    // The link stays PENDING: the run stops at its wait, and health says so.
    assert!(matches!(worker.reconcile(rig.id).await, Outcome::Failed(_)));
    let h = worker.refresh_health(rig.id).await.unwrap();
    let link = h.parts.iter().find(|p| p.resource == "VPC link").unwrap();
    assert_eq!(link.level, Level::Pending);
    assert!(link.reason.starts_with("PENDING"), "{}", link.reason);
    assert_eq!(h.level, Level::Pending);

    // Once AVAILABLE and converged: healthy.
    let worker = rig.worker(fast()).await;
    rig.converge(&worker, 4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let h = worker.refresh_health(rig.id).await.unwrap();
    assert_eq!(h.level, Level::Healthy, "{h:?}");
    assert_eq!(h.reason, "every part is healthy");

    // A stopped instance: its targets read `unused`, in AWS's words.
    let instance = rig.seed.ports[1].instances[0].clone();
    rig.turn
        .control(
            "POST",
            "/instances/stop",
            Some(json!({ "region": REGION, "instance_id": instance })),
        )
        .await;
    let h = worker.refresh_health(rig.id).await.unwrap();
    assert_eq!(h.level, app::health::Level::Unhealthy);
    let target = h
        .parts
        .iter()
        .find(|p| p.resource == format!("target {instance} on 8081"))
        .unwrap();
    assert!(
        target
            .reason
            .starts_with(&format!("target {instance} on 8081 unused")),
        "{}",
        target.reason
    );
    assert!(
        h.reason.contains("(and 2 more)"),
        "the same instance serves three ports: {}",
        h.reason
    );
    rig.turn
        .control(
            "POST",
            "/instances/start",
            Some(json!({ "region": REGION, "instance_id": instance })),
        )
        .await;

    // A route change: every stage is stale until the redeploy, then fresh again.
    rig.edit(|t| t.routes[0].api_key_required = false).await;
    let h = worker.refresh_health(rig.id).await.unwrap();
    let dev = h.parts.iter().find(|p| p.resource == "stage dev").unwrap();
    assert_eq!(dev.level, Level::Degraded);
    assert!(
        dev.reason.contains("serves an older deployment"),
        "{}",
        dev.reason
    );
    rig.converge(&worker, 4).await;
    let h = worker.refresh_health(rig.id).await.unwrap();
    assert_eq!(
        h.parts
            .iter()
            .find(|p| p.resource == "stage dev")
            .unwrap()
            .level,
        Level::Healthy
    );

    // The history holds each change once, per resource.
    let events: Vec<(String, String)> = sqlx::query_as(
        "SELECT level, reason FROM health_events WHERE resource = 'stage dev' ORDER BY at, rowid",
    )
    .fetch_all(&rig.app.pool)
    .await
    .unwrap();
    let levels: Vec<&str> = events.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        levels,
        vec!["Pending", "Healthy", "Degraded", "Healthy"],
        "{events:?}"
    );
}

/// The figures of BENCHMARKS.md's AWS section (run by `.ci/bench`: `cargo test --test worker
/// -- --ignored bench_`): calls per operation for converging the seed from empty and for a
/// no-op reconcile, beside the fewest each needs, and the wall time beside the quota bound.
#[tokio::test]
#[ignore = "a benchmark: prints figures, run by .ci/bench"]
async fn bench_seed_calls_and_convergence() {
    let rig = rig().await;
    let worker = rig.worker(fast()).await;
    // Warm the sandbox up (its first answer per service loads that service's models), so the
    // time below is Portico's and the round trips', not Python's imports.
    let c = rig.turn.clients(REGION, 1).await;
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
    let log = rig.turn.control("GET", "/calls", None).await;
    let apigw: Vec<(String, u64)> = log["calls"]["apigateway"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    let quota =
        portico::worker::pace::api_gateway_lower_bound(apigw.iter().map(|(k, n)| (k.as_str(), *n)));
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
        "No-op: {} writes, {} reads. Fewest reads that still see every kind of drift on each check: 17 \
         (one listing per kind, plus target health and attributes per target group: ELBv2 has no call \
         for several groups). Target: at most 12 — {}.",
        total(&noop_writes),
        total(&noop_reads),
        if total(&noop_writes) == 0 && total(&noop_reads) <= 12 { "met" } else { "MISSED" }
    );
    println!();
    println!("## Convergence time (seed, from empty, sandbox)");
    println!();
    println!(
        "Wall time of the applying reconcile {:.3} s; API Gateway quota bound {:.3} s for these {} calls; with the sandbox's \
         0.2 s PENDING link the bound is {:.3} s; ratio ×{:.2} (target ×1.2 — {}). \
         No-op reconcile: {:.3} s.",
        wall,
        quota,
        apigw.iter().map(|(_, n)| n).sum::<u64>(),
        bound,
        wall / bound,
        if wall / bound <= 1.2 { "met" } else { "MISSED" },
        noop_wall
    );
}
