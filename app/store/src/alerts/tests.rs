use super::*;
use crate::sql;
use crate::status::record_health;
use portico_core::health::{Health, Level};

async fn store() -> (crate::testing::Held, Store, i64, i64) {
    let (dir, db) = crate::testing::store().await;
    let mut ids = vec![];
    for name in ["shop", "other"] {
        ids.push(
            sql::query_scalar::<i64>(
                "INSERT INTO gateways (name, generation, created_at, created_by) \
                 VALUES (?, 1, 0, 'test') RETURNING id",
            )
            .bind(name)
            .fetch_one(&db.pool)
            .await
            .unwrap(),
        );
    }
    (dir, db, ids[0], ids[1])
}

fn health(level: Level) -> Health {
    Health {
        level,
        reason: format!("{level:?} because"),
        parts: vec![],
    }
}

fn secret() -> String {
    "s".repeat(alerts::SECRET_MIN)
}

/// Registers a webhook with a valid secret; its id.
async fn hook(
    db: &Store,
    gateway: Option<&str>,
    url: &str,
    events: &[Kind],
    format: Format,
) -> i64 {
    let secret = secret();
    let new = NewWebhook {
        gateway,
        url,
        events,
        format,
        secret: &secret,
    };
    create(db, "ada", &new).await.unwrap()
}

#[tokio::test]
async fn an_event_is_queued_once_for_each_webhook_that_hears_it() {
    let (_dir, db, shop, other) = store().await;
    let everywhere = hook(
        &db,
        None,
        "https://hooks.example/all",
        &[Kind::Health, Kind::ApplyFailed],
        Format::Slack,
    )
    .await;
    let shop_only = hook(
        &db,
        Some("shop"),
        "https://hooks.example/shop",
        &[Kind::Health],
        Format::Json,
    )
    .await;
    // The first assessment is no change; then each change is one event per webhook, and the
    // same assessment again is none.
    for (gw, level, at) in [
        (shop, Level::Pending, 1),
        (shop, Level::Healthy, 2),
        (shop, Level::Healthy, 3),
        (other, Level::Pending, 4),
        (other, Level::Unhealthy, 5),
    ] {
        record_health(&db, gw, &health(level), at).await.unwrap();
    }
    emit(&db.pool, shop, Kind::Drift, "plan:2", "not heard")
        .await
        .unwrap();
    emit(&db.pool, shop, Kind::ApplyFailed, "plan:2", "boom")
        .await
        .unwrap();
    emit(&db.pool, shop, Kind::ApplyFailed, "plan:2", "boom again")
        .await
        .unwrap();
    let mut got: Vec<(i64, String, String, String)> = deliveries(&db, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.webhook_id, d.gateway, d.kind, d.text))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                everywhere,
                "other".into(),
                "health".into(),
                "Health went from Pending to Unhealthy: Unhealthy because".into()
            ),
            (
                everywhere,
                "shop".into(),
                "apply_failed".into(),
                "boom".into()
            ),
            (
                everywhere,
                "shop".into(),
                "health".into(),
                "Health went from Pending to Healthy: Healthy because".into()
            ),
            (
                shop_only,
                "shop".into(),
                "health".into(),
                "Health went from Pending to Healthy: Healthy because".into()
            ),
        ]
    );
    assert_eq!(list(&db).await.unwrap().len(), 2);
    // A webhook goes with its log.
    delete(&db, "ada", everywhere).await.unwrap();
    assert_eq!(deliveries(&db, 50).await.unwrap().len(), 1);
    assert!(matches!(
        delete(&db, "ada", everywhere).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn one_plan_is_one_event_of_each_kind() {
    let (_dir, db, shop, other) = store().await;
    hook(
        &db,
        None,
        "https://hooks.example/all",
        &Kind::ALL,
        Format::Json,
    )
    .await;
    // A drift plan that waits for approval, then fails: three messages.
    for kind in [Kind::Drift, Kind::Approval, Kind::ApplyFailed, Kind::Drift] {
        emit(&db.pool, shop, kind, "plan:9", "x").await.unwrap();
    }
    // Two gateways changing health in the same second: two messages.
    for gw in [shop, other] {
        record_health(&db, gw, &health(Level::Pending), 1)
            .await
            .unwrap();
        record_health(&db, gw, &health(Level::Healthy), 2)
            .await
            .unwrap();
    }
    let mut kinds: Vec<String> = deliveries(&db, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.kind)
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["apply_failed", "approval", "drift", "health", "health"]
    );
}

#[tokio::test]
async fn a_bad_webhook_is_refused_and_nothing_is_saved() {
    let (_dir, db, _, _) = store().await;
    let s = secret();
    let new = |url, gateway, events, secret| NewWebhook {
        gateway,
        url,
        events,
        format: Format::Slack,
        secret,
    };
    for (webhook, says) in [
        (
            new("ftp://x", None, &[Kind::Drift][..], s.as_str()),
            "must start with https://",
        ),
        (
            new("https://x", None, &[], s.as_str()),
            "at least one event",
        ),
        (
            new("https://x", None, &[Kind::Drift], "short"),
            "at least 32",
        ),
        (
            new("https://x", Some("nope"), &[Kind::Drift], s.as_str()),
            "Gateway nope does not exist",
        ),
    ] {
        let err = create(&db, "ada", &webhook).await.unwrap_err();
        assert!(err.to_string().contains(says), "{err}");
    }
    assert!(list(&db).await.unwrap().is_empty());
}

#[tokio::test]
async fn deliveries_are_claimed_once_retried_then_given_up() {
    let (_dir, db, shop, _) = store().await;
    let s = secret();
    hook(
        &db,
        None,
        "https://hooks.example/all",
        &Kind::ALL,
        Format::Json,
    )
    .await;
    emit(&db.pool, shop, Kind::Drift, "plan:1", "drift")
        .await
        .unwrap();
    let now = now_ms() + 1;
    let due = claim_due(&db, now, 60_000, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].secret, s);
    assert_eq!(due[0].event.text, "drift");
    // Held: a second sender finds nothing until the claim runs out.
    assert!(claim_due(&db, now, 60_000, 10).await.unwrap().is_empty());
    assert_eq!(claim_due(&db, now + 60_000, 1, 10).await.unwrap().len(), 1);
    let id = due[0].event.delivery;
    let retry = Attempt::Failed {
        code: Some(500),
        error: "HTTP 500",
        retry_at_ms: Some(now + 5),
    };
    record_attempt(&db, id, retry).await.unwrap();
    assert!(claim_due(&db, now + 4, 1, 10).await.unwrap().is_empty());
    let again = claim_due(&db, now + 5, 1, 10).await.unwrap();
    assert_eq!(again[0].attempts, 1);
    record_attempt(&db, id, Attempt::Delivered { code: 204 })
        .await
        .unwrap();
    let d = &deliveries(&db, 1).await.unwrap()[0];
    assert_eq!(
        (d.status.as_str(), d.attempts, d.last_code),
        ("delivered", 2, Some(204))
    );
    assert!(claim_due(&db, now + 1_000_000, 1, 10)
        .await
        .unwrap()
        .is_empty());

    emit(&db.pool, shop, Kind::Drift, "plan:2", "drift")
        .await
        .unwrap();
    let due = claim_due(&db, now_ms() + 1, 1, 10).await.unwrap();
    let give_up = Attempt::Failed {
        code: None,
        error: "connection refused",
        retry_at_ms: None,
    };
    record_attempt(&db, due[0].event.delivery, give_up)
        .await
        .unwrap();
    let d = &deliveries(&db, 1).await.unwrap()[0];
    assert_eq!(
        (d.status.as_str(), d.last_error.as_deref()),
        ("failed", Some("connection refused"))
    );
}

#[tokio::test]
async fn keys_expiring_within_a_week_are_noticed_once() {
    let (_dir, db, shop, _) = store().await;
    hook(
        &db,
        Some("shop"),
        "https://hooks.example/shop",
        &[Kind::KeyExpiring],
        Format::Json,
    )
    .await;
    let now = 1_000_000;
    for (name, expires) in [
        ("soon", now + 86_400),
        ("later", now + 8 * 86_400),
        ("past", now - 1),
    ] {
        sql::query(
            "INSERT INTO api_keys (gateway_id, name, owner, plans, enabled, expires_at, created_by, created_at) \
             VALUES (?, ?, 'team', '[]', TRUE, ?, 'ada', 0)",
        )
        .bind(shop)
        .bind(name)
        .bind(expires)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    emit_expiring_keys(&db, now).await.unwrap();
    emit_expiring_keys(&db, now + 60).await.unwrap();
    let got = deliveries(&db, 10).await.unwrap();
    assert_eq!(got.len(), 1);
    assert!(
        got[0]
            .text
            .starts_with("API key soon of gateway shop expires 1970-01-13"),
        "{}",
        got[0].text
    );
}

/// A plan of `shop` run to `status`, as the worker stores a try.
async fn run_to(db: &Store, shop: i64, status: PlanStatus) {
    let plan = portico_core::plan::Plan::default();
    let new = NewPlan {
        gateway: shop,
        generation: 1,
        reason: PlanReason::Edit,
        plan: &plan,
        needs_approval: false,
        status: PlanStatus::Approved,
    };
    let id = crate::plans::replace_open(db, &new).await.unwrap();
    crate::plans::finish(db, id, status, Some("boom"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_failure_tried_again_is_one_event_until_a_run_finishes() {
    let (_dir, db, shop, _) = store().await;
    hook(
        &db,
        None,
        "https://hooks.example/all",
        &[Kind::ApplyFailed],
        Format::Json,
    )
    .await;
    // The worker tries a failed plan again as a new plan: three tries, one message.
    for _ in 0..3 {
        run_to(&db, shop, PlanStatus::Failed).await;
    }
    assert_eq!(deliveries(&db, 50).await.unwrap().len(), 1);
    // A run that finishes in between: the same failure after it is news.
    run_to(&db, shop, PlanStatus::Done).await;
    run_to(&db, shop, PlanStatus::Failed).await;
    run_to(&db, shop, PlanStatus::Failed).await;
    assert_eq!(deliveries(&db, 50).await.unwrap().len(), 2);
}
