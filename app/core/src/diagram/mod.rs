//! The topology diagram: what one gateway is made of, left to right — clients → the REST API
//! → its stages → routes → the VPC link → the NLB → its listeners → target groups → instances —
//! each node coloured by health (the reason on hover), the monthly cost on the NLB, the API and
//! each stage, and optionally a plan laid over it (added, changed, removed).
//!
//! Pure and deterministic: `build` turns the desired topology, the last health assessment, the
//! cost estimate and a plan into nodes and edges; `layout` places them on a grid; `svg` writes
//! plain SVG (no script, no external style), so the page, the download and print all show the
//! same picture, and the same inputs always give the same bytes.

mod columns;
pub mod layout;
mod overlay;
pub mod svg;
#[cfg(test)]
mod tests;

use crate::cost::Estimate;
use crate::health::{Health, Level};
use crate::model::topology::Topology;
use crate::plan::Plan;
use std::collections::HashMap;

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
    /// Where each node id sits in `nodes`, and which edges exist: every lookup is a hash
    /// lookup, so building is linear in nodes and edges (a stage-by-route bus of hundreds of
    /// each stays cheap, and no page a viewer opens can make it quadratic).
    by_id: HashMap<String, usize>,
    /// Each edge's position in `edges`, by its ends.
    edge_at: HashMap<(String, String), usize>,
}

impl Diagram {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.by_id.get(id).map(|i| &self.nodes[*i])
    }

    fn node_mut(&mut self, id: &str) -> Option<&mut Node> {
        self.by_id.get(id).map(|i| &mut self.nodes[*i])
    }

    /// Adds a node (its id must be new: each column makes its own ids).
    fn add(&mut self, node: Node) {
        debug_assert!(!self.by_id.contains_key(&node.id), "node {} twice", node.id);
        self.by_id.insert(node.id.clone(), self.nodes.len());
        self.nodes.push(node);
    }

    /// Adds a node unless one with its id exists.
    fn ensure(&mut self, node: Node) {
        if self.node(&node.id).is_none() {
            self.add(node);
        }
    }

    fn edge(&mut self, from: &str, to: &str) {
        let key = (from.to_owned(), to.to_owned());
        if !self.edge_at.contains_key(&key) {
            self.edge_at.insert(key, self.edges.len());
            self.edges.push(Edge {
                from: from.into(),
                to: to.into(),
                change: None,
            });
        }
    }

    fn edge_mut(&mut self, from: &str, to: &str) -> Option<&mut Edge> {
        let i = *self.edge_at.get(&(from.to_owned(), to.to_owned()))?;
        self.edges.get_mut(i)
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

/// The diagram of `t`, with `inputs`' health, cost and plan.
pub fn build(t: &Topology, inputs: &Inputs) -> Diagram {
    let g = &t.gateway;
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
        by_id: HashMap::new(),
        edge_at: HashMap::new(),
    };

    let f = columns::Facts::new(inputs);
    columns::clients(&mut d, t, &f);
    columns::api_and_stages(&mut d, t, &f);
    columns::routes(&mut d, t);
    columns::link_and_nlb(&mut d, t, &f);
    columns::ports(&mut d, t, &f);
    columns::instances(&mut d, t, &f);
    if let Some((_, plan)) = inputs.plan {
        overlay::apply(&mut d, t, plan);
    }
    d
}
