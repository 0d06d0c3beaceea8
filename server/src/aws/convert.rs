//! AWS's answers as Portico's model: the one place a target group's health check and
//! deregistration delay, a stage's variables, throttle, cache and access log, and a usage plan's stages,
//! throttle and quota are read — for the worker's observation and for adoption alike, so both
//! see a setup the same way.

use aws_sdk_apigateway::types as agw;
use aws_sdk_elasticloadbalancingv2::types as elbt;
use portico_core::model::topology::{
    AccessLog, HealthCheck, HealthProtocol, Quota, QuotaPeriod, Throttle,
};
use std::collections::BTreeMap;

/// The ARN of an API Gateway resource at `path` (`/restapis/a1b2c3`), for its tag calls.
pub fn apigateway_arn(region: &str, path: &str) -> String {
    let partition = portico_core::model::rules::partition(region);
    format!("arn:{partition}:apigateway:{region}::{path}")
}

/// A method's integration as the planner compares it.
pub fn integration(i: &agw::Integration) -> portico_core::plan::actual::Integration {
    portico_core::plan::actual::Integration {
        kind: i
            .r#type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        uri: i.uri().unwrap_or_default().to_owned(),
        connection_type: i
            .connection_type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        connection_id: i.connection_id().map(str::to_owned),
    }
}

pub fn health_check(g: &elbt::TargetGroup) -> HealthCheck {
    let protocol = match g.health_check_protocol().map(|p| p.as_str()) {
        Some("HTTP") | Some("HTTPS") => HealthProtocol::Http,
        _ => HealthProtocol::Tcp,
    };
    HealthCheck {
        protocol,
        path: match protocol {
            HealthProtocol::Http => g.health_check_path().map(str::to_owned),
            HealthProtocol::Tcp => None,
        },
        interval_seconds: g.health_check_interval_seconds().unwrap_or(30) as u32,
        healthy_threshold: g.healthy_threshold_count().unwrap_or(3) as u32,
        unhealthy_threshold: g.unhealthy_threshold_count().unwrap_or(3) as u32,
    }
}

/// From DescribeTargetGroupAttributes (AWS's default, 300 s, when absent).
pub fn deregistration_delay(attributes: &[elbt::TargetGroupAttribute]) -> u32 {
    attributes
        .iter()
        .find(|a| a.key() == Some("deregistration_delay.timeout_seconds"))
        .and_then(|a| a.value())
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

pub fn stage_variables(s: &agw::Stage) -> BTreeMap<String, String> {
    s.variables()
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// The stage-wide (`*/*`) method throttle, when one is set.
pub fn stage_throttle(s: &agw::Stage) -> Option<Throttle> {
    let m = s.method_settings()?.get("*/*")?;
    (m.throttling_burst_limit() != 0 || m.throttling_rate_limit() != 0.0).then(|| Throttle {
        rate: m.throttling_rate_limit(),
        burst: m.throttling_burst_limit().max(0) as u32,
    })
}

/// The cache size in GB, when the cache is on.
pub fn stage_cache_gb(s: &agw::Stage) -> Option<String> {
    s.cache_cluster_enabled()
        .then(|| s.cache_cluster_size().map(|c| c.as_str().to_owned()))
        .flatten()
}

/// The access log, when the stage writes one: its format exactly as AWS holds it (an empty
/// one too, so it never reads as the default it is not).
pub fn stage_access_log(s: &agw::Stage) -> Option<AccessLog> {
    let settings = s.access_log_settings()?;
    let destination = settings.destination_arn().filter(|d| !d.is_empty())?;
    Some(AccessLog {
        destination: destination.to_owned(),
        format: Some(settings.format().unwrap_or_default().to_owned()),
    })
}

/// `(api id, stage)` pairs, sorted.
pub fn usage_plan_stages(p: &agw::UsagePlan) -> Vec<(String, String)> {
    let mut stages: Vec<(String, String)> = p
        .api_stages()
        .iter()
        .filter_map(|s| Some((s.api_id()?.to_owned(), s.stage()?.to_owned())))
        .collect();
    stages.sort();
    stages
}

pub fn usage_plan_throttle(p: &agw::UsagePlan) -> Option<Throttle> {
    p.throttle().map(|t| Throttle {
        rate: t.rate_limit(),
        burst: t.burst_limit().max(0) as u32,
    })
}

pub fn usage_plan_quota(p: &agw::UsagePlan) -> Option<Quota> {
    let q = p.quota()?;
    let period = match q.period()?.as_str() {
        "DAY" => QuotaPeriod::Day,
        "WEEK" => QuotaPeriod::Week,
        _ => QuotaPeriod::Month,
    };
    Some(Quota {
        limit: q.limit().max(0) as u32,
        period,
        offset: q.offset().max(0) as u32,
    })
}
