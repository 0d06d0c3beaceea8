//! The cost tab's measured side: the last 30 days as CloudWatch counted them, at the prices of
//! the estimate (`portico_core::cost::measured`).

use crate::error::AppError;
use leptos::prelude::*;
use portico_core::cost::measured::Measured;

/// The gateway's last 30 days as measured, or none when no hourly traffic has been read yet.
#[server(prefix = "/api", endpoint = "gateway_measured_cost")]
pub async fn gateway_measured_cost(name: String) -> Result<Option<Measured>, AppError> {
    let (_, state) =
        crate::api::context::require(portico_core::model::Role::Viewer, "read gateways").await?;
    ssr::measured_cost(&state.store, &name, portico_store::now_unix()).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use portico_core::cost::measured::{measured, Hour};
    use portico_store::traffic::{measured_hours, reads, settled_end, HOUR, MONTH};
    use portico_store::Store;

    /// The hours read from CloudWatch (never one not read yet: it would count as no traffic)
    /// that settled by `now`, from the first one with data, at most 30 days back.
    pub async fn measured_cost(
        db: &Store,
        name: &str,
        now: i64,
    ) -> Result<Option<Measured>, AppError> {
        let g = portico_store::gateways::load(db, name).await?;
        let Some(reads) = reads(db, g.id).await? else {
            return Ok(None);
        };
        let until = settled_end(now, HOUR).min(reads.points_read_until);
        let since = settled_end(now, HOUR) - MONTH;
        // A month of hourly points changes once an hour: read (and summed by hour) once for
        // each stored read and kept, not on every look at the tab.
        let key = format!(
            "measured hours: gateway {} from {since} to {until} {}",
            g.id,
            reads.stamp()
        );
        let kept = db
            .kept_or(&key, || async {
                let (hours, first) = measured_hours(db, g.id, since, until).await?;
                let weight = (hours.len() * std::mem::size_of::<Hour>()) as u64;
                Ok::<_, AppError>(((hours, first), weight))
            })
            .await?;
        let (hours, first) = kept.as_ref();
        let Some(first) = *first else {
            return Ok(None);
        };
        let region = &g.topology.gateway.region;
        let (prices, exact) = portico_store::prices::for_region(db, region).await?;
        Ok(Some(measured(
            &g.topology,
            hours,
            first.max(since),
            until,
            &prices,
            exact,
        )))
    }
}
