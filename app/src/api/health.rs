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
    /// The traffic charts' window, and the charts, as SVG drawn on the server.
    pub window: TrafficWindow,
    pub traffic: Vec<TrafficChart>,
    /// Why CloudWatch could not be read at the last try, when it could not.
    pub traffic_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrafficChart {
    /// Its name in its URL, the same for as long as what it charts is: `stage-dev-requests`,
    /// `load-balancer-bytes`, `port-8080-hosts`.
    pub id: String,
    /// What it charts: `stage dev`, `load balancer`, `port 8080`.
    pub subject: String,
    /// Its title, shown above it (the SVG's own title names the document).
    pub title: String,
    /// Where the page finds it: `/gateways/{name}/charts/{id}?traffic=…&v=…`. A page shows its
    /// charts as images, each a document of its own (`server/src/web/charts.rs`), so a page is
    /// small and quick to render and a browser fetches a chart once for each stored read (the
    /// `v` changes with it).
    pub src: String,
    /// The drawing, on the server only (shared: a page's copy of a kept chart is a count,
    /// not 20 KB).
    #[serde(skip)]
    pub svg: std::sync::Arc<str>,
}

/// The timeline's window.
#[cfg(feature = "ssr")]
const WINDOW_SECONDS: i64 = portico_store::traffic::DAY;

/// The traffic charts' window: the URL's `?traffic=1h|24h|30d` (24 hours when absent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrafficWindow {
    Hour,
    #[default]
    Day,
    Month,
}

impl TrafficWindow {
    pub const ALL: [TrafficWindow; 3] = [Self::Hour, Self::Day, Self::Month];

    pub fn param(self) -> &'static str {
        match self {
            Self::Hour => "1h",
            Self::Day => "24h",
            Self::Month => "30d",
        }
    }

    /// An unknown value is the default window, as a link from an older page would want.
    pub fn from_param(param: Option<&str>) -> Self {
        Self::ALL
            .into_iter()
            .find(|w| Some(w.param()) == param)
            .unwrap_or_default()
    }

    pub fn words(self) -> &'static str {
        match self {
            Self::Hour => "last hour",
            Self::Day => "last 24 hours",
            Self::Month => "last 30 days",
        }
    }

    pub fn seconds(self) -> i64 {
        match self {
            Self::Hour => portico_core::cost::measured::HOUR_SECONDS,
            Self::Day => 24 * portico_core::cost::measured::HOUR_SECONDS,
            Self::Month => {
                portico_core::cost::measured::WINDOW_HOURS
                    * portico_core::cost::measured::HOUR_SECONDS
            }
        }
    }
}

#[server(prefix = "/api", endpoint = "gateway_health")]
pub async fn gateway_health(
    name: String,
    window: Option<TrafficWindow>,
) -> Result<HealthView, AppError> {
    let (_, state) =
        crate::api::context::require(portico_core::model::Role::Viewer, "read gateways").await?;
    let window = window.unwrap_or_default();
    ssr::view(&state.store, &name, window, portico_store::now_unix()).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use portico_store::{gateways, status, Store};

    /// The latest assessment and, per resource, its levels over the day ending at `now`; the
    /// traffic over `window`.
    pub async fn view(
        db: &Store,
        name: &str,
        window: TrafficWindow,
        now: i64,
    ) -> Result<HealthView, AppError> {
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
        let Charts {
            charts: traffic,
            error: traffic_error,
            ..
        } = traffic(db, &g, window, now).await?;
        Ok(HealthView {
            health,
            at,
            from,
            to: now,
            tracks,
            window,
            traffic,
            traffic_error,
        })
    }

    /// A gateway's traffic charts over a window, as a page shows them.
    pub struct Charts {
        pub charts: Vec<TrafficChart>,
        /// Why CloudWatch could not be read at the last try, when it could not.
        pub error: Option<String>,
        /// What the charts were drawn from, in short: their URLs' `v`.
        pub version: String,
    }

    /// The route a chart answers at (`server/src/web/charts.rs`); `chart_src` fills it in.
    pub const CHART_ROUTE: &str = "/gateways/{name}/charts/{chart}";

    /// Raised whenever charts are drawn differently, so that a browser which kept a chart
    /// under its URL's version for good asks again after an upgrade.
    const DRAWING: u32 = 1;

    /// Where a page finds the chart `id` of gateway `name` over `window`, as of `version`.
    fn chart_src(name: &str, id: &str, window: TrafficWindow, version: &str) -> String {
        let path = CHART_ROUTE
            .replace("{name}", &crate::api::forms::urlencode(name))
            .replace("{chart}", &crate::api::forms::urlencode(id));
        format!("{path}?traffic={}&v={version}", window.param())
    }

    /// The chart `id` of `name`'s traffic over `window` (`TrafficChart::id`), and the version
    /// it was drawn from. None when the gateway has no such chart (any more).
    pub async fn chart(
        db: &Store,
        name: &str,
        window: TrafficWindow,
        id: &str,
        now: i64,
    ) -> Result<Option<(std::sync::Arc<str>, String)>, AppError> {
        let g = gateways::load(db, name).await?;
        let drawn = traffic(db, &g, window, now).await?;
        Ok(drawn
            .charts
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| (c.svg, drawn.version)))
    }

    /// The traffic over `window` and why CloudWatch could not be read at the last try. The
    /// window ends where the reads so far end, so the charts change only when a read is
    /// stored or the topology changes: they are drawn once for each (a month's are tens of
    /// thousands of points) and kept (`Store::kept_or`) under a key naming all of that. Before
    /// any five-minute read is stored (none yet, the first failed, the cursors went back to 0
    /// after a change of resources, a gateway without stages), they are drawn to the current
    /// minute and kept for it.
    async fn traffic(
        db: &Store,
        g: &gateways::Desired,
        window: TrafficWindow,
        now: i64,
    ) -> Result<Charts, AppError> {
        use portico_core::chart::{NOT_READ, NO_TRAFFIC};
        let reads = portico_store::traffic::reads(db, g.id).await?;
        let error = reads.as_ref().and_then(|r| r.error.clone());
        let stamp = reads.as_ref().map(|r| r.stamp()).unwrap_or_default();
        let (to, empty) = match &reads {
            Some(r) if r.read_until > 0 => (r.read_until, NO_TRAFFIC),
            // CloudWatch refused or did not answer, and nothing is read: the charts do not
            // know there was no traffic.
            _ if error.is_some() => (now - now % 60, NOT_READ),
            _ => (now - now % 60, NO_TRAFFIC),
        };
        let key = format!(
            "traffic charts (drawing {DRAWING}): gateway {} generation {} {window:?} to {to} \
             {stamp}; empty: {empty}",
            g.id, g.generation,
        );
        let drawn = db
            .kept_or(&key, || async {
                let drawn = charts(db, g, window, to, empty).await?;
                let weight = drawn
                    .iter()
                    .map(|c| (c.svg.len() + c.title.len() + c.subject.len()) as u64)
                    .sum();
                Ok::<_, AppError>((drawn, weight))
            })
            .await?;
        let version = portico_store::key_version(&key);
        let charts = drawn
            .iter()
            .map(|chart| TrafficChart {
                src: chart_src(&g.name, &chart.id, window, &version),
                ..chart.clone()
            })
            .collect();
        Ok(Charts {
            charts,
            error,
            version,
        })
    }

    /// Two charts per stage (requests and errors; latency) over `window` to `to`, for the
    /// topology's stages and any other stage CloudWatch counted; over a day or more, the load
    /// balancer's bytes and flows and each backend port's hosts (read in hourly points only).
    async fn charts(
        db: &Store,
        g: &gateways::Desired,
        window: TrafficWindow,
        now: i64,
        empty: &'static str,
    ) -> Result<Vec<TrafficChart>, AppError> {
        use portico_core::chart::{LineChart, Series};
        use portico_store::traffic::{
            self as stored, load_balancer_series, parse_stage_series, port_series, MetricStat,
            ACTIVE_FLOWS, ERRORS_4XX, ERRORS_5XX, HEALTHY_HOSTS, HOUR, INTEGRATION_P50,
            INTEGRATION_P90, INTEGRATION_P99, LATENCY_P50, LATENCY_P90, LATENCY_P99, NEW_FLOWS,
            PERIOD, PROCESSED_BYTES, REQUESTS, UNHEALTHY_HOSTS,
        };
        let from = now - window.seconds();
        // The month in hourly points; a day or an hour in five-minute ones.
        let (period, per) = match window {
            TrafficWindow::Month => (HOUR, "per hour"),
            _ => (PERIOD, "per 5 minutes"),
        };
        let points = stored::points(db, g.id, period, from).await?;
        // The load balancer's and the ports' series are hourly only.
        let hourly = match window {
            TrafficWindow::Day => stored::points(db, g.id, HOUR, from).await?,
            _ => vec![],
        };
        let mut stages: Vec<String> = g.topology.stages.iter().map(|s| s.name.clone()).collect();
        // Each series' points, grouped once (a 30-day window holds tens of thousands).
        let mut by_series: std::collections::HashMap<&str, Vec<(i64, f64)>> = Default::default();
        // (The hourly points' stage series are not the day's: those are five-minute ones.)
        let network = hourly
            .iter()
            .filter(|p| parse_stage_series(&p.series).is_none());
        for p in points.iter().chain(network) {
            by_series
                .entry(p.series.as_str())
                .or_default()
                .push((p.at, p.value));
            if let Some((stage, _, _)) = parse_stage_series(&p.series) {
                if !stages.iter().any(|s| s == stage) {
                    stages.push(stage.to_owned());
                }
            }
        }
        let line = |series: &str, label: &str, colour, scale: f64| Series {
            dashed: false,
            label: label.to_owned(),
            colour,
            points: by_series
                .get(series)
                .map(|points| points.iter().map(|(at, v)| (*at, v * scale)).collect())
                .unwrap_or_default(),
        };
        let dashed = |s: Series| Series { dashed: true, ..s };
        let chart = |title: String, unit: String, series: Vec<Series>, empty| LineChart {
            title,
            unit,
            from,
            to: now,
            series,
            empty,
        };
        let mut charts = vec![];
        let when = window.words();
        for stage in &stages {
            let of = |(metric, statistic): MetricStat| {
                portico_store::traffic::stage_series(stage, metric, statistic)
            };
            let requests = chart(
                format!("Stage {stage}: requests and errors {per}, {when}"),
                format!("requests {per}"),
                vec![
                    line(&of(REQUESTS), "requests", "#2754c5", 1.0),
                    line(&of(ERRORS_4XX), "4xx", "#9a6700", 1.0),
                    line(&of(ERRORS_5XX), "5xx", "#c62828", 1.0),
                ],
                empty,
            );
            let latency = chart(
                format!("Stage {stage}: latency (dashed: backend time), {when}"),
                "milliseconds".into(),
                vec![
                    line(&of(LATENCY_P50), "p50", "#1a7f37", 1.0),
                    line(&of(LATENCY_P90), "p90", "#9a6700", 1.0),
                    line(&of(LATENCY_P99), "p99", "#c62828", 1.0),
                    dashed(line(&of(INTEGRATION_P50), "backend p50", "#1a7f37", 1.0)),
                    dashed(line(&of(INTEGRATION_P90), "backend p90", "#9a6700", 1.0)),
                    dashed(line(&of(INTEGRATION_P99), "backend p99", "#c62828", 1.0)),
                ],
                empty,
            );
            for (kind, c) in [("requests", requests), ("latency", latency)] {
                charts.push(TrafficChart {
                    id: format!("stage-{stage}-{kind}"),
                    subject: format!("stage {stage}"),
                    title: c.title.clone(),
                    src: String::new(),
                    svg: c.svg().into(),
                });
            }
        }
        if window != TrafficWindow::Hour {
            let lb = |(metric, statistic): MetricStat| load_balancer_series(metric, statistic);
            let flows = chart(
                format!("Load balancer: flows (new per hour; active, hourly average), {when}"),
                "flows".into(),
                vec![
                    line(&lb(NEW_FLOWS), "new", "#2754c5", 1.0),
                    line(&lb(ACTIVE_FLOWS), "active", "#1a7f37", 1.0),
                ],
                empty,
            );
            let bytes = chart(
                format!("Load balancer: MB processed per hour, {when}"),
                "MB per hour".into(),
                vec![line(&lb(PROCESSED_BYTES), "processed", "#2754c5", 1e-6)],
                empty,
            );
            for (kind, c) in [("flows", flows), ("bytes", bytes)] {
                charts.push(TrafficChart {
                    id: format!("load-balancer-{kind}"),
                    subject: "load balancer".into(),
                    title: c.title.clone(),
                    src: String::new(),
                    svg: c.svg().into(),
                });
            }
            for port in &g.topology.ports {
                let of =
                    |(metric, statistic): MetricStat| port_series(port.port, metric, statistic);
                let hosts = chart(
                    format!("Backend port {}: hosts, {when}", port.port),
                    "hosts (fewest healthy, most unhealthy in the hour)".into(),
                    vec![
                        line(&of(HEALTHY_HOSTS), "healthy", "#1a7f37", 1.0),
                        line(&of(UNHEALTHY_HOSTS), "unhealthy", "#c62828", 1.0),
                    ],
                    "No host counts in this window.",
                );
                charts.push(TrafficChart {
                    id: format!("port-{}-hosts", port.port),
                    subject: format!("port {}", port.port),
                    title: hosts.title.clone(),
                    src: String::new(),
                    svg: hosts.svg().into(),
                });
            }
        }
        Ok(charts)
    }
}
