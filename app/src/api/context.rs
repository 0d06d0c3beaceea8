//! The preamble of every server function: the server's state, then who is asking. The state is
//! taken from the Leptos context before the first await — while a page renders on the server, a
//! resource's future can outlive the reactive owner it was made under, and a context looked up
//! after an await then is gone. `require` does it in that order, so a server function starts
//! with one line: `let (me, state) = require(Role::Editor, "edit the topology").await?;`.

use crate::error::AppError;
use crate::state::AppState;
use portico_core::model::user::CurrentUser;
use portico_core::model::Role;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use tower_sessions::Session;

/// The session key holding the signed-in user's id …
pub const SESSION_USER: &str = "uid";
/// … the user's session epoch it was signed in under (a newer one ends it) …
pub const SESSION_EPOCH: &str = "epoch";
/// … and when it was signed in (unix seconds): it ends after `AppState::session_lifetime`
/// however active it is.
pub const SESSION_SINCE: &str = "since";

/// The server's state, or an internal error when a handler forgot to provide it.
pub fn state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| AppError::internal("AppState missing from context", "not provided"))
}

/// How many ports, stages and routes a topology may have for its CPU work (a diagram's
/// estimate, layout and drawing) to run in place: up to it, handing the work to the blocking
/// pool and back costs more than the work, and under load the wait for a pool thread is what
/// the page's tail latency is made of. The core bench's diagram table (`app/core/benches/
/// planner.rs`) times it: 0.09 ms for the seed (9), 1.5 ms at 120; 40 keeps it near 0.5 ms.
pub const IN_PLACE_UP_TO: usize = 40;

/// A topology's size as `off_runtime` counts it.
pub fn work_size(t: &portico_core::model::topology::Topology) -> usize {
    t.ports.len() + t.stages.len() + t.routes.len()
}

/// Runs CPU work that grows with a topology of `size` (`work_size`): in place when small,
/// else on the blocking pool, so the async runtime keeps serving other requests meanwhile.
pub async fn cpu_work<T: Send + 'static>(
    size: usize,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    if size <= IN_PLACE_UP_TO {
        return Ok(work());
    }
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        if e.is_cancelled() {
            // The runtime is shutting down: no fault to log.
            AppError::Unavailable("Portico is shutting down; please try again in a moment.".into())
        } else {
            AppError::internal("background work", e)
        }
    })
}

/// The caller, if their role is at least `min`, and the state. `action` completes "Your role
/// cannot …".
pub async fn require(min: Role, action: &str) -> Result<(CurrentUser, AppState), AppError> {
    let state = state()?;
    match caller(&state).await? {
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
    let user = caller(&state).await?;
    Ok((user, state))
}

/// The user the HTTP layer resolved for this page request (`pages_need_sign_in` inserts it):
/// the page's server functions, run in the same request while it renders, take it from there
/// instead of reading the session and the user again.
#[derive(Clone, Debug)]
pub struct SignedIn(pub CurrentUser);

/// Who is asking: the page request's resolved user, else the session's (server-function calls
/// from the browser). The request is looked up before the first await, like the state.
async fn caller(state: &AppState) -> Result<Option<CurrentUser>, AppError> {
    let known = leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<SignedIn>().cloned());
    match known {
        Some(SignedIn(user)) => Ok(Some(user)),
        None => resolve(state, &session().await?).await,
    }
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| AppError::internal("session layer missing", e))
}

/// The signed-in, enabled user of a session, if any (the HTTP layer's guard uses it too): the
/// session must carry the user's current epoch and be younger than the absolute lifetime.
pub async fn resolve(state: &AppState, session: &Session) -> Result<Option<CurrentUser>, AppError> {
    let read = |e| AppError::internal("session read", e);
    let Some(id) = session.get::<i64>(SESSION_USER).await.map_err(read)? else {
        return Ok(None);
    };
    let epoch = session.get::<i64>(SESSION_EPOCH).await.map_err(read)?;
    let since = session.get::<i64>(SESSION_SINCE).await.map_err(read)?;
    let lifetime = state.session_lifetime.as_secs() as i64;
    match (epoch, since) {
        (Some(epoch), Some(since)) if portico_store::now_unix() - since < lifetime => {
            Ok(portico_store::users::session_user(&state.store, id, epoch).await?)
        }
        // Past its lifetime, or from before sessions had epochs: sign in again.
        _ => Ok(None),
    }
}

/// Makes `session` the user's, under their current `epoch`, signed in now, with a fresh id
/// (against session fixation).
pub async fn sign_in_session(session: &Session, user: i64, epoch: i64) -> Result<(), AppError> {
    start_session(session, user, epoch, portico_store::now_unix()).await
}

/// The session's epoch: what a change that ends the user's other sessions compares with (so
/// it happens only if nothing ended this session meanwhile).
pub async fn session_epoch(session: &Session) -> Result<i64, AppError> {
    session
        .get::<i64>(SESSION_EPOCH)
        .await
        .map_err(|e| AppError::internal("session read", e))?
        .ok_or(AppError::Unauthenticated)
}

/// After the user's own change moved their epoch on, this session carries on under the new
/// one with a fresh id, but keeps its sign-in time: nothing short of signing in again extends
/// a session past its absolute lifetime.
pub async fn carry_session(session: &Session, user: i64, epoch: i64) -> Result<(), AppError> {
    let since = session
        .get::<i64>(SESSION_SINCE)
        .await
        .map_err(|e| AppError::internal("session read", e))?
        .ok_or(AppError::Unauthenticated)?;
    start_session(session, user, epoch, since).await
}

async fn start_session(
    session: &Session,
    user: i64,
    epoch: i64,
    since: i64,
) -> Result<(), AppError> {
    session
        .cycle_id()
        .await
        .map_err(|e| AppError::internal("session cycle", e))?;
    let write = |e| AppError::internal("session insert", e);
    session.insert(SESSION_USER, user).await.map_err(write)?;
    session.insert(SESSION_EPOCH, epoch).await.map_err(write)?;
    session.insert(SESSION_SINCE, since).await.map_err(write)?;
    Ok(())
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
