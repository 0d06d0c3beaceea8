//! Security headers on every response. Pages carry their own Content-Security-Policy (with
//! the response's script nonce: `app::page_csp`); everything else — server-function answers,
//! downloads, assets, errors — gets one that allows nothing to run, so an SVG or YAML download
//! opened in the browser can't execute anything either.

use axum::http::{header, HeaderName, HeaderValue};
use tower_http::set_header::SetResponseHeaderLayer;

/// What no response is without (set only where the handler set none).
const DEFAULTS: [(HeaderName, &str); 5] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

/// The layers that set them, outermost last.
pub fn layers() -> Vec<SetResponseHeaderLayer<HeaderValue>> {
    DEFAULTS
        .into_iter()
        .map(|(name, value)| {
            SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
        })
        .collect()
}
