//! A gateway's traffic charts, each a document of its own: the status tab shows them as images
//! (`<img src="/gateways/{name}/charts/stage-dev-requests?traffic=24h&v=…">`), so the page stays small and
//! quick to render, and a browser fetches a chart once per stored read. The `v` names what the
//! chart was drawn from (`app::api::health::ssr::Charts`); a request that names the chart's
//! current version may be kept by the browser for good, any other gets the chart as it is now,
//! to be asked again next time.

use app::api::context::SignedIn;
use app::api::health::{ssr, TrafficWindow};
use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

#[derive(serde::Deserialize)]
pub(super) struct ChartQuery {
    traffic: Option<String>,
    v: Option<String>,
}

/// What a chart may do as a document opened on its own: show itself, with its own style.
const CHART_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/// `GET /gateways/{name}/charts/{chart}` (`ssr::CHART_ROUTE`): any signed-in user (the page
/// guard resolved them, and sent one signed out to sign in; the check here keeps that true if
/// the guard's rule for what is a page ever changes).
pub(super) async fn traffic_chart(
    State(state): State<AppState>,
    user: Option<Extension<SignedIn>>,
    Path((name, chart)): Path<(String, String)>,
    Query(query): Query<ChartQuery>,
) -> Response {
    if user.is_none() {
        return (StatusCode::UNAUTHORIZED, "Please sign in.\n").into_response();
    }
    let window = TrafficWindow::from_param(query.traffic.as_deref());
    let now = portico_store::now_unix();
    let (svg, version) = match ssr::chart(&state.store, &name, window, &chart, now).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            let words = format!(
                "Gateway {name} has no chart {chart:?} over the {}.\n",
                window.words()
            );
            return (StatusCode::NOT_FOUND, words).into_response();
        }
        Err(err) => return (err.status(), err.to_string()).into_response(),
    };
    // Kept for good only under the URL of the version it is: a page from before the last read
    // names another, and is answered with today's chart, to be asked again.
    let cache = if query.v.as_deref() == Some(version.as_str()) {
        "private, max-age=31536000, immutable"
    } else {
        "private, no-cache"
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CHART_CSP),
            ),
        ],
        svg.to_string(),
    )
        .into_response()
}
