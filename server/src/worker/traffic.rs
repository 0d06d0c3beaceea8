//! A gateway's traffic, read from CloudWatch with a health read when it falls due, and taken
//! into its health: a stage answering too many 5xx is degraded. CloudWatch being unreadable
//! (no permission, a stock emulator, an outage) is recorded and shown, and never keeps health
//! or a reconcile from going on.

use super::Worker;
use crate::aws::call::Caller;
use crate::aws::{metrics, Clients};
use app::error::AppError;
use portico_core::health::Health;
use portico_core::plan::actual::Actual;
use portico_store::metrics as stored;

/// How far back the first read of a gateway goes.
const FIRST_READ_SECONDS: i64 = 24 * 3600;

/// CloudWatch may fill a period in for a few minutes after it ends: each read asks again for
/// the periods this recent.
const LATE_SECONDS: i64 = 2 * metrics::PERIOD;

impl Worker {
    /// Reads the periods of the gateway's stages that ended since the last read, when its
    /// metrics interval has passed.
    pub(super) async fn refresh_traffic(
        &self,
        gateway: i64,
        clients: &Clients,
        caller: &Caller,
        actual: &Actual,
        now: i64,
    ) -> Result<(), AppError> {
        let Some(interval) = self.config.metrics_interval else {
            return Ok(());
        };
        let reads = stored::reads(&self.store, gateway).await?;
        if reads
            .as_ref()
            .is_some_and(|r| now - r.asked_at < interval.as_secs() as i64)
        {
            return Ok(());
        }
        let end = now - now.rem_euclid(metrics::PERIOD);
        let start = match &reads {
            Some(r) if r.read_until > 0 => {
                (r.read_until - LATE_SECONDS).max(end - FIRST_READ_SECONDS)
            }
            _ => end - FIRST_READ_SECONDS,
        };
        let mut points = vec![];
        for api in actual.rest_apis.values() {
            let stages: Vec<String> = api.stages.keys().cloned().collect();
            if stages.is_empty() || start >= end {
                continue;
            }
            match metrics::read_stages(clients, caller, &api.name, &stages, start, end).await {
                Ok(read) => points.extend(read),
                Err(e) => {
                    tracing::warn!(gateway, error = %e, "traffic metrics not read");
                    stored::record_error(&self.store, gateway, &e.to_string(), now).await?;
                    return Ok(());
                }
            }
        }
        stored::record(&self.store, gateway, &points, end, now).await?;
        Ok(())
    }

    /// `health` with each stage's latest period of traffic, when it is recent (the last
    /// three periods): an old figure says nothing about now.
    pub(super) async fn with_traffic(
        &self,
        gateway: i64,
        health: Health,
        now: i64,
    ) -> Result<Health, AppError> {
        if self.config.metrics_interval.is_none() {
            return Ok(health);
        }
        let since = now - now.rem_euclid(metrics::PERIOD) - 3 * metrics::PERIOD;
        let traffic = stored::latest_traffic(&self.store, gateway, metrics::PERIOD, since).await?;
        Ok(portico_core::health::with_traffic(
            health,
            &traffic,
            self.config.error_threshold,
        ))
    }
}
