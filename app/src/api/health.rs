//! Health for the pages: the latest assessment and each resource's timeline (last 24 hours).

use crate::error::AppError;
use crate::health::{Health, Level};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub from: i64,
    pub to: i64,
    pub level: Level,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Track {
    pub resource: String,
    pub segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthView {
    pub health: Option<Health>,
    pub at: Option<String>,
    pub from: i64,
    pub to: i64,
    pub tracks: Vec<Track>,
}

/// The timeline's window.
pub const WINDOW_SECONDS: i64 = 24 * 3600;

#[server(prefix = "/api", endpoint = "gateway_health")]
pub async fn gateway_health(name: String) -> Result<HealthView, AppError> {
    let state = crate::state::state()?;
    crate::auth::ssr::require(crate::model::Role::Viewer, "read gateways").await?;
    ssr::view(&state.pool, &name, crate::state::now_unix()).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use sqlx::SqlitePool;

    fn level(text: &str) -> Level {
        match text {
            "Healthy" => Level::Healthy,
            "Pending" => Level::Pending,
            "Degraded" => Level::Degraded,
            _ => Level::Unhealthy,
        }
    }

    pub async fn view(pool: &SqlitePool, name: &str, now: i64) -> Result<HealthView, AppError> {
        let (id, _, _) = crate::api::gateways::ssr::load(pool, name).await?;
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT health, strftime('%Y-%m-%d %H:%M:%S', health_at, 'unixepoch') FROM gateway_status WHERE gateway_id = ?",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?;
        let (health, at) = row.unwrap_or((None, None));
        let health: Option<Health> = health.and_then(|h| serde_json::from_str(&h).ok());
        let from = now - WINDOW_SECONDS;
        let events: Vec<(String, i64, String, String)> = sqlx::query_as(
            "SELECT resource, at, level, reason FROM health_events WHERE gateway_id = ? \
             AND (at >= ? OR rowid IN (SELECT MAX(rowid) FROM health_events WHERE gateway_id = ? AND at < ? GROUP BY resource)) \
             ORDER BY resource, at, rowid",
        )
        .bind(id)
        .bind(from)
        .bind(id)
        .bind(from)
        .fetch_all(pool)
        .await?;
        let mut tracks: Vec<Track> = vec![];
        for (resource, at, lvl, reason) in events {
            if tracks.last().map(|t| &t.resource) != Some(&resource) {
                tracks.push(Track {
                    resource: resource.clone(),
                    segments: vec![],
                });
            }
            let track = tracks.last_mut().expect("pushed");
            if let Some(prev) = track.segments.last_mut() {
                prev.to = at.max(from);
            }
            track.segments.push(Segment {
                from: at.max(from),
                to: now,
                level: level(&lvl),
                reason,
            });
        }
        // Current parts first, in the assessment's order.
        if let Some(h) = &health {
            let order: Vec<&str> = h.parts.iter().map(|p| p.resource.as_str()).collect();
            tracks.sort_by_key(|t| {
                order
                    .iter()
                    .position(|r| *r == t.resource)
                    .unwrap_or(usize::MAX)
            });
        }
        Ok(HealthView {
            health,
            at,
            from,
            to: now,
            tracks,
        })
    }
}
