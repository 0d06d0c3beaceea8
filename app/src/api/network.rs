//! The account behind the forms: the region's VPCs, subnets and instances to pick from, and the
//! check every save that brings in an AWS id makes (`portico_core::account`), so an id that
//! does not exist is refused with the list of what does, before the worker meets it.

use crate::error::AppError;
use leptos::prelude::*;
use portico_core::account::Network;

/// The region's network, or None when this server runs without AWS or cannot read it (the
/// forms then take ids as typed). For a gateway's forms (editors), read as the gateway's role;
/// for a new gateway (admins), as Portico's own account.
#[server(prefix = "/api", endpoint = "region_network")]
pub async fn region_network(
    gateway: Option<String>,
    region: String,
) -> Result<Option<Network>, AppError> {
    use portico_core::model::Role;
    let gateway = gateway.filter(|g| !g.is_empty());
    let (need, what) = match gateway {
        Some(_) => (Role::Editor, "read the account"),
        None => (Role::Admin, "read the account for a new gateway"),
    };
    let (_, state) = crate::api::context::require(need, what).await?;
    if portico_core::model::rules::region(region.trim()).is_err() {
        return Ok(None);
    }
    let Some(networks) = state.networks.clone() else {
        return Ok(None);
    };
    let role = match &gateway {
        Some(g) => {
            let g = portico_store::gateways::load(&state.store, g).await?;
            g.topology.gateway.role_arn
        }
        None => None,
    };
    match networks
        .network(region.trim().to_owned(), role, false)
        .await
    {
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
    // A reading a minute old may miss what was made since: a refusal reads again first.
    let mut problems = vec![];
    for fresh in [false, true] {
        let read = networks
            .clone()
            .network(g.region.clone(), g.role_arn.clone(), fresh)
            .await;
        let network = match read {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(gateway = %g.name, "not checked against the account: {e}");
                return Ok(());
            }
        };
        problems = network.check(before, after);
        if problems.is_empty() {
            break;
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(format!(
            "{}\nNothing was saved.",
            problems.join("\n")
        )))
    }
}
