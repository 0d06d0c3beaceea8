//! Sessions: changing one's password, an admin's reset, "sign out everywhere" and disabling an
//! account each end that user's other sessions at once; a sign-in ends after its absolute
//! lifetime however active; the cookie is `__Host-` and Secure when served so; every response
//! carries the security headers, pages a script policy with their own nonce.

use crate::common::TestApp;
use axum::http::{header, StatusCode};
use portico::web::WebConfig;
use portico_core::model::Role;
use std::time::{Duration, Instant};

const NEW: &str = "another-long-password";

/// Who the session belongs to, if anyone ("me" answers null when signed out).
async fn who(app: &TestApp, cookie: &str) -> Option<String> {
    let r = app.call("me", Some(cookie), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    v["name"].as_str().map(str::to_owned)
}

async fn sign_in(app: &TestApp, name: &str, password: &str) -> crate::common::Reply {
    app.call("login", None, &[("name", name), ("password", password)])
        .await
}

#[tokio::test]
async fn changing_ones_password_ends_the_other_sessions_only() {
    let app = TestApp::builder().user("ann", Role::Viewer).build().await;
    let here = app.login("ann").await;
    let elsewhere = app.login("ann").await;
    // A wrong current password changes nothing.
    let r = app
        .call(
            "change_password",
            Some(&here),
            &[("current", "not-my-password"), ("new_password", NEW)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("current password is wrong"), "{}", r.body);
    let r = app
        .call(
            "change_password",
            Some(&here),
            &[("current", &app.password), ("new_password", "short")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(who(&app, &elsewhere).await.as_deref(), Some("ann"));

    let r = app
        .call(
            "change_password",
            Some(&here),
            &[("current", &app.password), ("new_password", NEW)],
        )
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    // This session carries on under a fresh id; the other one is over.
    let here = r.session_cookie().expect("a fresh session id");
    assert_eq!(who(&app, &here).await.as_deref(), Some("ann"));
    assert_eq!(who(&app, &elsewhere).await, None);
    assert_eq!(
        sign_in(&app, "ann", &app.password).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert!(sign_in(&app, "ann", NEW).await.status.is_success());
    assert!(app.audit_actions().await.contains(&"user.password".into()));
}

#[tokio::test]
async fn an_admins_reset_ends_the_users_sessions_and_shows_the_password_once() {
    let app = TestApp::builder()
        .user("root", Role::Admin)
        .user("bob", Role::Editor)
        .build()
        .await;
    let admin = app.login("root").await;
    let bob = app.login("bob").await;
    let r = app
        .call("reset_password", Some(&admin), &[("name", "bob")])
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    assert_eq!(
        r.headers.get(header::CACHE_CONTROL).unwrap(),
        "no-store",
        "no cache keeps the password"
    );
    let reset: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let password = reset["password"].as_str().unwrap();
    assert_eq!(reset["name"], "bob");
    assert_eq!(who(&app, &bob).await, None, "bob's session ended");
    assert!(sign_in(&app, "bob", password).await.status.is_success());
    assert_eq!(
        sign_in(&app, "bob", &app.password).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // The new password is in no audit row, no table but the hash.
    let audit: Vec<String> =
        portico_store::testing::query_scalar("SELECT COALESCE(after, '') FROM audit")
            .fetch_all(app.db())
            .await
            .unwrap();
    assert!(audit.iter().all(|a| !a.contains(password)));
    // Their own password admins change knowing it; unknown users are said so.
    let r = app
        .call("reset_password", Some(&admin), &[("name", "root")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = app
        .call("reset_password", Some(&admin), &[("name", "nobody")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}

#[tokio::test]
async fn sign_out_everywhere_keeps_this_session_only() {
    let app = TestApp::builder().user("ann", Role::Editor).build().await;
    let (one, two, three) = (
        app.login("ann").await,
        app.login("ann").await,
        app.login("ann").await,
    );
    let r = app.call("sign_out_everywhere", Some(&one), &[]).await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    let one = r.session_cookie().expect("a fresh session id");
    assert_eq!(who(&app, &one).await.as_deref(), Some("ann"));
    assert_eq!(who(&app, &two).await, None);
    assert_eq!(who(&app, &three).await, None);
    // Pages too: an ended session is sent to sign in.
    let page = app.get("/audit", Some(&two)).await;
    assert!(page.status.is_redirection());
    assert!(page.location().unwrap().starts_with("/login"));
}

#[tokio::test]
async fn a_disabled_users_sessions_stay_ended_when_enabled_again() {
    let app = TestApp::builder()
        .user("root", Role::Admin)
        .user("bob", Role::Viewer)
        .build()
        .await;
    let admin = app.login("root").await;
    let bob = app.login("bob").await;
    for disabled in ["true", "false"] {
        let r = app
            .call(
                "set_user_disabled",
                Some(&admin),
                &[("name", "bob"), ("disabled", disabled)],
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    assert_eq!(who(&app, &bob).await, None);
    assert!(sign_in(&app, "bob", &app.password)
        .await
        .status
        .is_success());
}

#[tokio::test]
async fn a_sign_in_ends_after_its_lifetime_however_active() {
    // The sign-in time is kept in whole seconds, so a lifetime of L seconds ends between L - 1
    // and L seconds after the sign-in: the checks below lean on those two bounds only, never on
    // how fast this machine answers.
    const LIFETIME: Duration = Duration::from_secs(5);
    let app = TestApp::builder()
        .user("ann", Role::Viewer)
        .with_session_lifetime(LIFETIME)
        .build()
        .await;
    let before = Instant::now();
    let mut cookie = app.login("ann").await;
    let signed_in = Instant::now();
    let surely_alive_until = before + LIFETIME - Duration::from_secs(1);
    // Active all along: every 300 ms; and "sign out everywhere else", which carries this
    // session on under a fresh id, does not restart its lifetime either.
    let mut checked = 0;
    for i in 0.. {
        let answer = who(&app, &cookie).await;
        if Instant::now() >= surely_alive_until {
            break;
        }
        assert_eq!(answer.as_deref(), Some("ann"), "check {i}");
        checked += 1;
        if i == 1 {
            let r = app.call("sign_out_everywhere", Some(&cookie), &[]).await;
            cookie = r.session_cookie().expect("a fresh id");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(checked >= 3, "only {checked} checks within the lifetime");
    tokio::time::sleep_until((signed_in + LIFETIME + Duration::from_millis(100)).into()).await;
    assert_eq!(who(&app, &cookie).await, None);
}

#[tokio::test]
async fn a_secure_server_names_its_cookie_host_only() {
    let app = TestApp::builder()
        .user("ann", Role::Viewer)
        .with_web(WebConfig {
            secure_cookies: true,
            ..WebConfig::default()
        })
        .build()
        .await;
    let r = sign_in(&app, "ann", &app.password).await;
    let cookie = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("__Host-portico_session="))
        .expect("a __Host- cookie")
        .to_owned();
    for part in ["Secure", "HttpOnly", "Path=/", "SameSite=Lax"] {
        assert!(cookie.contains(part), "{part} missing: {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let plain = TestApp::builder().user("ann", Role::Viewer).build().await;
    let r = sign_in(&plain, "ann", &plain.password).await;
    assert!(r.session_cookie().unwrap().starts_with("portico_session="));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::builder().user("ann", Role::Viewer).build().await;
    let page = app.get("/login", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let csp = page
        .headers
        .get(header::CONTENT_SECURITY_POLICY)
        .expect("a page policy")
        .to_str()
        .unwrap()
        .to_owned();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a script nonce");
    assert!(nonce.len() >= 16, "{nonce}");
    for part in [
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(part), "{part}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // Every inline script of the page carries that nonce (files come from 'self').
    let inline = page.body.matches("<script").count() - page.body.matches("<script src=").count();
    let nonced = page.body.matches(&format!("nonce=\"{nonce}\"")).count();
    assert!(
        inline > 0 && nonced >= inline,
        "{inline} scripts, {nonced} nonced"
    );
    // A second page gets another nonce.
    let again = app.get("/login", None).await;
    assert_ne!(
        again.headers.get(header::CONTENT_SECURITY_POLICY),
        page.headers.get(header::CONTENT_SECURITY_POLICY)
    );
    // Everything else allows nothing to run.
    let api = app.call("me", None, &[]).await;
    let health = app.get("/healthz", None).await;
    for r in [&page, &api, &health] {
        assert_eq!(
            r.headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
            "nosniff"
        );
        assert_eq!(
            r.headers.get(header::REFERRER_POLICY).unwrap(),
            "same-origin"
        );
        assert_eq!(r.headers.get(header::X_FRAME_OPTIONS).unwrap(), "DENY");
    }
    for r in [&api, &health] {
        let csp = r.headers.get(header::CONTENT_SECURITY_POLICY).unwrap();
        assert!(
            csp.to_str().unwrap().starts_with("default-src 'none'"),
            "{csp:?}"
        );
    }
}
