//! The database under contention: edits racing the worker's writes.

use crate::common::TestApp;
use axum::http::StatusCode;
use portico_core::model::Role;

/// 200 editors save at once while the worker writes the gateway's status every 100 ms: no
/// answer is a 500, and every edit that was answered as saved is in the topology.
#[tokio::test]
async fn concurrent_edits_while_the_worker_writes_lose_nothing() {
    let app = std::sync::Arc::new(
        TestApp::new()
            .await
            .user("ed", Role::Editor)
            .await
            .seed_gateway()
            .await,
    );
    let cookie = app.login("ed").await;
    let id = portico_store::gateways::load(&app.store, "seed")
        .await
        .unwrap()
        .id;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let worker = {
        let (store, stop) = (app.store.clone(), stop.clone());
        tokio::spawn(async move {
            let mut writes = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                portico_store::status::set(
                    &store,
                    id,
                    portico_core::plan::lifecycle::GatewayState::Applying,
                    "writing",
                    None,
                    0,
                )
                .await
                .unwrap();
                writes += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            writes
        })
    };
    let started = std::time::Instant::now();
    let edits: Vec<_> = (0..200)
        .map(|i| {
            let (app, cookie) = (app.clone(), cookie.clone());
            tokio::spawn(async move {
                // Under one prefix: 200 routes make ~200 API resources, within AWS's 300.
                let path = format!("/c/r{i}");
                let r = app
                    .call(
                        "save_route",
                        Some(&cookie),
                        &[
                            ("gateway", "seed"),
                            ("from", "2"),
                            ("path", &path),
                            ("methods", "ANY"),
                        ],
                    )
                    .await;
                (path, r.status, r.headers.get("retry-after").is_some())
            })
        })
        .collect();
    let mut saved = vec![];
    let mut busy = 0;
    for e in edits {
        let (path, status, retry_after) = e.await.unwrap();
        assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(retry_after, "a 503 says when to retry");
            busy += 1;
        } else {
            assert!(
                status.is_success() || status.is_redirection(),
                "{path}: {status}"
            );
            saved.push(path);
        }
    }
    let elapsed = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let writes = worker.await.unwrap();
    let t = portico_store::gateways::load(&app.store, "seed")
        .await
        .unwrap()
        .topology;
    for path in &saved {
        assert!(t.routes.iter().any(|r| &r.path == path), "{path} was lost");
    }
    println!(
        "200 concurrent edits beside {writes} status writes: {} saved, {busy} busy (503), 0 errors, in {} ms",
        saved.len(),
        elapsed.as_millis()
    );
}
