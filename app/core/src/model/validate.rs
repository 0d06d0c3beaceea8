//! Validation of a whole topology: every field rule plus the cross-field ones (a stage's port
//! must exist, no duplicate paths after normalising, …). Problems name the field they belong
//! to, so a form can show each one next to its input.

use super::rules;
use super::topology::{AccessLogging, EndpointType, HealthProtocol, Topology};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Where: `gateway.region`, `ports[8080].instances`, `routes[/dev].path` …
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

struct Problems(Vec<Problem>);

impl Problems {
    fn check(&mut self, field: impl Into<String>, result: Result<(), String>) {
        if let Err(message) = result {
            self.0.push(Problem {
                field: field.into(),
                message,
            });
        }
    }

    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            field: field.into(),
            message: message.into(),
        });
    }
}

pub fn validate(t: &Topology) -> Result<(), Vec<Problem>> {
    let mut p = Problems(vec![]);
    gateway(t, &mut p);
    ports(t, &mut p);
    stages(t, &mut p);
    routes(t, &mut p);
    usage_plans(t, &mut p);
    quotas(t, &mut p);
    if p.0.is_empty() {
        Ok(())
    } else {
        Err(p.0)
    }
}

fn gateway(t: &Topology, p: &mut Problems) {
    let g = &t.gateway;
    p.check("gateway.name", rules::gateway_name(&g.name));
    p.check("gateway.region", rules::region(&g.region));
    p.check("gateway.vpc_id", rules::vpc_id(&g.vpc_id));
    if g.subnet_ids.is_empty() {
        p.add(
            "gateway.subnet_ids",
            "The NLB needs at least one subnet (two zones are recommended).",
        );
    }
    for s in &g.subnet_ids {
        p.check("gateway.subnet_ids", rules::subnet_id(s));
    }
    if let Some(arn) = &g.role_arn {
        p.check("gateway.role_arn", rules::role_arn(arn));
    }
    if g.endpoint_type == EndpointType::Private {
        // A private API serves nothing until a VPC endpoint and a resource policy let callers
        // in, and its deployment fails on AWS without the policy; Portico manages neither.
        p.add(
            "gateway.endpoint_type",
            "PRIVATE needs an execute-api VPC endpoint and a resource policy, which Portico \
             does not manage: choose REGIONAL (or EDGE).",
        );
    }
}

fn ports(t: &Topology, p: &mut Problems) {
    let mut seen = BTreeMap::new();
    let mut listeners = BTreeMap::new();
    for port in &t.ports {
        let at = format!("ports[{}]", port.port);
        p.check(format!("{at}.port"), rules::port(port.port, "Backend port"));
        p.check(
            format!("{at}.listener_port"),
            rules::port(port.listener(), "Listener port"),
        );
        if seen.insert(port.port, ()).is_some() {
            p.add(
                format!("{at}.port"),
                format!("Backend port {} is listed twice.", port.port),
            );
        }
        if let Some(other) = listeners.insert(port.listener(), port.port) {
            p.add(
                format!("{at}.listener_port"),
                format!(
                    "Listener port {} is already used by backend port {other}.",
                    port.listener()
                ),
            );
        }
        let hc = &port.health_check;
        p.check(
            format!("{at}.health_check.interval_seconds"),
            rules::health_interval(hc.interval_seconds),
        );
        p.check(
            format!("{at}.health_check.healthy_threshold"),
            rules::health_threshold(hc.healthy_threshold, "Healthy"),
        );
        p.check(
            format!("{at}.health_check.unhealthy_threshold"),
            rules::health_threshold(hc.unhealthy_threshold, "Unhealthy"),
        );
        match (hc.protocol, &hc.path) {
            (HealthProtocol::Http, Some(path)) => {
                p.check(format!("{at}.health_check.path"), rules::health_path(path))
            }
            (HealthProtocol::Http, None) => p.add(
                format!("{at}.health_check.path"),
                "An HTTP health check needs a path.",
            ),
            (HealthProtocol::Tcp, Some(_)) => p.add(
                format!("{at}.health_check.path"),
                "A path applies only to HTTP health checks.",
            ),
            (HealthProtocol::Tcp, None) => {}
        }
        p.check(
            format!("{at}.deregistration_delay"),
            rules::deregistration_delay(port.deregistration_delay),
        );
        for i in &port.instances {
            p.check(format!("{at}.instances"), rules::instance_id(i));
        }
    }
}

fn stages(t: &Topology, p: &mut Problems) {
    let mut seen = BTreeMap::new();
    for s in &t.stages {
        let at = format!("stages[{}]", s.name);
        p.check(format!("{at}.name"), rules::stage_name(&s.name));
        if seen.insert(s.name.as_str(), ()).is_some() {
            p.add(
                format!("{at}.name"),
                format!("A stage named {:?} already exists.", s.name),
            );
        }
        if t.port(s.backend_port).is_none() {
            p.add(
                format!("{at}.backend_port"),
                format!(
                    "Backend port {} does not exist; add it first.",
                    s.backend_port
                ),
            );
        }
        if let Some(th) = &s.throttle {
            p.check(format!("{at}.throttle"), rules::throttle(th.rate, th.burst));
        }
        if let Some(size) = &s.cache_gb {
            if !rules::CACHE_SIZES_GB.contains(&size.as_str()) {
                p.add(
                    format!("{at}.cache_gb"),
                    format!(
                        "Cache size {size:?} GB is not one of {}.",
                        rules::CACHE_SIZES_GB.join(", ")
                    ),
                );
            }
        }
        for (name, value) in &s.variables {
            p.check(format!("{at}.variables"), rules::variable_name(name));
            p.check(format!("{at}.variables"), rules::variable_value(value));
        }
        if let Some(AccessLogging::To(log)) = &s.access_log {
            p.check(
                format!("{at}.access_log.destination"),
                rules::access_log_destination(log.arn(), &t.gateway.region),
            );
            if let Some(format) = &log.format {
                p.check(
                    format!("{at}.access_log.format"),
                    rules::access_log_format(format),
                );
            }
        }
    }
}

fn routes(t: &Topology, p: &mut Problems) {
    let mut shapes: BTreeMap<String, &str> = BTreeMap::new();
    for r in &t.routes {
        let at = format!("routes[{}]", r.path);
        p.check(format!("{at}.path"), rules::resource_path(&r.path));
        if let Some(other) = shapes.insert(rules::normalised_path(&r.path), &r.path) {
            p.add(
                format!("{at}.path"),
                format!("Path {} is the same resource as {other} (parameter names don't distinguish paths).", r.path),
            );
        }
        p.check(format!("{at}.methods"), rules::methods(&r.methods));
        if let Some(backend) = &r.backend_path {
            p.check(
                format!("{at}.backend_path"),
                rules::backend_path(&r.path, backend),
            );
        }
        if let Some(port) = r.port {
            if t.port(port).is_none() {
                p.add(
                    format!("{at}.port"),
                    format!("Backend port {port} does not exist; add it first."),
                );
            }
        }
    }
}

/// AWS's quotas, each said with the number it counts and what to do.
fn quotas(t: &Topology, p: &mut Problems) {
    use rules::quotas::*;
    if t.ports.len() > LISTENERS_PER_NLB {
        p.add(
            "ports",
            format!(
                "{} backend ports: one load balancer holds at most {LISTENERS_PER_NLB} \
                 listeners (AWS quota, not adjustable), one per port.",
                t.ports.len()
            ),
        );
    }
    if t.stages.len() > STAGES_PER_API {
        p.add(
            "stages",
            format!(
                "{} stages: a REST API has at most {STAGES_PER_API} (AWS's default quota; \
                 raise it in Service Quotas before adding more).",
                t.stages.len()
            ),
        );
    }
    let resources = crate::plan::resource_paths(t).len();
    if resources > RESOURCES_PER_API {
        p.add(
            "routes",
            format!(
                "These routes make {resources} API resources (the root and every path \
                 prefix count): a REST API has at most {RESOURCES_PER_API} (AWS's default \
                 quota). Share prefixes, or use {{proxy+}} routes."
            ),
        );
    }
    for s in &t.stages {
        // Portico adds `backendPort` to every stage.
        let vars =
            s.variables.len() + usize::from(!s.variables.contains_key(rules::BACKEND_PORT_VAR));
        if vars > VARIABLES_PER_STAGE {
            p.add(
                format!("stages[{}].variables", s.name),
                format!(
                    "{vars} stage variables (with Portico's {}): a stage holds at most \
                     {VARIABLES_PER_STAGE} (AWS quota, not adjustable).",
                    rules::BACKEND_PORT_VAR
                ),
            );
        }
    }
    if t.usage_plans.len() > USAGE_PLANS {
        p.add(
            "usage_plans",
            format!(
                "{} usage plans: an account has at most {USAGE_PLANS} per region (AWS's \
                 default quota).",
                t.usage_plans.len()
            ),
        );
    }
    let mut targets = 0;
    for port in &t.ports {
        targets += port.instances.len();
        if port.instances.len() > TARGETS_PER_TARGET_GROUP {
            p.add(
                format!("ports[{}].instances", port.port),
                format!(
                    "{} instances: a target group holds at most {TARGETS_PER_TARGET_GROUP} \
                     targets (AWS's default quota).",
                    port.instances.len()
                ),
            );
        }
    }
    if targets > TARGETS_PER_NLB {
        p.add(
            "ports",
            format!(
                "{targets} targets over all ports (an instance behind N ports counts N \
                 times): one load balancer holds at most {TARGETS_PER_NLB} (AWS's default \
                 quota)."
            ),
        );
    }
}

fn usage_plans(t: &Topology, p: &mut Problems) {
    let mut seen = BTreeMap::new();
    for plan in &t.usage_plans {
        let at = format!("usage_plans[{}]", plan.name);
        p.check(format!("{at}.name"), rules::plan_name(&plan.name));
        if seen.insert(plan.name.as_str(), ()).is_some() {
            p.add(
                format!("{at}.name"),
                format!("A usage plan named {:?} already exists.", plan.name),
            );
        }
        if let Some(th) = &plan.throttle {
            p.check(format!("{at}.throttle"), rules::throttle(th.rate, th.burst));
        }
        if let Some(q) = &plan.quota {
            p.check(
                format!("{at}.quota"),
                rules::quota(q.limit, q.period, q.offset),
            );
        }
        for stage in &plan.stages {
            if t.stage(stage).is_none() {
                p.add(
                    format!("{at}.stages"),
                    format!("Stage {stage:?} does not exist."),
                );
            }
        }
    }
}
