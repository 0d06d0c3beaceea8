//! Health for the pages: the latest assessment and each resource's timeline (last 24 hours).

use crate::error::AppError;
use leptos::prelude::*;
use portico_core::health::{Health, Level};
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
    let (_, state) =
        crate::api::context::require(portico_core::model::Role::Viewer, "read gateways").await?;
    ssr::view(&state.store, &name, portico_store::now_unix()).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use portico_store::{gateways, status, Store};

    /// The latest assessment and, per resource, its levels over the window ending at `now`.
    pub async fn view(db: &Store, name: &str, now: i64) -> Result<HealthView, AppError> {
        let g = gateways::load(db, name).await?;
        let (health, at) = match status::latest_health(db, g.id).await? {
            Some(latest) => (Some(latest.health), Some(latest.read_at)),
            None => (None, None),
        };
        let from = now - WINDOW_SECONDS;
        let mut tracks: Vec<Track> = vec![];
        for event in status::health_events(db, g.id, from).await? {
            if tracks.last().map(|t| &t.resource) != Some(&event.resource) {
                tracks.push(Track {
                    resource: event.resource.clone(),
                    segments: vec![],
                });
            }
            let track = tracks.last_mut().expect("pushed");
            if let Some(prev) = track.segments.last_mut() {
                prev.to = event.at.max(from);
            }
            track.segments.push(Segment {
                from: event.at.max(from),
                to: now,
                level: event.level,
                reason: event.reason,
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
