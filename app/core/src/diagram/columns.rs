//! The diagram's columns, left to right: one builder per column (or pair of columns drawn
//! from one part of the topology), each adding its nodes and the edges into them. `build` calls
//! them in column order, which is also the order the nodes are stored and drawn.

use super::{node_id, Column, Diagram, Inputs, Node};
use crate::cost::{Estimate, Money};
use crate::health::{Health, Level};
use crate::model::topology::{EndpointType, HealthProtocol, Topology};
use crate::plan::names;
use std::collections::BTreeMap;

/// What the columns are drawn from besides the topology.
pub(super) struct Facts<'a> {
    parts: Parts<'a>,
    /// Whether there is a health assessment at all (nothing reported differs from not asked).
    assessed: bool,
    estimate: Option<&'a Estimate>,
    keys: usize,
}

impl<'a> Facts<'a> {
    pub(super) fn new(inputs: &Inputs<'a>) -> Self {
        Self {
            parts: Parts::new(inputs.health),
            assessed: inputs.health.is_some(),
            estimate: inputs.estimate,
            keys: inputs.keys,
        }
    }
}

/// Clients: the API keys and usage plans callers hold.
pub(super) fn clients(d: &mut Diagram, t: &Topology, f: &Facts<'_>) {
    let (parts, assessed) = (&f.parts, f.assessed);
    let (key_level, key_reason) = parts
        .worst(|r| r.starts_with("API key "))
        .map(|(l, r, _, _)| (Some(l), r))
        .unwrap_or((None, ""));
    let plans = t.usage_plans.len();
    d.add(Node {
        id: node_id(Column::Clients, ""),
        column: Column::Clients,
        label: "Clients".into(),
        details: vec![
            plural(f.keys, "API key", "API keys"),
            plural(plans, "usage plan", "usage plans"),
        ],
        about: vec![
            format!(
                "Callers with {} in {}",
                plural(f.keys, "API key", "API keys"),
                plural(plans, "usage plan", "usage plans")
            ),
            health_about(key_level, key_reason, assessed),
        ],
        level: key_level,
        change: None,
    });
}

/// The REST API and its stages.
pub(super) fn api_and_stages(d: &mut Diagram, t: &Topology, f: &Facts<'_>) {
    let g = &t.gateway;
    let (parts, assessed) = (&f.parts, f.assessed);
    let stage_health = parts.worst(|r| r.starts_with("stage "));
    let api_cost = cost_of(f.estimate, &["REST API requests", "data transfer out"]);
    let api_level = stage_health.map(|(l, ..)| l);
    let mut about = vec![
        format!(
            "REST API {} ({} endpoint)",
            names::rest_api(g),
            match g.endpoint_type {
                EndpointType::Regional => "regional",
                EndpointType::Edge => "edge-optimised",
                EndpointType::Private => "private",
            }
        ),
        health_about(
            api_level,
            stage_health.map(|(_, r, ..)| r).unwrap_or(""),
            assessed,
        ),
    ];
    if let Some((_, lines)) = &api_cost {
        about.extend(lines.iter().cloned());
    }
    d.add(Node {
        id: node_id(Column::Api, ""),
        column: Column::Api,
        label: names::rest_api(g),
        details: vec![
            join(&[
                &format!("{:?}", g.endpoint_type).to_ascii_uppercase(),
                &level_line(api_level),
            ]),
            api_cost.map(|(m, _)| money_line(m)).unwrap_or_default(),
        ],
        about,
        level: api_level,
        change: None,
    });
    d.edge("clients", "api");
    for s in &t.stages {
        let id = node_id(Column::Stages, &s.name);
        let (level, reason) = parts
            .get(&format!("stage {}", s.name))
            .map(|(l, r)| (Some(l), r))
            .unwrap_or((None, ""));
        let resource = format!("cache of stage {}", s.name);
        let cost = cost_of(f.estimate, &[resource.as_str()]);
        let mut about = vec![
            format!(
                "Stage {}: serves every route; its own routes go to port {}",
                s.name, s.backend_port
            ),
            health_about(level, reason, assessed),
        ];
        if let Some(th) = &s.throttle {
            about.push(format!(
                "Throttle: {} requests/s, burst {}",
                th.rate, th.burst
            ));
        }
        match &cost {
            Some((_, lines)) if !lines.is_empty() => about.extend(lines.iter().cloned()),
            Some(_) => about.push("Cost: no cache, so nothing beyond the API's requests".into()),
            None => {}
        }
        d.add(Node {
            id: id.clone(),
            column: Column::Stages,
            label: s.name.clone(),
            details: vec![
                join(&[&format!("→ :{}", s.backend_port), &level_line(level)]),
                cost.map(|(m, _)| money_line(m)).unwrap_or_default(),
            ],
            about,
            level,
            change: None,
        });
        d.edge("api", &id);
    }
}

/// Routes: every stage serves every route.
pub(super) fn routes(d: &mut Diagram, t: &Topology) {
    for r in &t.routes {
        let id = node_id(Column::Routes, &r.path);
        let to = match r.port {
            Some(p) => format!("→ :{p}"),
            None => "→ stage's port".into(),
        };
        d.add(Node {
            id: id.clone(),
            column: Column::Routes,
            label: r.path.clone(),
            details: vec![
                join(&[&to, if r.api_key_required { "key" } else { "open" }]),
                r.methods.join(" "),
            ],
            about: vec![
                format!(
                    "Route {} {} {}",
                    r.path,
                    r.methods.join(", "),
                    match r.port {
                        Some(p) => format!("to port {p}"),
                        None => "to each stage's own port".into(),
                    }
                ),
                if r.api_key_required {
                    "Callers need an API key".into()
                } else {
                    "Open to callers without an API key".into()
                },
                "Health: routes have none of their own; each stage's freshness says whether it serves them".into(),
            ],
            level: None,
            change: None,
        });
        for s in &t.stages {
            d.edge(&node_id(Column::Stages, &s.name), &id);
        }
        d.edge(&id, "link");
    }
}

/// The VPC link and the load balancer, once there is a port to reach.
pub(super) fn link_and_nlb(d: &mut Diagram, t: &Topology, f: &Facts<'_>) {
    let g = &t.gateway;
    let (parts, assessed) = (&f.parts, f.assessed);
    if t.ports.is_empty() {
        return;
    }
    let (level, reason) = parts
        .get("VPC link")
        .map(|(l, r)| (Some(l), r))
        .unwrap_or((None, ""));
    d.add(Node {
        id: "link".into(),
        column: Column::Link,
        label: names::vpc_link(g),
        details: vec![level_line(level), String::new()],
        about: vec![
            format!("VPC link {} to the load balancer", names::vpc_link(g)),
            health_about(level, reason, assessed),
        ],
        level,
        change: None,
    });
    let (level, reason) = parts
        .get("load balancer")
        .map(|(l, r)| (Some(l), r))
        .unwrap_or((None, ""));
    let cost = cost_of(f.estimate, &["NLB hours", "NLB capacity units (NLCU)"]);
    let mut about = vec![
        format!(
            "Internal network load balancer {} in {}",
            names::load_balancer(g),
            g.subnet_ids.join(", ")
        ),
        health_about(level, reason, assessed),
    ];
    if let Some((_, lines)) = &cost {
        about.extend(lines.iter().cloned());
    }
    d.add(Node {
        id: "nlb".into(),
        column: Column::Nlb,
        label: names::load_balancer(g),
        details: vec![
            join(&["internal", &level_line(level)]),
            cost.map(|(m, _)| money_line(m)).unwrap_or_default(),
        ],
        about,
        level,
        change: None,
    });
    d.edge("link", "nlb");
}

/// One listener and one target group per backend port, with the edges to their instances.
pub(super) fn ports(d: &mut Diagram, t: &Topology, f: &Facts<'_>) {
    let g = &t.gateway;
    let (parts, assessed) = (&f.parts, f.assessed);
    for p in &t.ports {
        let on_port = format!(" on {}", p.port);
        let targets = parts.worst(|r| r.starts_with("target ") && r.ends_with(&on_port));
        let level = targets.map(|(l, ..)| l);
        let counts = targets
            .map(|(l, _, ok, all)| match ok == all {
                true => format!("{ok}/{all} healthy"),
                false => format!("{ok}/{all} healthy · {}", l.words().0),
            })
            .unwrap_or_default();
        let reason = targets.map(|(_, r, ..)| r).unwrap_or("");
        let listener = node_id(Column::Listeners, &p.port.to_string());
        d.add(Node {
            id: listener.clone(),
            column: Column::Listeners,
            label: format!("TCP :{}", p.listener()),
            details: vec![level_line(level), String::new()],
            about: vec![
                format!(
                    "Listener TCP {} forwards to target group {}",
                    p.listener(),
                    p.port
                ),
                health_about(level, reason, assessed),
            ],
            level,
            change: None,
        });
        let tg = node_id(Column::TargetGroups, &p.port.to_string());
        let hc = &p.health_check;
        d.add(Node {
            id: tg.clone(),
            column: Column::TargetGroups,
            label: format!("port {}", p.port),
            details: vec![
                counts,
                format!(
                    "{} check · {} s",
                    protocol(hc.protocol),
                    hc.interval_seconds
                ),
            ],
            about: vec![
                format!(
                    "Target group {} on port {}: {}",
                    names::target_group(g, p.port),
                    p.port,
                    plural(p.instances.len(), "instance", "instances")
                ),
                health_about(level, reason, assessed),
                format!(
                    "Health check {}{} every {} s, healthy after {}, unhealthy after {}",
                    protocol(hc.protocol),
                    hc.path
                        .as_deref()
                        .map(|p| format!(" {p}"))
                        .unwrap_or_default(),
                    hc.interval_seconds,
                    hc.healthy_threshold,
                    hc.unhealthy_threshold
                ),
            ],
            level,
            change: None,
        });
        d.edge("nlb", &listener);
        d.edge(&listener, &tg);
        for i in &p.instances {
            d.edge(&tg, &node_id(Column::Instances, i));
        }
    }
}

/// Each instance once, with every port it serves.
pub(super) fn instances(d: &mut Diagram, t: &Topology, f: &Facts<'_>) {
    let (parts, assessed) = (&f.parts, f.assessed);
    let mut instances: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for p in &t.ports {
        for i in &p.instances {
            instances.entry(i.as_str()).or_default().push(p.port);
        }
    }
    for (i, ports) in instances {
        let prefix = format!("target {i} on ");
        let targets = parts.worst(|r| r.starts_with(&prefix));
        let level = targets.map(|(l, ..)| l);
        let ports_text = ports
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        d.add(Node {
            id: node_id(Column::Instances, i),
            column: Column::Instances,
            label: i.to_owned(),
            details: vec![
                level_line(level),
                format!(
                    "{} {ports_text}",
                    if ports.len() == 1 { "port" } else { "ports" }
                ),
            ],
            about: vec![
                format!(
                    "Instance {i}, a target on {} {ports_text}",
                    if ports.len() == 1 { "port" } else { "ports" }
                ),
                health_about(level, targets.map(|(_, r, ..)| r).unwrap_or(""), assessed),
            ],
            level,
            change: None,
        });
    }
}

/// The parts of the health assessment, by resource name; when AWS could not be read, every
/// box is unknown, with why.
struct Parts<'a>(BTreeMap<&'a str, (Level, &'a str)>, Option<&'a str>);

impl<'a> Parts<'a> {
    fn new(h: Option<&'a Health>) -> Self {
        let blind = h
            .filter(|h| h.level == Level::Unknown)
            .map(|h| h.reason.as_str());
        Self(
            h.map(|h| {
                h.parts
                    .iter()
                    .map(|p| (p.resource.as_str(), (p.level, p.reason.as_str())))
                    .collect()
            })
            .unwrap_or_default(),
            blind,
        )
    }

    fn get(&self, resource: &str) -> Option<(Level, &'a str)> {
        match self.1 {
            Some(why) => Some((Level::Unknown, why)),
            None => self.0.get(resource).copied(),
        }
    }

    /// The worst of the parts whose name passes `f`, and how many of them are healthy.
    fn worst(&self, f: impl Fn(&str) -> bool) -> Option<(Level, &'a str, usize, usize)> {
        let matching: Vec<(Level, &str)> = self
            .0
            .iter()
            .filter(|(r, _)| f(r))
            .map(|(_, v)| *v)
            .collect();
        let healthy = matching
            .iter()
            .filter(|(l, _)| *l == Level::Healthy)
            .count();
        if let Some(why) = self.1 {
            return Some((Level::Unknown, why, 0, matching.len()));
        }
        matching
            .iter()
            .max_by_key(|(l, _)| *l)
            .map(|(l, r)| (*l, *r, healthy, matching.len()))
    }
}

fn level_line(level: Option<Level>) -> String {
    level.map(|l| l.words().0.to_owned()).unwrap_or_default()
}

fn health_about(level: Option<Level>, reason: &str, assessed: bool) -> String {
    match level {
        Some(l) if reason.is_empty() || reason == l.words().0 => format!("Health: {}", l.words().0),
        Some(l) => format!("Health: {} — {reason}", l.words().0),
        None if assessed => "Health: AWS reports nothing for this".into(),
        None => "Health: not assessed yet".into(),
    }
}

fn money_line(amount: Money) -> String {
    format!("{}/mo", amount.cents())
}

fn cost_of(estimate: Option<&Estimate>, resources: &[&str]) -> Option<(Money, Vec<String>)> {
    let e = estimate?;
    let lines: Vec<&crate::cost::Line> = e
        .lines
        .iter()
        .filter(|l| resources.contains(&l.resource.as_str()))
        .collect();
    let total = lines.iter().map(|l| l.amount).sum();
    Some((
        total,
        lines
            .iter()
            .map(|l| format!("{}: {} = {}", l.resource, l.formula, l.amount.cents()))
            .collect(),
    ))
}

fn protocol(p: HealthProtocol) -> &'static str {
    match p {
        HealthProtocol::Tcp => "TCP",
        HealthProtocol::Http => "HTTP",
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Joins the non-empty parts with " · ".
fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ")
}
