//! Each gateway's observed state and health: one `gateway_status` row per gateway (the worker's
//! word for it, a message, the last observation of AWS, failures in a row, the latest health
//! assessment) and `health_events`, the history of each resource's health, kept a week.

use crate::error::encode;
use crate::sql;
use crate::{now_unix, Store, StoreError, StoreResult};
use portico_core::alerts::Kind;
use portico_core::health::{Health, Level};
use portico_core::model::keys::format_timestamp;
use portico_core::plan::actual::Actual;
use portico_core::plan::lifecycle::GatewayState;

/// How long health history is kept.
pub const HEALTH_KEPT_SECONDS: i64 = 7 * 24 * 3600;

/// What the worker last saw of a gateway.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    pub state: GatewayState,
    pub message: String,
    /// When AWS was last observed, UTC, `YYYY-MM-DD HH:MM:SS`.
    pub observed_at: Option<String>,
    /// AWS as last observed.
    pub actual: Option<Actual>,
}

/// The latest health assessment and when it was read (UTC, `YYYY-MM-DD HH:MM:SS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatestHealth {
    pub health: Health,
    pub read_at: String,
}

/// A resource's health changed (level or reason) at `at` (unix seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthEvent {
    pub resource: String,
    pub at: i64,
    pub level: Level,
    pub reason: String,
}

const LEVELS: [Level; 5] = [
    Level::Healthy,
    Level::Pending,
    Level::Degraded,
    Level::Unknown,
    Level::Unhealthy,
];

/// A health level as stored: the variant's name, as the first version wrote it (with `{:?}`);
/// kept so the rows of existing databases read back (and the landing page's ordering by
/// `health_level` still matches).
fn level_word(level: Level) -> &'static str {
    match level {
        Level::Healthy => "Healthy",
        Level::Pending => "Pending",
        Level::Degraded => "Degraded",
        Level::Unknown => "Unknown",
        Level::Unhealthy => "Unhealthy",
    }
}

fn level_of(text: &str) -> StoreResult<Level> {
    LEVELS
        .into_iter()
        .find(|l| level_word(*l) == text)
        .ok_or_else(|| StoreError::internal("stored health level unreadable", text))
}

/// Records the worker's word for the gateway. `actual`, when given, replaces the last
/// observation (and its time); without it (a failed run) the last observation stays.
pub async fn set(
    db: &Store,
    gateway: i64,
    state: GatewayState,
    message: &str,
    actual: Option<&Actual>,
    failures: i64,
) -> StoreResult<()> {
    let json = actual.map(|a| encode("observed state", a)).transpose()?;
    sql::query(
        "INSERT INTO gateway_status (gateway_id, observed_at, actual, state, message, failures) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (gateway_id) DO UPDATE SET \
         observed_at = COALESCE(excluded.observed_at, gateway_status.observed_at), \
         actual = COALESCE(excluded.actual, gateway_status.actual), \
         state = excluded.state, message = excluded.message, failures = excluded.failures",
    )
    .bind(gateway)
    .bind(actual.map(|_| now_unix()))
    .bind(json)
    .bind(state.as_str())
    .bind(message)
    .bind(failures)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Runs failed in a row (the worker's backoff).
pub async fn failures(db: &Store, gateway: i64) -> StoreResult<i64> {
    Ok(
        sql::query_scalar("SELECT failures FROM gateway_status WHERE gateway_id = ?")
            .bind(gateway)
            .fetch_optional(&db.pool)
            .await?
            .unwrap_or(0),
    )
}

/// What the worker last saw of the gateway, if it has looked yet.
pub async fn observed(db: &Store, gateway: i64) -> StoreResult<Option<Observed>> {
    let row: Option<(String, String, Option<i64>, Option<String>)> = sql::query_as(
        "SELECT state, message, observed_at, actual FROM gateway_status WHERE gateway_id = ?",
    )
    .bind(gateway)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|(state, message, observed_at, actual)| {
        Ok(Observed {
            state: crate::error::word("gateway state", &state)?,
            message,
            observed_at: observed_at.map(format_timestamp),
            // An observation an older Portico stored in another shape is not shown; the
            // worker replaces it at its next run.
            actual: actual.and_then(|a| db.decoded::<Actual>("observation", &a).ok()),
        })
    })
    .transpose()
}

/// When AWS was last read successfully for this gateway (unix seconds), if ever.
pub async fn health_read_at(db: &Store, gateway: i64) -> StoreResult<Option<i64>> {
    Ok(sql::query_scalar::<Option<i64>>(
        "SELECT health_at FROM gateway_status WHERE gateway_id = ?",
    )
    .bind(gateway)
    .fetch_optional(&db.pool)
    .await?
    .flatten())
}

/// Health that could not be read: stored as the current picture (with its history row), but
/// the time of the last good read, `read_at`, is kept, so "since when" stays true.
pub async fn record_unreadable(
    db: &Store,
    gateway: i64,
    health: &Health,
    read_at: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    record_health(db, gateway, health, now).await?;
    sql::query("UPDATE gateway_status SET health_at = ? WHERE gateway_id = ?")
        .bind(read_at)
        .bind(gateway)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Stores the latest assessment, a history row for each resource whose level or reason
/// changed, and prunes history past `HEALTH_KEPT_SECONDS`.
pub async fn record_health(db: &Store, gateway: i64, health: &Health, now: i64) -> StoreResult<()> {
    let json = encode("health", health)?;
    let mut tx = db.write().await?;
    let before: Option<Option<String>> =
        sql::query_scalar("SELECT health_level FROM gateway_status WHERE gateway_id = ?")
            .bind(gateway)
            .fetch_optional(&mut tx)
            .await?;
    let now_level = level_word(health.level);
    if let Some(before) = before.flatten().filter(|b| b != now_level) {
        let text = format!(
            "Health went from {before} to {now_level}: {}",
            health.reason
        );
        let event = format!("health:{gateway}:{now}:{now_level}");
        crate::alerts::emit(&mut tx, gateway, Kind::Health, &event, &text).await?;
    }
    sql::query(
        "INSERT INTO gateway_status (gateway_id, state, message, health, health_level, health_at) \
         VALUES (?, ?, 'The worker has not planned for this gateway yet.', ?, ?, ?) \
         ON CONFLICT (gateway_id) DO UPDATE SET health = excluded.health, \
         health_level = excluded.health_level, health_at = excluded.health_at",
    )
    .bind(gateway)
    .bind(GatewayState::Unknown.as_str())
    .bind(&json)
    .bind(now_level)
    .bind(now)
    .execute(&mut tx)
    .await?;
    for part in &health.parts {
        let last: Option<(String, String)> = sql::query_as(
            "SELECT level, reason FROM health_events WHERE gateway_id = ? AND resource = ? \
             ORDER BY at DESC, id DESC LIMIT 1",
        )
        .bind(gateway)
        .bind(&part.resource)
        .fetch_optional(&mut tx)
        .await?;
        let level = level_word(part.level);
        let unchanged = last
            .as_ref()
            .is_some_and(|(l, r)| l == level && *r == part.reason);
        if !unchanged {
            sql::query(
                "INSERT INTO health_events (gateway_id, resource, at, level, reason) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(gateway)
            .bind(&part.resource)
            .bind(now)
            .bind(level)
            .bind(&part.reason)
            .execute(&mut tx)
            .await?;
        }
    }
    sql::query("DELETE FROM health_events WHERE gateway_id = ? AND at < ?")
        .bind(gateway)
        .bind(now - HEALTH_KEPT_SECONDS)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The latest health assessment, if the worker has read one. A stored assessment an older
/// Portico wrote in another shape counts as not read yet: the worker replaces it within one
/// health interval, and a page should not fail meanwhile.
pub async fn latest_health(db: &Store, gateway: i64) -> StoreResult<Option<LatestHealth>> {
    let row: Option<(Option<String>, Option<i64>)> =
        sql::query_as("SELECT health, health_at FROM gateway_status WHERE gateway_id = ?")
            .bind(gateway)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.and_then(|(health, at)| {
        Some(LatestHealth {
            health: serde_json::from_str(&health?).ok()?,
            read_at: at.map(format_timestamp).unwrap_or_default(),
        })
    }))
}

/// The latest health assessment alone (the diagram's colours).
pub async fn health(db: &Store, gateway: i64) -> StoreResult<Option<Health>> {
    Ok(latest_health(db, gateway).await?.map(|h| h.health))
}

/// Health history from `from` on, and for each resource the last change before `from` (its
/// level when the window opens), ordered by resource, then time.
pub async fn health_events(db: &Store, gateway: i64, from: i64) -> StoreResult<Vec<HealthEvent>> {
    let rows: Vec<(String, i64, String, String)> = sql::query_as(
        "SELECT resource, at, level, reason FROM health_events WHERE gateway_id = ?1 \
         AND (at >= ?2 OR id IN (SELECT MAX(id) FROM health_events WHERE gateway_id = ?1 AND at < ?2 GROUP BY resource)) \
         ORDER BY resource, at, id",
    )
    .bind(gateway)
    .bind(from)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|(resource, at, level, reason)| {
            Ok(HealthEvent {
                resource,
                at,
                level: level_of(&level)?,
                reason,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use portico_core::health::Part;

    #[test]
    fn levels_are_stored_as_the_first_version_wrote_them() {
        for level in LEVELS {
            assert_eq!(level_word(level), format!("{level:?}"));
            assert_eq!(level_of(level_word(level)).unwrap(), level);
        }
        assert!(level_of("Fine").is_err());
    }

    fn assessed(level: Level, reason: &str) -> Health {
        Health {
            level,
            reason: reason.into(),
            parts: vec![Part {
                resource: "load balancer".into(),
                level,
                reason: reason.into(),
            }],
        }
    }

    #[tokio::test]
    async fn health_history_keeps_changes_only() {
        let (_held, db) = crate::testing::store().await;
        let gw: i64 = sql::query_scalar(
            "INSERT INTO gateways (name, generation, created_at, created_by) \
             VALUES ('seed', 1, 0, 'test') RETURNING id",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert_eq!(health(&db, gw).await.unwrap(), None);
        record_health(&db, gw, &assessed(Level::Pending, "provisioning"), 100)
            .await
            .unwrap();
        record_health(&db, gw, &assessed(Level::Pending, "provisioning"), 200)
            .await
            .unwrap();
        record_health(&db, gw, &assessed(Level::Healthy, "active"), 300)
            .await
            .unwrap();
        let events = health_events(&db, gw, 0).await.unwrap();
        assert_eq!(
            events.iter().map(|e| (e.at, e.level)).collect::<Vec<_>>(),
            vec![(100, Level::Pending), (300, Level::Healthy)]
        );
        // The window opens after both: the last change before it still says where it began.
        let events = health_events(&db, gw, 400).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].level, Level::Healthy);
        assert_eq!(
            health(&db, gw).await.unwrap().map(|h| h.level),
            Some(Level::Healthy)
        );
        // Health before any plan leaves the state unknown; a failure keeps the observation.
        let seen = observed(&db, gw).await.unwrap().unwrap();
        assert_eq!(seen.state, GatewayState::Unknown);
        set(
            &db,
            gw,
            GatewayState::InSync,
            "ok",
            Some(&Actual::default()),
            0,
        )
        .await
        .unwrap();
        set(&db, gw, GatewayState::Error, "boom", None, 3)
            .await
            .unwrap();
        let seen = observed(&db, gw).await.unwrap().unwrap();
        assert_eq!(seen.state, GatewayState::Error);
        assert!(seen.actual.is_some() && seen.observed_at.is_some());
        assert_eq!(failures(&db, gw).await.unwrap(), 3);
    }
}
