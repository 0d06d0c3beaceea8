//! The account behind the forms: the region's VPCs, subnets and instances to pick from, and the
//! check every save that brings in an AWS id makes (`portico_core::account`), so an id that
//! does not exist is refused with the list of what does, before the worker meets it.

use crate::error::AppError;
use leptos::prelude::*;
use portico_core::account::Network;

/// The region's network, or None when this server runs without AWS or cannot read it (the
/// forms then take ids as typed).
#[server(prefix = "/api", endpoint = "region_network")]
pub async fn region_network(
    region: String,
    role_arn: Option<String>,
) -> Result<Option<Network>, AppError> {
    let (_, state) =
        crate::api::context::require(portico_core::model::Role::Editor, "read the account").await?;
    if portico_core::model::rules::region(region.trim()).is_err() {
        return Ok(None);
    }
    let Some(networks) = state.networks.clone() else {
        return Ok(None);
    };
    let role = role_arn.filter(|r| !r.trim().is_empty());
    match networks.network(region.trim().to_owned(), role).await {
        Ok(n) => Ok(Some(n)),
        Err(e) => {
            tracing::warn!("could not read the network of {region}: {e}");
            Ok(None)
        }
    }
}

/// `check` for an edit of gateway `gateway` by `change`, previewed on the topology as stored
/// now (the edit core applies it again, in its transaction). A change that fails is left to
/// the edit core to refuse with its own words.
#[cfg(feature = "ssr")]
pub async fn check_edit(
    state: &crate::state::AppState,
    gateway: &str,
    change: impl FnOnce(&mut portico_core::model::topology::Topology) -> Result<(), AppError>,
) -> Result<(), AppError> {
    if state.networks.is_none() {
        return Ok(());
    }
    let current = portico_store::gateways::load(&state.store, gateway).await?;
    let mut after = current.topology.clone();
    if change(&mut after).is_err() {
        return Ok(());
    }
    check(state, Some(&current.topology), &after).await
}

/// Refuses `after` when it brings in a VPC, subnet or instance the account does not have (or
/// subnets sharing a zone, or an instance outside the VPC). Without AWS, or when the account
/// cannot be read, the save goes ahead and the worker reports what it meets.
#[cfg(feature = "ssr")]
pub async fn check(
    state: &crate::state::AppState,
    before: Option<&portico_core::model::topology::Topology>,
    after: &portico_core::model::topology::Topology,
) -> Result<(), AppError> {
    let Some(networks) = state.networks.clone() else {
        return Ok(());
    };
    let g = &after.gateway;
    if portico_core::model::rules::region(&g.region).is_err() {
        return Ok(()); // the topology's own rules refuse it, naming the field
    }
    let network = match networks.network(g.region.clone(), g.role_arn.clone()).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(gateway = %g.name, "not checked against the account: {e}");
            return Ok(());
        }
    };
    let problems = network.check(before, after);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(format!(
            "{}\nNothing was saved.",
            problems.join("\n")
        )))
    }
}
