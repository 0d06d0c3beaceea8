//! The topology diagram over HTTP: the page holds the SVG itself (no JavaScript needed), the
//! download is the same picture, a stored plan is laid over it, the share link survives
//! signing in, and viewers land on it.

use crate::common::TestApp;
use axum::http::StatusCode;
use portico_core::model::Role;
use portico_core::plan::actual::Actual;

async fn app() -> TestApp {
    TestApp::new()
        .await
        .user("val", Role::Viewer)
        .await
        .user("eddie", Role::Editor)
        .await
        .seed_gateway()
        .await
}

/// The SVG inside a page or a download.
fn svg_of(body: &str) -> &str {
    let start = body.find("<svg").expect("an svg");
    let end = body[start..].find("</svg>").expect("a closed svg") + start + "</svg>".len();
    &body[start..end]
}

#[tokio::test]
async fn the_page_holds_the_svg_and_the_download_is_the_same_picture() {
    let app = app().await;
    let val = app.login("val").await;
    let page = app
        .get("/gateways/seed/diagram?plan=none", Some(&val))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let drawn = svg_of(&page.body);
    assert!(drawn.contains(r#"<title id="pd-title">Topology of gateway seed</title>"#));
    // One focusable, labelled box per part: API, 3 stages, 3 routes, link, NLB, 3 listeners,
    // 3 target groups, 1 instance, clients.
    assert_eq!(
        drawn
            .matches(r#"tabindex="0" role="img" aria-label="#)
            .count(),
        17
    );
    assert!(page.body.contains("The diagram in words"));
    assert!(
        !page.body.contains("name=\"generation\""),
        "read-only: no forms"
    );

    let file = app
        .get("/gateways/seed/diagram.svg?plan=none", Some(&val))
        .await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.headers["content-type"], "image/svg+xml; charset=utf-8");
    assert_eq!(
        file.headers["content-disposition"],
        "attachment; filename=\"seed-topology.svg\""
    );
    assert!(file.body.starts_with("<?xml"));
    assert_eq!(
        svg_of(&file.body),
        drawn,
        "the download is what the page shows"
    );

    assert_eq!(
        app.get("/gateways/seed/diagram.svg", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/gateways/nope/diagram.svg", Some(&val))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let bad = app
        .get("/gateways/seed/diagram.svg?plan=x", Some(&val))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("is not a plan"), "{}", bad.body);
    let missing = app
        .get("/gateways/seed/diagram.svg?plan=99", Some(&val))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("no plan 99"), "{}", missing.body);
}

#[tokio::test]
async fn the_open_plan_is_laid_over_by_default() {
    let app = app().await;
    let desired = portico_store::gateways::load(&app.store, "seed")
        .await
        .unwrap();
    let plan = portico_core::plan::plan(Some(&desired.topology), &[], &Actual::default());
    let id = portico_store::plans::insert(
        &app.store,
        &portico_store::plans::NewPlan {
            gateway: desired.id,
            generation: desired.generation,
            reason: portico_core::plan::lifecycle::PlanReason::Edit,
            plan: &plan,
            needs_approval: true,
            status: portico_core::plan::lifecycle::PlanStatus::AwaitingApproval,
        },
    )
    .await
    .unwrap();
    let val = app.login("val").await;
    let page = app.get("/gateways/seed/diagram", Some(&val)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!(
            "Plan {id} (awaiting approval) is laid over the diagram"
        )),
        "{}",
        page.body
    );
    let drawn = svg_of(&page.body);
    assert!(drawn.contains(&format!("plan {id} laid over")));
    assert!(drawn.contains("added by the plan"));
    // By default the share link shows whatever plan is open when it is opened; a plan chosen
    // by number (or none) stays chosen in it.
    // (The link's text ends at `<`: the closing tag, or a hydration marker before it.)
    assert!(page
        .body
        .contains(r#"class="share-link">/gateways/seed/diagram<"#));
    let hidden = app
        .get("/gateways/seed/diagram?plan=none", Some(&val))
        .await;
    assert!(!svg_of(&hidden.body).contains("added by the plan"));
    assert!(hidden.body.contains("has not finished"));
    assert!(hidden
        .body
        .contains(r#"class="share-link">/gateways/seed/diagram?plan=none<"#));
    let pinned = app
        .get(&format!("/gateways/seed/diagram?plan={id}"), Some(&val))
        .await;
    assert!(pinned
        .body
        .contains(&format!("/gateways/seed/diagram?plan={id}<")));
}

#[tokio::test]
async fn a_share_link_survives_signing_in_and_viewers_land_on_the_diagram() {
    let app = app().await;
    let r = app.get("/gateways/seed/diagram?plan=none", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location(),
        Some("/login?next=/gateways/seed/diagram%3Fplan%3Dnone")
    );
    let with_next = app
        .call(
            "login",
            None,
            &[
                ("name", "val"),
                ("password", &app.password),
                ("next", "/gateways/seed/diagram?plan=none"),
            ],
        )
        .await;
    assert_eq!(
        with_next.location(),
        Some("/gateways/seed/diagram?plan=none")
    );
    let viewer = app
        .call(
            "login",
            None,
            &[("name", "val"), ("password", &app.password)],
        )
        .await;
    assert_eq!(viewer.location(), Some("/gateways/seed/diagram"));
    let editor = app
        .call(
            "login",
            None,
            &[("name", "eddie"), ("password", &app.password)],
        )
        .await;
    assert_eq!(editor.location(), Some("/"), "editors land on the overview");
}
