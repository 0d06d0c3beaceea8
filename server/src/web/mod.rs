//! The HTTP surface: Leptos pages and server functions, `/healthz`, `/metrics`, and the
//! middleware every request passes (sessions, cross-site refusal, page guard, metrics).

mod charts;
mod guard;
mod headers;
mod kept_pages;
pub mod metrics;
pub mod proxy;

use app::error::AppError;
use app::state::AppState;
use app::{shell, App};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, LeptosRoutes};
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

/// What the HTTP layer needs beyond the app state.
#[derive(Clone, Debug, Default)]
pub struct WebConfig {
    /// Mark the session cookie `Secure` (served over https), and name it `__Host-…` so the
    /// browser keeps it to this host, path `/`, https only.
    pub secure_cookies: bool,
    /// Reverse proxies whose forwarding headers are believed, and the public origin.
    pub proxies: proxy::Proxies,
    /// The bearer token `/metrics` asks for; None: open, like `/healthz`.
    pub metrics_token: Option<String>,
}

/// Largest request body accepted; forms are small, so anything bigger is refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The router, over the sessions table in the store (created here if missing).
pub async fn router(
    state: AppState,
    config: &WebConfig,
) -> Result<Router, portico_store::StoreError> {
    let store = state.store.sessions().await?;
    tokio::spawn(delete_expired_sessions(store.clone()));
    let sessions = SessionManagerLayer::new(store)
        .with_name(if config.secure_cookies {
            "__Host-portico_session"
        } else {
            "portico_session"
        })
        .with_path("/")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::hours(12),
        ));

    let routes = generate_route_list(App);
    let leptos_state = state.clone();
    let fn_state = state.clone();
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route(
            "/metrics",
            get(metrics::render).with_state(metrics::MetricsToken(
                config.metrics_token.as_deref().map(std::sync::Arc::from),
            )),
        )
        .route("/gateways/{name}/topology.yaml", get(export_topology))
        .route("/gateways/{name}/diagram.svg", get(export_diagram))
        .route(
            app::api::health::ssr::CHART_ROUTE,
            get(charts::traffic_chart),
        )
        .route(
            "/api/{*fn_name}",
            axum::routing::post(move |req: axum::extract::Request| {
                let st = fn_state.clone();
                handle_server_fns_with_context(move || provide_context(st.clone()), req)
            }),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            // Leptos runs this for page renders and for the server functions it routes itself
            // (each at its exact `/api/…` path, which wins over the catch-all above, left for
            // unknown names): paths under `/api/` are calls, given the plain state; a page
            // render gets `for_one_render`'s.
            move || {
                let call = use_context::<http::request::Parts>()
                    .is_some_and(|p| p.uri.path().starts_with("/api/"));
                provide_context(if call {
                    leptos_state.clone()
                } else {
                    leptos_state.for_one_render()
                })
            },
            {
                let options = state.leptos.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        // Inside the guard: a page is kept for the user it resolved.
        .layer(middleware::from_fn_with_state(
            std::sync::Arc::new(kept_pages::KeptPages::new(state.store.clone())),
            kept_pages::keep,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::pages_need_sign_in,
        ))
        .layer(middleware::from_fn(guard::api_error_status))
        .layer(middleware::from_fn(guard::refuse_cross_site))
        .layer(middleware::from_fn_with_state(
            std::sync::Arc::new(config.proxies.clone()),
            proxy::locate,
        ))
        .layer(sessions)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT));
    let router = headers::layers()
        .into_iter()
        .fold(router, |router, layer| router.layer(layer))
        .layer(middleware::from_fn(metrics::count_requests))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    Ok(router)
}

/// Hourly; a failed sweep is logged and tried again at the next tick.
async fn delete_expired_sessions(store: impl ExpiredDeletion) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        if let Err(err) = store.delete_expired().await {
            tracing::warn!(%err, "could not delete expired sessions");
        }
    }
}

/// A file download for any signed-in user: 401 without a sign-in (before `body` runs), the
/// error's own status when making the file fails, else `body` as an attachment named
/// `filename`. Downloads are plain links, so they answer in HTTP, not as server functions.
async fn signed_in_attachment(
    state: &AppState,
    session: &Session,
    content_type: &'static str,
    filename: &str,
    body: impl std::future::Future<Output = Result<String, AppError>>,
) -> Response {
    match app::api::context::resolve(state, session).await {
        Ok(Some(_)) => {}
        Ok(None) => return (StatusCode::UNAUTHORIZED, "Please sign in.\n").into_response(),
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
    match body.await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, content_type.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
            ],
            body,
        )
            .into_response(),
        Err(err) => (err.status(), err.to_string()).into_response(),
    }
}

/// The desired topology as a YAML download: the file `portico topology apply -f` reads.
async fn export_topology(
    State(state): State<AppState>,
    session: Session,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    let yaml = topology_yaml(&state, &name);
    signed_in_attachment(
        &state,
        &session,
        "application/yaml; charset=utf-8",
        &format!("{name}.yaml"),
        yaml,
    )
    .await
}

async fn topology_yaml(state: &AppState, name: &str) -> Result<String, AppError> {
    let g = portico_store::gateways::load(&state.store, name).await?;
    let yaml = g
        .topology
        .to_yaml()
        .map_err(|e| AppError::internal("yaml", e))?;
    Ok(format!(
        "# gateway {name}, generation {}\n{yaml}",
        g.generation
    ))
}

#[derive(serde::Deserialize)]
struct DiagramQuery {
    plan: Option<String>,
}

/// The topology diagram as an SVG file: the same bytes the page shows.
async fn export_diagram(
    State(state): State<AppState>,
    session: Session,
    axum::extract::Path(name): axum::extract::Path<String>,
    axum::extract::Query(query): axum::extract::Query<DiagramQuery>,
) -> Response {
    let svg = diagram_svg(&state, &name, query.plan.as_deref());
    signed_in_attachment(
        &state,
        &session,
        "image/svg+xml; charset=utf-8",
        &format!("{name}-topology.svg"),
        svg,
    )
    .await
}

async fn diagram_svg(state: &AppState, name: &str, plan: Option<&str>) -> Result<String, AppError> {
    use app::api::diagram::ssr::{draw, Choice};
    let drawn = draw(&state.store, name, Choice::parse(plan)?).await?;
    let svg = app::api::context::cpu_work(drawn.size, move || {
        portico_core::diagram::svg::render(&drawn.diagram)
    })
    .await?;
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{svg}\n"
    ))
}

/// 200 when the database answers within two seconds, 503 otherwise.
async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ok\n"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n"),
    }
}
