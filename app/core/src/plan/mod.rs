//! The planner: a pure function from the desired topology and the observed AWS state to an
//! ordered list of steps. No I/O, no clock, no randomness; everything is keyed in ordered maps,
//! so the same inputs always give the same plan. A plan is a value: the worker stores it with
//! the generation it was made from, people read it on the gateway page, and the worker executes
//! it exactly as stored.
//!
//! Creates and updates run first, in dependency order (target groups → load balancer →
//! listeners → VPC link → REST API → resources → methods → deployment → stages → usage plans →
//! keys); deletes follow in reverse, then the stages' access logs. A value a step needs from an earlier step (the ARN of a target
//! group it creates, the DNS name of a new load balancer) is a `Val::Output` naming that step.
//!
//! The step types (`Op`, `Val`, `Step` …) live in `step`, re-exported here. Planning is split
//! by resource kind: `elb` (target groups, targets, the NLB, listeners), `link` (the VPC link),
//! `rest` (REST API, resources, methods, integrations, deployment), `stages`, `usage` (usage
//! plans), `keys` (API keys). The names every resource gets are made in `names`.

pub mod actual;
mod elb;
pub mod keys;
pub mod lifecycle;
mod link;
pub mod names;
mod rest;
pub mod schedule;
mod stages;
pub mod status;
mod step;
mod usage;

#[cfg(any(test, feature = "simulate"))]
pub mod simulate;
#[cfg(test)]
mod tests;

pub use crate::model::diff::FieldChange;
pub use step::{Action, Field, Kind, Op, Patch, Step, Uri, Val};

use crate::model::topology::{Adopted, Topology};
use actual::Actual;
use serde::{Deserialize, Serialize};

/// The description a deployment of the desired routes carries (a stage serving another one is
/// stale).
pub fn deployment_fingerprint(desired: &Topology) -> String {
    let ports = desired
        .ports
        .iter()
        .map(|p| (p.port, p.listener()))
        .collect();
    rest::fingerprint(desired, &ports)
}

/// What deployment `id` of `api` serves, as the description of a Portico deployment: its own
/// description, or for a deployment the gateway was adopted with, that of the adopted routes.
pub fn deployment_description<'a>(
    adopted: Option<&'a Adopted>,
    api: &'a actual::RestApi,
    id: &str,
) -> Option<&'a String> {
    adopted
        .and_then(|a| a.deployments.get(id))
        .or_else(|| api.deployments.get(id))
}

/// Every API resource the routes make: the root, then each route's path and its prefixes
/// (what counts against AWS's resources-per-API quota).
pub fn resource_paths(desired: &Topology) -> std::collections::BTreeSet<String> {
    std::iter::once("/".to_owned())
        .chain(desired.routes.iter().flat_map(|r| rest::prefixes(&r.path)))
        .collect()
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The key steps that can run on their own, ahead of the rest: creating, enabling,
    /// disabling and deleting keys, and adding them to usage plans that exist already. An
    /// admin's key action (issue, rotate, revoke, an expiry) is applied through these first,
    /// so it never waits behind an approval, a failing step or report-only drift. Taking a key
    /// out of a usage plan is not among them: that follows from a usage plan an editor
    /// removed or renamed, which waits for the rest of its plan (and its approval). Values a
    /// kept step reads from another kept step are renumbered.
    pub fn keys_first(&self) -> Plan {
        // A key that also leaves a usage plan joins its new one only after leaving (AWS
        // refuses one key in two plans over the same stage): with the rest of the plan.
        let leaving: Vec<&str> = self
            .steps
            .iter()
            .filter_map(|s| match &s.op {
                Op::DeleteUsagePlanKey { api_key, .. } => Some(api_key.as_str()),
                _ => None,
            })
            .collect();
        let mut kept: std::collections::BTreeMap<usize, usize> = Default::default();
        let mut steps = vec![];
        for (i, s) in self.steps.iter().enumerate() {
            let free =
                s.op.inputs()
                    .iter()
                    .filter_map(|v| v.step())
                    .all(|j| kept.contains_key(&j));
            let membership_moves = match &s.op {
                Op::DeleteUsagePlanKey { .. } => true,
                Op::CreateUsagePlanKey { api_key, .. } => {
                    api_key.as_known().is_some_and(|k| leaving.contains(&k))
                }
                _ => false,
            };
            if s.kind != Kind::ApiKey || membership_moves || !free {
                continue;
            }
            let mut step = s.clone();
            if let Op::CreateUsagePlanKey {
                usage_plan,
                api_key,
            } = &mut step.op
            {
                for v in [usage_plan, api_key] {
                    if let Val::Output { step, .. } = v {
                        *step = kept[step];
                    }
                }
            }
            kept.insert(i, steps.len());
            steps.push(step);
        }
        Plan { steps }
    }

    /// How many steps write to AWS (waits only read).
    pub fn writes(&self) -> usize {
        self.steps.iter().filter(|s| s.op.is_write()).count()
    }

    /// Deletes or replaces a load balancer, VPC link, REST API or stage that serves traffic.
    pub fn needs_approval(&self) -> bool {
        self.steps.iter().any(|s| s.guarded)
    }

    /// Why it needs approval, in words.
    pub fn guarded_steps(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter(|s| s.guarded)
            .map(|s| s.resource.clone())
            .collect()
    }

    /// Why the plan waits for an admin, in words (the gateway's status, its alert).
    pub fn approval_message(&self) -> String {
        let guarded = self.guarded_steps();
        if guarded.is_empty() {
            format!(
                "A plan of {} step(s) waits for an admin's approval (apply mode: approve).",
                self.steps.len()
            )
        } else {
            format!(
                "A plan of {} step(s) waits for an admin's approval: it removes {}.",
                self.steps.len(),
                guarded.join(", ")
            )
        }
    }

    pub fn lines(&self) -> Vec<String> {
        self.steps.iter().map(Step::line).collect()
    }
}

fn change(field: &str, before: Option<String>, after: Option<String>) -> FieldChange {
    FieldChange {
        field: field.into(),
        before,
        after,
    }
}

/// Collects steps: creates and updates in order, deletes in a second list that runs after.
#[derive(Default)]
pub(crate) struct Builder {
    steps: Vec<Step>,
    deletes: Vec<Step>,
}

impl Builder {
    fn push(
        &mut self,
        kind: Kind,
        action: Action,
        resource: String,
        changes: Vec<FieldChange>,
        op: Op,
    ) -> usize {
        self.steps.push(Step {
            kind,
            action,
            resource,
            guarded: false,
            changes,
            op,
        });
        self.steps.len() - 1
    }

    /// A step of the second list (deletes and what must precede them), run after every
    /// create and update.
    fn later(
        &mut self,
        kind: Kind,
        action: Action,
        resource: String,
        changes: Vec<FieldChange>,
        op: Op,
    ) {
        self.deletes.push(Step {
            kind,
            action,
            resource,
            guarded: false,
            changes,
            op,
        });
    }

    /// A delete, guarded when its kind serves traffic.
    fn delete(&mut self, kind: Kind, resource: String, op: Op) {
        self.delete_guarded(kind, resource, kind.is_guarded(), op);
    }

    fn delete_guarded(&mut self, kind: Kind, resource: String, guarded: bool, op: Op) {
        self.later(kind, Action::Delete, resource, vec![], op);
        if let Some(last) = self.deletes.last_mut() {
            last.guarded = guarded;
        }
    }
}

/// The plan that takes `actual` to `desired` with `keys`; `None` desired removes everything
/// the gateway owns (deleting a gateway).
pub fn plan(desired: Option<&Topology>, keys: &[keys::DesiredKey], actual: &Actual) -> Plan {
    let mut b = Builder::default();
    let Some(desired) = desired else {
        teardown(&mut b, actual);
        return Plan { steps: b.deletes };
    };
    let network = elb::plan(&mut b, desired, actual);
    let vpc_link = link::plan(&mut b, desired, actual, network.as_ref());
    let api = rest::plan(&mut b, desired, actual, network.as_ref(), vpc_link.as_ref());
    let stages = stages::plan(&mut b, desired, &api);
    let plans = usage::plan(&mut b, desired, actual, &api, &stages);
    keys::plan(&mut b, desired, keys, actual, &plans);
    // Deletes, in reverse order of creation.
    keys::delete(&mut b, keys, actual);
    usage::delete(&mut b, desired, actual);
    stages::delete(&mut b, &api, &stages);
    rest::delete(&mut b, actual, &api);
    link::delete(&mut b, actual, vpc_link.as_ref());
    elb::delete(&mut b, desired, actual, network.as_ref());
    let mut steps = b.steps;
    steps.append(&mut b.deletes);
    // Access logs last, where a refusal holds nothing back (`stages::access_logs`).
    let mut logs = Builder::default();
    stages::access_logs(&mut logs, desired, &api);
    steps.append(&mut logs.steps);
    Plan { steps }
}

/// Everything the gateway owns, removed in reverse order: usage plans, the REST API (its
/// stages, deployments and resources go with it), VPC links, load balancers (their listeners go
/// with them), target groups.
fn teardown(b: &mut Builder, actual: &Actual) {
    keys::delete(b, &[], actual);
    for (name, plan) in actual.all_usage_plans() {
        usage::delete_one(b, name, plan);
    }
    for id in actual.rest_apis.keys() {
        b.delete(
            Kind::RestApi,
            format!("REST API {id}"),
            Op::DeleteRestApi {
                rest_api: id.clone(),
            },
        );
    }
    for (id, l) in &actual.vpc_links {
        b.delete(
            Kind::VpcLink,
            format!("VPC link {} ({id})", l.name),
            Op::DeleteVpcLink {
                vpc_link: id.clone(),
            },
        );
    }
    for lb in actual.load_balancers.values() {
        b.delete(
            Kind::LoadBalancer,
            format!("load balancer {}", lb.name),
            Op::DeleteLoadBalancer {
                load_balancer: lb.arn.clone(),
            },
        );
    }
    for (name, tg) in &actual.target_groups {
        b.delete(
            Kind::TargetGroup,
            format!("target group {} ({name})", tg.port),
            Op::DeleteTargetGroup {
                target_group: tg.arn.clone(),
            },
        );
    }
}

/// Does every value a step reads come from an earlier step? (A property the tests check.)
pub fn ordered(plan: &Plan) -> bool {
    plan.steps
        .iter()
        .enumerate()
        .all(|(i, s)| s.op.inputs().iter().filter_map(|v| v.step()).all(|j| j < i))
}
