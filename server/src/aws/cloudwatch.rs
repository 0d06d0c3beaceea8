//! Traffic from CloudWatch, read with GetMetricData (as many series per call as its 500-query
//! limit allows, and only the periods not read yet): each stage's requests, 4xx and 5xx
//! answers and latency percentiles (its own and its integration's); hourly, the load balancer's bytes and flows and its target
//! groups' hosts. GetMetricData is billed per metric asked for ($0.01 per 1,000, whatever the
//! number of points), so every read asks only for what health needs (`EVERY_READ`); the
//! charts' other five-minute series (`CHART_EXTRAS`) and the hourly points (`HOURLY_POINTS`,
//! `network_queries`) are asked for once an hour.
use super::call::{AwsError, Caller, Service};
use super::Clients;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, ScanBy};
pub use portico_store::traffic::MetricStat;
pub use portico_store::traffic::PERIOD;
use portico_store::traffic::{
    load_balancer_series, port_series, stage_series, Point, ACTIVE_FLOWS, ERRORS_4XX, ERRORS_5XX,
    HEALTHY_HOSTS, HOUR, INTEGRATION_P50, INTEGRATION_P90, INTEGRATION_P99, LATENCY_P50,
    LATENCY_P90, LATENCY_P99, NEW_FLOWS, PROCESSED_BYTES, REQUESTS, UNHEALTHY_HOSTS,
};

/// Read every time: what the 5xx threshold judges.
pub const EVERY_READ: [MetricStat; 2] = [REQUESTS, ERRORS_5XX];

/// Read once an hour, for the charts.
pub const CHART_EXTRAS: [MetricStat; 7] = [
    ERRORS_4XX,
    LATENCY_P50,
    LATENCY_P90,
    LATENCY_P99,
    INTEGRATION_P50,
    INTEGRATION_P90,
    INTEGRATION_P99,
];

/// Read once an hour in hourly points, for the 30-day view and the measured cost: every
/// stage series there is.
pub fn hourly_points() -> Vec<MetricStat> {
    EVERY_READ
        .iter()
        .chain(CHART_EXTRAS.iter())
        .copied()
        .collect()
}

/// GetMetricData's limit of queries per request.
const MAX_QUERIES: usize = 500;

/// One series to read: where CloudWatch keeps it and where Portico stores it.
#[derive(Clone, Debug)]
pub struct Query {
    pub series: String,
    pub namespace: &'static str,
    pub metric: &'static str,
    pub statistic: &'static str,
    pub dimensions: Vec<(&'static str, String)>,
    pub period: i64,
}

/// `api_name`'s stages' `metrics` in periods of `period` seconds.
pub fn stage_queries(
    api_name: &str,
    stages: &[String],
    metrics: &[MetricStat],
    period: i64,
) -> Vec<Query> {
    stages
        .iter()
        .flat_map(|stage| {
            metrics.iter().map(move |(metric, statistic)| Query {
                series: stage_series(stage, metric, statistic),
                namespace: "AWS/ApiGateway",
                metric,
                statistic,
                dimensions: vec![("ApiName", api_name.to_owned()), ("Stage", stage.clone())],
                period,
            })
        })
        .collect()
}

/// The load balancer's bytes and flows and each target group's hosts, hourly (`HOUR`).
/// `target_groups` are (backend port, ARN).
pub fn network_queries(load_balancer_arn: &str, target_groups: &[(u32, String)]) -> Vec<Query> {
    // CloudWatch names them by the ARN's last part: `net/<name>/<id>`, `targetgroup/<name>/<id>`.
    let resource = |arn: &str| arn.rsplit_once(':').map(|(_, r)| r.to_owned());
    let Some(lb) = resource(load_balancer_arn)
        .and_then(|r| r.strip_prefix("loadbalancer/").map(str::to_owned))
    else {
        return vec![];
    };
    let mut queries: Vec<Query> = [PROCESSED_BYTES, NEW_FLOWS, ACTIVE_FLOWS]
        .iter()
        .map(|(metric, statistic)| Query {
            series: load_balancer_series(metric, statistic),
            namespace: "AWS/NetworkELB",
            metric,
            statistic,
            dimensions: vec![("LoadBalancer", lb.clone())],
            period: HOUR,
        })
        .collect();
    for (port, arn) in target_groups {
        let Some(tg) = resource(arn).filter(|r| r.starts_with("targetgroup/")) else {
            continue;
        };
        for (metric, statistic) in [HEALTHY_HOSTS, UNHEALTHY_HOSTS] {
            queries.push(Query {
                series: port_series(*port, metric, statistic),
                namespace: "AWS/NetworkELB",
                metric,
                statistic,
                dimensions: vec![("TargetGroup", tg.clone()), ("LoadBalancer", lb.clone())],
                period: HOUR,
            });
        }
    }
    queries
}

/// `queries` for the periods in [`start`, `end`) (unix seconds, multiples of each query's
/// period). Periods without data have no point.
pub async fn read(
    clients: &Clients,
    caller: &Caller,
    queries: &[Query],
    start: i64,
    end: i64,
) -> Result<Vec<Point>, AwsError> {
    let mut points = vec![];
    for chunk in queries.chunks(MAX_QUERIES) {
        let asked: Vec<MetricDataQuery> = chunk.iter().enumerate().map(request_query).collect();
        let mut token: Option<String> = None;
        loop {
            let request = clients
                .cloudwatch
                .get_metric_data()
                .set_metric_data_queries(Some(asked.clone()))
                .start_time(DateTime::from_secs(start))
                .end_time(DateTime::from_secs(end))
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(token.clone());
            let (page, _) = caller
                .call(Service::CloudWatch, "GetMetricData", || {
                    request.clone().send()
                })
                .await?;
            for result in page.metric_data_results() {
                let Some(query) = result
                    .id()
                    .and_then(|id| id.strip_prefix('q'))
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| chunk.get(i))
                else {
                    continue;
                };
                // A value CloudWatch could not work out (NaN, infinite) is no point.
                for (at, value) in result
                    .timestamps()
                    .iter()
                    .zip(result.values())
                    .filter(|(_, v)| v.is_finite())
                {
                    points.push(Point {
                        series: query.series.clone(),
                        period: query.period,
                        at: at.secs(),
                        value: *value,
                    });
                }
            }
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(points)
}

fn request_query((index, q): (usize, &Query)) -> MetricDataQuery {
    let mut metric = Metric::builder()
        .namespace(q.namespace)
        .metric_name(q.metric);
    for (name, value) in &q.dimensions {
        metric = metric.dimensions(Dimension::builder().name(*name).value(value).build());
    }
    MetricDataQuery::builder()
        .id(format!("q{index}"))
        .metric_stat(
            aws_sdk_cloudwatch::types::MetricStat::builder()
                .metric(metric.build())
                .period(i32::try_from(q.period).unwrap_or(i32::MAX))
                .stat(q.statistic)
                .build(),
        )
        .build()
}
