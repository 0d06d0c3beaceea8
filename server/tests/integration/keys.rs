//! API keys against the sandbox: an issued key exists in AWS with the value shown once and sits
//! in its usage plans; the value is nowhere else (database file, logs, later pages, audit);
//! rotation, revocation and expiry converge.

use crate::common::logs::{captured_logs, Captured};
use crate::common::{TestApp, ORIGIN, REGION};
use portico::aws::call::Retry;
use portico::worker::apply::Waits;
use portico::worker::{Outcome, Worker, WorkerConfig};
use portico_core::model::Role;
use std::time::Duration;

/// Everything this test process logs, at debug level, to search for secrets.
fn logs() -> &'static Captured {
    captured_logs("debug")
}

pub(crate) struct Rig {
    pub(crate) app: TestApp,
    pub(crate) worker: Worker,
    pub(crate) id: i64,
    pub(crate) root: String,
}

impl std::ops::Deref for Rig {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

pub(crate) async fn rig() -> Rig {
    logs();
    let app = TestApp::builder()
        .with_sandbox(REGION)
        .with_key_values()
        .user("root", Role::Admin)
        .user("other-admin", Role::Admin)
        .user("viewer", Role::Viewer)
        .build()
        .await;
    let (id, _) = app
        .seed_in_sandbox(|seed| {
            // A second plan, so "the right usage plans" means something.
            let mut premium = seed.usage_plans[0].clone();
            premium.name = "premium".into();
            premium.stages = vec!["release".into()];
            seed.usage_plans.push(premium);
        })
        .await;
    let worker = app
        .worker(WorkerConfig {
            waits: Waits {
                timeout: Duration::from_secs(30),
                every: Duration::from_millis(50),
            },
            retry: Retry {
                attempts: 5,
                base: Duration::from_millis(5),
                cap: Duration::from_millis(50),
            },
            settle: Duration::ZERO,
            // Each reconcile lists the region itself: the tests change AWS by hand between two.
            listing_age: Duration::ZERO,
            ..Default::default()
        })
        .await;
    let root = app.login("root").await;
    let rig = Rig {
        app,
        worker,
        id,
        root,
    };
    rig.converge().await;
    rig
}

impl Rig {
    pub(crate) async fn converge(&self) {
        for _ in 0..4 {
            if self.worker.reconcile(self.id).await == Outcome::InSync {
                return;
            }
        }
        panic!("not in sync");
    }

    pub(crate) async fn issue(&self, name: &str, plans: &str, expires: &str) -> i64 {
        let r = self
            .app
            .call(
                "issue_api_key",
                Some(&self.root),
                &[
                    ("gateway", "seed"),
                    ("name", name),
                    ("owner", "partner team"),
                    ("usage_plans", plans),
                    ("expires", expires),
                ],
            )
            .await;
        assert!(
            r.status.is_redirection() || r.status.is_success(),
            "{}",
            r.body
        );
        portico_store::testing::query_scalar("SELECT MAX(id) FROM api_keys")
            .fetch_one(self.app.db())
            .await
            .unwrap()
    }

    /// Revokes `key` as its admin does on the keys page (the confirmation ticked).
    pub(crate) async fn revoke(&self, key: i64) {
        let r = self
            .app
            .call(
                "revoke_api_key",
                Some(&self.root),
                &[
                    ("gateway", "seed"),
                    ("key", &key.to_string()),
                    ("confirm", "yes"),
                ],
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
    }

    /// What the show-once screen fetches (once, from the browser), as JSON.
    pub(crate) async fn once(&self, key: i64, cookie: &str) -> serde_json::Value {
        let k = key.to_string();
        let r = self
            .app
            .call(
                "reveal_api_key",
                Some(cookie),
                &[("gateway", "seed"), ("key", &k)],
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
        assert_eq!(
            r.headers.get("cache-control").and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "no cache keeps the answer"
        );
        serde_json::from_str(&r.body).unwrap()
    }

    pub(crate) async fn aws_key(
        &self,
        key: i64,
    ) -> aws_sdk_apigateway::operation::get_api_key::GetApiKeyOutput {
        let aws_id: String =
            portico_store::testing::query_scalar("SELECT aws_id FROM api_keys WHERE id = ?")
                .bind(key)
                .fetch_one(self.app.db())
                .await
                .unwrap();
        let c = self.turn().clients(REGION, 3).await;
        c.apigateway
            .get_api_key()
            .api_key(aws_id)
            .include_value(true)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn plans_of(&self, aws_id: &str) -> Vec<String> {
        let c = self.turn().clients(REGION, 3).await;
        let plans = c.apigateway.get_usage_plans().send().await.unwrap();
        let mut out = vec![];
        for p in plans.items() {
            let keys = c
                .apigateway
                .get_usage_plan_keys()
                .usage_plan_id(p.id().unwrap())
                .send()
                .await
                .unwrap();
            if keys.items().iter().any(|k| k.id() == Some(aws_id)) {
                out.push(p.name().unwrap().to_owned());
            }
        }
        out.sort();
        out
    }
}

#[tokio::test]
async fn an_issued_key_is_shown_once_and_kept_nowhere() {
    let rig = rig().await;
    let key = rig.issue("partner-acme", "standard, premium", "").await;
    // Before the worker made it: the screen waits.
    assert!(rig.once(key, &rig.root).await.get("Creating").is_some());
    // The page itself never holds the value: the browser fetches it once, after loading.
    let loaded = rig
        .app
        .get(&format!("/gateways/seed/keys/{key}"), Some(&rig.root))
        .await;
    assert!(
        loaded.body.contains("data-state=\"loading\""),
        "{}",
        loaded.body
    );
    rig.converge().await;

    // Another admin can't see it; that doesn't use up the one showing.
    let other = rig.app.login("other-admin").await;
    assert!(rig.once(key, &other).await.get("NotYours").is_some());
    let shown = rig.once(key, &rig.root).await;
    let value = shown["Shown"]["value"]
        .as_str()
        .expect("the value, once")
        .to_owned();
    let page = shown["Shown"]["curls"].to_string();
    assert_eq!(value.len(), 40, "AWS's generated value");
    let aws = rig.aws_key(key).await;
    assert_eq!(
        aws.value(),
        Some(value.as_str()),
        "the value shown is AWS's"
    );
    assert!(aws.enabled());
    assert_eq!(
        rig.plans_of(aws.id().unwrap()).await,
        vec!["seed-premium", "seed-standard"]
    );
    let api_id: String = {
        let c = rig.turn().clients(REGION, 3).await;
        c.apigateway.get_rest_apis().send().await.unwrap().items()[0]
            .id()
            .unwrap()
            .to_owned()
    };
    assert!(
        page.contains(&format!(
            "curl -H 'x-api-key: {value}' https://{api_id}.execute-api.{REGION}.amazonaws.com/release/release/"
        )),
        "a ready-to-paste call per stage: {page}"
    );

    // Never again, anywhere.
    let again = rig.once(key, &rig.root).await;
    let hint = &value[36..];
    assert_eq!(
        again["AlreadyShown"]["hint"], hint,
        "the hint names the key: {again}"
    );
    let mut seen = vec![again.to_string()];
    let once_page = format!("/gateways/seed/keys/{key}");
    for path in ["/gateways/seed", "/audit", "/", once_page.as_str()] {
        seen.push(rig.app.get(path, Some(&rig.root)).await.body);
    }
    seen.push(
        rig.app
            .call("list_api_keys", Some(&rig.root), &[("gateway", "seed")])
            .await
            .body,
    );
    seen.push(
        rig.app
            .call(
                "reveal_api_key",
                Some(&rig.root),
                &[("gateway", "seed"), ("key", &key.to_string())],
            )
            .await
            .body,
    );
    seen.push(
        rig.app
            .call("gateway_runs", Some(&rig.root), &[("name", "seed")])
            .await
            .body,
    );
    for (i, body) in seen.iter().enumerate() {
        assert!(!body.contains(&value), "response {i} shows the value");
    }
    let viewer = rig.app.login("viewer").await;
    let page = rig.app.get("/gateways/seed", Some(&viewer)).await.body;
    assert!(page.contains("partner-acme") && !page.contains(&value));
    if rig.app.postgres.is_some() {
        // Every row of every table, as PostgreSQL writes it out as text.
        let tables: Vec<String> = portico_store::testing::query_scalar(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema()",
        )
        .fetch_all(&rig.app.store)
        .await
        .unwrap();
        for table in tables {
            let rows: String = portico_store::testing::query_scalar(&format!(
                "SELECT COALESCE(string_agg(t::text, ' '), '') FROM {table} t"
            ))
            .fetch_one(&rig.app.store)
            .await
            .unwrap();
            assert!(!rows.contains(&value), "{table} holds the value");
        }
    } else {
        rig.app.store.close().await;
        for file in ["portico.db", "portico.db-wal", "portico.db-shm"] {
            let path = rig.app._dir.path().join(file);
            if let Ok(bytes) = std::fs::read(&path) {
                assert!(
                    !bytes.windows(value.len()).any(|w| w == value.as_bytes()),
                    "{file} holds the value"
                );
            }
        }
    }
    let logged = logs().text();
    assert!(!logged.is_empty(), "logs were captured");
    assert!(!logged.contains(&value), "the logs hold the value");
}

#[tokio::test]
async fn rotation_revocation_and_expiry_converge() {
    let rig = rig().await;
    let first = rig.issue("partner", "standard", "").await;
    rig.converge().await;
    let old_aws = rig.aws_key(first).await.id().unwrap().to_owned();
    // A webhook that hears of keys revoked or rotated.
    let secret = "w".repeat(portico_core::alerts::SECRET_MIN);
    portico_store::alerts::create(
        &rig.app.store,
        "root",
        &portico_store::alerts::NewWebhook {
            gateway: None,
            url: "https://alerts.example.com/keys",
            events: &[portico_core::alerts::Kind::KeyChanged],
            format: portico_core::alerts::Format::Json,
            secret: &secret,
        },
    )
    .await
    .unwrap();

    // Rotate with no grace: a new key in the same plans, the old one disabled.
    let r = rig
        .app
        .call(
            "rotate_api_key",
            Some(&rig.root),
            &[
                ("gateway", "seed"),
                ("key", &first.to_string()),
                ("grace_hours", "0"),
            ],
        )
        .await;
    assert!(
        r.status.is_redirection() || r.status.is_success(),
        "{}",
        r.body
    );
    let second: i64 = portico_store::testing::query_scalar("SELECT MAX(id) FROM api_keys")
        .fetch_one(rig.app.db())
        .await
        .unwrap();
    rig.converge().await;
    let new = rig.aws_key(second).await;
    assert!(new.enabled());
    assert_eq!(rig.plans_of(new.id().unwrap()).await, vec!["seed-standard"]);
    let old = rig.aws_key(first).await;
    assert!(
        !old.enabled(),
        "the rotated key stops at the end of its grace period"
    );
    assert_eq!(old.id(), Some(old_aws.as_str()));
    // A replaced key can't be rotated again.
    let r = rig
        .app
        .call(
            "rotate_api_key",
            Some(&rig.root),
            &[
                ("gateway", "seed"),
                ("key", &first.to_string()),
                ("grace_hours", "0"),
            ],
        )
        .await;
    crate::common::refused(&r, axum::http::StatusCode::CONFLICT, "already replaced");

    // Revoke: disabled now, deleted from AWS after the wait.
    let r = rig
        .app
        .call(
            "revoke_api_key",
            Some(&rig.root),
            &[("gateway", "seed"), ("key", &second.to_string())],
        )
        .await;
    crate::common::refused(
        &r,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "Tick the box",
    );
    rig.revoke(second).await;
    rig.converge().await;
    assert!(!rig.aws_key(second).await.enabled());
    portico_store::testing::query("UPDATE api_keys SET delete_after = 1 WHERE id = ?")
        .bind(second)
        .execute(rig.app.db())
        .await
        .unwrap();
    rig.converge().await;
    let c = rig.turn().clients(REGION, 3).await;
    let aws_id = new.id().unwrap();
    assert!(
        c.apigateway
            .get_api_key()
            .api_key(aws_id)
            .send()
            .await
            .is_err(),
        "deleted from AWS"
    );
    assert!(rig.plans_of(aws_id).await.is_empty());
    let deleted: Option<i64> =
        portico_store::testing::query_scalar("SELECT deleted_at FROM api_keys WHERE id = ?")
            .bind(second)
            .fetch_one(rig.app.db())
            .await
            .unwrap();
    assert!(deleted.is_some(), "the record stays, marked deleted");

    // Expiry: a key whose date has passed is disabled by the next run.
    let third = rig.issue("short-lived", "premium", "2099-01-01").await;
    rig.converge().await;
    assert!(rig.aws_key(third).await.enabled());
    let now = portico_store::now_unix();
    assert_eq!(
        portico_store::keys::next_key_deadline(&rig.app.store, rig.id, now)
            .await
            .unwrap(),
        Some(portico_core::model::keys::parse_date("2099-01-01").unwrap()),
        "the worker looks again when it expires"
    );
    portico_store::testing::query("UPDATE api_keys SET expires_at = ? WHERE id = ?")
        .bind(now - 1)
        .bind(third)
        .execute(rig.app.db())
        .await
        .unwrap();
    rig.converge().await;
    assert!(!rig.aws_key(third).await.enabled());
    let view = app::api::keys::ssr::list(&rig.app.store, "seed", portico_store::now_unix())
        .await
        .unwrap();
    let words: Vec<(&str, &str)> = view
        .keys
        .iter()
        .map(|k| (k.name.as_str(), k.status.words().0))
        .collect();
    assert_eq!(
        words,
        vec![
            ("short-lived", "expired"),
            ("partner", "deleted"),
            ("partner", "replaced")
        ]
    );
    // One alert each for the rotation and the revocation (the refusals are none).
    let alerts: Vec<String> = portico_store::alerts::deliveries(&rig.app.store, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.text)
        .collect();
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert!(alerts[0].contains("was revoked by root"), "{alerts:?}");
    assert!(alerts[1].contains("was rotated by root"), "{alerts:?}");
    let audit = rig.app.audit_actions().await;
    for action in ["key.issue", "key.rotate", "key.revoke"] {
        assert!(
            audit.contains(&action.to_string()),
            "{action} audited: {audit:?}"
        );
    }
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_kept() {
    let rig = rig().await;
    for (fields, message) in [
        (
            vec![
                ("name", "has space"),
                ("owner", "t"),
                ("usage_plans", "standard"),
            ],
            "Key name may only hold",
        ),
        (
            vec![("name", "k"), ("owner", " "), ("usage_plans", "standard")],
            "Owner must be",
        ),
        (
            vec![("name", "k"), ("owner", "t"), ("usage_plans", "")],
            "Choose at least one usage plan",
        ),
        (
            vec![("name", "k"), ("owner", "t"), ("usage_plans", "gold")],
            "(it has: premium, standard)",
        ),
        (
            vec![
                ("name", "k"),
                ("owner", "t"),
                ("usage_plans", "standard"),
                ("expires", "2001-01-01"),
            ],
            "is not in the future",
        ),
        (
            vec![
                ("name", "k"),
                ("owner", "t"),
                ("usage_plans", "standard"),
                ("expires", "soon"),
            ],
            "is not a date",
        ),
    ] {
        let mut form = vec![("gateway", "seed")];
        form.extend(fields);
        let r = rig.app.call("issue_api_key", Some(&rig.root), &form).await;
        crate::common::refused(&r, axum::http::StatusCode::UNPROCESSABLE_ENTITY, message);
    }
    let r = rig
        .app
        .call(
            "rotate_api_key",
            Some(&rig.root),
            &[("gateway", "seed"), ("key", "99"), ("grace_hours", "1")],
        )
        .await;
    crate::common::refused(&r, axum::http::StatusCode::NOT_FOUND, "No API key 99");
    let r = rig
        .app
        .call(
            "rotate_api_key",
            Some(&rig.root),
            &[("gateway", "seed"), ("key", "1"), ("grace_hours", "9999")],
        )
        .await;
    crate::common::refused(
        &r,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "Grace period must be",
    );
    let n: i64 = portico_store::testing::query_scalar("SELECT COUNT(*) FROM api_keys")
        .fetch_one(rig.app.db())
        .await
        .unwrap();
    assert_eq!(n, 0);
    let _ = ORIGIN;
}

/// A key AWS made though its answer was lost is adopted (found by its tag), not made twice.
#[tokio::test]
async fn a_key_whose_create_answer_was_lost_is_adopted_not_repeated() {
    let rig = rig().await;
    rig.turn()
        .control(
            "POST",
            "/faults",
            Some(serde_json::json!({ "operation": "CreateApiKey", "kind": "applied-500", "count": 1 })),
        )
        .await;
    let key = rig.issue("partner-once", "standard", "").await;
    let first = rig.worker.reconcile(rig.id).await;
    assert!(
        matches!(first, Outcome::Failed(ref m) if m.contains("may have made it")),
        "{first:?}"
    );
    rig.converge().await;
    let c = rig.turn().clients(REGION, 3).await;
    // The gateway had no key before this one.
    let named: Vec<_> = c
        .apigateway
        .get_api_keys()
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .map(|k| k.id().unwrap().to_owned())
        .collect();
    assert_eq!(named.len(), 1, "one key in AWS: {named:?}");
    assert_eq!(rig.aws_key(key).await.id(), Some(named[0].as_str()));
    assert_eq!(rig.plans_of(&named[0]).await, vec!["seed-standard"]);
}
