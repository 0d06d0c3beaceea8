//! Health: what AWS says about each part of a gateway, in words, and the gateway's health as
//! the worst of its parts ("target i-0abc on 8081 unhealthy: Target.FailedHealthChecks").
//! Pure: the worker computes it from what it observed; pages and tests read it.

use crate::model::topology::Topology;
use crate::plan::actual::Actual;
use serde::{Deserialize, Serialize};

/// From best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    Healthy,
    /// Coming up: provisioning, PENDING, initial, not made yet.
    Pending,
    /// Works, but not as it should: a stale stage, an impaired NLB, a draining target.
    Degraded,
    /// AWS could not be read for a while: what it holds now is not known.
    Unknown,
    Unhealthy,
}

impl Level {
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            Level::Healthy => ("healthy", "ok"),
            Level::Pending => ("pending", "busy"),
            Level::Degraded => ("degraded", "warn"),
            Level::Unknown => ("unknown", "muted"),
            Level::Unhealthy => ("unhealthy", "bad"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// "load balancer", "target i-0abc on 8081", "VPC link", "stage dev", "API key partner".
    pub resource: String,
    pub level: Level,
    /// In AWS's words.
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub level: Level,
    /// The worst part's reason (and how many more are as bad).
    pub reason: String,
    pub parts: Vec<Part>,
}

fn part(resource: impl Into<String>, level: Level, reason: impl Into<String>) -> Part {
    Part {
        resource: resource.into(),
        level,
        reason: reason.into(),
    }
}

/// An API key's state for health: Portico's id, name, and whether it should be enabled now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyWant {
    pub id: i64,
    pub name: String,
    pub enabled: bool,
}

pub fn assess(desired: &Topology, keys: &[KeyWant], actual: &Actual) -> Health {
    let mut parts = vec![];
    let g = &desired.gateway;
    if !desired.ports.is_empty() {
        let name = crate::plan::names::load_balancer(g);
        match actual.load_balancers.values().find(|l| l.name == name) {
            None => parts.push(part("load balancer", Level::Pending, "not made yet")),
            Some(lb) => {
                let level = match lb.state.as_str() {
                    "active" => Level::Healthy,
                    "provisioning" => Level::Pending,
                    "active_impaired" => Level::Degraded,
                    _ => Level::Unhealthy,
                };
                parts.push(part(
                    "load balancer",
                    level,
                    format!("{} is {}", lb.name, lb.state),
                ));
            }
        }
        for p in &desired.ports {
            let tg_name = crate::plan::names::target_group(g, p.port);
            let tg = actual.target_groups.get(&tg_name);
            for instance in &p.instances {
                let resource = format!("target {instance} on {}", p.port);
                match tg.and_then(|t| t.targets.get(instance)) {
                    None => parts.push(part(resource, Level::Pending, "not registered yet")),
                    Some(h) => {
                        let level = match h.state.as_str() {
                            "healthy" => Level::Healthy,
                            "initial" => Level::Pending,
                            "draining" => Level::Degraded,
                            _ => Level::Unhealthy,
                        };
                        let mut reason =
                            format!("{} {}", h.state, h.reason.clone().unwrap_or_default());
                        if level != Level::Healthy {
                            reason = format!(
                                "target {instance} on {} {}{}",
                                p.port,
                                h.state,
                                h.reason
                                    .as_ref()
                                    .map(|r| format!(": {r}"))
                                    .unwrap_or_default()
                            );
                            if let Some(d) = &h.description {
                                reason.push_str(&format!(" ({d})"));
                            }
                        }
                        parts.push(part(resource, level, reason.trim().to_owned()));
                    }
                }
            }
        }
        let lb_arn = actual
            .load_balancers
            .values()
            .find(|l| l.name == name)
            .map(|l| l.arn.clone());
        let link = actual
            .vpc_links
            .values()
            .find(|l| lb_arn.as_ref().is_some_and(|a| l.target_arns.contains(a)));
        match link {
            None => parts.push(part("VPC link", Level::Pending, "not made yet")),
            Some(l) => {
                let (level, reason) = match l.status.as_str() {
                    "AVAILABLE" => (Level::Healthy, "AVAILABLE".to_string()),
                    "PENDING" => (
                        Level::Pending,
                        "PENDING (AWS takes minutes to set a link up)".to_string(),
                    ),
                    "FAILED" => (
                        Level::Unhealthy,
                        format!(
                            "FAILED: {}",
                            l.status_message
                                .clone()
                                .unwrap_or_else(|| "AWS gave no reason".into())
                        ),
                    ),
                    other => (Level::Degraded, other.to_string()),
                };
                parts.push(part("VPC link", level, reason));
            }
        }
    }
    let api = actual
        .rest_apis
        .values()
        .find(|a| a.name == crate::plan::names::rest_api(g));
    let fresh = crate::plan::deployment_fingerprint(desired);
    if !desired.routes.is_empty() {
        for stage in &desired.stages {
            let resource = format!("stage {}", stage.name);
            match api.and_then(|a| a.stages.get(&stage.name).map(|s| (a, s))) {
                None => parts.push(part(resource, Level::Pending, "not made yet")),
                Some((a, s)) => {
                    let adopted = g.adopted.as_ref();
                    let serves = crate::plan::deployment_description(adopted, a, &s.deployment_id);
                    if serves == Some(&fresh) {
                        parts.push(part(resource, Level::Healthy, "serves the latest routes"));
                    } else {
                        parts.push(part(
                            resource,
                            Level::Degraded,
                            format!(
                                "stage {} serves an older deployment ({}); the routes changed and a redeploy is due",
                                stage.name, s.deployment_id
                            ),
                        ));
                    }
                }
            }
        }
    }
    for k in keys {
        let resource = format!("API key {}", k.name);
        match actual.api_keys.get(&k.id) {
            None if k.enabled => parts.push(part(resource, Level::Pending, "not made yet")),
            None => {}
            Some(a) if a.enabled && !k.enabled => parts.push(part(
                resource,
                Level::Degraded,
                format!("API key {} should be off (expired, revoked or rotated) but AWS still accepts it", k.name),
            )),
            Some(a) if !a.enabled && k.enabled => parts.push(part(resource, Level::Pending, "not enabled yet")),
            Some(a) => parts.push(part(
                resource,
                Level::Healthy,
                if a.enabled { "enabled" } else { "disabled, as it should be" },
            )),
        }
    }
    summed(parts)
}

/// The gateway's health from its parts: the worst part's level, with its reason.
fn summed(parts: Vec<Part>) -> Health {
    let level = parts
        .iter()
        .map(|p| p.level)
        .max()
        .unwrap_or(Level::Healthy);
    let worst: Vec<&Part> = parts.iter().filter(|p| p.level == level).collect();
    let reason = match worst.len() {
        0 => "nothing to watch yet".to_string(),
        _ if level == Level::Healthy => "every part is healthy".to_string(),
        1 => worst[0].reason.clone(),
        n => format!("{} (and {} more)", worst[0].reason, n - 1),
    };
    Health {
        level,
        reason,
        parts,
    }
}

/// Health when AWS has not been readable since the last good read (`minutes` ago, or never):
/// unknown, with why and since when — never the last good picture passed off as current.
pub fn unreadable(why: &str, minutes: Option<i64>) -> Health {
    let since = match minutes {
        None => "AWS has not been read yet".to_string(),
        Some(0 | 1) => "no read of AWS has worked for a minute".to_string(),
        Some(m) => format!("no read of AWS has worked for {m} minutes"),
    };
    let reason = format!("{since}: {why}");
    Health {
        level: Level::Unknown,
        reason: reason.clone(),
        parts: vec![part("AWS", Level::Unknown, reason)],
    }
}

/// A stage's requests and 5xx answers in one period, as CloudWatch counted them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageTraffic {
    pub stage: String,
    /// The period's start, Unix seconds (UTC).
    pub at: i64,
    pub period_seconds: i64,
    pub requests: f64,
    pub errors_5xx: f64,
}

/// When a stage's 5xx answers make it degraded: more than `percent` of its requests in one
/// period, once it had at least `min_requests` (so 1 failure in 3 requests at night is not
/// an incident).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorThreshold {
    pub percent: f64,
    pub min_requests: f64,
}

impl Default for ErrorThreshold {
    fn default() -> Self {
        Self {
            percent: 5.0,
            min_requests: 20.0,
        }
    }
}

/// `health` with a part per stage for its latest period of traffic (`traffic`): degraded
/// past `threshold`, with the figures as the reason.
pub fn with_traffic(health: Health, traffic: &[StageTraffic], threshold: ErrorThreshold) -> Health {
    if traffic.is_empty() {
        return health;
    }
    let mut parts = health.parts;
    for t in traffic {
        let rate = if t.requests > 0.0 {
            100.0 * t.errors_5xx / t.requests
        } else {
            0.0
        };
        let (end_h, end_m) = {
            let end = (t.at + t.period_seconds).rem_euclid(86_400);
            (end / 3600, end % 3600 / 60)
        };
        // A healthy stage's reason stays the same from one period to the next, so the health
        // history records incidents, not every five minutes of traffic.
        parts.push(if t.requests >= threshold.min_requests && rate > threshold.percent {
            part(
                format!("stage {} traffic", t.stage),
                Level::Degraded,
                format!(
                    "stage {}: {} of {} requests answered 5xx ({rate:.1} %) in the {} minutes to {end_h:02}:{end_m:02} UTC",
                    t.stage,
                    t.errors_5xx.round(),
                    t.requests.round(),
                    t.period_seconds / 60,
                ),
            )
        } else {
            part(
                format!("stage {} traffic", t.stage),
                Level::Healthy,
                format!(
                    "5xx answers within {} % of requests, or fewer than {} requests",
                    threshold.percent, threshold.min_requests
                ),
            )
        });
    }
    summed(parts)
}

#[cfg(test)]
mod traffic_tests {
    use super::*;

    fn traffic(requests: f64, errors_5xx: f64) -> StageTraffic {
        StageTraffic {
            stage: "prod".into(),
            at: 1_800_000_000, // 08:00 UTC
            period_seconds: 300,
            requests,
            errors_5xx,
        }
    }

    fn healthy() -> Health {
        summed(vec![part("load balancer", Level::Healthy, "active")])
    }

    #[test]
    fn past_the_threshold_with_enough_requests_is_degraded_with_the_figures() {
        let h = with_traffic(
            healthy(),
            &[traffic(400.0, 30.0)],
            ErrorThreshold::default(),
        );
        assert_eq!(h.level, Level::Degraded);
        assert_eq!(
            h.reason,
            "stage prod: 30 of 400 requests answered 5xx (7.5 %) in the 5 minutes to 08:05 UTC"
        );
    }

    #[test]
    fn at_the_threshold_or_below_the_minimum_requests_stays_healthy() {
        for (requests, errors) in [(400.0, 20.0), (19.0, 19.0), (0.0, 0.0)] {
            let h = with_traffic(
                healthy(),
                &[traffic(requests, errors)],
                ErrorThreshold::default(),
            );
            assert_eq!(h.level, Level::Healthy, "{requests} requests, {errors} 5xx");
            assert_eq!(h.parts.len(), 2);
            assert_eq!(
                h.parts[1].reason,
                "5xx answers within 5 % of requests, or fewer than 20 requests"
            );
        }
    }

    #[test]
    fn each_stage_is_its_own_part_and_the_worst_names_its_stage() {
        let mut sprint = traffic(100.0, 50.0);
        sprint.stage = "sprint".into();
        let h = with_traffic(
            healthy(),
            &[traffic(400.0, 1.0), sprint],
            ErrorThreshold::default(),
        );
        assert_eq!(h.level, Level::Degraded);
        assert!(
            h.reason.starts_with("stage sprint: 50 of 100"),
            "{}",
            h.reason
        );
        let parts: Vec<(&str, Level)> = h
            .parts
            .iter()
            .map(|p| (p.resource.as_str(), p.level))
            .collect();
        assert_eq!(
            parts,
            [
                ("load balancer", Level::Healthy),
                ("stage prod traffic", Level::Healthy),
                ("stage sprint traffic", Level::Degraded)
            ]
        );
    }

    #[test]
    fn the_threshold_is_configurable_and_unknown_stays_unknown() {
        let strict = ErrorThreshold {
            percent: 1.0,
            min_requests: 5.0,
        };
        let h = with_traffic(healthy(), &[traffic(10.0, 1.0)], strict);
        assert_eq!(h.level, Level::Degraded);
        let h = with_traffic(
            unreadable("timeout", Some(3)),
            &[traffic(400.0, 30.0)],
            strict,
        );
        assert_eq!(h.level, Level::Unknown);
        assert_eq!(with_traffic(healthy(), &[], strict), healthy());
    }
}
