//! Traffic from CloudWatch: each stage's requests, 4xx and 5xx answers and latency
//! percentiles, read with GetMetricData, as many stages per call as its 500-query limit allows,
//! and only the periods not read yet. GetMetricData is billed per metric asked for ($0.01
//! per 1,000, whatever the number of points), so every read asks only for what health needs
//! (`EVERY_READ`) and the rest (`HOURLY`) is asked for once an hour, for the hour's points.

use super::call::{AwsError, Caller, Service};
use super::Clients;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
pub use portico_store::traffic::StageMetric;
pub use portico_store::traffic::PERIOD;
use portico_store::traffic::{
    stage_series, Point, ERRORS_4XX, ERRORS_5XX, LATENCY_P50, LATENCY_P90, LATENCY_P99, REQUESTS,
};

/// Read every time: what the 5xx threshold judges.
pub const EVERY_READ: [StageMetric; 2] = [REQUESTS, ERRORS_5XX];

/// Read once an hour, for the charts.
pub const HOURLY: [StageMetric; 4] = [ERRORS_4XX, LATENCY_P50, LATENCY_P90, LATENCY_P99];

/// GetMetricData's limit of queries per request.
const MAX_QUERIES: usize = 500;

/// `api_name`'s stages' `metrics` for the periods in [`start`, `end`) (unix seconds,
/// multiples of `PERIOD`). Periods without data have no point.
pub async fn read_stages(
    clients: &Clients,
    caller: &Caller,
    api_name: &str,
    stages: &[String],
    metrics: &[StageMetric],
    start: i64,
    end: i64,
) -> Result<Vec<Point>, AwsError> {
    let wanted: Vec<(String, &str, &str)> = stages
        .iter()
        .flat_map(|s| metrics.iter().map(move |(m, st)| (s.clone(), *m, *st)))
        .collect();
    let mut points = vec![];
    for chunk in wanted.chunks(MAX_QUERIES) {
        let queries: Vec<MetricDataQuery> = chunk
            .iter()
            .enumerate()
            .map(|(i, (stage, metric, statistic))| query(i, api_name, stage, metric, statistic))
            .collect();
        let mut token: Option<String> = None;
        loop {
            let request = clients
                .cloudwatch
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
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
                let Some(index) = result
                    .id()
                    .and_then(|id| id.strip_prefix('q'))
                    .and_then(|i| i.parse::<usize>().ok())
                    .filter(|i| *i < chunk.len())
                else {
                    continue;
                };
                let (stage, metric, statistic) = &chunk[index];
                let series = stage_series(stage, metric, statistic);
                // A value CloudWatch could not work out (NaN, infinite) is no point.
                for (at, value) in result
                    .timestamps()
                    .iter()
                    .zip(result.values())
                    .filter(|(_, v)| v.is_finite())
                {
                    points.push(Point {
                        series: series.clone(),
                        period: PERIOD,
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

fn query(
    index: usize,
    api_name: &str,
    stage: &str,
    metric: &str,
    statistic: &str,
) -> MetricDataQuery {
    let dimension = |name: &str, value: &str| Dimension::builder().name(name).value(value).build();
    MetricDataQuery::builder()
        .id(format!("q{index}"))
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace("AWS/ApiGateway")
                        .metric_name(metric)
                        .dimensions(dimension("ApiName", api_name))
                        .dimensions(dimension("Stage", stage))
                        .build(),
                )
                .period(PERIOD as i32)
                .stat(statistic)
                .build(),
        )
        .build()
}
