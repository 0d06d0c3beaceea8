//! Request guards: refuse cross-site writes, send signed-out visitors to the login page, and
//! give server-function errors their real HTTP status.

use app::api::context::{resolve, SignedIn};
use app::error::AppError;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::proxy::{ExpectedOrigin, Origin};

/// A state-changing request must say where it came from (Origin, or else Referer), and that
/// must be the origin pages are served at (`proxy::locate` works it out: `--public-url`, a
/// trusted proxy's forwarded host, or `Host`). Browsers always send Origin on cross-site
/// POSTs, so a forged form on another site is refused here even if SameSite were to let its
/// cookie through.
pub async fn refuse_cross_site(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let expected = req
        .extensions()
        .get::<ExpectedOrigin>()
        .and_then(|e| e.0.clone());
    if same_origin(expected.as_ref(), req.headers()) {
        next.run(req).await
    } else {
        (
            StatusCode::FORBIDDEN,
            "Cross-site request refused: it did not come from a Portico page.\n",
        )
            .into_response()
    }
}

fn same_origin(expected: Option<&Origin>, headers: &HeaderMap) -> bool {
    let Some(expected) = expected else {
        return false;
    };
    headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok())
        .is_some_and(|source| expected.admits(source))
}

/// Pages need a signed-in, enabled user; the rest (login, assets, server functions, which
/// check roles themselves, health and metrics) does not.
pub async fn pages_need_sign_in(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    let open = path == "/login"
        || path.starts_with("/api/")
        || path.starts_with("/pkg/")
        || path == "/healthz"
        || path == "/metrics"
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'));
    if open || !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    match resolve(&state, &session).await {
        Ok(Some(user)) => {
            // The page's server functions take the user from here: resolved once per request.
            req.extensions_mut().insert(SignedIn(user));
            next.run(req).await
        }
        Ok(None) => {
            let wanted = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let to = if wanted == "/" {
                "/login".to_string()
            } else {
                format!("/login?next={}", app::api::forms::urlencode(wanted))
            };
            Redirect::to(&to).into_response()
        }
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// Leptos answers every server-function error with 500; this restores the status the error
/// means (401, 403, 409, 422 …) for API clients. Form posts without JavaScript get a redirect
/// back to the form instead, which is left alone.
pub async fn api_error_status(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    if !is_api || res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1024 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = err.status();
        // A busy database or an AWS out of reach: say when to try again.
        if parts.status == StatusCode::SERVICE_UNAVAILABLE {
            parts
                .headers
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn same_origin(headers: &HeaderMap) -> bool {
        let expected = super::super::proxy::Proxies::default()
            .origin(Some(std::net::IpAddr::from([127, 0, 0, 1])), headers);
        super::same_origin(expected.as_ref(), headers)
    }

    #[test]
    fn same_origin_rules() {
        let host = (header::HOST, "127.0.0.1:3000");
        assert!(same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://127.0.0.1:3000")
        ])));
        assert!(same_origin(&headers(&[
            host.clone(),
            (header::REFERER, "http://127.0.0.1:3000/admin?x=1")
        ])));
        assert!(!same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://127.0.0.1:3000.evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            host.clone(),
            (header::ORIGIN, "null")
        ])));
        assert!(!same_origin(&headers(&[host])));
    }
}
