//! The topology's edit server functions with good and bad input: every refusal is clear and
//! persists nothing; stale edits are refused with who and when; history and deletion.

use crate::common::{refused, TestApp};
use axum::http::StatusCode;
use portico_core::model::Role;

async fn app_with_editors() -> (TestApp, String, String) {
    let app = TestApp::new()
        .await
        .user("alice", Role::Editor)
        .await
        .user("bob", Role::Editor)
        .await
        .seed_gateway()
        .await;
    let (a, b) = (app.login("alice").await, app.login("bob").await);
    (app, a, b)
}

fn port_form<'a>(port: &'a str, instances: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("gateway", "seed"),
        ("from", "2"),
        ("port", port),
        ("health_protocol", "TCP"),
        ("interval_seconds", "30"),
        ("healthy_threshold", "3"),
        ("unhealthy_threshold", "3"),
        ("deregistration_delay", "30"),
        ("instances", instances),
    ]
}

#[tokio::test]
async fn each_field_boundary_is_refused_with_its_own_message_and_nothing_is_saved() {
    let (app, alice, _) = app_with_editors().await;
    // (server function, form, the message expected back)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "save_port",
            port_form("70000", ""),
            "Backend port 70000 is out of range",
        ),
        (
            "save_port",
            port_form("0", ""),
            "Backend port 0 is out of range",
        ),
        (
            "save_port",
            port_form("80a", ""),
            "Backend port: \\\"80a\\\" is not a valid number",
        ),
        (
            "save_port",
            port_form("9000", "i-123"),
            "expected i- followed by 8 or 17 hex digits",
        ),
        (
            "save_port",
            port_form("8080", ""),
            "Backend port 8080 already exists",
        ),
        (
            "save_route",
            vec![
                ("gateway", "seed"),
                ("from", "2"),
                ("path", "/a/{proxy+}/b"),
                ("methods", "ANY"),
            ],
            "may only be the last one",
        ),
        (
            "save_route",
            vec![
                ("gateway", "seed"),
                ("from", "2"),
                ("path", "/dev/{x}"),
                ("methods", "ANY"),
            ],
            "is the same resource as /dev/{proxy+}",
        ),
        (
            "save_route",
            vec![
                ("gateway", "seed"),
                ("from", "2"),
                ("path", "/x"),
                ("methods", "ANY, GET"),
            ],
            "ANY already covers",
        ),
        (
            "save_route",
            vec![
                ("gateway", "seed"),
                ("from", "2"),
                ("path", "/x"),
                ("methods", "ANY"),
                ("port", "9999"),
            ],
            "Backend port 9999 does not exist",
        ),
        (
            "save_stage",
            vec![
                ("gateway", "seed"),
                ("from", "2"),
                ("name", "qa"),
                ("backend_port", "9999"),
            ],
            "Backend port 9999 does not exist",
        ),
        (
            "save_stage",
            vec![
                ("gateway", "seed"),
                ("from", "2"),
                ("name", "dev"),
                ("backend_port", "8080"),
            ],
            "A stage named \\\"dev\\\" already exists",
        ),
        (
            "save_stage",
            vec![
                ("gateway", "seed"),
                ("from", "2"),
                ("name", "qa"),
                ("backend_port", "8080"),
                ("throttle_rate", "5"),
            ],
            "needs both a rate and a burst",
        ),
        (
            "save_stage",
            vec![
                ("gateway", "seed"),
                ("from", "2"),
                ("name", "qa"),
                ("backend_port", "8080"),
                ("throttle_rate", "10001"),
                ("throttle_burst", "1"),
            ],
            "rate must be 0 to 10000",
        ),
        (
            "save_usage_plan",
            vec![
                ("gateway", "seed"),
                ("from", "2"),
                ("name", "gold"),
                ("quota_limit", "10"),
                ("quota_period", "WEEK"),
                ("quota_offset", "7"),
            ],
            "0 to 6",
        ),
        (
            "save_usage_plan",
            vec![
                ("gateway", "seed"),
                ("from", "2"),
                ("name", "gold"),
                ("stages", "prod"),
            ],
            "Stage \\\"prod\\\" does not exist",
        ),
        (
            "save_usage",
            vec![
                ("gateway", "seed"),
                ("from", "2"),
                ("requests_per_month", "-5"),
                ("average_response_kb", "1"),
                ("new_connections_per_second", "1"),
                ("active_connections", "1"),
            ],
            "not a valid number",
        ),
    ];
    for (name, form, message) in cases {
        let r = app.call(name, Some(&alice), &form).await;
        assert!(
            r.status.is_client_error(),
            "{name} {form:?}: {} {}",
            r.status,
            r.body
        );
        assert!(
            r.body.contains(message),
            "{name}: expected {message:?} in {}",
            r.body
        );
    }
    assert_eq!(app.generation("seed").await, 2, "nothing was saved");
}

#[tokio::test]
async fn markup_and_sql_in_input_stay_inert() {
    let (app, alice, _) = app_with_editors().await;
    let payloads = [
        "<img src=x onerror=alert(1)>",
        "x'); DROP TABLE gateways;--",
    ];
    for payload in payloads {
        let r = app
            .call(
                "save_stage",
                Some(&alice),
                &[
                    ("gateway", "seed"),
                    ("from", "2"),
                    ("name", payload),
                    ("backend_port", "8080"),
                ],
            )
            .await;
        refused(
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Stage name may only hold",
        );
        let r = app
            .call("get_gateway", Some(&alice), &[("name", payload)])
            .await;
        refused(&r, StatusCode::NOT_FOUND, "No gateway named");
    }
    assert_eq!(app.generation("seed").await, 2);
    // The refusal, carried back to a page without JavaScript, is rendered escaped.
    let req = axum::http::Request::post("/api/save_stage")
        .header("host", crate::common::HOST)
        .header("origin", crate::common::ORIGIN)
        .header(
            "referer",
            format!(
                "{}/gateways/seed/topology?edit=stage:new",
                crate::common::ORIGIN
            ),
        )
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &alice)
        .body(
            format!(
                "gateway=seed&from=2&name={}&backend_port=8080",
                crate::common::urlencode(payloads[0])
            )
            .into(),
        )
        .unwrap();
    let r = app.send(req).await;
    let page = app
        .get(
            r.location()
                .unwrap()
                .trim_start_matches(crate::common::ORIGIN),
            Some(&alice),
        )
        .await;
    assert!(
        page.body.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<img src=x"));
}

#[tokio::test]
async fn a_stale_edit_of_the_same_entity_is_refused_with_who_and_when() {
    let (app, alice, bob) = app_with_editors().await;
    // Both opened the page at generation 2. Bob saves stage dev first.
    let r = app
        .call(
            "save_stage",
            Some(&bob),
            &[
                ("gateway", "seed"),
                ("from", "2"),
                ("original", "dev"),
                ("name", "dev"),
                ("backend_port", "8081"),
            ],
        )
        .await;
    assert!(
        r.status.is_success() || r.status.is_redirection(),
        "{}",
        r.body
    );
    let r = app
        .call(
            "save_stage",
            Some(&alice),
            &[
                ("gateway", "seed"),
                ("from", "2"),
                ("original", "dev"),
                ("name", "dev"),
                ("backend_port", "8082"),
            ],
        )
        .await;
    refused(&r, StatusCode::CONFLICT, "stage dev was changed by bob at");
    assert!(
        r.body.contains("(generation 3)") && r.body.contains("Nothing was saved"),
        "{}",
        r.body
    );
    let t = portico_store::gateways::load(&app.store, "seed")
        .await
        .unwrap()
        .topology;
    assert_eq!(
        t.stage("dev").unwrap().backend_port,
        8081,
        "Bob's edit stands"
    );
    // Alice's edit of another entity from the same old generation merges.
    let r = app
        .call(
            "save_stage",
            Some(&alice),
            &[
                ("gateway", "seed"),
                ("from", "2"),
                ("original", "sprint"),
                ("name", "sprint"),
                ("backend_port", "8082"),
            ],
        )
        .await;
    assert!(
        r.status.is_success() || r.status.is_redirection(),
        "{}",
        r.body
    );
    let desired = portico_store::gateways::load(&app.store, "seed")
        .await
        .unwrap();
    let (generation, t) = (desired.generation, desired.topology);
    assert_eq!(
        (
            generation,
            t.stage("dev").unwrap().backend_port,
            t.stage("sprint").unwrap().backend_port
        ),
        (4, 8081, 8082)
    );
    // A whole-topology restore from an old generation is stale too.
    let r = app
        .call(
            "restore_generation",
            Some(&alice),
            &[("gateway", "seed"), ("from", "2"), ("generation", "1")],
        )
        .await;
    refused(&r, StatusCode::CONFLICT, "was changed by");
}

#[tokio::test]
async fn deleting_a_port_in_use_names_its_users_and_unknown_ids_are_404() {
    let (app, alice, _) = app_with_editors().await;
    let r = app
        .call(
            "delete_port",
            Some(&alice),
            &[("gateway", "seed"), ("from", "2"), ("port", "8080")],
        )
        .await;
    refused(
        &r,
        StatusCode::CONFLICT,
        "Port 8080 is used by stage dev, route /dev/{proxy+}",
    );
    let r = app
        .call(
            "delete_stage",
            Some(&alice),
            &[("gateway", "seed"), ("from", "2"), ("name", "dev")],
        )
        .await;
    refused(&r, StatusCode::CONFLICT, "covered by usage plan standard");
    let r = app
        .call(
            "delete_port",
            Some(&alice),
            &[("gateway", "seed"), ("from", "2"), ("port", "1234")],
        )
        .await;
    refused(
        &r,
        StatusCode::NOT_FOUND,
        "Backend port 1234 does not exist",
    );
    let r = app
        .call(
            "delete_route",
            Some(&alice),
            &[("gateway", "nope"), ("from", "1"), ("path", "/x")],
        )
        .await;
    refused(&r, StatusCode::NOT_FOUND, "No gateway named \\\"nope\\\"");
    let r = app
        .call(
            "restore_generation",
            Some(&alice),
            &[("gateway", "seed"), ("from", "2"), ("generation", "99")],
        )
        .await;
    refused(&r, StatusCode::NOT_FOUND, "No generation 99");
    assert_eq!(app.generation("seed").await, 2);
}

#[tokio::test]
async fn history_lists_generations_and_restore_makes_a_new_one() {
    let (app, alice, _) = app_with_editors().await;
    let r = app
        .call(
            "delete_route",
            Some(&alice),
            &[
                ("gateway", "seed"),
                ("from", "2"),
                ("path", "/sprint/{proxy+}"),
            ],
        )
        .await;
    assert!(
        r.status.is_success() || r.status.is_redirection(),
        "{}",
        r.body
    );
    let r = app
        .call(
            "restore_generation",
            Some(&alice),
            &[("gateway", "seed"), ("from", "3"), ("generation", "2")],
        )
        .await;
    assert!(
        r.status.is_success() || r.status.is_redirection(),
        "{}",
        r.body
    );
    let view = app::api::gateways::ssr::view(&app.store, "seed")
        .await
        .unwrap();
    assert_eq!(view.generation, 4);
    assert!(view
        .topology
        .routes
        .iter()
        .any(|r| r.path == "/sprint/{proxy+}"));
    let history = app::api::gateways::ssr::history(&app.store, "seed")
        .await
        .unwrap();
    let summaries: Vec<(&str, &str)> = history
        .iter()
        .map(|h| (h.actor.as_str(), h.summary.as_str()))
        .collect();
    assert_eq!(summaries[0], ("alice", "+ route /sprint/{proxy+}"));
    assert_eq!(summaries[1], ("alice", "- route /sprint/{proxy+}"));
    let actions: Vec<String> = app.audit_actions().await;
    assert!(
        actions.ends_with(&["route.delete".into(), "restore generation 2".into()]),
        "{actions:?}"
    );
    let page = app.get("/gateways/seed/history", Some(&alice)).await;
    assert!(page.body.contains("- route /sprint/{proxy+}") && page.body.contains("Restore"));
}

#[tokio::test]
async fn deleting_a_gateway_needs_its_name_typed_and_is_audited() {
    let app = TestApp::new()
        .await
        .user("root", Role::Admin)
        .await
        .seed_gateway()
        .await;
    let root = app.login("root").await;
    let r = app
        .call(
            "delete_gateway",
            Some(&root),
            &[("name", "seed"), ("confirm", "sed")],
        )
        .await;
    refused(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Type the gateway's name, seed, to confirm.",
    );
    assert_eq!(app.generation("seed").await, 2);
    let r = app
        .call(
            "delete_gateway",
            Some(&root),
            &[("name", "seed"), ("confirm", "seed")],
        )
        .await;
    assert!(
        r.status.is_success() || r.status.is_redirection(),
        "{}",
        r.body
    );
    // Marked for the worker, which removes its AWS resources and then its rows (the worker's
    // tests follow it to the end).
    let (by, deleting): (Option<String>, Option<i64>) = portico_store::testing::query_as(
        "SELECT deleting_by, deleting_at FROM gateways WHERE name = 'seed'",
    )
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(by.as_deref(), Some("root"));
    assert!(deleting.is_some());
    assert_eq!(
        app.audit_actions().await.last().map(String::as_str),
        Some("gateway.delete")
    );
    // Twice is refused, and so is any edit from now on.
    let r = app
        .call(
            "delete_gateway",
            Some(&root),
            &[("name", "seed"), ("confirm", "seed")],
        )
        .await;
    refused(
        &r,
        StatusCode::CONFLICT,
        "Gateway seed is being deleted (by root)",
    );
    let r = app
        .call(
            "save_stage",
            Some(&root),
            &[
                ("gateway", "seed"),
                ("from", "2"),
                ("name", "qa"),
                ("backend_port", "8080"),
            ],
        )
        .await;
    refused(&r, StatusCode::CONFLICT, "is being deleted");
    assert_eq!(app.generation("seed").await, 2);
}
