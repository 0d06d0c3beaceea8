//! The overview with more gateways than one page holds: pages of 50, worst health first, plain
//! links between them (no JavaScript), and a clear word for a page past the end.

use crate::common::{seed_topology, TestApp};
use axum::http::StatusCode;
use portico_core::health::{Health, Level};
use portico_core::model::Role;

/// The gateway names in the overview's table, in order.
fn names(body: &str) -> Vec<String> {
    let table = &body[body.find("id=\"gateways\"").expect("the gateways table")..];
    let table = &table[..table.find("</table>").unwrap()];
    table
        .split("<a href=\"/gateways/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|s| !s.contains('/'))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn sixty_gateways_come_in_pages_of_fifty_worst_health_first() {
    let app = TestApp::new().await.user("vic", Role::Viewer).await;
    for i in 1..=60 {
        let mut t = seed_topology();
        t.gateway.name = format!("gw{i:02}");
        portico_store::gateways::create(&app.store, "test", t, false)
            .await
            .unwrap();
    }
    // gw60 is unhealthy and gw59 degraded: they lead the first page, ahead of the rest by name.
    for (name, level) in [("gw60", Level::Unhealthy), ("gw59", Level::Degraded)] {
        let id = portico_store::gateways::load(&app.store, name)
            .await
            .unwrap()
            .id;
        let health = Health {
            level,
            reason: "seen by the test".into(),
            parts: vec![],
        };
        portico_store::status::record_health(&app.store, id, &health, 1)
            .await
            .unwrap();
    }
    let cookie = app.login("vic").await;

    let first = app.get("/", Some(&cookie)).await;
    assert_eq!(first.status, StatusCode::OK);
    let shown = names(&first.body);
    assert_eq!(shown.len(), 50);
    assert_eq!(&shown[..3], ["gw60", "gw59", "gw01"]);
    assert!(first.body.contains("Gateways 1–50 of 60"), "{}", first.body);
    assert!(first.body.contains("href=\"/?page=2\""));
    assert!(!first.body.contains("Previous"));

    let second = app.get("/?page=2", Some(&cookie)).await;
    let shown = names(&second.body);
    assert_eq!(
        shown,
        (49..=58).map(|i| format!("gw{i:02}")).collect::<Vec<_>>()
    );
    assert!(second.body.contains("Gateways 51–60 of 60"));
    assert!(second.body.contains("href=\"/?page=1\""));
    assert!(!second.body.contains("Next →"));

    let past = app.get("/?page=7", Some(&cookie)).await;
    assert_eq!(past.status, StatusCode::OK);
    assert!(
        past.body.contains("Page 7 is past the last page (2)"),
        "{}",
        past.body
    );
    let huge = app
        .get(&format!("/?page={}", u32::MAX), Some(&cookie))
        .await;
    assert_eq!(huge.status, StatusCode::OK);
    assert!(
        huge.body.contains("is past the last page (2)"),
        "{}",
        huge.body
    );
    // Beyond what a page number can be (in the browser too), not a number, or page 0: the
    // first page.
    let beyond = app.get("/?page=5000000000", Some(&cookie)).await;
    assert_eq!(names(&beyond.body).len(), 50);
    let zero = app.get("/?page=0", Some(&cookie)).await;
    assert_eq!(names(&zero.body).len(), 50);
    let odd = app.get("/?page=x", Some(&cookie)).await;
    assert_eq!(names(&odd.body).len(), 50);
}
