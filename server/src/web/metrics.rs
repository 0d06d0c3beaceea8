//! `/metrics` in Prometheus text format: HTTP requests by route and status (the worker's
//! counters join them later).

use axum::extract::{MatchedPath, Request};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// One recorder per process: the first router built installs it.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder is installed; then ours just stays unused.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

pub async fn render() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle().render(),
    )
}

pub async fn count_requests(req: Request, next: Next) -> Response {
    handle();
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let path = req.uri().path().to_owned();
    let res = next.run(req).await;
    let status = res.status();
    // Server functions share one axum route; label them by name, except unknown ones (404),
    // which would let any client invent labels.
    let route = match matched.as_deref() {
        Some("/api/{*fn_name}") if status != StatusCode::NOT_FOUND => path,
        Some(m) => m.to_owned(),
        None => "unmatched".to_owned(),
    };
    metrics::counter!(
        "portico_http_requests_total",
        "route" => route,
        "status" => status.as_u16().to_string()
    )
    .increment(1);
    res
}
