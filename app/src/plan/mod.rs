//! The planner: a pure function from the desired topology and the observed AWS state to an
//! ordered list of steps. No I/O, no clock, no randomness; everything is keyed in ordered maps,
//! so the same inputs always give the same plan. A plan is a value: the worker stores it with
//! the generation it was made from, people read it on the gateway page, and the worker executes
//! it exactly as stored.
//!
//! Creates and updates run first, in dependency order (target groups → load balancer →
//! listeners → VPC link → REST API → resources → methods → deployment → stages → usage plans);
//! deletes follow in reverse. A value a step needs from an earlier step (the ARN of a target
//! group it creates, the DNS name of a new load balancer) is a `Val::Output` naming that step.
//!
//! Planning is split by resource kind: `elb` (target groups, targets, the NLB, listeners),
//! `link` (the VPC link), `rest` (REST API, resources, methods, integrations, deployment),
//! `stages`, `usage` (usage plans).

pub mod actual;
mod elb;
pub mod keys;
mod link;
pub mod names;
mod rest;

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
mod stages;
pub mod status;
mod usage;

#[cfg(any(test, feature = "simulate"))]
pub mod simulate;
#[cfg(test)]
mod tests;

pub use crate::model::diff::FieldChange;
use crate::model::topology::{EndpointType, HealthCheck, Quota, Throttle, Topology};
use actual::Actual;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A value known when planning, or made by an earlier step of the same plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Val {
    Known(String),
    Output { step: usize, field: Field },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Field {
    /// The id or ARN of what the step made.
    Id,
    /// A new load balancer's DNS name.
    Dns,
    /// A new REST API's root resource.
    Root,
}

impl Val {
    pub fn known(s: &str) -> Self {
        Val::Known(s.to_owned())
    }

    fn id(step: usize) -> Self {
        Val::Output {
            step,
            field: Field::Id,
        }
    }

    /// The known value, if any.
    pub fn as_known(&self) -> Option<&str> {
        match self {
            Val::Known(s) => Some(s),
            Val::Output { .. } => None,
        }
    }

    fn step(&self) -> Option<usize> {
        match self {
            Val::Known(_) => None,
            Val::Output { step, .. } => Some(*step),
        }
    }
}

/// A PATCH operation of API Gateway's update calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patch {
    pub op: String,
    pub path: String,
    pub value: Option<String>,
}

impl Patch {
    pub fn replace(path: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            op: "replace".into(),
            path: path.into(),
            value: Some(value.into()),
        }
    }

    pub fn remove(path: impl Into<String>) -> Self {
        Self {
            op: "remove".into(),
            path: path.into(),
            value: None,
        }
    }
}

/// The target of a VPC-link integration: `http://<nlb dns>:<port><path>`, where the port is
/// fixed or the stage's `backendPort` variable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uri {
    pub dns: Val,
    pub port: Option<u32>,
    pub path: String,
}

impl Uri {
    /// The uri once the DNS name is known.
    pub fn render(&self, dns: &str) -> String {
        match self.port {
            Some(port) => format!("http://{dns}:{port}{}", self.path),
            None => format!(
                "http://{dns}:${{stageVariables.{STAGE_PORT_VARIABLE}}}{}",
                self.path
            ),
        }
    }
}

/// The stage variable carrying a stage's backend (listener) port.
pub const STAGE_PORT_VARIABLE: &str = "backendPort";

/// One AWS call (or a wait), with everything it needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op")]
pub enum Op {
    CreateTargetGroup {
        name: String,
        port: u32,
        vpc_id: String,
        health_check: HealthCheck,
    },
    ModifyTargetGroup {
        target_group: Val,
        health_check: HealthCheck,
    },
    SetDeregistrationDelay {
        target_group: Val,
        seconds: u32,
    },
    RegisterTargets {
        target_group: Val,
        port: u32,
        instances: Vec<String>,
    },
    DeregisterTargets {
        target_group: Val,
        port: u32,
        instances: Vec<String>,
    },
    CreateLoadBalancer {
        name: String,
        subnets: Vec<String>,
    },
    WaitLoadBalancer {
        load_balancer: Val,
    },
    CreateListener {
        load_balancer: Val,
        port: u32,
        target_group: Val,
    },
    ModifyListener {
        listener: String,
        target_group: Val,
    },
    CreateVpcLink {
        name: String,
        load_balancer: Val,
    },
    WaitVpcLink {
        vpc_link: Val,
    },
    CreateRestApi {
        name: String,
        endpoint_type: EndpointType,
    },
    UpdateRestApi {
        rest_api: String,
        patches: Vec<Patch>,
    },
    CreateResource {
        rest_api: Val,
        parent: Val,
        path_part: String,
        path: String,
    },
    PutMethod {
        rest_api: Val,
        resource: Val,
        method: String,
        api_key_required: bool,
        path_parameters: Vec<String>,
    },
    UpdateMethod {
        rest_api: String,
        resource: String,
        method: String,
        patches: Vec<Patch>,
    },
    PutIntegration {
        rest_api: Val,
        resource: Val,
        method: String,
        uri: Uri,
        vpc_link: Val,
        path_parameters: Vec<String>,
    },
    CreateDeployment {
        rest_api: Val,
        description: String,
    },
    CreateStage {
        rest_api: Val,
        name: String,
        deployment: Val,
        variables: BTreeMap<String, String>,
        cache_gb: Option<String>,
    },
    UpdateStage {
        rest_api: Val,
        name: String,
        deployment: Option<Val>,
        patches: Vec<Patch>,
    },
    CreateUsagePlan {
        name: String,
        rest_api: Val,
        stages: Vec<String>,
        throttle: Option<Throttle>,
        quota: Option<Quota>,
    },
    UpdateUsagePlan {
        usage_plan: String,
        rest_api: Val,
        add_stages: Vec<String>,
        remove_stages: Vec<(String, String)>,
        patches: Vec<Patch>,
    },
    CreateApiKey {
        /// Portico's id (the `portico:key` tag).
        key: i64,
        name: String,
        description: String,
        enabled: bool,
    },
    UpdateApiKey {
        api_key: String,
        enabled: bool,
    },
    CreateUsagePlanKey {
        usage_plan: Val,
        api_key: Val,
    },
    DeleteUsagePlanKey {
        usage_plan: String,
        api_key: String,
    },
    DeleteApiKey {
        api_key: String,
    },
    DeleteUsagePlan {
        usage_plan: String,
    },
    DeleteStage {
        rest_api: String,
        name: String,
    },
    DeleteDeployment {
        rest_api: String,
        deployment: String,
    },
    DeleteMethod {
        rest_api: String,
        resource: String,
        method: String,
    },
    DeleteResource {
        rest_api: String,
        resource: String,
    },
    DeleteRestApi {
        rest_api: String,
    },
    DeleteVpcLink {
        vpc_link: String,
    },
    DeleteListener {
        listener: String,
    },
    DeleteLoadBalancer {
        load_balancer: String,
    },
    DeleteTargetGroup {
        target_group: String,
    },
}

impl Op {
    /// The AWS operation's name, as in the API reference and the metrics.
    pub fn operation(&self) -> &'static str {
        match self {
            Op::CreateTargetGroup { .. } => "CreateTargetGroup",
            Op::ModifyTargetGroup { .. } => "ModifyTargetGroup",
            Op::SetDeregistrationDelay { .. } => "ModifyTargetGroupAttributes",
            Op::RegisterTargets { .. } => "RegisterTargets",
            Op::DeregisterTargets { .. } => "DeregisterTargets",
            Op::CreateLoadBalancer { .. } => "CreateLoadBalancer",
            Op::WaitLoadBalancer { .. } => "DescribeLoadBalancers",
            Op::CreateListener { .. } => "CreateListener",
            Op::ModifyListener { .. } => "ModifyListener",
            Op::CreateVpcLink { .. } => "CreateVpcLink",
            Op::WaitVpcLink { .. } => "GetVpcLink",
            Op::CreateRestApi { .. } => "CreateRestApi",
            Op::UpdateRestApi { .. } => "UpdateRestApi",
            Op::CreateResource { .. } => "CreateResource",
            Op::PutMethod { .. } => "PutMethod",
            Op::UpdateMethod { .. } => "UpdateMethod",
            Op::PutIntegration { .. } => "PutIntegration",
            Op::CreateDeployment { .. } => "CreateDeployment",
            Op::CreateStage { .. } => "CreateStage",
            Op::UpdateStage { .. } => "UpdateStage",
            Op::CreateUsagePlan { .. } => "CreateUsagePlan",
            Op::UpdateUsagePlan { .. } => "UpdateUsagePlan",
            Op::CreateApiKey { .. } => "CreateApiKey",
            Op::UpdateApiKey { .. } => "UpdateApiKey",
            Op::CreateUsagePlanKey { .. } => "CreateUsagePlanKey",
            Op::DeleteUsagePlanKey { .. } => "DeleteUsagePlanKey",
            Op::DeleteApiKey { .. } => "DeleteApiKey",
            Op::DeleteUsagePlan { .. } => "DeleteUsagePlan",
            Op::DeleteStage { .. } => "DeleteStage",
            Op::DeleteDeployment { .. } => "DeleteDeployment",
            Op::DeleteMethod { .. } => "DeleteMethod",
            Op::DeleteResource { .. } => "DeleteResource",
            Op::DeleteRestApi { .. } => "DeleteRestApi",
            Op::DeleteVpcLink { .. } => "DeleteVpcLink",
            Op::DeleteListener { .. } => "DeleteListener",
            Op::DeleteLoadBalancer { .. } => "DeleteLoadBalancer",
            Op::DeleteTargetGroup { .. } => "DeleteTargetGroup",
        }
    }

    /// Waits only read.
    pub fn is_write(&self) -> bool {
        !matches!(self, Op::WaitLoadBalancer { .. } | Op::WaitVpcLink { .. })
    }

    /// The values this step reads.
    pub fn inputs(&self) -> Vec<&Val> {
        match self {
            Op::ModifyTargetGroup { target_group, .. }
            | Op::SetDeregistrationDelay { target_group, .. }
            | Op::RegisterTargets { target_group, .. }
            | Op::DeregisterTargets { target_group, .. }
            | Op::ModifyListener { target_group, .. } => vec![target_group],
            Op::WaitLoadBalancer { load_balancer } | Op::CreateVpcLink { load_balancer, .. } => {
                vec![load_balancer]
            }
            Op::CreateListener {
                load_balancer,
                target_group,
                ..
            } => vec![load_balancer, target_group],
            Op::WaitVpcLink { vpc_link } => vec![vpc_link],
            Op::CreateResource {
                rest_api, parent, ..
            } => vec![rest_api, parent],
            Op::PutMethod {
                rest_api, resource, ..
            } => vec![rest_api, resource],
            Op::PutIntegration {
                rest_api,
                resource,
                uri,
                vpc_link,
                ..
            } => vec![rest_api, resource, &uri.dns, vpc_link],
            Op::CreateDeployment { rest_api, .. }
            | Op::CreateUsagePlan { rest_api, .. }
            | Op::UpdateUsagePlan { rest_api, .. } => vec![rest_api],
            Op::CreateStage {
                rest_api,
                deployment,
                ..
            } => vec![rest_api, deployment],
            Op::UpdateStage {
                rest_api,
                deployment,
                ..
            } => {
                let mut v = vec![rest_api];
                v.extend(deployment);
                v
            }
            Op::CreateUsagePlanKey {
                usage_plan,
                api_key,
            } => vec![usage_plan, api_key],
            _ => vec![],
        }
    }
}

/// What a step does to its resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Create,
    Update,
    Delete,
    Wait,
}

/// The kinds of resource, in the order they are created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    TargetGroup,
    LoadBalancer,
    Listener,
    VpcLink,
    RestApi,
    Resource,
    Method,
    Deployment,
    Stage,
    UsagePlan,
    ApiKey,
}

impl Kind {
    /// Deleting (or replacing) these needs an admin's approval, whatever the apply mode.
    pub fn is_guarded(self) -> bool {
        matches!(
            self,
            Kind::LoadBalancer | Kind::VpcLink | Kind::RestApi | Kind::Stage
        )
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub kind: Kind,
    pub action: Action,
    /// The resource as people name it: "target group 8080", "stage dev", "route /dev ANY".
    pub resource: String,
    /// Deletes something that serves traffic (a load balancer, VPC link, REST API or stage):
    /// an admin approves the plan first, whatever the apply mode.
    #[serde(default)]
    pub guarded: bool,
    /// Field by field, old → new.
    #[serde(default)]
    pub changes: Vec<FieldChange>,
    pub op: Op,
}

impl Step {
    /// `+ target group 8080`, `~ stage dev: variables.backendPort 8080 → 8081`.
    pub fn line(&self) -> String {
        let sign = match self.action {
            Action::Create => "+",
            Action::Update => "~",
            Action::Delete => "-",
            Action::Wait => "…",
        };
        let mut s = format!("{sign} {}", self.resource);
        if !self.changes.is_empty() {
            let fields: Vec<String> = self
                .changes
                .iter()
                .map(|c| {
                    format!(
                        "{} {} → {}",
                        c.field,
                        c.before.as_deref().unwrap_or("(none)"),
                        c.after.as_deref().unwrap_or("(none)")
                    )
                })
                .collect();
            s.push_str(": ");
            s.push_str(&fields.join(", "));
        }
        s
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
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
    Plan { steps }
}

/// Everything the gateway owns, removed in reverse order: usage plans, the REST API (its
/// stages, deployments and resources go with it), VPC links, load balancers (their listeners go
/// with them), target groups.
fn teardown(b: &mut Builder, actual: &Actual) {
    keys::delete(b, &[], actual);
    for (name, plan) in &actual.usage_plans {
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
