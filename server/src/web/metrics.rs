//! `/metrics` in Prometheus text format: HTTP requests by route and status, and the worker's
//! counters. Labels are bounded: routes are the router's patterns and the registered server
//! functions' names, and anything else shares one label, so no client can invent series.
//! With `--metrics-token` set, only a scraper sending it as a bearer token is answered.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
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

/// The token a scraper must send (`Authorization: Bearer …`), if any.
#[derive(Clone, Default)]
pub struct MetricsToken(pub Option<std::sync::Arc<str>>);

pub async fn render(State(token): State<MetricsToken>, headers: HeaderMap) -> Response {
    if let Some(want) = &token.0 {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .unwrap_or_default();
        if !same(given.as_bytes(), want.as_bytes()) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "/metrics needs the metrics token (Authorization: Bearer …).\n",
            )
                .into_response();
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle().render(),
    )
        .into_response()
}

/// Equal, in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The registered server functions' paths (`/api/login` …): the only ones labelled by name.
fn server_functions() -> &'static std::collections::HashSet<String> {
    static PATHS: OnceLock<std::collections::HashSet<String>> = OnceLock::new();
    PATHS.get_or_init(|| {
        leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path.to_owned())
            .collect()
    })
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
    // Server functions share one axum route; label the registered ones by name, and every
    // other path there one label, so a client can't invent series.
    let route = match matched.as_deref() {
        Some("/api/{*fn_name}") if server_functions().contains(&path) => path,
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
