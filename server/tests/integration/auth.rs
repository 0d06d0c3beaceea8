//! Sign-in, sign-out, sessions, throttling and cross-site refusal, over HTTP.

use crate::common::{TestApp, ORIGIN};
use app::throttle::LoginThrottle;
use axum::http::StatusCode;
use portico_core::model::Role;
use std::time::Duration;

#[tokio::test]
async fn anonymous_pages_redirect_to_login_keeping_the_destination() {
    let app = TestApp::new().await;
    let r = app.get("/audit?before=9", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/login?next=/audit%3Fbefore%3D9"));
    let r = app.get("/", None).await;
    assert_eq!(r.location(), Some("/login"));
    let login = app.get("/login", None).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("Sign in"));
    // With no users at all, the login page says how to create the first admin.
    assert!(login.body.contains("portico user add NAME --role admin"));
}

#[tokio::test]
async fn login_sets_a_hardened_session_cookie_and_rotates_it() {
    let app = TestApp::new().await.user("alice", Role::Admin).await;
    // A session id that exists before sign-in (a fixation attempt rides on one) must not
    // survive it: signing in again from a live session gets a new id and kills the old one.
    let before = app.login("alice").await;
    let reply = app
        .call(
            "login",
            Some(&before),
            &[("name", "alice"), ("password", &app.password)],
        )
        .await;
    let set = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("portico_session="))
        .expect("cookie set")
        .to_owned();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Lax"), "{set}");
    assert!(!set.contains("Secure"), "not configured for https: {set}");
    let cookie = reply.session_cookie().unwrap();
    assert_ne!(cookie, before, "the session id rotates at sign-in");
    let old = app.get("/", Some(&before)).await;
    assert_eq!(
        old.status,
        StatusCode::SEE_OTHER,
        "the old id no longer signs anyone in"
    );

    let page = app.get("/", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("No gateways yet"),
        "overview empty state"
    );
    assert!(page.body.contains("alice"));
    assert_eq!(
        app.audit_actions().await,
        vec!["user.add", "auth.login", "auth.login"]
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_read_the_same() {
    let app = TestApp::new().await.user("alice", Role::Viewer).await;
    let wrong = app
        .call(
            "login",
            None,
            &[("name", "alice"), ("password", "not-the-password")],
        )
        .await;
    let unknown = app
        .call(
            "login",
            None,
            &[("name", "mallory"), ("password", "whatever-it-is")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.body, unknown.body);
    assert!(wrong.body.contains("Wrong user name or password"));
    assert!(wrong.session_cookie().is_none());
}

#[tokio::test]
async fn logout_ends_the_session_even_for_a_replayed_cookie() {
    let app = TestApp::new().await.user("alice", Role::Editor).await;
    let cookie = app.login("alice").await;
    assert_eq!(app.get("/", Some(&cookie)).await.status, StatusCode::OK);
    let out = app.call("logout", Some(&cookie), &[]).await;
    assert!(
        out.status.is_success() || out.status.is_redirection(),
        "{}",
        out.status
    );
    assert_eq!(
        app.get("/", Some(&cookie)).await.status,
        StatusCode::SEE_OTHER
    );
    assert!(app
        .audit_actions()
        .await
        .contains(&"auth.logout".to_string()));
}

#[tokio::test]
async fn sessions_survive_a_restart_of_the_router() {
    let app = TestApp::new().await.user("alice", Role::Viewer).await;
    let cookie = app.login("alice").await;
    // A second router over the same database stands for a restarted server.
    let state = app::state::AppState::new(
        app.store.clone(),
        leptos::prelude::LeptosOptions::builder()
            .output_name("portico")
            .build(),
        Default::default(),
    );
    let restarted = portico::web::router(state, &Default::default())
        .await
        .unwrap();
    let again = TestApp {
        router: restarted,
        ..app
    };
    assert_eq!(
        again.get("/audit", Some(&cookie)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_at_once() {
    let app = TestApp::new()
        .await
        .user("root", Role::Admin)
        .await
        .user("bob", Role::Editor)
        .await;
    let bob = app.login("bob").await;
    app::api::users::ssr::set_disabled(&app.store, "root", "bob", true)
        .await
        .unwrap();
    assert_eq!(app.get("/", Some(&bob)).await.status, StatusCode::SEE_OTHER);
    let r = app
        .call(
            "login",
            None,
            &[("name", "bob"), ("password", &app.password)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("disabled"));
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_and_address() {
    let app = TestApp::with_throttle(LoginThrottle::new(Duration::from_secs(600), 3, 100))
        .await
        .user("alice", Role::Viewer)
        .await;
    for _ in 0..3 {
        let r = app
            .call(
                "login",
                None,
                &[("name", "alice"), ("password", "guess-guess-guess")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Past the limit the account waits a delay (never a lock), with a clear message.
    let r = app
        .call(
            "login",
            None,
            &[("name", "alice"), ("password", &app.password)],
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("Try again in 1 second"), "{}", r.body);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.login("alice").await;
}

/// Two servers on one database count an account's failures together: guesses spread over the
/// servers behind a load balancer are as many guesses.
#[tokio::test]
async fn the_throttle_counts_the_attempts_every_server_saw() {
    let throttle = || LoginThrottle::new(Duration::from_secs(600), 3, 100);
    let mut app = TestApp::with_throttle(throttle())
        .await
        .user("alice", Role::Viewer)
        .await;
    let guess = [("name", "alice"), ("password", "guess-guess-guess")];
    for _ in 0..3 {
        let r = app.call("login", None, &guess).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // A second server, with a throttle of its own, on the same database.
    let state = app::state::AppState::new(
        app.store.clone(),
        leptos::prelude::LeptosOptions::builder()
            .output_name("portico")
            .build(),
        throttle(),
    );
    let second = portico::web::router(state, &Default::default())
        .await
        .unwrap()
        .layer(axum::extract::connect_info::MockConnectInfo(
            std::net::SocketAddr::from(([10, 1, 2, 3], 40000)),
        ));
    let first = std::mem::replace(&mut app.router, second);
    let r = app
        .call(
            "login",
            None,
            &[("name", "alice"), ("password", &app.password)],
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.body.contains("Try again in 1 second"), "{}", r.body);
    // After the delay, a right password on either server signs in and forgives the account.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.login("alice").await;
    app.router = first;
    for _ in 0..2 {
        let r = app.call("login", None, &guess).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

/// 100 parallel guesses at one account are each counted before any password is checked:
/// only the account's allowance of them reaches a password check.
#[tokio::test]
async fn parallel_guesses_are_counted_before_hashing() {
    let app = std::sync::Arc::new(
        TestApp::with_throttle(LoginThrottle::new(Duration::from_secs(600), 5, 1000))
            .await
            .user("alice", Role::Viewer)
            .await,
    );
    let tries: Vec<_> = (0..100)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                app.call(
                    "login",
                    None,
                    &[("name", "alice"), ("password", "guess-guess-guess")],
                )
                .await
                .status
            })
        })
        .collect();
    let mut checked = 0;
    let mut refused = 0;
    for t in tries {
        match t.await.unwrap() {
            StatusCode::UNPROCESSABLE_ENTITY => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("{other}"),
        }
    }
    println!("100 parallel guesses: {checked} checked, {refused} refused");
    assert_eq!((checked, refused), (5, 95));
}

/// A name past the cap is refused like a wrong password, before it is counted or logged.
#[tokio::test]
async fn an_overlong_name_is_refused_up_front() {
    let app = TestApp::new().await;
    let r = app
        .call(
            "login",
            None,
            &[
                ("name", &"a".repeat(10_000)),
                ("password", "whatever-whatever"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Wrong user name or password"), "{}", r.body);
}

#[tokio::test]
async fn cross_site_and_originless_writes_are_refused() {
    let app = TestApp::new().await.user("root", Role::Admin).await;
    let cookie = app.login("root").await;
    let form = [
        ("name", "eve"),
        ("role", "admin"),
        ("password", "a-long-enough-password"),
    ];
    for origin in [Some("http://evil.example"), None] {
        let r = app
            .post("/api/add_user", Some(&cookie), &form, origin, "text/html")
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "origin {origin:?}");
    }
    let users: i64 = portico_store::testing::query_scalar("SELECT count(*) FROM users")
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(users, 1, "nothing created");
    // The same form from our own origin works.
    let r = app
        .post(
            "/api/add_user",
            Some(&cookie),
            &form,
            Some(ORIGIN),
            "application/json",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn a_form_post_without_javascript_redirects_back_with_the_error() {
    let app = TestApp::new().await.user("root", Role::Admin).await;
    let cookie = app.login("root").await;
    let req = axum::http::Request::post("/api/add_user")
        .header("host", crate::common::HOST)
        .header("origin", ORIGIN)
        .header("referer", format!("{ORIGIN}/admin"))
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie);
    let r = app
        .send(
            req.body("name=x&role=viewer&password=short".into())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FOUND);
    let to = r.location().unwrap();
    assert!(
        to.starts_with(&format!("{ORIGIN}/admin?")) && to.contains("__err="),
        "{to}"
    );
    // Following it renders the form with the error message in the page.
    let path = to.trim_start_matches(ORIGIN);
    let page = app.get(path, Some(&cookie)).await;
    assert!(
        page.body
            .contains("Password must be at least 12 characters"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn healthz_and_metrics() {
    let app = TestApp::new().await;
    let h = app.get("/healthz", None).await;
    assert_eq!((h.status, h.body.as_str()), (StatusCode::OK, "ok\n"));
    app.get("/login", None).await;
    let m = app.get("/metrics", None).await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(
        m.body
            .lines()
            .any(|l| l.starts_with("portico_http_requests_total{")
                && l.contains("route=\"/login\"")
                && l.contains("status=\"200\"")),
        "{}",
        m.body
    );
    app.store.close().await;
    assert_eq!(
        app.get("/healthz", None).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

/// Labels come from the router and the registered server functions only: a client calling
/// made-up paths adds no series. A token, when set, is asked of every scraper.
#[tokio::test]
async fn metrics_labels_are_bounded_and_a_token_guards_them() {
    let app = TestApp::builder()
        .with_web(portico::web::WebConfig {
            metrics_token: Some("scrape-secret".into()),
            ..Default::default()
        })
        .build()
        .await;
    for i in 0..20 {
        app.call(&format!("made-up-{i}"), None, &[]).await;
        app.get(&format!("/nowhere/{i}"), None).await;
    }
    app.call("me", None, &[]).await;
    assert_eq!(
        app.get("/metrics", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let req = axum::http::Request::get("/metrics")
        .header(axum::http::header::HOST, crate::common::HOST)
        .header(axum::http::header::AUTHORIZATION, "Bearer wrong-secret!")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::UNAUTHORIZED);
    let req = axum::http::Request::get("/metrics")
        .header(axum::http::header::HOST, crate::common::HOST)
        .header(axum::http::header::AUTHORIZATION, "Bearer scrape-secret")
        .body(axum::body::Body::empty())
        .unwrap();
    let m = app.send(req).await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(m.body.contains("route=\"/api/me\""), "{}", m.body);
    assert!(!m.body.contains("made-up"), "{}", m.body);
    assert!(!m.body.contains("nowhere"), "{}", m.body);
}

#[tokio::test]
async fn oversize_bodies_are_refused() {
    let app = TestApp::new().await.user("root", Role::Admin).await;
    let cookie = app.login("root").await;
    let huge = "x".repeat(portico::web::BODY_LIMIT + 1);
    let r = app
        .call(
            "add_user",
            Some(&cookie),
            &[("name", &huge), ("role", "viewer"), ("password", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// `next=/%09/evil.example` once passed, and browsers turn it into `//evil.example`.
#[tokio::test]
async fn sign_in_never_redirects_off_site() {
    let app = TestApp::new().await.user("alice", Role::Admin).await;
    for next in [
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
    ] {
        let r = app
            .call(
                "login",
                None,
                &[
                    ("name", "alice"),
                    ("password", &app.password),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(r.location(), Some("/"), "{next:?}: {}", r.body);
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// 500 sign-ins at once from `app`'s address, each for another name: (checked, refused).
async fn flood(app: &std::sync::Arc<TestApp>) -> (usize, usize) {
    let tries: Vec<_> = (0..500)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let name = format!("nobody{i}");
                app.call(
                    "login",
                    None,
                    &[("name", &name), ("password", "guess-guess-guess")],
                )
                .await
                .status
            })
        })
        .collect();
    let (mut checked, mut refused) = (0, 0);
    for t in tries {
        match t.await.unwrap() {
            StatusCode::UNPROCESSABLE_ENTITY => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("{other}"),
        }
    }
    (checked, refused)
}

/// 500 parallel sign-ins (none of a real account) run Argon2 (19 MiB each) only a few at a
/// time: the rest wait in a short queue or are told to retry. Memory is measured beside the
/// same flood refused before any password check (what 500 requests cost by themselves).
#[tokio::test]
async fn a_flood_of_sign_ins_checks_a_few_passwords_at_a_time() {
    let start = peak_rss_kib();
    let refused_all = std::sync::Arc::new(
        TestApp::with_throttle(LoginThrottle::new(Duration::from_secs(600), 1000, 0)).await,
    );
    assert_eq!(flood(&refused_all).await, (0, 500));
    let requests_only = peak_rss_kib();
    let app = std::sync::Arc::new(
        TestApp::with_throttle(LoginThrottle::new(Duration::from_secs(600), 1000, 100_000)).await,
    );
    let (checked, busy) = flood(&app).await;
    let with_hashing = peak_rss_kib();
    let mib = |kib: u64| kib / 1024;
    println!(
        "500 parallel sign-ins: {checked} passwords checked, {busy} told to retry; peak memory \
         +{} MiB for the requests alone, then +{} MiB with the password checks",
        mib(requests_only.saturating_sub(start)),
        mib(with_hashing.saturating_sub(requests_only))
    );
    assert_eq!(checked + busy, 500);
    assert!(busy > 0, "the queue is bounded");
    // Unbounded, 500 checks at once would take 500 × 19 MiB, over 9 GiB.
    assert!(mib(with_hashing.saturating_sub(requests_only)) < 512);
}
