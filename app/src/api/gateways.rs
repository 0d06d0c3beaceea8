//! Gateways and their desired topology: list, read, create, delete, restore and upload. The
//! edit core (stale-edit refusal, validation, a new generation, audit) is
//! `portico_store::gateways`; these functions check who asks, call it and wake the worker.

use crate::error::AppError;
use leptos::prelude::*;
use portico_core::model::topology::Topology;
use portico_core::plan::lifecycle::GatewayState;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GatewaySummary {
    pub name: String,
    pub region: String,
    pub generation: i64,
    pub ports: usize,
    pub stages: usize,
    pub routes: usize,
    pub updated_by: String,
    pub updated_at: String,
    /// The worker's word (`Deleting` once an admin asked, `Unknown` before the worker looked).
    pub state: GatewayState,
    pub state_message: String,
    /// None until the worker has read it.
    pub health: Option<portico_core::health::Level>,
    pub health_reason: String,
    /// The monthly estimate, in cents: "$65.23".
    pub monthly: String,
    /// Requests per hour over the last 24 hours, as a sparkline drawn on the server.
    pub traffic: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub generation: i64,
    pub actor: String,
    pub at: String,
    pub summary: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GatewayView {
    pub topology: Topology,
    pub generation: i64,
    /// The month's estimate in a line, worked out on the server: the status tab shows it, and
    /// only the cost tab needs the prices and the cost model in the browser (`gateway_prices`).
    pub cost: CostHeadline,
}

/// The monthly estimate's total and what weighs most in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostHeadline {
    /// In cents: "$65.23".
    pub total: String,
    /// The three largest lines: "NLB hours $16.43 · …".
    pub top: String,
    pub region: String,
    pub price_date: String,
}

/// The prices of a gateway's region, for the estimate the cost tab works out in the browser.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PricesView {
    /// Refreshed ones first, then the embedded table.
    pub prices: portico_core::cost::prices::Prices,
    /// False when the region is not in the table and us-east-1's prices stand in.
    pub exact: bool,
}

/// Gateways per page of the overview.
pub const PAGE_SIZE: u32 = 50;

/// One page of the overview, worst health first (what needs a look is on top).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GatewayPage {
    pub rows: Vec<GatewaySummary>,
    /// This page (from 1) and how many gateways there are in all. (`u32`, not `usize`: the
    /// browser's `usize` is 32 bits, and hydration reads what the server wrote.)
    pub page: u32,
    pub total: u32,
}

impl GatewayPage {
    pub fn pages(&self) -> u32 {
        self.total.div_ceil(PAGE_SIZE).max(1)
    }

    /// The first and last gateway shown, counted from 1.
    pub fn shown(&self) -> (u64, u64) {
        let before = u64::from(self.page.saturating_sub(1)) * u64::from(PAGE_SIZE);
        (before + 1, before + self.rows.len() as u64)
    }
}

/// Page `page` (from 1; a page past the end is empty) of the overview.
#[server(prefix = "/api", endpoint = "list_gateways")]
pub async fn list_gateways(page: u32) -> Result<GatewayPage, AppError> {
    let (_, state) =
        crate::api::context::require(portico_core::model::Role::Viewer, "read gateways").await?;
    // Any number from the address: one far past the end reads nothing (and says so).
    let page = page.max(1);
    let offset = i64::from(page - 1) * i64::from(PAGE_SIZE);
    let (listed, total) =
        portico_store::gateways::list_worst_first(&state.store, offset, i64::from(PAGE_SIZE))
            .await?;
    let mut rows = vec![];
    // Prices are read once per region, however many gateways share it.
    let mut prices = std::collections::HashMap::new();
    let now = portico_store::now_unix();
    let day = now - portico_store::traffic::DAY;
    let ids: Vec<i64> = listed.iter().map(|g| g.id).collect();
    let (hourly, not_read) = ssr::sparkline_hours(&state.store, &ids, day).await?;
    for listed in listed {
        let region = listed.topology.gateway.region.clone();
        if !prices.contains_key(&region) {
            let read = portico_store::prices::for_region(&state.store, &region).await?;
            prices.insert(region.clone(), read);
        }
        let (prices, _) = &prices[&region];
        let monthly = portico_core::cost::monthly_total(&listed.topology, prices).cents();
        let title = format!("Requests per hour to {}, last 24 hours", listed.name);
        let traffic = if not_read.contains(&listed.id) {
            portico_core::chart::sparkline_not_read(&title)
        } else {
            portico_core::chart::sparkline(
                &title,
                hourly.get(&listed.id).map_or(&[][..], Vec::as_slice),
                day,
                now,
            )
        };
        rows.push(ssr::summary(listed, monthly, traffic));
    }
    Ok(GatewayPage {
        rows,
        page,
        total: u32::try_from(total).unwrap_or(u32::MAX),
    })
}

#[server(prefix = "/api", endpoint = "get_gateway")]
pub async fn get_gateway(name: String) -> Result<GatewayView, AppError> {
    let (_, state) =
        crate::api::context::require(portico_core::model::Role::Viewer, "read gateways").await?;
    ssr::view(&state.store, &name).await
}

/// The prices of the gateway's region (its cost tab).
#[server(prefix = "/api", endpoint = "gateway_prices")]
pub async fn gateway_prices(name: String) -> Result<PricesView, AppError> {
    let (_, state) =
        crate::api::context::require(portico_core::model::Role::Viewer, "read gateways").await?;
    ssr::prices(&state.store, &name).await
}

/// The gateway's latest 100 generations, newest first (its history tab).
#[server(prefix = "/api", endpoint = "gateway_history")]
pub async fn gateway_history(name: String) -> Result<Vec<HistoryRow>, AppError> {
    let (_, state) =
        crate::api::context::require(portico_core::model::Role::Viewer, "read gateways").await?;
    ssr::history(&state.store, &name).await
}

/// Creates a gateway with no ports, stages or routes yet (admins only: it will cost money).
#[server(prefix = "/api", endpoint = "create_gateway")]
pub async fn create_gateway(
    name: String,
    region: String,
    vpc_id: String,
    subnet_ids: String,
) -> Result<(), AppError> {
    use portico_core::model::topology::{ApplyMode, DriftMode, EndpointType, Gateway};
    let (me, state) =
        crate::api::context::require(portico_core::model::Role::Admin, "create gateways").await?;
    let gateway = Gateway {
        name: name.trim().to_owned(),
        region: region.trim().to_owned(),
        vpc_id: vpc_id.trim().to_owned(),
        subnet_ids: crate::api::forms::list(&subnet_ids),
        endpoint_type: EndpointType::Regional,
        role_arn: None,
        apply_mode: ApplyMode::Auto,
        drift_mode: DriftMode::Correct,
        adopted: None,
    };
    let name = gateway.name.clone();
    let topology = Topology::new(gateway);
    if portico_core::model::validate::validate(&topology).is_ok() {
        crate::api::network::check(&state, None, &topology).await?;
    }
    portico_store::gateways::create(&state.store, &me.name, topology, false).await?;
    state.wake_worker();
    leptos_axum::redirect(&format!("/gateways/{name}"));
    Ok(())
}

/// Deletes a gateway (admins only; `confirm` must repeat its name): the worker removes what it
/// owns in AWS, then its rows. With `mode` "release", it removes only Portico's tags and leaves
/// the resources running.
#[server(prefix = "/api", endpoint = "delete_gateway")]
pub async fn delete_gateway(
    name: String,
    confirm: String,
    mode: Option<String>,
) -> Result<(), AppError> {
    use portico_store::gateways::Removal;
    let (me, state) =
        crate::api::context::require(portico_core::model::Role::Admin, "delete gateways").await?;
    if confirm.trim() != name {
        return Err(AppError::Invalid(format!(
            "Type the gateway's name, {name}, to confirm."
        )));
    }
    let removal = match mode.as_deref() {
        None | Some("" | "delete") => Removal::FromAws,
        Some("release") => Removal::Release,
        Some(other) => {
            return Err(AppError::Invalid(format!(
                "{other:?} is neither delete nor release."
            )))
        }
    };
    portico_store::gateways::delete(&state.store, &me.name, &name, removal).await?;
    state.wake_worker();
    leptos_axum::redirect("/");
    Ok(())
}

/// Only admins change the gateway's own settings, by a form, a file or an old generation.
#[cfg(feature = "ssr")]
fn settings_rule(me: &portico_core::model::user::CurrentUser) -> portico_store::gateways::Settings {
    if me.role >= portico_core::model::Role::Admin {
        portico_store::gateways::Settings::MayChange
    } else {
        portico_store::gateways::Settings::Keep
    }
}

/// Replaces the whole desired topology with an earlier generation's, as a new edit.
#[server(prefix = "/api", endpoint = "restore_generation")]
pub async fn restore_generation(
    gateway: String,
    from: i64,
    generation: i64,
) -> Result<(), AppError> {
    let (me, state) =
        crate::api::context::require(portico_core::model::Role::Editor, "edit the topology")
            .await?;
    let store = &state.store;
    let id = portico_store::gateways::load(store, &gateway).await?.id;
    let old = portico_store::gateways::snapshot(store, id, generation).await?;
    let restored = old.clone();
    crate::api::network::check_edit(&state, &gateway, move |t| {
        *t = restored;
        Ok(())
    })
    .await?;
    let action = format!("restore generation {generation}");
    portico_store::gateways::replace_as(
        store,
        &me.name,
        &gateway,
        Some(from),
        old,
        &action,
        false,
        settings_rule(&me),
    )
    .await?;
    state.wake_worker();
    Ok(())
}

/// Uploads a topology file (YAML) as the gateway's desired state, all or nothing; with
/// `dry_run`, only says what would change. Returns the changes, one line each.
#[server(prefix = "/api", endpoint = "upload_topology")]
pub async fn upload_topology(
    gateway: String,
    yaml: String,
    dry_run: Option<String>,
) -> Result<Vec<String>, AppError> {
    let (me, state) =
        crate::api::context::require(portico_core::model::Role::Editor, "edit the topology")
            .await?;
    let topology = Topology::from_yaml(&yaml).map_err(AppError::Invalid)?;
    if topology.gateway.name != gateway {
        return Err(AppError::Invalid(format!(
            "The file describes gateway {:?}, not {gateway:?}.",
            topology.gateway.name
        )));
    }
    let dry_run = dry_run.is_some();
    let uploaded = topology.clone();
    crate::api::network::check_edit(&state, &gateway, move |t| {
        *t = uploaded;
        Ok(())
    })
    .await?;
    let changes = portico_store::gateways::replace_as(
        &state.store,
        &me.name,
        &gateway,
        None,
        topology,
        "upload",
        dry_run,
        settings_rule(&me),
    )
    .await?;
    if !dry_run {
        state.wake_worker();
    }
    Ok(changes.iter().map(ToString::to_string).collect())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::{CostHeadline, GatewaySummary, GatewayView, HistoryRow, PricesView};
    use crate::error::AppError;
    use portico_core::plan::lifecycle::GatewayState;
    use portico_store::gateways::Listed;
    use portico_store::Store;
    use std::collections::HashMap;

    /// The sparklines' points: each of `gateways`' requests per hour from the hour `since`
    /// falls in (the sparkline draws those from `since` on), read in one query for a page of
    /// gateways and kept until one of them stores a read or the next hour starts.
    ///
    /// With them, the gateways CloudWatch has not answered for (an error, and no hourly point
    /// read yet): their sparkline says "not read" rather than "no traffic".
    pub async fn sparkline_hours(
        db: &Store,
        gateways: &[i64],
        since: i64,
    ) -> Result<(SparklineHours, std::collections::HashSet<i64>), AppError> {
        use portico_store::traffic::{self, HOUR};
        let since = since - since.rem_euclid(HOUR);
        let reads = traffic::reads_of(db, gateways).await?;
        let not_read = reads
            .iter()
            .filter(|(_, r)| r.points_read_until == 0 && r.error.is_some())
            .map(|(id, _)| *id)
            .collect();
        let mut key = format!("hourly requests from {since}:");
        for id in gateways {
            let stamp = reads
                .get(id)
                .map_or_else(|| "never read".into(), |r| r.stamp());
            key.push_str(&format!(" gateway {id} {stamp};"));
        }
        let hourly = db
            .kept_or(&key, || async {
                let hourly = traffic::hourly_requests(db, gateways, since).await?;
                let weight = hourly.values().map(|h| 16 * h.len() as u64 + 32).sum();
                Ok::<_, AppError>((hourly, weight))
            })
            .await?;
        Ok((hourly, not_read))
    }

    /// Each gateway's requests per hour, kept (`sparkline_hours`).
    pub type SparklineHours = std::sync::Arc<HashMap<i64, Vec<(i64, f64)>>>;

    /// A gateway's page: its latest topology, its generation and the month's cost in a line
    /// (amounts only: no formula is written out for it).
    pub async fn view(store: &Store, name: &str) -> Result<GatewayView, AppError> {
        let g = portico_store::gateways::load(store, name).await?;
        let (prices, exact) =
            portico_store::prices::for_region(store, &g.topology.gateway.region).await?;
        let e = portico_core::cost::amounts(&g.topology, &prices, exact);
        let mut lines = e.lines.iter().collect::<Vec<_>>();
        lines.sort_by_key(|l| std::cmp::Reverse(l.amount.0));
        let top = lines
            .iter()
            .take(3)
            .map(|l| format!("{} {}", l.resource, l.amount.cents()))
            .collect::<Vec<_>>()
            .join(" · ");
        Ok(GatewayView {
            topology: g.topology,
            generation: g.generation,
            cost: CostHeadline {
                total: e.total.cents(),
                top,
                region: e.region,
                price_date: e.price_date,
            },
        })
    }

    pub async fn prices(store: &Store, name: &str) -> Result<PricesView, AppError> {
        let region = portico_store::gateways::load(store, name)
            .await?
            .topology
            .gateway
            .region;
        let (prices, exact) = portico_store::prices::for_region(store, &region).await?;
        Ok(PricesView { prices, exact })
    }

    pub async fn history(store: &Store, name: &str) -> Result<Vec<HistoryRow>, AppError> {
        let id = portico_store::gateways::load(store, name).await?.id;
        Ok(portico_store::gateways::history(store, id)
            .await?
            .into_iter()
            .map(|h| HistoryRow {
                generation: h.generation,
                actor: h.actor,
                at: h.at,
                summary: h.summary,
            })
            .collect())
    }

    /// The overview's row: a gateway being deleted says so whatever the worker last wrote.
    pub fn summary(g: Listed, monthly: String, traffic: String) -> GatewaySummary {
        let (state, state_message) = match (g.deleting, g.state) {
            (true, _) => (
                GatewayState::Deleting,
                "Removing its AWS resources, then the gateway.".to_owned(),
            ),
            (false, Some((state, message))) => (state, message),
            (false, None) => (
                GatewayState::Unknown,
                "The worker has not looked at this gateway yet.".to_owned(),
            ),
        };
        GatewaySummary {
            region: g.topology.gateway.region.clone(),
            ports: g.topology.ports.len(),
            stages: g.topology.stages.len(),
            routes: g.topology.routes.len(),
            name: g.name,
            generation: g.generation,
            updated_by: g.updated_by,
            updated_at: g.updated_at,
            state,
            state_message,
            health: g.health.as_ref().map(|h| h.level),
            health_reason: g
                .health
                .map(|h| h.reason)
                .unwrap_or_else(|| "not read yet".into()),
            monthly,
            traffic,
        }
    }
}
