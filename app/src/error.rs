//! The one error type every server function returns.
//!
//! Use `Invalid` for bad input (the message names the field and the rule), `Conflict` for a
//! clash with existing state, `Forbidden` when the role does not allow the action, and let
//! everything unexpected become `Internal`: it is logged on the server and the browser sees an
//! opaque message, never the internal error's text.

use http::StatusCode;
use leptos::server_fn::{codec::JsonEncoding, error::FromServerFnError};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in.")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    TooManyAttempts(String),
    /// The request itself could not be read (missing field, bad encoding, transport failure).
    #[error("The request could not be processed: {0}")]
    Request(String),
    /// Something Portico depends on (AWS) could not be reached or answered with an error.
    #[error("{0}")]
    Unavailable(String),
    /// The database stayed locked by another writer past its timeout: retry shortly.
    #[error("Portico is busy; nothing was saved. Please try again in a moment.")]
    Busy,
    #[error("Something went wrong on the server. It has been logged; please try again.")]
    Internal,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Request(_) => StatusCode::BAD_REQUEST,
            AppError::Unavailable(_) | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Logs the real cause on the server and hands the browser the opaque variant.
    #[cfg(feature = "ssr")]
    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        tracing::error!(%err, "{context}");
        AppError::Internal
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        AppError::Request(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<portico_store::StoreError> for AppError {
    fn from(err: portico_store::StoreError) -> Self {
        use portico_store::StoreError as E;
        match err {
            E::NotFound(m) => AppError::NotFound(m),
            E::Conflict(m) => AppError::Conflict(m),
            E::Invalid(m) => AppError::Invalid(m),
            E::Forbidden(m) => AppError::Forbidden(m),
            E::Busy => AppError::Busy,
            // Shutting down is no fault: nothing to log as an error.
            E::Closed => AppError::Unavailable(E::Closed.to_string()),
            E::Internal { context, detail } => AppError::internal(&context, detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_match_meaning() {
        assert_eq!(AppError::Unauthenticated.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            AppError::Forbidden("x".into()).status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(AppError::Invalid("x".into()).status().as_u16(), 422);
        assert_eq!(AppError::Busy.status().as_u16(), 503);
    }

    #[test]
    fn internal_says_nothing_internal() {
        let shown = AppError::Internal.to_string();
        assert!(shown.contains("logged"));
    }
}
