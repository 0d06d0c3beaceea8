//! Server-side state every server function reaches through Leptos context.

use crate::throttle::LoginThrottle;
use axum::extract::FromRef;
use leptos::prelude::*;
use portico_store::Store;
use std::sync::Arc;

/// Reads a new API key's value from AWS, once, for the screen that shows it (the app crate has
/// no AWS SDK; the server provides this). The value passes through memory only.
pub trait KeyValues: Send + Sync {
    fn value(
        &self,
        region: String,
        role_arn: Option<String>,
        aws_id: String,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, String>> + Send>>;
}

/// What the server's AWS side answers with, later.
pub type Answer<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// Adopting hand-built setups (`crate::api::adopt`): the AWS reads and the tagging are the
/// server's, as for `KeyValues`.
pub trait Adoptions: Send + Sync {
    /// The region's REST APIs that no Portico gateway owns.
    fn candidates(
        &self,
        region: String,
        role_arn: Option<String>,
    ) -> Answer<Result<Vec<crate::api::adopt::Candidate>, String>>;
    /// What adopting `rest_api` as gateway `name` would store, tag and leave out.
    fn inspect(
        &self,
        region: String,
        role_arn: Option<String>,
        rest_api: String,
        name: String,
    ) -> Answer<Result<crate::api::adopt::Inspection, String>>;
    /// Adopts it: stores the gateway; the worker's run that follows tags what it adopts.
    fn adopt(
        &self,
        actor: String,
        region: String,
        role_arn: Option<String>,
        rest_api: String,
        name: String,
    ) -> Answer<Result<(), crate::error::AppError>>;
}

/// The region's VPCs, subnets and instances (`crate::api::network`), read by the server.
pub trait Networks: Send + Sync {
    /// `fresh`: read AWS even if a recent reading is kept.
    fn network(
        self: Arc<Self>,
        region: String,
        role_arn: Option<String>,
        fresh: bool,
    ) -> Answer<Result<portico_core::account::Network, String>>;
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub leptos: LeptosOptions,
    pub throttle: Arc<LoginThrottle>,
    /// Wakes the worker after an edit of the desired state.
    pub worker: Arc<tokio::sync::Notify>,
    /// None when serving without AWS (keys can't be shown then).
    pub key_values: Option<Arc<dyn KeyValues>>,
    /// None when serving without AWS.
    pub adoptions: Option<Arc<dyn Adoptions>>,
    /// None when serving without AWS: ids in forms are then not checked against the account.
    pub networks: Option<Arc<dyn Networks>>,
    /// How long a sign-in lasts however active the session is (the idle limit is the
    /// cookie's).
    pub session_lifetime: std::time::Duration,
}

/// A sign-in's absolute lifetime unless `portico serve --session-days` says otherwise.
pub const SESSION_LIFETIME: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

impl AppState {
    pub fn new(store: Store, leptos: LeptosOptions, throttle: LoginThrottle) -> Self {
        Self {
            store,
            leptos,
            throttle: Arc::new(throttle),
            worker: Arc::new(tokio::sync::Notify::new()),
            key_values: None,
            adoptions: None,
            networks: None,
            session_lifetime: SESSION_LIFETIME,
        }
    }

    /// The state a page render is given, its store a `Store::for_one_render` (see the rule
    /// there).
    pub fn for_one_render(&self) -> Self {
        Self {
            store: self.store.for_one_render(),
            ..self.clone()
        }
    }

    pub fn with_key_values(mut self, key_values: Arc<dyn KeyValues>) -> Self {
        self.key_values = Some(key_values);
        self
    }

    pub fn with_networks(mut self, networks: Arc<dyn Networks>) -> Self {
        self.networks = Some(networks);
        self
    }

    pub fn with_adoptions(mut self, adoptions: Arc<dyn Adoptions>) -> Self {
        self.adoptions = Some(adoptions);
        self
    }

    /// Tells the worker the desired state changed: this server's at once, and on PostgreSQL
    /// the one on whichever server holds the lease (`Store::announce_change`); it reconciles
    /// within a second either way.
    pub fn wake_worker(&self) {
        self.worker.notify_one();
        if self.store.is_postgres() {
            let store = self.store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.announce_change().await {
                    tracing::warn!("announcing a change: {e}");
                }
            });
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
