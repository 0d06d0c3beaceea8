//! The preamble of every server function: the server's state, then who is asking. The state is
//! taken from the Leptos context before the first await — while a page renders on the server, a
//! resource's future can outlive the reactive owner it was made under, and a context looked up
//! after an await then is gone. `require` does it in that order, so a server function starts
//! with one line: `let (me, state) = require(Role::Editor, "edit the topology").await?;`.

use crate::error::AppError;
use crate::state::AppState;
use portico_core::model::user::CurrentUser;
use portico_core::model::Role;
use portico_store::Store;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use tower_sessions::Session;

/// The session key holding the signed-in user's id.
pub const SESSION_USER: &str = "uid";

/// The server's state, or an internal error when a handler forgot to provide it.
pub fn state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| AppError::internal("AppState missing from context", "not provided"))
}

/// The caller, if their role is at least `min`, and the state. `action` completes "Your role
/// cannot …".
pub async fn require(min: Role, action: &str) -> Result<(CurrentUser, AppState), AppError> {
    let state = state()?;
    match resolve(&state.store, &session().await?).await? {
        None => Err(AppError::Unauthenticated),
        Some(user) if user.role < min => Err(AppError::Forbidden(format!(
            "Your role ({}) cannot {action}: that needs {min}{}.",
            user.role,
            if min == Role::Admin { "" } else { " or admin" }
        ))),
        Some(user) => Ok((user, state)),
    }
}

/// The signed-in user, if any, and the state (for what anyone may call).
pub async fn optional_user() -> Result<(Option<CurrentUser>, AppState), AppError> {
    let state = state()?;
    let user = resolve(&state.store, &session().await?).await?;
    Ok((user, state))
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| AppError::internal("session layer missing", e))
}

/// The signed-in, enabled user of a session, if any (the HTTP layer's guard uses it too).
pub async fn resolve(store: &Store, session: &Session) -> Result<Option<CurrentUser>, AppError> {
    let id = session
        .get::<i64>(SESSION_USER)
        .await
        .map_err(|e| AppError::internal("session read", e))?;
    match id {
        None => Ok(None),
        Some(id) => Ok(portico_store::users::enabled(store, id).await?),
    }
}

/// The client's address as the HTTP layer worked it out: the peer, or, when the peer is a
/// trusted reverse proxy, the address it forwarded. Set on every request by the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The client's address (the throttle's key): what the HTTP layer worked out, else the peer.
pub fn client_addr() -> IpAddr {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|p| {
            p.extensions.get::<ClientAddr>().map(|c| c.0).or_else(|| {
                p.extensions
                    .get::<axum::extract::ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip())
            })
        })
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}
