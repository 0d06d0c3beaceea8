//! The HTTP surface: Leptos pages and server functions, `/healthz`, `/metrics`, and the
//! middleware every request passes (sessions, cross-site refusal, page guard, metrics).

mod guard;
pub mod metrics;

use app::state::AppState;
use app::{shell, App};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{middleware, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, LeptosRoutes};
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

/// What the HTTP layer needs beyond the app state.
#[derive(Clone, Debug, Default)]
pub struct WebConfig {
    /// Mark the session cookie `Secure` (serve behind https).
    pub secure_cookies: bool,
}

/// Largest request body accepted; forms are small, so anything bigger is refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

pub async fn router(state: AppState, config: &WebConfig) -> Result<Router, sqlx::Error> {
    let store = SqliteStore::new(state.pool.clone());
    store.migrate().await?;
    tokio::spawn(delete_expired_sessions(store.clone()));
    let sessions = SessionManagerLayer::new(store)
        .with_name("portico_session")
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
        .route("/metrics", get(metrics::render))
        .route("/gateways/{name}/topology.yaml", get(export_topology))
        .route("/gateways/{name}/diagram.svg", get(export_diagram))
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
            move || provide_context(leptos_state.clone()),
            {
                let options = state.leptos.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::pages_need_sign_in,
        ))
        .layer(middleware::from_fn(guard::api_error_status))
        .layer(middleware::from_fn(guard::refuse_cross_site))
        .layer(sessions)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(middleware::from_fn(metrics::count_requests))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    Ok(router)
}

async fn delete_expired_sessions(store: SqliteStore) {
    use tower_sessions::session_store::ExpiredDeletion;
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        if let Err(err) = store.delete_expired().await {
            tracing::warn!(%err, "could not delete expired sessions");
        }
    }
}

/// The desired topology as a YAML download, for any signed-in user.
async fn export_topology(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> axum::response::Response {
    use app::api::gateways::ssr::{load, to_yaml};
    use axum::response::IntoResponse;
    match app::auth::ssr::resolve(&state.pool, &session).await {
        Ok(Some(_)) => {}
        Ok(None) => return (StatusCode::UNAUTHORIZED, "Please sign in.\n").into_response(),
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
    let yaml = load(&state.pool, &name)
        .await
        .and_then(|(_, generation, t)| {
            Ok(format!(
                "# gateway {name}, generation {generation}\n{}",
                to_yaml(&t)?
            ))
        });
    match yaml {
        Ok(body) => (
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "application/yaml; charset=utf-8".to_owned(),
                ),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.yaml\""),
                ),
            ],
            body,
        )
            .into_response(),
        Err(err) => (err.status(), err.to_string()).into_response(),
    }
}

#[derive(serde::Deserialize)]
struct DiagramQuery {
    plan: Option<String>,
}

/// The topology diagram as an SVG file, for any signed-in user: the same bytes the page shows.
async fn export_diagram(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    axum::extract::Path(name): axum::extract::Path<String>,
    axum::extract::Query(query): axum::extract::Query<DiagramQuery>,
) -> axum::response::Response {
    use app::api::diagram::ssr::{draw, Choice};
    use axum::response::IntoResponse;
    match app::auth::ssr::resolve(&state.pool, &session).await {
        Ok(Some(_)) => {}
        Ok(None) => return (StatusCode::UNAUTHORIZED, "Please sign in.\n").into_response(),
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
    let drawn = match Choice::parse(query.plan.as_deref()) {
        Ok(choice) => draw(&state.pool, &name, choice).await,
        Err(err) => Err(err),
    };
    match drawn {
        Ok(d) => (
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "image/svg+xml; charset=utf-8".to_owned(),
                ),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}-topology.svg\""),
                ),
            ],
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n",
                app::diagram::svg::render(&d.diagram)
            ),
        )
            .into_response(),
        Err(err) => (err.status(), err.to_string()).into_response(),
    }
}

/// 200 when the database answers, 503 otherwise.
async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let ping = tokio::time::timeout(
        Duration::from_secs(2),
        sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&state.pool),
    )
    .await;
    match ping {
        Ok(Ok(1)) => (StatusCode::OK, "ok\n"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n"),
    }
}
