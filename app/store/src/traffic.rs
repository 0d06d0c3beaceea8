//! Traffic read from CloudWatch (`metric_points`) and how far each gateway's reads have come
//! (`metric_reads`): the worker stores each refresh's new periods, health and pages read them.

use crate::sql;
use crate::{Store, StoreResult};
use portico_core::health::StageTraffic;

/// The period of the 30-day view's and the measured cost's points (seconds).
pub const HOUR: i64 = portico_core::cost::measured::HOUR_SECONDS;

/// The day's charts' window, and how far back a first read of five-minute series goes.
pub const DAY: i64 = 24 * HOUR;

/// The 30-day view's and the measured cost's window.
pub const MONTH: i64 = portico_core::cost::measured::WINDOW_HOURS * HOUR;

/// How long five-minute points are kept: a day's chart with a day to spare.
pub const KEPT_SECONDS: i64 = 2 * DAY;

/// How long hourly points are kept: the 30-day view with a day to spare.
pub const KEPT_HOURLY_SECONDS: i64 = MONTH + DAY;

/// The period of the points read (seconds): API Gateway's metrics are per minute; five
/// minutes is the health threshold's window and the shortest refresh.
pub const PERIOD: i64 = 300;

/// How long after a period ends it is first read: CloudWatch counts a minute or two late,
/// and a period read half-filled would be judged on a fraction of its requests.
pub const SETTLE_SECONDS: i64 = 180;

/// The end (exclusive) of the periods a read at `now` asks for: the start of the period that
/// `SETTLE_SECONDS` ago fell in.
pub fn read_end(now: i64) -> i64 {
    settled_end(now, PERIOD)
}

/// The same for periods of `period` seconds (the hourly points).
pub fn settled_end(now: i64, period: i64) -> i64 {
    let settled = now - SETTLE_SECONDS;
    settled - settled.rem_euclid(period)
}

/// One value of one series for the period starting at `at` (unix seconds).
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub series: String,
    pub period: i64,
    pub at: i64,
    pub value: f64,
}

/// A gateway's CloudWatch reads so far.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Reads {
    /// Periods before this (unix seconds) have been read: what health needs.
    pub read_until: i64,
    /// The same for the five-minute series read once an hour.
    pub extras_read_until: i64,
    /// The same for the hourly points (`HOUR`).
    pub points_read_until: i64,
    /// What the cursors are for (a fingerprint of the resources read).
    pub resources: String,
    pub asked_at: i64,
    pub error: Option<String>,
    /// How many times points or an error were stored after the first (several times for one
    /// read: its five-minute points, then each of its ten-day hourly calls): it changes with
    /// every write of the gateway's points, so what is drawn from them can be kept under it.
    pub writes: i64,
    /// When the gateway was made: with the rest, it tells a gateway from a later one given
    /// the same id.
    pub gateway_created_at: i64,
}

/// A CloudWatch (metric, statistic), as read and stored: a stage's, the load balancer's, a target group's.
pub type MetricStat = (&'static str, &'static str);

pub const REQUESTS: MetricStat = ("Count", "Sum");
pub const ERRORS_4XX: MetricStat = ("4XXError", "Sum");
pub const ERRORS_5XX: MetricStat = ("5XXError", "Sum");
pub const LATENCY_P50: MetricStat = ("Latency", "p50");
pub const LATENCY_P90: MetricStat = ("Latency", "p90");
pub const LATENCY_P99: MetricStat = ("Latency", "p99");
/// The backend's share of the latency (API Gateway to the NLB and back).
pub const INTEGRATION_P50: MetricStat = ("IntegrationLatency", "p50");
pub const INTEGRATION_P90: MetricStat = ("IntegrationLatency", "p90");
pub const INTEGRATION_P99: MetricStat = ("IntegrationLatency", "p99");

/// The load balancer's and its target groups' CloudWatch (metric, statistic), read hourly.
pub const PROCESSED_BYTES: MetricStat = ("ProcessedBytes", "Sum");
pub const NEW_FLOWS: MetricStat = ("NewFlowCount", "Sum");
pub const ACTIVE_FLOWS: MetricStat = ("ActiveFlowCount", "Average");
pub const HEALTHY_HOSTS: MetricStat = ("HealthyHostCount", "Minimum");
pub const UNHEALTHY_HOSTS: MetricStat = ("UnHealthyHostCount", "Maximum");

/// The series the gateway's load balancer's `metric` / `statistic` is stored under.
pub fn load_balancer_series(metric: &str, statistic: &str) -> String {
    format!("lb/{metric}/{statistic}")
}

/// The series the target group of backend `port`'s `metric` / `statistic` is stored under.
pub fn port_series(port: u32, metric: &str, statistic: &str) -> String {
    format!("port/{port}/{metric}/{statistic}")
}

/// The series a stage's `metric` / `statistic` is stored under.
pub fn stage_series(stage: &str, metric: &str, statistic: &str) -> String {
    format!("stage/{stage}/{metric}/{statistic}")
}

/// A stage's series read back: (stage, metric, statistic). Stage names hold no `/`.
pub fn parse_stage_series(series: &str) -> Option<(&str, &str, &str)> {
    let mut parts = series.strip_prefix("stage/")?.splitn(3, '/');
    Some((parts.next()?, parts.next()?, parts.next()?))
}

impl Reads {
    /// Whether the cursors are for `resources`. Reads from before fingerprints (none kept)
    /// count as for the resources read now (`record` and `record_error` say the same in SQL).
    pub fn is_for(&self, resources: &str) -> bool {
        self.resources.is_empty() || self.resources == resources
    }

    /// Which reads a value worked out from the gateway's points came from: the part of its
    /// key (`Store::kept_or`) that moves with every stored read. The gateway's making too: a
    /// deleted gateway's id can be a new one's.
    pub fn stamp(&self) -> String {
        format!(
            "made at {} after {} writes, the last at {}",
            self.gateway_created_at, self.writes, self.asked_at
        )
    }
}

/// `Reads`' columns, from `metric_reads r JOIN gateways g`.
const READS_COLUMNS: &str = "r.read_until, r.extras_read_until, r.points_read_until, r.resources, \
     r.asked_at, r.error, r.writes, g.created_at AS gateway_created_at";

pub async fn reads(db: &Store, gateway: i64) -> StoreResult<Option<Reads>> {
    Ok(sql::query_as::<Reads>(&format!(
        "SELECT {READS_COLUMNS} FROM metric_reads r JOIN gateways g ON g.id = r.gateway_id \
         WHERE r.gateway_id = ?"
    ))
    .bind(gateway)
    .fetch_optional(&db.pool)
    .await?)
}

/// `reads` of each of `gateways` that has been read, by gateway, in one query.
pub async fn reads_of(
    db: &Store,
    gateways: &[i64],
) -> StoreResult<std::collections::HashMap<i64, Reads>> {
    if gateways.is_empty() {
        return Ok(Default::default());
    }
    let marks = vec!["?"; gateways.len()].join(", ");
    let sql = format!(
        "SELECT r.gateway_id, {READS_COLUMNS} FROM metric_reads r \
         JOIN gateways g ON g.id = r.gateway_id WHERE r.gateway_id IN ({marks})"
    );
    #[derive(sqlx::FromRow)]
    struct Of {
        gateway_id: i64,
        #[sqlx(flatten)]
        reads: Reads,
    }
    let mut query = sql::query_as::<Of>(&sql);
    for id in gateways {
        query = query.bind(id);
    }
    Ok(query
        .fetch_all(&db.pool)
        .await?
        .into_iter()
        .map(|of| (of.gateway_id, of.reads))
        .collect())
}

/// How far a refresh read, for each of its cursors it moved (`None`: left as it was, or 0
/// when the reads were for other resources), and which resources it read
/// (`Reads::resources`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadUpTo {
    /// The five-minute series health needs.
    pub every: Option<i64>,
    /// The charts' other five-minute series.
    pub extras: Option<i64>,
    /// The hourly points.
    pub points: Option<i64>,
    pub resources: String,
}

/// Points written per statement (5 values each, well within SQLite's limit on variables).
const ROWS_PER_INSERT: usize = 200;

/// Stores a read: its points (a period read again replaces what was there, since
/// CloudWatch fills a recent period in late), how far it read, and prunes what is past
/// `KEPT_SECONDS` (hourly points: `KEPT_HOURLY_SECONDS`). All or nothing.
pub async fn record(
    db: &Store,
    gateway: i64,
    points: &[Point],
    read: &ReadUpTo,
    now: i64,
) -> StoreResult<()> {
    let mut tx = db.write().await?;
    for rows in points.chunks(ROWS_PER_INSERT) {
        let values = vec!["(?, ?, ?, ?, ?)"; rows.len()].join(", ");
        let sql = format!(
            "INSERT INTO metric_points (gateway_id, series, period, at, value) VALUES {values} \
             ON CONFLICT (gateway_id, series, period, at) DO UPDATE SET value = excluded.value"
        );
        let mut insert = sql::query(&sql);
        for p in rows {
            insert = insert
                .bind(gateway)
                .bind(&p.series)
                .bind(p.period)
                .bind(p.at)
                .bind(p.value);
        }
        insert.execute(&mut tx).await?;
    }
    // A cursor not moved stays, unless the reads were for other resources: then it is 0.
    sql::query(
        "INSERT INTO metric_reads \
         (gateway_id, read_until, extras_read_until, points_read_until, resources, asked_at, error) \
         VALUES (?1, COALESCE(?2, 0), COALESCE(?3, 0), COALESCE(?4, 0), ?5, ?6, NULL) \
         ON CONFLICT (gateway_id) DO UPDATE SET \
         read_until = COALESCE(?2, CASE WHEN metric_reads.resources IN (?5, '') \
             THEN metric_reads.read_until ELSE 0 END), \
         extras_read_until = COALESCE(?3, CASE WHEN metric_reads.resources IN (?5, '') \
             THEN metric_reads.extras_read_until ELSE 0 END), \
         points_read_until = COALESCE(?4, CASE WHEN metric_reads.resources IN (?5, '') \
             THEN metric_reads.points_read_until ELSE 0 END), \
         resources = ?5, asked_at = ?6, error = NULL, writes = metric_reads.writes + 1",
    )
    .bind(gateway)
    .bind(read.every)
    .bind(read.extras)
    .bind(read.points)
    .bind(&read.resources)
    .bind(now)
    .execute(&mut tx)
    .await?;
    sql::query(
        "DELETE FROM metric_points WHERE gateway_id = ? AND \
         ((period < ? AND at < ?) OR at < ?)",
    )
    .bind(gateway)
    .bind(HOUR)
    .bind(now - KEPT_SECONDS)
    .bind(now - KEPT_HOURLY_SECONDS)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A refresh that failed: asked now, and why. Its cursors stay, unless it was for other
/// `resources` than they are: then they start over, for those resources (so a failing read
/// waits for the interval like any other, and the next good one reads their past).
pub async fn record_error(
    db: &Store,
    gateway: i64,
    error: &str,
    resources: &str,
    now: i64,
) -> StoreResult<()> {
    let mut tx = db.write().await?;
    sql::query(
        "INSERT INTO metric_reads (gateway_id, read_until, resources, asked_at, error) \
         VALUES (?1, 0, ?2, ?3, ?4) \
         ON CONFLICT (gateway_id) DO UPDATE SET \
         read_until = CASE WHEN metric_reads.resources IN (?2, '') \
           THEN metric_reads.read_until ELSE 0 END, \
         extras_read_until = CASE WHEN metric_reads.resources IN (?2, '') \
           THEN metric_reads.extras_read_until ELSE 0 END, \
         points_read_until = CASE WHEN metric_reads.resources IN (?2, '') \
           THEN metric_reads.points_read_until ELSE 0 END, \
         resources = ?2, asked_at = ?3, error = ?4, writes = metric_reads.writes + 1",
    )
    .bind(gateway)
    .bind(resources)
    .bind(now)
    .bind(error)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A gateway's points of `period` since `since`, by series then time.
pub async fn points(db: &Store, gateway: i64, period: i64, since: i64) -> StoreResult<Vec<Point>> {
    let rows: Vec<(String, i64, i64, f64)> = sql::query_as(
        "SELECT series, period, at, value FROM metric_points \
         WHERE gateway_id = ? AND period = ? AND at >= ? ORDER BY series, at",
    )
    .bind(gateway)
    .bind(period)
    .bind(since)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(series, period, at, value)| Point {
            series,
            period,
            at,
            value,
        })
        .collect())
}

/// Each stage's latest period of `period` seconds with requests counted since `since`: its
/// requests and 5xx answers (none counted is 0), for health.
pub async fn latest_traffic(
    db: &Store,
    gateway: i64,
    period: i64,
    since: i64,
) -> StoreResult<Vec<StageTraffic>> {
    let points = points(db, gateway, period, since).await?;
    let mut latest: std::collections::BTreeMap<&str, (i64, f64)> = Default::default();
    for p in &points {
        if let Some((stage, metric, statistic)) = parse_stage_series(&p.series) {
            if (metric, statistic) != REQUESTS {
                continue;
            }
            let seen = latest.entry(stage).or_insert((p.at, p.value));
            if p.at >= seen.0 {
                *seen = (p.at, p.value);
            }
        }
    }
    Ok(latest
        .into_iter()
        .map(|(stage, (at, requests))| {
            let errors = stage_series(stage, ERRORS_5XX.0, ERRORS_5XX.1);
            let errors_5xx = points
                .iter()
                .find(|p| p.series == errors && p.at == at)
                .map_or(0.0, |p| p.value);
            StageTraffic {
                stage: stage.to_owned(),
                at,
                period_seconds: period,
                requests,
                errors_5xx,
            }
        })
        .collect())
}

/// The gateway's hours in [`since`, `until`) as the measured cost counts them: every stage's
/// requests, the load balancer's bytes and flows (values rounded to whole counts; an hour with
/// nothing counted is absent), and the first hour with any point at all, if there is one.
pub async fn measured_hours(
    db: &Store,
    gateway: i64,
    since: i64,
    until: i64,
) -> StoreResult<(Vec<portico_core::cost::measured::Hour>, Option<i64>)> {
    use portico_core::cost::measured::Hour;
    let first: Option<i64> = sql::query_scalar(
        "SELECT MIN(at) FROM metric_points WHERE gateway_id = ? AND period = ? AND at >= ? AND at < ?",
    )
    .bind(gateway)
    .bind(HOUR)
    .bind(since)
    .bind(until)
    .fetch_one(&db.pool)
    .await?;
    // Only the series counted: every stage's requests and the load balancer's three.
    let rows: Vec<(String, i64, f64)> = sql::query_as(
        "SELECT series, at, value FROM metric_points WHERE gateway_id = ? AND period = ? \
         AND at >= ? AND at < ? AND (series LIKE ? OR series IN (?, ?, ?))",
    )
    .bind(gateway)
    .bind(HOUR)
    .bind(since)
    .bind(until)
    .bind(stage_series("%", REQUESTS.0, REQUESTS.1))
    .bind(load_balancer_series(PROCESSED_BYTES.0, PROCESSED_BYTES.1))
    .bind(load_balancer_series(NEW_FLOWS.0, NEW_FLOWS.1))
    .bind(load_balancer_series(ACTIVE_FLOWS.0, ACTIVE_FLOWS.1))
    .fetch_all(&db.pool)
    .await?;
    let points: Vec<Point> = rows
        .into_iter()
        .map(|(series, at, value)| Point {
            series,
            period: HOUR,
            at,
            value,
        })
        .collect();
    let mut hours: std::collections::BTreeMap<i64, Hour> = Default::default();
    for p in &points {
        let whole = if p.value.is_finite() && p.value > 0.0 {
            // `as` saturates: a value past u64 is u64::MAX, not a wrap.
            p.value.round() as u64
        } else {
            0
        };
        let field = if let Some((_, metric, statistic)) = parse_stage_series(&p.series) {
            ((metric, statistic) == REQUESTS).then_some(0)
        } else if p.series == load_balancer_series(PROCESSED_BYTES.0, PROCESSED_BYTES.1) {
            Some(1)
        } else if p.series == load_balancer_series(NEW_FLOWS.0, NEW_FLOWS.1) {
            Some(2)
        } else if p.series == load_balancer_series(ACTIVE_FLOWS.0, ACTIVE_FLOWS.1) {
            Some(3)
        } else {
            None
        };
        let Some(field) = field else { continue };
        let hour = hours.entry(p.at).or_insert(Hour {
            at: p.at,
            ..Hour::default()
        });
        let slot = match field {
            0 => &mut hour.requests,
            1 => &mut hour.bytes,
            2 => &mut hour.new_flows,
            _ => &mut hour.active_flows,
        };
        *slot = slot.saturating_add(whole);
    }
    Ok((hours.into_values().collect(), first))
}

/// Each of `gateways`' requests per hour since `since` (every stage's `Count` summed), by
/// gateway: the overview's sparklines, in one query for a page of gateways.
pub async fn hourly_requests(
    db: &Store,
    gateways: &[i64],
    since: i64,
) -> StoreResult<std::collections::HashMap<i64, Vec<(i64, f64)>>> {
    let mut by_gateway: std::collections::HashMap<i64, Vec<(i64, f64)>> = Default::default();
    if gateways.is_empty() {
        return Ok(by_gateway);
    }
    let marks = vec!["?"; gateways.len()].join(", ");
    let sql = format!(
        "SELECT gateway_id, at, SUM(value) FROM metric_points \
         WHERE gateway_id IN ({marks}) AND period = ? AND at >= ? AND series LIKE ? \
         GROUP BY gateway_id, at ORDER BY gateway_id, at"
    );
    let mut query = sql::query_as::<(i64, i64, f64)>(&sql);
    for id in gateways {
        query = query.bind(id);
    }
    let rows = query
        .bind(HOUR)
        .bind(since)
        .bind(stage_series("%", REQUESTS.0, REQUESTS.1))
        .fetch_all(&db.pool)
        .await?;
    for (gateway, at, requests) in rows {
        by_gateway.entry(gateway).or_default().push((at, requests));
    }
    Ok(by_gateway)
}
