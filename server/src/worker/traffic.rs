//! A gateway's traffic, read from CloudWatch with a health read when it falls due (five-minute
//! series for health and the day's charts, hourly points for the 30-day view and the measured
//! cost), and taken into its health: a stage answering too many 5xx is degraded. CloudWatch being unreadable
//! (no permission, a stock emulator, an outage) is recorded and shown, and never keeps health
//! or a reconcile from going on.

use super::Worker;
use crate::aws::call::Caller;
use crate::aws::cloudwatch::{hourly_points, MetricStat, CHART_EXTRAS, EVERY_READ};
use crate::aws::{cloudwatch, Clients};
use app::error::AppError;
use portico_core::health::{Health, StageTraffic};
use portico_core::plan::actual::Actual;
use portico_store::traffic as stored;
use std::time::Duration;
use stored::{read_end, settled_end, ReadUpTo, DAY, HOUR, PERIOD};

/// How far back the first read of the hourly points goes: the 30-day view and measured cost.
const MONTH_SECONDS: i64 = portico_core::cost::measured::WINDOW_HOURS * HOUR;

/// The hourly points' first read asks for this much a call (and keeps each).
const CHUNK_SECONDS: i64 = 10 * DAY;

/// Hourly points asked for again at each hourly read (CloudWatch fills them in late too).
const LATE_HOURS: i64 = 2;

/// CloudWatch may fill a period in late, and this server's clock may run ahead of AWS's:
/// each read asks again for the last three periods it read.
const LATE_SECONDS: i64 = 3 * PERIOD;

/// How recent a stage's latest period must be to count for health: an old figure says
/// nothing about now.
const RECENT_PERIODS: i64 = 3;

/// A call gives up after this long (CloudWatch slow or unreachable) and after one retry, and
/// the hourly points' calls after twice that in all, so a read never holds the gateway's
/// reconciles back for long; the next read asks again.
const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// `read` within `limit`, its failure in words.
async fn bounded(
    read: impl std::future::Future<Output = Result<Vec<stored::Point>, crate::aws::call::AwsError>>,
    limit: Duration,
) -> Result<Vec<stored::Point>, String> {
    match tokio::time::timeout(limit, read).await {
        Ok(Ok(points)) => Ok(points),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "CloudWatch did not answer within {} s",
            limit.as_secs()
        )),
    }
}

impl Worker {
    /// When the metrics interval has passed since the last read (or what there is to read
    /// changed: a stage, the load balancer, a target group): reads the stages of the gateway's
    /// REST API for the periods that settled since then (`read_end`), the last three read
    /// again, or the last day at first; what health needs every time, the charts' other
    /// series once an hour; and once an hour the hourly points of the stages, the load
    /// balancer and its target groups (the last 30 days at first). A failure is logged and
    /// recorded, never returned: traffic never stops a health read.
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
            let end = read_end(now);
            let points_end = settled_end(now, HOUR);
            // From where a series read up to `until` (0: never) is asked for again: the last
            // periods again (CloudWatch fills them in late), or the whole view at first.
            let from = |until: i64, late: i64, first: i64, end: i64| {
                if until > 0 {
                    (until - late).max(end - first)
                } else {
                    end - first
                }
            };
            // The REST API health judges (its name, as Portico gave it or adopted it); another
            // API with the same stage names is not this gateway's traffic.
            let name = portico_core::plan::names::rest_api(gateway);
            let stages: Vec<String> = actual
                .rest_apis
                .values()
                .find(|a| a.name == name)
                .map(|a| a.stages.keys().cloned().collect())
                .unwrap_or_default();
            // The gateway's load balancer and the target groups its listeners forward to (not
            // every owned group: a network being replaced has two for a port).
            let lb_name = portico_core::plan::names::load_balancer(gateway);
            let network = actual
                .load_balancers
                .values()
                .find(|lb| lb.name == lb_name)
                .map(|lb| {
                    let groups: Vec<(u32, String)> = lb
                        .listeners
                        .iter()
                        .filter_map(|(port, l)| Some((*port, l.target_group_arn.clone()?)))
                        .collect();
                    cloudwatch::network_queries(&lb.arn, &groups)
                })
                .unwrap_or_default();
            // What the cursors are for: a stage, load balancer or target group that is new
            // since (or replaced) has its past read too, so every cursor starts over.
            let resources = resources(&name, &stages, &network);
            // The reads so far, if they were of these resources (else every cursor starts over).
            let same = reads.as_ref().filter(|r| r.is_for(&resources));
            let (until, extras_until, points_until) = same.map_or((0, 0, 0), |r| {
                (r.read_until, r.extras_read_until, r.points_read_until)
            });
            // The five-minute series once an interval, or at once when what is read changed.
            let interval = i64::try_from(interval.as_secs()).unwrap_or(i64::MAX);
            let five_minutes_due = same.is_none_or(|r| now - r.asked_at >= interval);
            // The hourly points once an hour has settled. A read of them cut short (the worker
            // turned to an edit, or the read ran out of time) goes on from where it stopped at
            // the next health read; after CloudWatch failed, at the next interval.
            let hourly_due = points_end - points_until >= HOUR
                && same.is_none_or(|r| r.error.is_none() || now - r.asked_at >= interval);
            if !five_minutes_due && !hourly_due {
                return Ok(());
            }
            let caller = Caller {
                retry: crate::aws::call::Retry {
                    attempts: 2,
                    ..caller.retry
                },
                ..caller.clone()
            };
            let mut error = None;
            // The five-minute series: what health needs, and once an hour the charts' extras
            // in the same call, from the earlier start (CloudWatch bills metrics asked for,
            // not points).
            let extras = end - extras_until >= HOUR;
            let (metrics, start): (Vec<MetricStat>, i64) = if extras {
                let all = EVERY_READ
                    .iter()
                    .chain(CHART_EXTRAS.iter())
                    .copied()
                    .collect();
                let start = from(until, LATE_SECONDS, DAY, end).min(from(
                    extras_until,
                    LATE_SECONDS,
                    DAY,
                    end,
                ));
                (all, start)
            } else {
                (EVERY_READ.to_vec(), from(until, LATE_SECONDS, DAY, end))
            };
            let five_minutes = cloudwatch::stage_queries(&name, &stages, &metrics, PERIOD);
            if five_minutes_due && !five_minutes.is_empty() && start < end {
                let read = cloudwatch::read(clients, &caller, &five_minutes, start, end);
                match bounded(read, READ_TIMEOUT).await {
                    Ok(points) => {
                        let read = ReadUpTo {
                            every: Some(end),
                            extras: extras.then_some(end),
                            points: None,
                            resources: resources.clone(),
                        };
                        stored::record(&self.store, gateway_id, &points, &read, now).await?;
                    }
                    Err(e) => error = Some(e),
                }
            }
            // The hourly points, once an hour, in their own calls: the stages' and the load
            // balancer's, a few days a call at first (kept as each arrives), so a slow first
            // read never costs health its five-minute figures.
            let mut hourly: Vec<cloudwatch::Query> = vec![];
            if error.is_none() && hourly_due {
                hourly = cloudwatch::stage_queries(&name, &stages, &hourly_points(), HOUR);
                hourly.extend(network);
            }
            let deadline = tokio::time::Instant::now() + 2 * READ_TIMEOUT;
            let mut chunk = from(points_until, LATE_HOURS * HOUR, MONTH_SECONDS, points_end);
            while !hourly.is_empty() && chunk < points_end {
                let chunk_end = (chunk + CHUNK_SECONDS).min(points_end);
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                if left.is_zero() {
                    break; // the rest at the next read
                }
                let read = cloudwatch::read(clients, &caller, &hourly, chunk, chunk_end);
                match bounded(read, left.min(READ_TIMEOUT)).await {
                    Ok(points) => {
                        let read = ReadUpTo {
                            every: None,
                            extras: None,
                            points: Some(chunk_end),
                            resources: resources.clone(),
                        };
                        stored::record(&self.store, gateway_id, &points, &read, now).await?;
                    }
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
                chunk = chunk_end;
            }
            if let Some(error) = error {
                // What failed is asked for again at the next read.
                tracing::warn!(gateway = gateway_id, error = %error, "traffic metrics not read");
                stored::record_error(&self.store, gateway_id, &error, &resources, now).await?;
            }
            Ok::<(), AppError>(())
        };
        if let Err(e) = read.await {
            tracing::warn!(gateway = gateway_id, error = %e, "traffic metrics not stored");
        }
    }

    /// `health` with each stage's latest period of traffic, when it is one of the last
    /// `RECENT_PERIODS` periods read, once CloudWatch has been read: a stage of the topology
    /// without one counts as no requests (so its history does not stay on an old incident).
    /// Public for the tests, which judge at a later `now` than the read.
    pub async fn health_with_traffic(
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
        let Some(read) = stored::reads(&self.store, gateway)
            .await?
            .filter(|r| r.read_until > 0)
        else {
            return Ok(health);
        };
        // The latest periods read, not the latest by the clock: while CloudWatch cannot be
        // read (or between reads further apart than the window), a stage keeps the verdict of
        // the last figures there are, with their time in its reason, instead of turning
        // healthy for want of figures.
        let since = read.read_until.min(read_end(now)) - RECENT_PERIODS * PERIOD;
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

/// A fingerprint of the series a gateway's reads are for: the API and its stages, the load
/// balancer's and target groups' dimensions.
fn resources(api: &str, stages: &[String], network: &[cloudwatch::Query]) -> String {
    let mut names: Vec<String> = stages.iter().map(|s| format!("stage {api} {s}")).collect();
    names.extend(
        network
            .iter()
            .map(|q| format!("{} {:?}", q.series, q.dimensions)),
    );
    names.sort();
    format!(
        "{:016x}",
        portico_core::plan::names::fnv1a64(names.join("\n").as_bytes())
    )
}
