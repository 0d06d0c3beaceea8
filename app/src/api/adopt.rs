//! Adopting a hand-built setup from the browser (admins): the region's REST APIs no Portico
//! gateway owns, what adopting one would store, tag and leave out (the CLI's `--dry-run`), and
//! the adoption itself. The reads and the tagging are the server's (`AppState::adoptions`),
//! since this crate has no AWS SDK.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A REST API that no Portico gateway owns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub id: String,
    pub name: String,
    pub description: String,
}

/// What adopting a REST API would do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    /// "3 backend ports on load balancer orders-nlb, 3 stages, 3 routes, 1 usage plan, 2 keys".
    pub summary: String,
    /// What the shape cannot express; adopting is refused while any is left.
    pub misfits: Vec<String>,
    /// The resources that would gain Portico's tags.
    pub tags: Vec<String>,
    /// The keys clients use, adopted as they are.
    pub keys: Vec<String>,
    /// The topology file it would store.
    pub file: String,
}

#[cfg(feature = "ssr")]
fn adoptions(
    state: &crate::state::AppState,
) -> Result<std::sync::Arc<dyn crate::state::Adoptions>, AppError> {
    state.adoptions.clone().ok_or_else(|| {
        AppError::Unavailable(
            "This server runs without AWS (--no-worker): nothing to adopt.".into(),
        )
    })
}

#[cfg(feature = "ssr")]
fn check_region(region: &str) -> Result<(), AppError> {
    portico_core::model::rules::region(region.trim()).map_err(AppError::Invalid)
}

#[cfg(feature = "ssr")]
fn role(role: Option<String>) -> Option<String> {
    role.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty())
}

/// The region's REST APIs that no Portico gateway owns.
#[server(prefix = "/api", endpoint = "adoptable")]
pub async fn adoptable(
    region: String,
    role_arn: Option<String>,
) -> Result<Vec<Candidate>, AppError> {
    let (_, state) =
        crate::api::context::require(portico_core::model::Role::Admin, "adopt existing APIs")
            .await?;
    check_region(&region)?;
    adoptions(&state)?
        .candidates(region.trim().to_owned(), role(role_arn))
        .await
        .map_err(AppError::Unavailable)
}

/// What adopting `rest_api` as gateway `name` would store, tag and leave out.
#[server(prefix = "/api", endpoint = "inspect_adoption")]
pub async fn inspect_adoption(
    region: String,
    role_arn: Option<String>,
    rest_api: String,
    name: String,
) -> Result<Inspection, AppError> {
    let (_, state) =
        crate::api::context::require(portico_core::model::Role::Admin, "adopt existing APIs")
            .await?;
    check_region(&region)?;
    portico_core::model::rules::gateway_name(name.trim()).map_err(AppError::Invalid)?;
    adoptions(&state)?
        .inspect(
            region.trim().to_owned(),
            role(role_arn),
            rest_api.trim().to_owned(),
            name.trim().to_owned(),
        )
        .await
        .map_err(AppError::Unavailable)
}

/// Adopts `rest_api` as gateway `name`, then opens its diagram.
#[server(prefix = "/api", endpoint = "adopt_api")]
pub async fn adopt_api(
    region: String,
    role_arn: Option<String>,
    rest_api: String,
    name: String,
) -> Result<(), AppError> {
    let (me, state) =
        crate::api::context::require(portico_core::model::Role::Admin, "adopt existing APIs")
            .await?;
    check_region(&region)?;
    let name = name.trim().to_owned();
    portico_core::model::rules::gateway_name(&name).map_err(AppError::Invalid)?;
    adoptions(&state)?
        .adopt(
            me.name.clone(),
            region.trim().to_owned(),
            role(role_arn),
            rest_api.trim().to_owned(),
            name.clone(),
        )
        .await?;
    state.wake_worker();
    leptos_axum::redirect(&format!("/gateways/{name}/diagram"));
    Ok(())
}
