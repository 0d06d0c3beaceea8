//! Pages rendered in this second are answered again (`server/src/web/kept_pages.rs`): the same
//! page with a script nonce of its own, the user's own page, and a change by anyone shown at
//! once.

use crate::common::TestApp;
use axum::http::{header, StatusCode};
use portico_core::model::Role;

/// How many page requests were answered with a kept page, and how many rendered.
async fn answers(app: &TestApp) -> (u64, u64) {
    let metrics = app.get("/metrics", None).await.body;
    let count = |answer: &str| {
        let line = format!("portico_page_renders_total{{answer=\"{answer}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(line.as_str()))
            .map_or(0, |n| n.trim().parse().unwrap())
    };
    (count("kept"), count("rendered"))
}

/// A page's nonce, as its policy names it and its scripts carry it.
fn nonce(reply: &crate::common::Reply) -> String {
    let csp = reply.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    let rest = &csp[csp.find("'nonce-").expect("a nonce") + 7..];
    let nonce = rest[..rest.find('\'').unwrap()].to_owned();
    assert!(
        reply.body.contains(&format!("nonce=\"{nonce}\"")),
        "the scripts carry the policy's nonce"
    );
    nonce
}

#[tokio::test]
async fn a_page_is_answered_again_with_a_nonce_of_its_own() {
    let app = TestApp::new()
        .await
        .user("ada", Role::Admin)
        .await
        .seed_gateway()
        .await;
    let cookie = app.login("ada").await;
    let first = app.get("/gateways/seed/history", Some(&cookie)).await;
    assert_eq!(first.status, StatusCode::OK);
    // Requests a few milliseconds apart: until one falls in the second of the one before.
    let mut again = app.get("/gateways/seed/history", Some(&cookie)).await;
    while answers(&app).await.0 == 0 {
        again = app.get("/gateways/seed/history", Some(&cookie)).await;
    }
    assert_eq!(again.status, StatusCode::OK);
    let (a, b) = (nonce(&first), nonce(&again));
    assert_ne!(a, b, "each answer has a nonce of its own");
    assert!(!again.body.contains(&a));
    assert_eq!(first.body.replace(&a, "N"), again.body.replace(&b, "N"));
    assert!(first.body.contains("seed"));
}

#[tokio::test]
async fn a_change_by_another_server_is_shown_at_once() {
    let app = TestApp::new().await.user("ada", Role::Admin).await;
    let other = app.replica().await;
    let cookie = app.login("ada").await;
    let before = app.get("/admin", Some(&cookie)).await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(!before.body.contains("newcomer"));
    // Kept, then a user added on the other server: the same second's page shows them.
    let kept = answers(&app).await.0;
    while answers(&app).await.0 == kept {
        app.get("/admin", Some(&cookie)).await;
    }
    app::api::users::ssr::create(
        other.db(),
        "test",
        "newcomer",
        Role::Viewer,
        "a long enough password",
    )
    .await
    .unwrap();
    let after = app.get("/admin", Some(&cookie)).await;
    assert!(after.body.contains("newcomer"), "{}", after.body);
}

#[tokio::test]
async fn each_user_is_answered_their_own_page() {
    let app = TestApp::new()
        .await
        .user("ada", Role::Admin)
        .await
        .user("vic", Role::Viewer)
        .await;
    let (ada, vic) = (app.login("ada").await, app.login("vic").await);
    for _ in 0..3 {
        let (as_ada, as_vic) = (
            app.get("/audit", Some(&ada)).await,
            app.get("/audit", Some(&vic)).await,
        );
        assert!(as_ada.body.contains("href=\"/admin\""), "ada is an admin");
        assert!(!as_vic.body.contains("href=\"/admin\""), "vic is not");
    }
    // A role changed: the next page is the new role's.
    portico_store::testing::query("UPDATE users SET role = 'admin' WHERE name = 'vic'")
        .execute(app.db())
        .await
        .unwrap();
    assert!(app
        .get("/audit", Some(&vic))
        .await
        .body
        .contains("href=\"/admin\""));
}
