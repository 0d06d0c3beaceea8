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
    /// Each stage's traffic over the window, as SVG drawn on the server.
    pub traffic: Vec<TrafficChart>,
    /// Why CloudWatch could not be read at the last try, when it could not.
    pub traffic_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrafficChart {
    pub stage: String,
    pub svg: String,
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
        let (traffic, traffic_error) = traffic(db, &g, from, now).await?;
        Ok(HealthView {
            health,
            at,
            from,
            to: now,
            tracks,
            traffic,
            traffic_error,
        })
    }

    /// Two charts per stage (requests and errors; latency) over [`from`, `now`], for the
    /// topology's stages and any other stage CloudWatch counted.
    async fn traffic(
        db: &Store,
        g: &gateways::Desired,
        from: i64,
        now: i64,
    ) -> Result<(Vec<TrafficChart>, Option<String>), AppError> {
        use portico_core::chart::{LineChart, Series};
        use portico_store::traffic::{
            self as stored, parse_stage_series, StageMetric, ERRORS_4XX, ERRORS_5XX, LATENCY_P50,
            LATENCY_P90, LATENCY_P99, PERIOD, REQUESTS,
        };
        let points = stored::points(db, g.id, PERIOD, from).await?;
        let error = stored::reads(db, g.id).await?.and_then(|r| r.error);
        let mut stages: Vec<String> = g.topology.stages.iter().map(|s| s.name.clone()).collect();
        for p in &points {
            if let Some((stage, _, _)) = parse_stage_series(&p.series) {
                if !stages.iter().any(|s| s == stage) {
                    stages.push(stage.to_owned());
                }
            }
        }
        let series = |stage: &str, (metric, statistic): StageMetric, label: &str, colour| Series {
            label: label.to_owned(),
            colour,
            points: points
                .iter()
                .filter(|p| parse_stage_series(&p.series) == Some((stage, metric, statistic)))
                .map(|p| (p.at, p.value))
                .collect(),
        };
        let chart =
            |stage: &str, what: &str, unit: &str, lines: [(StageMetric, &str, &'static str); 3]| {
                LineChart {
                    title: format!("Stage {stage}: {what}, last 24 hours"),
                    unit: unit.into(),
                    from,
                    to: now,
                    series: lines
                        .iter()
                        .map(|(metric, label, colour)| series(stage, *metric, label, colour))
                        .collect(),
                }
            };
        let mut charts = vec![];
        for stage in &stages {
            let requests = chart(
                stage,
                "requests and errors per 5 minutes",
                "requests per 5 minutes",
                [
                    (REQUESTS, "requests", "#2754c5"),
                    (ERRORS_4XX, "4xx", "#9a6700"),
                    (ERRORS_5XX, "5xx", "#c62828"),
                ],
            );
            let latency = chart(
                stage,
                "latency",
                "milliseconds",
                [
                    (LATENCY_P50, "p50", "#1a7f37"),
                    (LATENCY_P90, "p90", "#9a6700"),
                    (LATENCY_P99, "p99", "#c62828"),
                ],
            );
            for c in [requests, latency] {
                charts.push(TrafficChart {
                    stage: stage.clone(),
                    svg: c.svg(),
                });
            }
        }
        Ok((charts, error))
    }
}
