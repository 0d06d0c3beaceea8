//! Traffic from CloudWatch, through the real SDK (in CBOR, as AWS speaks it): a stage's
//! metrics put in the sandbox are read back into the store, its 5xx rate past the threshold
//! turns health degraded with the figures, and back; CloudWatch refusing leaves health alone.

use super::*;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use portico_core::cost::Money;
use portico_core::health::Level;
use portico_store::traffic::{
    points, read_end, reads, record, settled_end, stage_series, Point, ReadUpTo, DAY, HOUR, PERIOD,
};

fn metrics_every_health_read() -> WorkerConfig {
    WorkerConfig {
        metrics_interval: Some(Duration::ZERO),
        ..fast()
    }
}

/// The REST API's name in AWS (CloudWatch's `ApiName`) and its first stage.
async fn api_and_stage(rig: &Rig) -> (String, String) {
    let c = rig.turn().clients(REGION, 3).await;
    let apis = c.apigateway.get_rest_apis().send().await.unwrap();
    let api = &apis.items()[0];
    let stages = c
        .apigateway
        .get_stages()
        .rest_api_id(api.id().unwrap())
        .send()
        .await
        .unwrap();
    let mut names: Vec<String> = stages
        .item()
        .iter()
        .filter_map(|s| s.stage_name().map(str::to_owned))
        .collect();
    names.sort();
    (api.name().unwrap().to_owned(), names.remove(0))
}

/// Puts `metric` values for a stage at `at` (unix seconds), as API Gateway would.
async fn put(rig: &Rig, api: &str, stage: &str, metric: &str, at: i64, values: Vec<f64>) {
    let c = rig.turn().clients(REGION, 3).await;
    let dimension = |name: &str, value: &str| Dimension::builder().name(name).value(value).build();
    let unit = if metric.ends_with("Latency") {
        StandardUnit::Milliseconds
    } else {
        StandardUnit::Count
    };
    c.cloudwatch
        .put_metric_data()
        .namespace("AWS/ApiGateway")
        .metric_data(
            MetricDatum::builder()
                .metric_name(metric)
                .dimensions(dimension("ApiName", api))
                .dimensions(dimension("Stage", stage))
                .timestamp(DateTime::from_secs(at))
                .set_values(Some(values))
                .unit(unit)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_stage_answering_5xx_past_the_threshold_is_degraded_and_recovers() {
    let rig = rig().await;
    let worker = rig.worker(metrics_every_health_read()).await;
    rig.converge(&worker, 3).await;
    let (api, stage) = api_and_stage(&rig).await;
    let now = portico_store::now_unix();
    // A moment into the last period a read now takes (one that ended a while ago).
    let period = read_end(now) - PERIOD;
    put(&rig, &api, &stage, "Count", period + 10, vec![400.0]).await;
    put(&rig, &api, &stage, "5XXError", period + 10, vec![30.0]).await;
    let latencies: Vec<f64> = (1..=100).map(f64::from).collect();
    let backend: Vec<f64> = latencies.iter().map(|l| l / 2.0).collect();
    put(&rig, &api, &stage, "Latency", period + 20, latencies).await;
    put(
        &rig,
        &api,
        &stage,
        "IntegrationLatency",
        period + 20,
        backend,
    )
    .await;

    let health = worker.refresh_health(rig.id).await.unwrap();
    assert_eq!(health.level, Level::Degraded, "{health:?}");
    assert!(
        health.reason.starts_with(&format!(
            "stage {stage}: 30 of 400 requests answered 5xx (7.5 %)"
        )),
        "{}",
        health.reason
    );
    let stored = points(&rig.app.store, rig.id, PERIOD, period)
        .await
        .unwrap();
    let value = |metric: &str, statistic: &str| {
        let series = stage_series(&stage, metric, statistic);
        stored
            .iter()
            .find(|p| p.series == series && p.at == period)
            .map(|p| p.value)
    };
    assert_eq!(value("Count", "Sum"), Some(400.0));
    assert_eq!(value("5XXError", "Sum"), Some(30.0));
    assert_eq!(value("Latency", "p50"), Some(50.0));
    assert_eq!(value("Latency", "p90"), Some(90.0));
    assert_eq!(value("Latency", "p99"), Some(99.0));
    assert_eq!(value("IntegrationLatency", "p50"), Some(25.0));
    assert_eq!(value("IntegrationLatency", "p99"), Some(49.5));
    assert_eq!(value("4XXError", "Sum"), None, "no 4xx put, no point");

    // Half an hour on with no read since (CloudWatch unreachable, or reads further apart than
    // the window): the stage keeps the verdict of the last figures read, it does not turn
    // healthy for want of figures.
    let topology = portico_store::gateways::by_id(&rig.app.store, rig.id)
        .await
        .unwrap()
        .unwrap()
        .topology;
    let resources_say = portico_core::health::Health {
        level: Level::Healthy,
        reason: "every resource is available".into(),
        parts: vec![],
    };
    let later = worker
        .health_with_traffic(rig.id, &topology, resources_say, now + 30 * 60)
        .await
        .unwrap();
    assert_eq!(later.level, Level::Degraded, "{later:?}");

    // The period fills in late (CloudWatch's way): read again, the rate is back under 5 %.
    put(&rig, &api, &stage, "Count", period + 30, vec![4000.0]).await;
    let health = worker.refresh_health(rig.id).await.unwrap();
    assert_eq!(health.level, Level::Healthy, "{health:?}");
    assert_eq!(
        reads(&rig.app.store, rig.id).await.unwrap().unwrap().error,
        None
    );
}

#[tokio::test]
async fn cloudwatch_refusing_leaves_health_as_aws_resources_say() {
    let rig = rig().await;
    let worker = rig.worker(metrics_every_health_read()).await;
    rig.converge(&worker, 3).await;
    rig.turn()
        .control(
            "POST",
            "/faults",
            Some(
                json!({ "service": "monitoring", "operation": "GetMetricData", "kind": "denied" }),
            ),
        )
        .await;
    let health = worker.refresh_health(rig.id).await.unwrap();
    rig.turn().control("DELETE", "/faults", None).await;
    assert_eq!(health.level, Level::Healthy, "{health:?}");
    let after = reads(&rig.app.store, rig.id).await.unwrap().unwrap();
    assert!(
        after
            .error
            .as_deref()
            .is_some_and(|e| e.contains("AccessDenied")),
        "{after:?}"
    );
    assert_eq!(after.read_until, 0, "nothing was read");
    // The overview does not call that "no traffic".
    let now = portico_store::now_unix();
    let (_, not_read) =
        app::api::gateways::ssr::sparkline_hours(&rig.app.store, &[rig.id], now - DAY)
            .await
            .unwrap();
    assert!(not_read.contains(&rig.id), "{not_read:?}");
    // Allowed again: the next read goes through and the error is gone.
    worker.refresh_health(rig.id).await.unwrap();
    let after = reads(&rig.app.store, rig.id).await.unwrap().unwrap();
    assert_eq!(after.error, None);
    assert!(after.read_until > 0);
}

/// GetMetricData calls in the sandbox's call log since its last reset.
async fn metric_reads(rig: &Rig) -> u64 {
    let log = rig.turn().control("GET", "/calls", None).await;
    log["calls"]["monitoring"]["GetMetricData"]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test]
async fn reads_are_spaced_by_the_metrics_interval() {
    let rig = rig().await;
    let worker = rig
        .worker(WorkerConfig {
            metrics_interval: Some(Duration::from_secs(3600)),
            ..fast()
        })
        .await;
    rig.converge(&worker, 3).await;
    rig.app.reset_aws_calls().await;
    let now = portico_store::now_unix();
    worker.refresh_health(rig.id).await.unwrap();
    worker.refresh_health(rig.id).await.unwrap();
    // The five-minute series, and the first 30 days of hourly points in three calls of ten
    // days; then none until the interval.
    assert_eq!(metric_reads(&rig).await, 4, "one read an interval");
    let read = reads(&rig.app.store, rig.id).await.unwrap().unwrap();
    assert!(
        read.read_until >= read_end(now) && read.read_until % PERIOD == 0,
        "read up to the current period's start: {read:?}"
    );
    assert_eq!(
        read.extras_read_until, read.read_until,
        "the first read asks for the hourly series too"
    );
    // (At least: an hour may have settled since `now`.)
    assert!(
        read.points_read_until >= settled_end(now, HOUR) && read.points_read_until % HOUR == 0,
        "{read:?}"
    );
}

/// Puts a load balancer's `metric` value at `at`, as the NLB would.
async fn put_nlb(rig: &Rig, lb: &str, metric: &str, at: i64, value: f64) {
    let c = rig.turn().clients(REGION, 3).await;
    c.cloudwatch
        .put_metric_data()
        .namespace("AWS/NetworkELB")
        .metric_data(
            MetricDatum::builder()
                .metric_name(metric)
                .dimensions(Dimension::builder().name("LoadBalancer").value(lb).build())
                .timestamp(DateTime::from_secs(at))
                .value(value)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_measured_cost_is_the_hours_cloudwatch_counted_at_the_prices() {
    let rig = rig().await;
    let worker = rig.worker(metrics_every_health_read()).await;
    rig.converge(&worker, 3).await;
    let (api, stage) = api_and_stage(&rig).await;
    let c = rig.turn().clients(REGION, 3).await;
    let lbs = c.elb.describe_load_balancers().send().await.unwrap();
    let arn = lbs.load_balancers()[0].load_balancer_arn().unwrap();
    // CloudWatch's dimension: the ARN after `loadbalancer/`.
    let lb = arn.split_once(":loadbalancer/").unwrap().1.to_owned();
    let now = portico_store::now_unix();
    let (first, second) = (
        settled_end(now, HOUR) - 2 * HOUR,
        settled_end(now, HOUR) - HOUR,
    );
    put(&rig, &api, &stage, "Count", first + 60, vec![600_000.0]).await;
    put(&rig, &api, &stage, "Count", second + 60, vec![400_000.0]).await;
    // The first hour: 3 GB is 3 NLCU (720,000 new flows, 200 a second, is 0.25).
    put_nlb(&rig, &lb, "ProcessedBytes", first + 60, 3e9).await;
    put_nlb(&rig, &lb, "NewFlowCount", first + 60, 720_000.0).await;
    // The second: 250,000 active flows is 2.5 NLCU (1 GB is 1).
    put_nlb(&rig, &lb, "ProcessedBytes", second + 60, 1e9).await;
    put_nlb(&rig, &lb, "ActiveFlowCount", second + 60, 250_000.0).await;

    worker.refresh_health(rig.id).await.unwrap();
    let m = app::api::cost::ssr::measured_cost(&rig.app.store, "seed", now)
        .await
        .unwrap()
        .expect("measured");
    assert_eq!((m.from, m.to, m.hours), (first, first + 2 * HOUR, 2));
    let line = |resource: &str| {
        m.estimate
            .lines
            .iter()
            .find(|l| l.resource == resource)
            .unwrap_or_else(|| panic!("no {resource} in {:?}", m.estimate.lines))
            .amount
    };
    // By hand, at ap-northeast-2's prices: 2 h × $0.0225; 5.5 NLCU-h × $0.006; 1 M requests
    // × $3.50/M; 4 GB within the free 100 GB.
    let d = Money::dollars;
    assert_eq!(line("NLB hours"), d("0.045"));
    assert_eq!(line("NLB capacity units (NLCU)"), d("0.033"));
    assert_eq!(line("REST API requests"), d("3.50"));
    assert_eq!(line("data transfer out"), Money::ZERO);
    assert_eq!(m.estimate.total, d("3.578"));
    // As a month: 1 M in 2 h is 365 M in 730 h; 4 GB over 1 M requests is 4 KB each.
    assert_eq!(m.usage.requests_per_month, 365_000_000);
    assert_eq!(m.usage.average_response_kb, 4);
    assert_eq!(m.usage.new_connections_per_second, 100);
    assert_eq!(m.usage.active_connections, 125_000);
    // The overview's sparkline counts the same hours.
    let store = &rig.app.store;
    let ids = [rig.id];
    let sparkline = || async {
        let (hourly, not_read) = app::api::gateways::ssr::sparkline_hours(store, &ids, now - DAY)
            .await
            .unwrap();
        assert!(not_read.is_empty(), "read: {not_read:?}");
        Ok::<_, ()>(hourly)
    };
    let hourly = sparkline().await.unwrap();
    assert_eq!(hourly[&rig.id], [(first, 600_000.0), (second, 400_000.0)]);

    // Both are kept until the next stored read: with the points gone behind the store's back,
    // the same figures; once a read is stored, its hour alone.
    portico_store::testing::query("DELETE FROM metric_points")
        .execute(store)
        .await
        .unwrap();
    let measured = || app::api::cost::ssr::measured_cost(store, "seed", now);
    assert_eq!(measured().await.unwrap().as_ref(), Some(&m));
    assert_eq!(sparkline().await.unwrap(), hourly);
    let resources = reads(store, rig.id).await.unwrap().unwrap().resources;
    let point = Point {
        series: stage_series(&stage, "Count", "Sum"),
        period: HOUR,
        at: second,
        value: 1000.0,
    };
    let read = ReadUpTo {
        every: None,
        extras: None,
        points: None,
        resources,
    };
    record(store, rig.id, &[point], &read, now).await.unwrap();
    let after = measured().await.unwrap().expect("measured");
    assert_eq!((after.from, after.hours), (second, 1));
    assert_eq!(after.usage.requests_per_month, 730_000);
    assert_eq!(sparkline().await.unwrap()[&rig.id], [(second, 1000.0)]);
}

#[tokio::test]
async fn a_stage_added_later_has_its_past_read_too() {
    let rig = rig().await;
    let worker = rig.worker(metrics_every_health_read()).await;
    rig.converge(&worker, 3).await;
    worker.refresh_health(rig.id).await.unwrap();
    let first = reads(&rig.app.store, rig.id).await.unwrap().unwrap();
    assert!(first.points_read_until > 0);
    // A stage with traffic from before Portico knew it (one adopted or renamed back, say).
    rig.edit(|t| {
        let mut stage = t.stages[0].clone();
        stage.name = "canary".into();
        t.stages.push(stage);
    })
    .await;
    rig.converge(&worker, 3).await;
    let (api, _) = api_and_stage(&rig).await;
    let hour = settled_end(portico_store::now_unix(), HOUR) - 10 * HOUR;
    put(&rig, &api, "canary", "Count", hour + 60, vec![1234.0]).await;
    worker.refresh_health(rig.id).await.unwrap();
    let stored = points(&rig.app.store, rig.id, HOUR, hour).await.unwrap();
    let series = stage_series("canary", "Count", "Sum");
    assert!(
        stored
            .iter()
            .any(|p| p.series == series && p.at == hour && p.value == 1234.0),
        "the new stage's hour ten hours back was read: {stored:?}"
    );
}

/// The `points` attribute of the polyline of `series` in the chart of `subject` titled
/// `title`, as drawn in the health view.
fn drawn(view: &app::api::health::HealthView, title: &str, series: &str) -> Vec<(f64, f64)> {
    let chart = view
        .traffic
        .iter()
        .find(|c| c.title == title)
        .unwrap_or_else(|| panic!("no chart {title}"));
    let marker = format!(r#"data-series="{series}" points=""#);
    let start = chart.svg.find(&marker).expect("the series' line") + marker.len();
    let points = &chart.svg[start..start + chart.svg[start..].find('"').unwrap()];
    points
        .split_whitespace()
        .map(|xy| {
            let (x, y) = xy.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn the_charts_draw_the_points_cloudwatch_answered() {
    use portico_core::chart::{LineChart, Series, NO_TRAFFIC};
    let rig = rig().await;
    let worker = rig.worker(metrics_every_health_read()).await;
    rig.converge(&worker, 3).await;
    let (api, stage) = api_and_stage(&rig).await;
    let now = portico_store::now_unix();
    let last = read_end(now) - PERIOD;
    let put_at = [
        (last - 2 * PERIOD, 100.0),
        (last - PERIOD, 200.0),
        (last, 400.0),
    ];
    for (at, requests) in put_at {
        put(&rig, &api, &stage, "Count", at + 10, vec![requests]).await;
    }
    worker.refresh_health(rig.id).await.unwrap();
    let window = app::api::health::TrafficWindow::Day;
    let view = app::api::health::ssr::view(&rig.app.store, "seed", window, now)
        .await
        .unwrap();
    let title = format!("Stage {stage}: requests and errors per 5 minutes, last 24 hours");
    // The window ends where the reads end; where the data should be drawn, by the chart's own
    // scale.
    let reads = portico_store::traffic::reads(&rig.app.store, rig.id)
        .await
        .unwrap()
        .expect("read");
    let to = reads.read_until;
    let expected = LineChart {
        title: title.clone(),
        unit: String::new(),
        from: to - window.seconds(),
        to,
        series: vec![Series {
            label: "requests".into(),
            colour: "#000",
            dashed: false,
            points: put_at.to_vec(),
        }],
        empty: NO_TRAFFIC,
    };
    let points = drawn(&view, &title, "requests");
    assert_eq!(points.len(), put_at.len(), "{points:?}");
    for ((x, y), (at, value)) in points.iter().zip(put_at) {
        let (ex, ey) = expected.xy(at, value);
        assert!(
            (x - ex).abs() < 0.06 && (y - ey).abs() < 0.06,
            "({x}, {y}) for {at}: {value}"
        );
    }
    // Nothing counted for another stage: its chart says so.
    let other = view
        .traffic
        .iter()
        .find(|c| c.subject.starts_with("stage ") && c.subject != format!("stage {stage}"))
        .expect("another stage");
    assert!(other.svg.contains(NO_TRAFFIC), "{}", other.svg);

    the_page_shows_them_as_images(&rig, &view).await;

    // The charts are kept until the next stored read: with the points gone behind the
    // store's back, the same charts; once a read is stored, its points alone.
    portico_store::testing::query("DELETE FROM metric_points")
        .execute(&rig.app.store)
        .await
        .unwrap();
    let later = app::api::health::ssr::view(&rig.app.store, "seed", window, now + 60)
        .await
        .unwrap();
    assert_eq!(later.traffic, view.traffic);
    let series = portico_store::traffic::stage_series(&stage, "Count", "Sum");
    let point = portico_store::traffic::Point {
        series,
        period: PERIOD,
        at: last,
        value: 50.0,
    };
    let read = portico_store::traffic::ReadUpTo {
        every: None,
        extras: None,
        points: None,
        resources: reads.resources.clone(),
    };
    portico_store::traffic::record(&rig.app.store, rig.id, &[point], &read, now)
        .await
        .unwrap();
    let after = app::api::health::ssr::view(&rig.app.store, "seed", window, now + 60)
        .await
        .unwrap();
    // A new read: new URLs, so a browser that kept the old charts fetches the new ones.
    assert_ne!(after.traffic[0].src, view.traffic[0].src);
    let mut alone = expected.clone();
    alone.series[0].points = vec![(last, 50.0)];
    let (ex, ey) = alone.xy(last, 50.0);
    let points = drawn(&after, &title, "requests");
    assert!(
        matches!(points[..], [(x, y)] if (x - ex).abs() < 0.06 && (y - ey).abs() < 0.06),
        "{points:?}"
    );
}

/// Each chart is a document of its own at the URL the page names: what the view drew, for any
/// signed-in user, kept by the browser for good under the URL of its version (the page's) and
/// asked again under any other.
async fn the_page_shows_them_as_images(rig: &Rig, view: &app::api::health::HealthView) {
    use axum::http::StatusCode;
    let app = &rig.app;
    app::api::users::ssr::create(
        &app.store,
        "test",
        "val",
        portico_core::model::Role::Viewer,
        &app.password,
    )
    .await
    .unwrap();
    let val = app.login("val").await;
    let page = app.get("/gateways/seed", Some(&val)).await;
    for chart in &view.traffic {
        let path = format!("/gateways/seed/charts/{}?traffic=24h&v=", chart.id);
        assert!(chart.src.starts_with(&path), "{}", chart.src);
        let shown = format!(r#"<img src="{}""#, chart.src.replace('&', "&amp;"));
        assert!(page.body.contains(&shown), "{shown} in the page");
        let got = app.get(&chart.src, Some(&val)).await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.body);
        assert_eq!(got.headers["content-type"], "image/svg+xml; charset=utf-8");
        assert_eq!(
            got.headers["cache-control"],
            "private, max-age=31536000, immutable"
        );
        let csp = got.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.starts_with("default-src 'none'; style-src 'unsafe-inline'"),
            "a chart runs nothing: {csp}"
        );
        assert_eq!(got.body, *chart.svg);
    }
    assert!(
        !page.body.contains("<polyline"),
        "no chart drawn into the page"
    );
    // Each chart is named by what it charts, not by its place in the list.
    let ids: Vec<&str> = view.traffic.iter().map(|c| c.id.as_str()).collect();
    assert!(ids.contains(&"load-balancer-bytes"), "{ids:?}");
    assert!(ids.contains(&"port-8080-hosts"), "{ids:?}");
    // Another version (a page from before a read), or none: today's chart, asked again.
    let first = format!("/gateways/seed/charts/{}", view.traffic[0].id);
    let stale = app.get(&format!("{first}?v=0123"), Some(&val)).await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.headers["cache-control"], "private, no-cache");
    assert_eq!(stale.body, *view.traffic[0].svg);
    // Signed out: sent to sign in; no such chart or gateway: 404 in words.
    let out = app.get(&view.traffic[0].src, None).await;
    assert!(out.status.is_redirection(), "{}", out.status);
    assert!(out.location().unwrap().starts_with("/login"));
    let beyond = app
        .get("/gateways/seed/charts/port-9-hosts", Some(&val))
        .await;
    assert_eq!(beyond.status, StatusCode::NOT_FOUND);
    assert!(
        beyond.body.contains(r#"no chart "port-9-hosts""#),
        "{}",
        beyond.body
    );
    let nope = app
        .get(&first.replace("/seed/", "/nope/"), Some(&val))
        .await;
    assert_eq!(nope.status, StatusCode::NOT_FOUND);
}
