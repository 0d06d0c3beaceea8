//! Traffic read from CloudWatch (`metric_points`) and how far each gateway's reads have come
//! (`metric_reads`): the worker stores each refresh's new periods, health and pages read them.

use crate::{Store, StoreResult};
use portico_core::health::StageTraffic;

/// How long points are kept: a day's chart with a day to spare.
pub const KEPT_SECONDS: i64 = 2 * 24 * 3600;

/// The period of the points read (seconds): API Gateway's metrics are per minute; five
/// minutes is the health threshold's window and the shortest refresh.
pub const PERIOD: i64 = 300;

/// How long after a period ends it is first read: CloudWatch counts a minute or two late,
/// and a period read half-filled would be judged on a fraction of its requests.
pub const SETTLE_SECONDS: i64 = 180;

/// The end (exclusive) of the periods a read at `now` asks for: the start of the period that
/// `SETTLE_SECONDS` ago fell in.
pub fn read_end(now: i64) -> i64 {
    let settled = now - SETTLE_SECONDS;
    settled - settled.rem_euclid(PERIOD)
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reads {
    /// Periods before this (unix seconds) have been read: what health needs.
    pub read_until: i64,
    /// The same for the series read once an hour.
    pub hourly_read_until: i64,
    pub asked_at: i64,
    pub error: Option<String>,
}

/// A stage's CloudWatch (metric, statistic), as read and stored.
pub type StageMetric = (&'static str, &'static str);

pub const REQUESTS: StageMetric = ("Count", "Sum");
pub const ERRORS_4XX: StageMetric = ("4XXError", "Sum");
pub const ERRORS_5XX: StageMetric = ("5XXError", "Sum");
pub const LATENCY_P50: StageMetric = ("Latency", "p50");
pub const LATENCY_P90: StageMetric = ("Latency", "p90");
pub const LATENCY_P99: StageMetric = ("Latency", "p99");

/// The series a stage's `metric` / `statistic` is stored under.
pub fn stage_series(stage: &str, metric: &str, statistic: &str) -> String {
    format!("stage/{stage}/{metric}/{statistic}")
}

/// A stage's series read back: (stage, metric, statistic). Stage names hold no `/`.
pub fn parse_stage_series(series: &str) -> Option<(&str, &str, &str)> {
    let mut parts = series.strip_prefix("stage/")?.splitn(3, '/');
    Some((parts.next()?, parts.next()?, parts.next()?))
}

pub async fn reads(db: &Store, gateway: i64) -> StoreResult<Option<Reads>> {
    let row: Option<(i64, i64, i64, Option<String>)> = sqlx::query_as(
        "SELECT read_until, hourly_read_until, asked_at, error FROM metric_reads \
         WHERE gateway_id = ?",
    )
    .bind(gateway)
    .fetch_optional(&db.pool)
    .await?;
    Ok(
        row.map(|(read_until, hourly_read_until, asked_at, error)| Reads {
            read_until,
            hourly_read_until,
            asked_at,
            error,
        }),
    )
}

/// Stores a refresh: its points (a period read again replaces what was there, since
/// CloudWatch fills a recent period in late), how far it read (the hourly series too, when
/// it read them), and prunes what is past `KEPT_SECONDS`. All or nothing.
pub async fn record(
    db: &Store,
    gateway: i64,
    points: &[Point],
    read_until: i64,
    hourly_read_until: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    let mut tx = db.write().await?;
    for p in points {
        sqlx::query(
            "INSERT INTO metric_points (gateway_id, series, period, at, value) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (gateway_id, series, period, at) DO UPDATE SET value = excluded.value",
        )
        .bind(gateway)
        .bind(&p.series)
        .bind(p.period)
        .bind(p.at)
        .bind(p.value)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO metric_reads (gateway_id, read_until, hourly_read_until, asked_at, error) \
         VALUES (?, ?, COALESCE(?, 0), ?, NULL) \
         ON CONFLICT (gateway_id) DO UPDATE SET read_until = excluded.read_until, \
         hourly_read_until = COALESCE(?, metric_reads.hourly_read_until), \
         asked_at = excluded.asked_at, error = NULL",
    )
    .bind(gateway)
    .bind(read_until)
    .bind(hourly_read_until)
    .bind(now)
    .bind(hourly_read_until)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM metric_points WHERE gateway_id = ? AND at < ?")
        .bind(gateway)
        .bind(now - KEPT_SECONDS)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A refresh that failed: asked now, read no further, and why.
pub async fn record_error(db: &Store, gateway: i64, error: &str, now: i64) -> StoreResult<()> {
    let mut tx = db.write().await?;
    sqlx::query(
        "INSERT INTO metric_reads (gateway_id, read_until, asked_at, error) VALUES (?, 0, ?, ?) \
         ON CONFLICT (gateway_id) DO UPDATE SET asked_at = excluded.asked_at, error = excluded.error",
    )
    .bind(gateway)
    .bind(now)
    .bind(error)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A gateway's points of `period` since `since`, by series then time.
pub async fn points(db: &Store, gateway: i64, period: i64, since: i64) -> StoreResult<Vec<Point>> {
    let rows: Vec<(String, i64, i64, f64)> = sqlx::query_as(
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
