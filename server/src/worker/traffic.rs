//! A gateway's traffic, read from CloudWatch with a health read when it falls due, and taken
//! into its health: a stage answering too many 5xx is degraded. CloudWatch being unreadable
//! (no permission, a stock emulator, an outage) is recorded and shown, and never keeps health
//! or a reconcile from going on.

use super::Worker;
use crate::aws::call::Caller;
use crate::aws::cloudwatch::{StageMetric, EVERY_READ, HOURLY};
use crate::aws::{cloudwatch, Clients};
use app::error::AppError;
use portico_core::health::{Health, StageTraffic};
use portico_core::plan::actual::Actual;
use portico_store::traffic as stored;
use std::time::Duration;
use stored::{read_end, PERIOD};

/// How far back the first read of a gateway goes: the charts' day.
const FIRST_READ_SECONDS: i64 = 24 * 3600;

/// CloudWatch may fill a period in late, and this server's clock may run ahead of AWS's:
/// each read asks again for the last three periods it read.
const LATE_SECONDS: i64 = 3 * PERIOD;

/// How recent a stage's latest period must be to count for health: an old figure says
/// nothing about now.
const RECENT_PERIODS: i64 = 3;

/// How often the series health does not need (`cloudwatch::HOURLY`) are read.
const HOURLY_SECONDS: i64 = 3600;

/// A read gives up after this long (CloudWatch slow or unreachable) and after one retry, so
/// it never holds the gateway's reconciles back for long; the next read asks again.
const READ_TIMEOUT: Duration = Duration::from_secs(20);

impl Worker {
    /// When the metrics interval has passed since the last read: reads the stages of the
    /// gateway's REST API for the periods that settled since then (`read_end`), the last three
    /// read again, or the last day at first; what health needs every time, the rest once an
    /// hour. A failure is logged and recorded, never returned:
    /// traffic never stops a health read.
    pub(super) async fn refresh_traffic(
        &self,
        gateway: &portico_core::model::topology::Gateway,
        gateway_id: i64,
        clients: &Clients,
        caller: &Caller,
        actual: &Actual,
        now: i64,
    ) {
        let read = async {
            let Some(interval) = self.config.metrics_interval else {
                return Ok::<(), AppError>(());
            };
            let reads = stored::reads(&self.store, gateway_id).await?;
            let interval = i64::try_from(interval.as_secs()).unwrap_or(i64::MAX);
            if reads.as_ref().is_some_and(|r| now - r.asked_at < interval) {
                return Ok(());
            }
            let end = read_end(now);
            // From where a series read up to `until` (0: never) is asked for again.
            let from = |until: i64| {
                if until > 0 {
                    (until - LATE_SECONDS).max(end - FIRST_READ_SECONDS)
                } else {
                    end - FIRST_READ_SECONDS
                }
            };
            let (until, hourly_until) = reads
                .as_ref()
                .map_or((0, 0), |r| (r.read_until, r.hourly_read_until));
            // The charts' other series, once an hour: one call asks for both sets, from the
            // earlier start (CloudWatch bills metrics asked for, not points).
            let hourly = end - hourly_until >= HOURLY_SECONDS;
            let (metrics, start): (Vec<StageMetric>, i64) = if hourly {
                let all = EVERY_READ.iter().chain(HOURLY.iter()).copied().collect();
                (all, from(until).min(from(hourly_until)))
            } else {
                (EVERY_READ.to_vec(), from(until))
            };
            if start >= end {
                return Ok(());
            }
            // The REST API health judges (its name, as Portico gave it or adopted it); another
            // API with the same stage names is not this gateway's traffic.
            let name = portico_core::plan::names::rest_api(gateway);
            let stages: Vec<String> = actual
                .rest_apis
                .values()
                .find(|a| a.name == name)
                .map(|a| a.stages.keys().cloned().collect())
                .unwrap_or_default();
            if stages.is_empty() {
                return Ok(());
            }
            let caller = Caller {
                retry: crate::aws::call::Retry {
                    attempts: 2,
                    ..caller.retry
                },
                ..caller.clone()
            };
            let read =
                cloudwatch::read_stages(clients, &caller, &name, &stages, &metrics, start, end);
            let error = match tokio::time::timeout(READ_TIMEOUT, read).await {
                Ok(Ok(points)) => {
                    let hourly_until = hourly.then_some(end);
                    stored::record(&self.store, gateway_id, &points, end, hourly_until, now)
                        .await?;
                    return Ok(());
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!(
                    "CloudWatch did not answer within {} s",
                    READ_TIMEOUT.as_secs()
                ),
            };
            // Nothing of this read is kept: the next one asks for the same periods.
            tracing::warn!(gateway = gateway_id, error = %error, "traffic metrics not read");
            stored::record_error(&self.store, gateway_id, &error, now).await?;
            Ok::<(), AppError>(())
        };
        if let Err(e) = read.await {
            tracing::warn!(gateway = gateway_id, error = %e, "traffic metrics not stored");
        }
    }

    /// `health` with each stage's latest period of traffic, when it is one of the last
    /// `RECENT_PERIODS` read, once CloudWatch has been read: a stage of the topology without
    /// one counts as no requests (so its history does not stay on an old incident).
    pub(super) async fn health_with_traffic(
        &self,
        gateway: i64,
        topology: &portico_core::model::topology::Topology,
        health: Health,
        now: i64,
    ) -> Result<Health, AppError> {
        if self.config.metrics_interval.is_none() {
            return Ok(health);
        }
        // Never read (yet, or CloudWatch refuses): nothing to say about traffic.
        let read = stored::reads(&self.store, gateway).await?;
        if read.is_none_or(|r| r.read_until == 0) {
            return Ok(health);
        }
        let since = read_end(now) - RECENT_PERIODS * PERIOD;
        let mut traffic = stored::latest_traffic(&self.store, gateway, PERIOD, since).await?;
        for stage in &topology.stages {
            if !traffic.iter().any(|t| t.stage == stage.name) {
                traffic.push(StageTraffic {
                    stage: stage.name.clone(),
                    at: since,
                    period_seconds: PERIOD,
                    requests: 0.0,
                    errors_5xx: 0.0,
                });
            }
        }
        Ok(portico_core::health::with_traffic(
            health,
            &traffic,
            self.config.error_threshold,
        ))
    }
}
