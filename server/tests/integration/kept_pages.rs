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

/// Runs `round` until a run of it falls within one second of the clock (the pages' key), at
/// most 20 times, and returns that run's output: what a round asserts holds only within one
/// second, so a run the second turned over in says nothing and is not judged.
async fn within_one_second<T>(mut round: impl AsyncFnMut() -> T) -> T {
    for _ in 0..20 {
        let second = portico_store::now_unix();
        let out = round().await;
        if portico_store::now_unix() == second {
            return out;
        }
    }
    panic!("20 rounds in a row each crossed a second: the machine is far too slow");
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
    let (first, again, kept) = within_one_second(async || {
        let first = app.get("/gateways/seed/history", Some(&cookie)).await;
        let before = answers(&app).await;
        let again = app.get("/gateways/seed/history", Some(&cookie)).await;
        (first, again, answers(&app).await.0 - before.0)
    })
    .await;
    assert_eq!(kept, 1, "the second answer was the kept page");
    assert_eq!(
        (first.status, again.status),
        (StatusCode::OK, StatusCode::OK)
    );
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
    let mut n = 0;
    let (before, after, rendered) = within_one_second(async || {
        n += 1;
        let name = format!("newcomer{n}");
        app.get("/admin", Some(&cookie)).await;
        let before = app.get("/admin", Some(&cookie)).await;
        // A user added on the other server (a plain row: no password to hash).
        portico_store::testing::query(&format!(
            "INSERT INTO users (name, password_hash, role, created_at, updated_at) \
             VALUES ('{name}', 'x', 'viewer', 0, 0)"
        ))
        .execute(other.db())
        .await
        .unwrap();
        let counted = answers(&app).await.1;
        let after = app.get("/admin", Some(&cookie)).await;
        let rendered = answers(&app).await.1 - counted;
        (
            before.body.contains(&name),
            after.body.contains(&name),
            rendered,
        )
    })
    .await;
    assert!(
        !before && after,
        "the same second's page shows the new user"
    );
    assert_eq!(rendered, 1, "rendered afresh, not kept");
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
    let admin_link = "href=\"/admin\"";
    let (pages, kept) = within_one_second(async || {
        let before = answers(&app).await.0;
        let mut pages = vec![];
        for _ in 0..2 {
            for cookie in [&ada, &vic] {
                pages.push(
                    app.get("/audit", Some(cookie))
                        .await
                        .body
                        .contains(admin_link),
                );
            }
        }
        (pages, answers(&app).await.0 - before)
    })
    .await;
    assert_eq!(
        pages,
        [true, false, true, false],
        "ada is an admin, vic is not"
    );
    assert_eq!(kept, 2, "each one's second page was their own kept page");
    // A role changed: the same second's next page is the new role's.
    let promoted = within_one_second(async || {
        app.get("/audit", Some(&vic)).await;
        portico_store::testing::query("UPDATE users SET role = 'admin' WHERE name = 'vic'")
            .execute(app.db())
            .await
            .unwrap();
        let promoted = app
            .get("/audit", Some(&vic))
            .await
            .body
            .contains(admin_link);
        portico_store::testing::query("UPDATE users SET role = 'viewer' WHERE name = 'vic'")
            .execute(app.db())
            .await
            .unwrap();
        promoted
    })
    .await;
    assert!(promoted);
}
