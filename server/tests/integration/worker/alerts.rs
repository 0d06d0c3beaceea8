//! Alerts through the worker and the sender: a receiver in the test hears exactly one signed
//! message per event, a 500 is tried again, and a receiver that does not answer holds up no
//! reconcile.

use super::lifecycle::make_drift;
use super::*;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use portico::alerts::{Sender, SenderConfig};
use portico_core::alerts::{Format, Kind, SECRET_MIN};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// A webhook receiver on loopback: records every request, answers 500 to the first
/// `failures`, and answers nothing while `gate` has no permit.
#[derive(Clone)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    failures: Arc<AtomicUsize>,
    gate: Arc<Semaphore>,
    url: String,
}

impl Receiver {
    async fn start(failures: usize, open: bool) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let r = Receiver {
            got: Arc::default(),
            failures: Arc::new(AtomicUsize::new(failures)),
            gate: Arc::new(Semaphore::new(if open {
                Semaphore::MAX_PERMITS
            } else {
                0
            })),
            url: format!("http://{}/hook/token1234", listener.local_addr().unwrap()),
        };
        let me = r.clone();
        let app = axum::Router::new().route(
            "/hook/token1234",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let me = me.clone();
                async move {
                    me.got.lock().unwrap().push((headers, body));
                    let _open = me.gate.acquire().await.unwrap();
                    let failing = me
                        .failures
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    if failing {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        r
    }

    fn requests(&self) -> Vec<(HeaderMap, String)> {
        self.got.lock().unwrap().clone()
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn fast_sender(rig: &Rig) -> Arc<Sender> {
    Sender::new(
        rig.app.store.clone(),
        SenderConfig {
            poll: Duration::from_millis(10),
            retry_unit: Duration::from_millis(1),
            // The receivers of these tests listen on this machine.
            to_local_addresses: true,
            ..Default::default()
        },
    )
    .unwrap()
}

/// A webhook for gateway seed's drift (health changes with it, and the two would race for the
/// one failure the receiver answers).
async fn webhook(rig: &Rig, url: &str, secret: &str) {
    portico_store::alerts::create(
        &rig.app.store,
        "ada",
        &portico_store::alerts::NewWebhook {
            gateway: Some("seed"),
            url,
            events: &[Kind::Drift],
            format: Format::Json,
            secret,
        },
    )
    .await
    .unwrap();
}

/// Waits (polling the log) until no delivery is pending.
async fn settled(rig: &Rig) -> Vec<portico_store::alerts::Delivery> {
    for _ in 0..1_000 {
        let all = portico_store::alerts::deliveries(&rig.app.store, 100)
            .await
            .unwrap();
        if all.iter().all(|d| d.status != "pending") {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("deliveries still pending after 10 s");
}

#[tokio::test]
async fn drift_alerts_once_signed_and_a_500_is_tried_again() {
    let rig = rig_with(|t| t.gateway.drift_mode = DriftMode::Report).await;
    let receiver = Receiver::start(1, true).await;
    let secret = "k".repeat(SECRET_MIN);
    webhook(&rig, &receiver.url, &secret).await;
    let worker = rig.worker(fast()).await;
    rig.converge(&worker, 3).await;
    make_drift(&rig).await;
    // Seen by two reconciles: one event.
    assert_eq!(worker.reconcile(rig.id).await, Outcome::DriftReported);
    assert_eq!(worker.reconcile(rig.id).await, Outcome::DriftReported);
    let sender = fast_sender(&rig).spawn();
    let log = settled(&rig).await;
    sender.abort();

    let drift: Vec<_> = log.iter().filter(|d| d.kind == "drift").collect();
    assert_eq!(drift.len(), 1, "{log:?}");
    assert_eq!(
        (
            drift[0].status.as_str(),
            drift[0].attempts,
            drift[0].last_code
        ),
        ("delivered", 2, Some(204))
    );
    let requests: Vec<_> = receiver
        .requests()
        .into_iter()
        .filter(|(h, _)| header(h, "x-portico-event") == "drift")
        .collect();
    assert_eq!(requests.len(), 2, "the 500, then the retry");
    for (h, body) in &requests {
        assert_eq!(header(h, "x-portico-delivery"), drift[0].id.to_string());
        let timestamp = header(h, "x-portico-timestamp");
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.{body}").as_bytes());
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(header(h, "x-portico-signature"), expected);
        let message: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(message["event"], "drift");
        assert_eq!(message["gateway"], "seed");
        assert!(
            message["text"]
                .as_str()
                .unwrap()
                .contains("drift mode is report"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_holds_up_no_reconcile() {
    let rig = rig_with(|t| t.gateway.drift_mode = DriftMode::Report).await;
    let receiver = Receiver::start(0, false).await;
    webhook(&rig, &receiver.url, &"k".repeat(SECRET_MIN)).await;
    let worker = rig.worker(fast()).await;
    rig.converge(&worker, 3).await;
    make_drift(&rig).await;
    assert_eq!(worker.reconcile(rig.id).await, Outcome::DriftReported);
    let sender = fast_sender(&rig).spawn();
    while receiver.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The message is in flight and unanswered; the worker corrects the drift meanwhile.
    rig.edit(|t| t.gateway.drift_mode = DriftMode::Correct)
        .await;
    let outcomes = rig.converge(&worker, 3).await;
    assert_eq!(outcomes.last(), Some(&Outcome::InSync));
    let pending = portico_store::alerts::deliveries(&rig.app.store, 100)
        .await
        .unwrap();
    assert!(
        pending
            .iter()
            .any(|d| d.kind == "drift" && d.status == "pending"),
        "{pending:?}"
    );
    receiver.gate.add_permits(Semaphore::MAX_PERMITS);
    let log = settled(&rig).await;
    sender.abort();
    assert!(log.iter().all(|d| d.status == "delivered"), "{log:?}");
    assert!(log.iter().any(|d| d.kind == "drift"), "{log:?}");
}

/// Loopback and link-local hosts (this machine's services, the instance metadata service) are
/// refused unless `--webhooks-to-local-addresses` allows them: by address, and by a name that
/// resolves to one when the message is sent.
#[tokio::test]
async fn a_webhook_at_a_local_address_is_not_sent_unless_allowed() {
    let rig = rig_with(|t| t.gateway.drift_mode = DriftMode::Report).await;
    let receiver = Receiver::start(0, true).await;
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    webhook(&rig, &receiver.url, &"k".repeat(SECRET_MIN)).await;
    webhook(&rig, &by_name, &"k".repeat(SECRET_MIN)).await;
    let worker = rig.worker(fast()).await;
    rig.converge(&worker, 3).await;
    make_drift(&rig).await;
    assert_eq!(worker.reconcile(rig.id).await, Outcome::DriftReported);
    let sender = Sender::new(
        rig.app.store.clone(),
        SenderConfig {
            poll: Duration::from_millis(10),
            // Every try refused: the five retries in a second.
            retry_unit: Duration::from_micros(100),
            ..Default::default()
        },
    )
    .unwrap()
    .spawn();
    let log = settled(&rig).await;
    sender.abort();
    let drift: Vec<_> = log.iter().filter(|d| d.kind == "drift").collect();
    assert_eq!(drift.len(), 2, "{log:?}");
    for d in drift {
        assert_eq!(d.status, "failed", "{d:?}");
        assert!(
            d.last_error.as_deref().is_some_and(|e| e.starts_with(
                "not sent: the webhook's host is at this machine's own (loopback) address"
            )),
            "{d:?}"
        );
    }
    assert!(receiver.requests().is_empty(), "nothing reached it");
}

/// A step AWS refuses every time fails every run the worker makes (each a new plan, with
/// fewer steps as the rest get done): one message, not one per try.
#[tokio::test]
async fn a_failure_tried_again_and_again_alerts_once() {
    let rig = rig().await;
    let receiver = Receiver::start(0, true).await;
    let secret = "k".repeat(SECRET_MIN);
    portico_store::alerts::create(
        &rig.app.store,
        "ada",
        &portico_store::alerts::NewWebhook {
            gateway: Some("seed"),
            url: &receiver.url,
            events: &[Kind::ApplyFailed],
            format: Format::Json,
            secret: &secret,
        },
    )
    .await
    .unwrap();
    rig.turn()
        .control(
            "POST",
            "/faults",
            Some(json!({ "service": "apigateway", "operation": "CreateVpcLink", "kind": "denied", "rate": 1.0 })),
        )
        .await;
    let worker = rig.worker(fast()).await;
    for _ in 0..3 {
        let outcome = worker.reconcile(rig.id).await;
        assert!(matches!(outcome, Outcome::Failed(_)), "{outcome:?}");
    }
    let failed: i64 =
        portico_store::testing::query_scalar("SELECT COUNT(*) FROM plans WHERE status = 'failed'")
            .fetch_one(rig.app.db())
            .await
            .unwrap();
    assert_eq!(failed, 3, "three tries, three plans");
    let sender = fast_sender(&rig).spawn();
    let log = settled(&rig).await;
    sender.abort();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].kind, "apply_failed");
    assert_eq!(receiver.requests().len(), 1);
}
