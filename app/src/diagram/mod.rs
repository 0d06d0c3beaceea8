//! The topology diagram: what one gateway is made of, left to right — clients → the REST API
//! → its stages → routes → the VPC link → the NLB → its listeners → target groups → instances —
//! each node coloured by health (the reason on hover), the monthly cost on the NLB, the API and
//! each stage, and optionally a plan laid over it (added, changed, removed).
//!
//! Pure and deterministic: `build` turns the desired topology, the last health assessment, the
//! cost estimate and a plan into nodes and edges; `layout` places them on a grid; `svg` writes
//! plain SVG (no script, no external style), so the page, the download and print all show the
//! same picture, and the same inputs always give the same bytes.

pub mod layout;
mod overlay;
pub mod svg;
#[cfg(test)]
mod tests;

use crate::cost::{Estimate, Money};
use crate::health::{Health, Level};
use crate::model::topology::{EndpointType, HealthProtocol, Topology};
use crate::plan::{names, Plan};
use std::collections::BTreeMap;

/// The columns, left to right.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Column {
    Clients,
    Api,
    Stages,
    Routes,
    Link,
    Nlb,
    Listeners,
    TargetGroups,
    Instances,
}

impl Column {
    pub const ALL: [Column; 9] = [
        Column::Clients,
        Column::Api,
        Column::Stages,
        Column::Routes,
        Column::Link,
        Column::Nlb,
        Column::Listeners,
        Column::TargetGroups,
        Column::Instances,
    ];

    pub fn heading(self) -> &'static str {
        match self {
            Column::Clients => "Clients",
            Column::Api => "REST API",
            Column::Stages => "Stages",
            Column::Routes => "Routes",
            Column::Link => "VPC link",
            Column::Nlb => "Load balancer",
            Column::Listeners => "Listeners",
            Column::TargetGroups => "Target groups",
            Column::Instances => "Instances",
        }
    }
}

/// What a pending plan does to a node or edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Change {
    Added,
    Changed,
    Removed,
}

impl Change {
    pub fn words(self) -> &'static str {
        match self {
            Change::Added => "added by the plan",
            Change::Changed => "changed by the plan",
            Change::Removed => "removed by the plan",
        }
    }

    /// Adding and removing the same thing is replacing it.
    fn merge(a: Option<Change>, b: Change) -> Change {
        match (a, b) {
            (None, b) => b,
            (Some(a), b) if a == b => a,
            _ => Change::Changed,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Stable and unique: "stage:dev", "tg:8080", "instance:i-0abc".
    pub id: String,
    pub column: Column,
    pub label: String,
    /// Up to two short lines under the label.
    pub details: Vec<String>,
    /// The hover text and the screen-reader label: every line in full.
    pub about: Vec<String>,
    /// None where AWS has nothing to say (routes, clients) or nothing was assessed yet.
    pub level: Option<Level>,
    pub change: Option<Change>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub change: Option<Change>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagram {
    pub gateway: String,
    /// "generation 7", "plan 12 over generation 7".
    pub subtitle: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

impl Diagram {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    fn node_mut(&mut self, id: &str) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|n| n.id == id)
    }

    /// Adds a node unless one with its id exists.
    fn ensure(&mut self, node: Node) {
        if self.node(&node.id).is_none() {
            self.nodes.push(node);
        }
    }

    fn edge(&mut self, from: &str, to: &str) {
        if !self.edges.iter().any(|e| e.from == from && e.to == to) {
            self.edges.push(Edge {
                from: from.into(),
                to: to.into(),
                change: None,
            });
        }
    }

    /// The nodes of one column, in their drawing order.
    pub fn column(&self, c: Column) -> Vec<&Node> {
        let mut v: Vec<&Node> = self.nodes.iter().filter(|n| n.column == c).collect();
        v.sort_by(|a, b| sort_key(&a.id).cmp(&sort_key(&b.id)));
        v
    }
}

/// Ports and numbers sort as numbers ("tg:9000" before "tg:10000"), names as text.
fn sort_key(id: &str) -> (u64, &str) {
    let tail = id.rsplit(':').next().unwrap_or(id);
    (tail.parse::<u64>().unwrap_or(u64::MAX), id)
}

/// What the diagram needs besides the topology.
#[derive(Clone, Debug, Default)]
pub struct Inputs<'a> {
    pub health: Option<&'a Health>,
    pub estimate: Option<&'a Estimate>,
    /// Live (not revoked or deleted) API keys and the usage plans they are in.
    pub keys: usize,
    /// The plan to overlay, with its id.
    pub plan: Option<(i64, &'a Plan)>,
    pub generation: i64,
}

pub fn node_id(column: Column, key: &str) -> String {
    let prefix = match column {
        Column::Clients => "clients",
        Column::Api => "api",
        Column::Stages => "stage",
        Column::Routes => "route",
        Column::Link => "link",
        Column::Nlb => "nlb",
        Column::Listeners => "listener",
        Column::TargetGroups => "tg",
        Column::Instances => "instance",
    };
    if key.is_empty() {
        prefix.into()
    } else {
        format!("{prefix}:{key}")
    }
}

/// The parts of the health assessment, by resource name.
struct Parts<'a>(BTreeMap<&'a str, (Level, &'a str)>);

impl<'a> Parts<'a> {
    fn new(h: Option<&'a Health>) -> Self {
        Self(
            h.map(|h| {
                h.parts
                    .iter()
                    .map(|p| (p.resource.as_str(), (p.level, p.reason.as_str())))
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    fn get(&self, resource: &str) -> Option<(Level, &'a str)> {
        self.0.get(resource).copied()
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

/// The diagram of `t`, with `inputs`' health, cost and plan.
pub fn build(t: &Topology, inputs: &Inputs) -> Diagram {
    let g = &t.gateway;
    let parts = Parts::new(inputs.health);
    let assessed = inputs.health.is_some();
    let mut d = Diagram {
        gateway: g.name.clone(),
        subtitle: match inputs.plan {
            Some((id, _)) => format!(
                "{} · generation {} · plan {id} laid over",
                g.region, inputs.generation
            ),
            None => format!("{} · generation {}", g.region, inputs.generation),
        },
        nodes: vec![],
        edges: vec![],
    };

    let (key_level, key_reason) = parts
        .worst(|r| r.starts_with("API key "))
        .map(|(l, r, _, _)| (Some(l), r))
        .unwrap_or((None, ""));
    let plans = t.usage_plans.len();
    d.nodes.push(Node {
        id: node_id(Column::Clients, ""),
        column: Column::Clients,
        label: "Clients".into(),
        details: vec![
            plural(inputs.keys, "API key", "API keys"),
            plural(plans, "usage plan", "usage plans"),
        ],
        about: vec![
            format!(
                "Callers with {} in {}",
                plural(inputs.keys, "API key", "API keys"),
                plural(plans, "usage plan", "usage plans")
            ),
            health_about(key_level, key_reason, assessed),
        ],
        level: key_level,
        change: None,
    });

    // The REST API and its stages.
    let stage_health = parts.worst(|r| r.starts_with("stage "));
    let api_cost = cost_of(inputs.estimate, &["REST API requests", "data transfer out"]);
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
    d.nodes.push(Node {
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
        let cost = cost_of(inputs.estimate, &[resource.as_str()]);
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
        d.nodes.push(Node {
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

    // Routes: every stage serves every route.
    for r in &t.routes {
        let id = node_id(Column::Routes, &r.path);
        let to = match r.port {
            Some(p) => format!("→ :{p}"),
            None => "→ stage's port".into(),
        };
        d.nodes.push(Node {
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

    if !t.ports.is_empty() {
        let (level, reason) = parts
            .get("VPC link")
            .map(|(l, r)| (Some(l), r))
            .unwrap_or((None, ""));
        d.nodes.push(Node {
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
        let cost = cost_of(inputs.estimate, &["NLB hours", "NLB capacity units (NLCU)"]);
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
        d.nodes.push(Node {
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

    let mut instances: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
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
        d.nodes.push(Node {
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
        d.nodes.push(Node {
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
            instances.entry(i.as_str()).or_default().push(p.port);
            d.edge(&tg, &node_id(Column::Instances, i));
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
        d.nodes.push(Node {
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
    if let Some((_, plan)) = inputs.plan {
        overlay::apply(&mut d, t, plan);
    }
    d
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
