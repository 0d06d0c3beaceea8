//! Drift, approvals, replacing the network, deleting a gateway, gateways in parallel and
//! health read from AWS.

use super::*;

pub(super) async fn make_drift(rig: &Rig) {
    rig.app
        .delete_listener_by_hand(&rig.seed.gateway, 8081)
        .await;
    let c = rig.turn().clients(REGION, 3).await;
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
    let view = app::api::runs::ssr::view(&rig.app.store, "seed")
        .await
        .unwrap();
    assert_eq!(
        view.state,
        portico_core::plan::lifecycle::GatewayState::Drift
    );
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
    let reported: i64 = portico_store::testing::query_scalar(
        "SELECT COUNT(*) FROM plans WHERE status = 'reported'",
    )
    .fetch_one(rig.app.db())
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
    let first: i64 = portico_store::testing::query_scalar("SELECT id FROM plans")
        .fetch_one(rig.app.db())
        .await
        .unwrap();

    // An edit after the plan was made: approving the old plan is refused, and it never runs.
    rig.edit(|t| t.stages[0].backend_port = 8082).await;
    let err = app::api::runs::ssr::approve(&rig.app.store, "admin", "seed", first)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("will never run"), "{err}");
    assert_eq!(worker.reconcile(rig.id).await, Outcome::AwaitingApproval);
    let (status, second): (String, i64) = portico_store::testing::query_as(
        "SELECT (SELECT status FROM plans WHERE id = ?), MAX(id) FROM plans",
    )
    .bind(first)
    .fetch_one(rig.app.db())
    .await
    .unwrap();
    assert_eq!(status, "superseded");
    app::api::runs::ssr::approve(&rig.app.store, "admin", "seed", second)
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
    let plan: i64 = portico_store::testing::query_scalar("SELECT MAX(id) FROM plans")
        .fetch_one(rig.app.db())
        .await
        .unwrap();
    app::api::runs::ssr::approve(&rig.app.store, "admin", "seed", plan)
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
    gateways::delete(&rig.app.store, "test", "seed", gateways::Removal::FromAws)
        .await
        .unwrap();
    // Edits are refused from now on.
    let refused = gateways::replace(
        &rig.app.store,
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
    portico_store::plans::interrupt_running(&rig.app.store)
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
    use portico_core::model::topology::Topology;
    let rig = rig().await;
    // The seed's VPC link stays PENDING for a long time.
    rig.turn()
        .control(
            "POST",
            "/config",
            Some(json!({ "vpc_link_pending_seconds": 30 })),
        )
        .await;
    let mut other = Topology::new(rig.seed.gateway.clone());
    other.gateway.name = "other".into();
    gateways::create(&rig.app.store, "test", other, false)
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
        let pool = rig.app.db().clone();
        async move {
            portico_store::testing::query_scalar::<String>(
                "SELECT s.state FROM gateway_status s JOIN gateways g ON g.id = s.gateway_id WHERE g.name = ?",
            )
            .bind(name)
            .fetch_optional(&pool)
            .await
            .unwrap()
        }
    };
    // Whether the seed waits for its link: independent steps run beside the wait, so other
    // steps may be running too (in no particular order).
    let waiting = || {
        let pool = rig.app.db().clone();
        async move {
            portico_store::testing::query_scalar::<i64>(
                "SELECT COUNT(*) FROM plan_steps WHERE status = 'running' AND operation = 'GetVpcLink'",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
                == 1
        }
    };
    // The seed reaches its wait for the VPC link …
    while !waiting().await {
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
    assert!(waiting().await, "the seed still waits for its link");

    // An edit wakes the other gateway's task within a second, while the seed still waits.
    rig.app
        .edit_gateway("other", |t| {
            t.gateway.endpoint_type = portico_core::model::topology::EndpointType::Edge
        })
        .await;
    wake.notify_one();
    let edited = std::time::Instant::now();
    loop {
        let converged: i64 = portico_store::testing::query_scalar(
            "SELECT converged_generation FROM gateways WHERE name = 'other'",
        )
        .fetch_one(rig.app.db())
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
    use portico_core::health::Level;
    let rig = rig().await;
    rig.turn()
        .control(
            "POST",
            "/config",
            // Long enough for the run's other steps, paced, to finish behind the link's wait.
            Some(json!({ "vpc_link_pending_seconds": 8, "target_initial_seconds": 0.2 })),
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
    rig.turn()
        .control(
            "POST",
            "/instances/stop",
            Some(json!({ "region": REGION, "instance_id": instance })),
        )
        .await;
    let h = worker.refresh_health(rig.id).await.unwrap();
    assert_eq!(h.level, portico_core::health::Level::Unhealthy);
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
    rig.turn()
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
    let events: Vec<(String, String)> = portico_store::testing::query_as(
        "SELECT level, reason FROM health_events WHERE resource = 'stage dev' ORDER BY at, id",
    )
    .fetch_all(rig.app.db())
    .await
    .unwrap();
    let levels: Vec<&str> = events.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        levels,
        vec!["Pending", "Healthy", "Degraded", "Healthy"],
        "{events:?}"
    );
}

/// A gateway whose plan keeps failing (its VPC does not exist) can still be deleted: the
/// worker's deleting run removes it at once, whatever backoff its failures had earned. (What
/// its plans made beside the failing steps, the REST API and its resources, goes too.)
#[tokio::test]
async fn a_failing_gateway_is_deleted_at_once() {
    let rig = rig_with(|t| t.gateway.vpc_id = "vpc-0a1b2c3d4e5f60718".into()).await;
    let worker = std::sync::Arc::new(rig.worker(fast()).await);
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let task = worker.clone().spawn(wake.clone());
    let started = std::time::Instant::now();
    while portico_store::status::failures(&rig.app.store, rig.id)
        .await
        .unwrap()
        < 3
    {
        assert!(started.elapsed() < Duration::from_secs(30), "never failed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    gateways::delete(&rig.app.store, "test", "seed", gateways::Removal::FromAws)
        .await
        .unwrap();
    wake.notify_one();
    let deleted = std::time::Instant::now();
    while portico_store::gateways::by_id(&rig.app.store, rig.id)
        .await
        .unwrap()
        .is_some()
    {
        assert!(
            deleted.elapsed() < Duration::from_secs(20),
            "still there after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    task.abort();
    let inv = rig.inventory().await;
    assert!(inv.values().all(|n| *n == 0), "{inv:?}");
}

/// Credentials AWS does not accept read as such, not as a protocol error.
#[tokio::test]
async fn refused_credentials_read_as_a_sentence() {
    let rig = rig().await;
    let worker = rig.worker(fast()).await;
    rig.converge(&worker, 4).await;
    rig.turn().moto_auth("0").await;
    let outcome = worker.reconcile(rig.id).await;
    rig.turn().moto_auth("inf").await;
    let Outcome::Failed(message) = outcome else {
        panic!("{outcome:?}");
    };
    // ELB answers first; the sandbox's refusal body is one the SDK can't read, as an HTTP
    // 403: either way the sentence says what to check.
    assert!(
        message.contains("AWS did not accept Portico's credentials")
            || message.contains("AWS refused the request (HTTP 403): check the credentials"),
        "{message}"
    );
}

/// AccessDenied on one call (Portico's IAM policy lacks one action) names the action to add,
/// and the health it kept the worker from reading turns unknown with that sentence.
#[tokio::test]
async fn access_denied_on_one_call_names_the_action_to_allow() {
    let rig = rig().await;
    let worker = rig
        .worker(WorkerConfig {
            // Any read older than two intervals is stale: the next failure says unknown.
            health_interval: Duration::from_millis(1),
            ..fast()
        })
        .await;
    rig.converge(&worker, 4).await;
    rig.turn()
        .control(
            "POST",
            "/faults",
            Some(json!({ "operation": "DescribeTargetHealth", "kind": "denied" })),
        )
        .await;
    let outcome = worker.reconcile(rig.id).await;
    let health = worker.refresh_health(rig.id).await;
    rig.turn().control("DELETE", "/faults", None).await;
    let Outcome::Failed(message) = outcome else {
        panic!("{outcome:?}");
    };
    let sentence = "AccessDenied on elasticloadbalancing:DescribeTargetHealth — add it to \
                    Portico's IAM policy";
    assert!(message.contains(sentence), "{message}");
    assert!(health.is_err());
    let shown = portico_store::status::health(&rig.app.store, rig.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shown.level, portico_core::health::Level::Unknown);
    assert!(shown.reason.contains(sentence), "{}", shown.reason);
    // Once the policy allows it again, health reads normally.
    assert_eq!(worker.reconcile(rig.id).await, Outcome::InSync);
    let shown = portico_store::status::health(&rig.app.store, rig.id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(shown.level, portico_core::health::Level::Unknown);
}
