//! Per-resource state for people: what AWS holds for a gateway, each row with its state in
//! AWS's words and what the pending plan would still do to it. `portico status` prints it; the
//! gateway page shows it.

use super::actual::Actual;
use super::Plan;
use crate::model::topology::Topology;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// "load balancer", "listener", "target group", "VPC link", "REST API", "stage", "usage plan"
    pub kind: String,
    pub name: String,
    /// AWS's id or ARN.
    pub id: String,
    /// AWS's state words: active, healthy, AVAILABLE, serving the latest routes …
    pub state: String,
    /// Plan lines still pending for this resource.
    pub pending: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub gateway: String,
    pub in_sync: bool,
    pub rows: Vec<Row>,
    /// Plan lines not tied to a row above (things still to be created).
    pub to_create: Vec<String>,
}

impl Report {
    pub fn new(desired: &Topology, actual: &Actual, plan: &Plan) -> Self {
        let mut rows = vec![];
        for lb in actual.load_balancers.values() {
            rows.push(row(
                "load balancer",
                &lb.name,
                &lb.arn,
                format!("{} ({})", lb.state, lb.dns),
            ));
            for (port, l) in &lb.listeners {
                let to = l
                    .target_group_arn
                    .as_ref()
                    .and_then(|arn| actual.target_groups.values().find(|t| t.arn == *arn))
                    .map(|t| format!("forwards to target group {}", t.port))
                    .unwrap_or_else(|| "forwards to no target group of this gateway".into());
                rows.push(row("listener", &port.to_string(), &l.arn, to));
            }
        }
        for tg in actual.target_groups.values() {
            let targets: Vec<String> = tg
                .targets
                .iter()
                .map(|(id, h)| match &h.reason {
                    Some(r) => format!("{id} {} ({r})", h.state),
                    None => format!("{id} {}", h.state),
                })
                .collect();
            let state = if targets.is_empty() {
                "no targets".to_owned()
            } else {
                targets.join(", ")
            };
            rows.push(row("target group", &tg.port.to_string(), &tg.arn, state));
        }
        for (id, l) in &actual.vpc_links {
            let state = match &l.status_message {
                Some(m) => format!("{}: {m}", l.status),
                None => l.status.clone(),
            };
            rows.push(row("VPC link", &l.name, id, state));
        }
        for (id, api) in &actual.rest_apis {
            rows.push(row(
                "REST API",
                &api.name,
                id,
                format!("{:?}", api.endpoint_type).to_ascii_uppercase(),
            ));
            for (name, st) in &api.stages {
                let adopted = desired.gateway.adopted.as_ref();
                let fresh = super::deployment_description(adopted, api, &st.deployment_id)
                    .is_some_and(|d| d.starts_with(super::names::DEPLOYMENT_PREFIX));
                let serving = plan.steps.iter().any(|s| {
                    s.resource == format!("stage {name}")
                        && s.changes.iter().any(|c| c.field == "deployment")
                });
                let state = if !fresh || serving {
                    format!(
                        "serves deployment {} (stale: not the latest routes)",
                        st.deployment_id
                    )
                } else {
                    format!("serves deployment {} (latest routes)", st.deployment_id)
                };
                rows.push(row("stage", name, &format!("{id}/{name}"), state));
            }
        }
        for (name, p) in &actual.usage_plans {
            let stages: Vec<&str> = p.api_stages.iter().map(|(_, s)| s.as_str()).collect();
            rows.push(row(
                "usage plan",
                name,
                &p.id,
                format!(
                    "covers {}",
                    if stages.is_empty() {
                        "no stage".into()
                    } else {
                        stages.join(", ")
                    }
                ),
            ));
        }
        let mut to_create = vec![];
        for step in &plan.steps {
            let line = step.line();
            let found = rows.iter_mut().find(|r| {
                let label = format!("{} {}", r.kind, r.name);
                step.resource == label || step.resource.starts_with(&format!("{label} "))
            });
            match found {
                Some(r) => r.pending.push(line),
                None => to_create.push(line),
            }
        }
        Report {
            gateway: desired.gateway.name.clone(),
            in_sync: plan.is_empty(),
            rows,
            to_create,
        }
    }

    pub fn text(&self) -> String {
        let mut out = format!(
            "Gateway {}: {}\n",
            self.gateway,
            if self.in_sync {
                "in sync with AWS"
            } else {
                "not in sync with AWS"
            }
        );
        for r in &self.rows {
            out.push_str(&format!("  {:<14} {:<24} {}\n", r.kind, r.name, r.state));
            out.push_str(&format!("  {:<14} {:<24} {}\n", "", "", r.id));
            for p in &r.pending {
                out.push_str(&format!("  {:<14} {:<24} pending: {p}\n", "", ""));
            }
        }
        if !self.to_create.is_empty() {
            out.push_str("  Still to do:\n");
            for line in &self.to_create {
                out.push_str(&format!("    {line}\n"));
            }
        }
        out
    }
}

fn row(kind: &str, name: &str, id: &str, state: String) -> Row {
    Row {
        kind: kind.into(),
        name: name.into(),
        id: id.into(),
        state,
        pending: vec![],
    }
}
