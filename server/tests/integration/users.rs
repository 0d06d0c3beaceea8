//! The admin's user management, with bad input: every refusal is clear and persists nothing.

use crate::common::TestApp;
use axum::http::StatusCode;
use portico_core::model::Role;

async fn admin() -> (TestApp, String) {
    let app = TestApp::new().await.user("root", Role::Admin).await;
    let cookie = app.login("root").await;
    (app, cookie)
}

async fn user_count(app: &TestApp) -> i64 {
    portico_store::testing::query_scalar("SELECT count(*) FROM users")
        .fetch_one(app.db())
        .await
        .unwrap()
}

#[tokio::test]
async fn add_user_refuses_bad_input_with_its_own_message() {
    let (app, cookie) = admin().await;
    let long = "a".repeat(65);
    let cases: Vec<(&str, &str, String, &str)> = vec![
        ("", "viewer", app.password.clone(), "User name is required"),
        (&long, "viewer", app.password.clone(), "longer than 64"),
        (
            "<script>alert(1)</script>",
            "viewer",
            app.password.clone(),
            "start with a letter",
        ),
        ("a<b>c</b>", "viewer", app.password.clone(), "may only hold"),
        (
            "x'); DROP TABLE users;--",
            "viewer",
            app.password.clone(),
            "may only hold",
        ),
        ("carol", "superuser", app.password.clone(), "unknown role"),
        ("carol", "viewer", "short".into(), "at least 12"),
        ("carol", "viewer", "p".repeat(257), "at most 256"),
        ("ROOT", "viewer", app.password.clone(), "already exists"),
    ];
    for (name, role, password, message) in cases {
        let r = app
            .call(
                "add_user",
                Some(&cookie),
                &[("name", name), ("role", role), ("password", &password)],
            )
            .await;
        assert!(r.status.is_client_error(), "{name:?}: {}", r.status);
        assert!(
            r.body.contains(message),
            "{name:?}: expected {message:?} in {}",
            r.body
        );
    }
    assert_eq!(user_count(&app).await, 1);
    let r = app
        .call(
            "add_user",
            Some(&cookie),
            &[("name", "carol"), ("role", "viewer")],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a missing field: {}",
        r.body
    );
}

#[tokio::test]
async fn admins_add_change_and_disable_users_with_audit_rows() {
    let (app, cookie) = admin().await;
    let ok = |r: crate::common::Reply| assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    ok(app
        .call(
            "add_user",
            Some(&cookie),
            &[
                ("name", "carol"),
                ("role", "editor"),
                ("password", &app.password),
            ],
        )
        .await);
    ok(app
        .call(
            "set_user_role",
            Some(&cookie),
            &[("name", "carol"), ("role", "viewer")],
        )
        .await);
    ok(app
        .call(
            "set_user_disabled",
            Some(&cookie),
            &[("name", "carol"), ("disabled", "true")],
        )
        .await);
    let list = app.call("list_users", Some(&cookie), &[]).await;
    let rows: Vec<app::api::users::UserRow> = serde_json::from_str(&list.body).unwrap();
    let carol = rows.iter().find(|u| u.name == "carol").unwrap();
    assert_eq!((carol.role, carol.disabled), (Role::Viewer, true));
    let audit: Vec<(String, String, Option<String>, Option<String>)> =
        portico_store::testing::query_as(
            "SELECT actor, action, before, after FROM audit WHERE target = 'carol' ORDER BY id",
        )
        .fetch_all(app.db())
        .await
        .unwrap();
    assert_eq!(audit.len(), 3);
    assert_eq!(audit[0].0, "root");
    assert_eq!(audit[1].1, "user.role");
    assert_eq!(audit[1].2.as_deref(), Some(r#"{"role":"editor"}"#));
    assert_eq!(audit[1].3.as_deref(), Some(r#"{"role":"viewer"}"#));
    assert_eq!(audit[2].1, "user.disable");
    // No password or hash ever reaches the audit log.
    let all: Vec<String> = portico_store::testing::query_scalar(
        "SELECT coalesce(before,'') || coalesce(after,'') FROM audit",
    )
    .fetch_all(app.db())
    .await
    .unwrap();
    assert!(all
        .iter()
        .all(|a| !a.contains(&app.password) && !a.contains("argon2")));
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_or_disabled() {
    let (app, cookie) = admin().await;
    let r = app
        .call(
            "set_user_role",
            Some(&cookie),
            &[("name", "root"), ("role", "editor")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("last active admin"), "{}", r.body);
    let r = app
        .call(
            "set_user_disabled",
            Some(&cookie),
            &[("name", "root"), ("disabled", "true")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("your own account"), "{}", r.body);
    let r = app
        .call(
            "set_user_role",
            Some(&cookie),
            &[("name", "nobody"), ("role", "editor")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let role: String =
        portico_store::testing::query_scalar("SELECT role FROM users WHERE name = 'root'")
            .fetch_one(app.db())
            .await
            .unwrap();
    assert_eq!(role, "admin");
}

#[tokio::test]
async fn stored_markup_renders_escaped() {
    let (app, cookie) = admin().await;
    // Names can't hold markup, but audit targets echo what was typed; make sure pages escape.
    portico_store::testing::query(
        "INSERT INTO audit (at, actor, action, target) VALUES (0, 'root', 'test.note', ?)",
    )
    .bind("<img src=x onerror=alert(1)>")
    .execute(app.db())
    .await
    .unwrap();
    let page = app.get("/audit", Some(&cookie)).await;
    assert!(page.body.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!page.body.contains("<img src=x"));
}
