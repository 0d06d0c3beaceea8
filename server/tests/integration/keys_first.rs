//! Keys are never held hostage: revoking a key disables it in AWS on the next run whatever
//! else is pending — a plan waiting for an admin, a plan that fails at an earlier step, or
//! drift that is only reported.

use crate::common::fast;
use crate::keys::{rig, Rig};
use portico::worker::Outcome;
use portico_core::model::topology::{ApplyMode, DriftMode};
use portico_core::plan::lifecycle::PlanStatus;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A key issued and made in AWS (enabled), on the converged seed.
async fn with_key() -> (Rig, i64) {
    let rig = rig().await;
    let key = rig.issue("partner", "standard", "").await;
    rig.converge().await;
    assert!(rig.aws_key(key).await.enabled());
    (rig, key)
}

#[tokio::test]
async fn a_revoked_key_is_disabled_while_a_plan_waits_for_approval() {
    let (rig, key) = with_key().await;
    rig.app
        .edit_gateway("seed", |t| {
            t.gateway.apply_mode = ApplyMode::Approve;
            t.ports[0].deregistration_delay += 1;
        })
        .await;
    assert_eq!(
        rig.worker.reconcile(rig.id).await,
        Outcome::AwaitingApproval
    );
    // The worker running as it does in `portico serve`.
    let worker = Arc::new(rig.app.worker(fast()).await);
    let task = worker.spawn(Arc::new(tokio::sync::Notify::new()));
    let revoked = Instant::now();
    rig.revoke(key).await;
    while rig.aws_key(key).await.enabled() {
        assert!(revoked.elapsed() < Duration::from_secs(30), "still enabled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "revoke → disabled in AWS with a plan awaiting approval in front: {} ms",
        revoked.elapsed().as_millis()
    );
    task.abort();
    let open = portico_store::plans::open_plan(&rig.app.store, rig.id)
        .await
        .unwrap()
        .expect("the edit still waits");
    assert_eq!(open.status, PlanStatus::AwaitingApproval);
}

#[tokio::test]
async fn a_revoked_key_is_disabled_though_an_earlier_step_fails() {
    let (rig, key) = with_key().await;
    // A change AWS keeps failing (a 500 on every try): the plan fails at that step, every run.
    rig.app
        .turn()
        .control(
            "POST",
            "/faults",
            Some(serde_json::json!({ "operation": "ModifyTargetGroupAttributes", "kind": "500" })),
        )
        .await;
    rig.app
        .edit_gateway("seed", |t| t.ports[0].deregistration_delay += 1)
        .await;
    assert!(matches!(
        rig.worker.reconcile(rig.id).await,
        Outcome::Failed(_)
    ));
    rig.revoke(key).await;
    let _ = rig.worker.reconcile(rig.id).await;
    assert!(
        !rig.aws_key(key).await.enabled(),
        "disabled despite the failing step"
    );
    assert!(matches!(
        rig.worker.reconcile(rig.id).await,
        Outcome::Failed(_)
    ));
}

#[tokio::test]
async fn a_revoked_key_is_disabled_though_drift_is_only_reported() {
    let (rig, key) = with_key().await;
    rig.app
        .edit_gateway("seed", |t| t.gateway.drift_mode = DriftMode::Report)
        .await;
    rig.converge().await;
    // Drift: a listener deleted by hand.
    let seed = portico_store::gateways::load(&rig.app.store, "seed")
        .await
        .unwrap();
    rig.app
        .delete_listener_by_hand(&seed.topology.gateway, seed.topology.ports[0].port)
        .await;
    assert_eq!(rig.worker.reconcile(rig.id).await, Outcome::DriftReported);
    rig.revoke(key).await;
    let _ = rig.worker.reconcile(rig.id).await;
    assert!(
        !rig.aws_key(key).await.enabled(),
        "disabled despite report-only drift"
    );
    assert_eq!(rig.worker.reconcile(rig.id).await, Outcome::DriftReported);
}
