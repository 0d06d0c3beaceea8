//! Lays a plan over the diagram: each step marks the node it touches as added, changed or
//! removed. What the plan removes is no longer in the desired topology, so its node is drawn
//! from the step (dashed), beside what stays.

use super::{node_id, Change, Column, Diagram, Node};
use crate::model::topology::Topology;
use crate::plan::{Action, Kind, Op, Plan, Step};

/// The node a step touches, by the planner's resource names ("stage dev", "target group 8080
/// (pt-…)", "route /dev ANY", "resource /dev"). None for steps with no node of their own
/// (waits, deployments, path segments that are not routes).
pub(super) fn subject(step: &Step, t: &Topology) -> Option<(Column, String)> {
    let r = step.resource.as_str();
    let first_word = |s: &str| s.split_whitespace().next().unwrap_or_default().to_owned();
    match step.kind {
        Kind::TargetGroup => {
            let rest = r
                .strip_prefix("targets of port ")
                .or_else(|| r.strip_prefix("target group "))?;
            Some((Column::TargetGroups, first_word(rest)))
        }
        Kind::Listener => Some((Column::Listeners, first_word(r.strip_prefix("listener ")?))),
        Kind::LoadBalancer if step.action != Action::Wait => Some((Column::Nlb, String::new())),
        Kind::VpcLink if step.action != Action::Wait => Some((Column::Link, String::new())),
        Kind::RestApi => Some((Column::Api, String::new())),
        Kind::Resource => {
            let path = r.strip_prefix("resource ")?;
            // Only a route's own resource is drawn; its parent segments are not routes.
            let is_route = t.routes.iter().any(|x| x.path == path) || step.action == Action::Delete;
            is_route.then(|| (Column::Routes, path.to_owned()))
        }
        Kind::Method => {
            let rest = r
                .strip_prefix("route ")
                .or_else(|| r.strip_prefix("integration "))?;
            let (path, _method) = rest.rsplit_once(' ')?;
            Some((Column::Routes, path.to_owned()))
        }
        Kind::Stage => Some((Column::Stages, r.strip_prefix("stage ")?.to_owned())),
        Kind::UsagePlan | Kind::ApiKey => Some((Column::Clients, String::new())),
        Kind::Deployment | Kind::LoadBalancer | Kind::VpcLink => None,
    }
}

fn removed_node(column: Column, key: &str) -> Node {
    let what = match column {
        Column::Stages => format!("Stage {key}"),
        Column::Routes => format!("Route {key} (and every route under it)"),
        Column::Listeners => format!("Listener {key}"),
        Column::TargetGroups => format!("Target group of port {key}"),
        Column::Instances => format!("Instance {key}"),
        _ => column.heading().to_owned(),
    };
    Node {
        id: node_id(column, key),
        column,
        label: match column {
            Column::Listeners => format!("TCP :{key}"),
            Column::TargetGroups => format!("port {key}"),
            _ if key.is_empty() => column.heading().to_owned(),
            _ => key.to_owned(),
        },
        details: vec!["removed".into(), String::new()],
        about: vec![format!("{what}: no longer in the topology")],
        level: None,
        change: None,
    }
}

/// Marks a node. A step that changes part of something new (a target group's attributes right
/// after creating it) does not make it "changed".
fn mark(d: &mut Diagram, id: &str, change: Change) {
    if let Some(n) = d.node_mut(id) {
        if !(n.change == Some(Change::Added) && change == Change::Changed) {
            n.change = Some(Change::merge(n.change, change));
        }
    }
}

fn mark_edge(d: &mut Diagram, from: &str, to: &str, change: Change) {
    d.edge(from, to);
    if let Some(e) = d.edge_mut(from, to) {
        e.change = Some(Change::merge(e.change, change));
    }
}

pub(super) fn apply(d: &mut Diagram, t: &Topology, plan: &Plan) {
    for step in &plan.steps {
        let change = match step.action {
            Action::Create => Change::Added,
            Action::Update => Change::Changed,
            Action::Delete => Change::Removed,
            Action::Wait => continue,
        };
        // Targets joining or leaving a group are edges to instances.
        match &step.op {
            Op::RegisterTargets {
                port, instances, ..
            }
            | Op::DeregisterTargets {
                port, instances, ..
            } => {
                let tg = node_id(Column::TargetGroups, &port.to_string());
                let edge_change = if matches!(step.op, Op::RegisterTargets { .. }) {
                    Change::Added
                } else {
                    Change::Removed
                };
                for i in instances {
                    let id = node_id(Column::Instances, i);
                    if d.node(&id).is_none() {
                        d.ensure(removed_node(Column::Instances, i));
                        mark(d, &id, Change::Removed);
                    }
                    mark_edge(d, &tg, &id, edge_change);
                }
                mark(d, &tg, Change::Changed);
                continue;
            }
            _ => {}
        }
        let Some((column, key)) = subject(step, t) else {
            continue;
        };
        let id = node_id(column, &key);
        if d.node(&id).is_none() {
            if change != Change::Removed {
                continue;
            }
            d.ensure(removed_node(column, &key));
            // Draw how it was wired, so the dashed box is not left floating.
            match column {
                Column::Stages => mark_edge(d, "api", &id, Change::Removed),
                Column::Routes => {
                    for s in &t.stages {
                        mark_edge(d, &node_id(Column::Stages, &s.name), &id, Change::Removed);
                    }
                    mark_edge(d, &id, "link", Change::Removed);
                }
                Column::Listeners => {
                    mark_edge(d, "nlb", &id, Change::Removed);
                    let tg = node_id(Column::TargetGroups, &key);
                    if d.node(&tg).is_some() {
                        mark_edge(d, &id, &tg, Change::Removed);
                    }
                }
                Column::TargetGroups => {
                    let listener = node_id(Column::Listeners, &key);
                    if d.node(&listener).is_some() {
                        mark_edge(d, &listener, &id, Change::Removed);
                    }
                }
                _ => {}
            }
        }
        // Replacing the network (a new NLB beside the old) adds and removes the same node.
        mark(d, &id, change);
    }
    // Edges into added or removed nodes share their fate.
    let changes: std::collections::HashMap<String, Change> = d
        .nodes
        .iter()
        .filter_map(|n| match n.change {
            Some(c @ (Change::Added | Change::Removed)) => Some((n.id.clone(), c)),
            _ => None,
        })
        .collect();
    for e in &mut d.edges {
        if e.change.is_none() {
            // Removed wins over added when an edge joins one of each.
            let touched = [changes.get(&e.from), changes.get(&e.to)]
                .into_iter()
                .flatten()
                .copied()
                .max_by_key(|c| *c == Change::Removed);
            e.change = touched;
        }
    }
}
