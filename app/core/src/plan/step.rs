//! The steps of a plan: `Op` (one AWS call, or a wait, with everything it needs), the `Val`s it
//! reads (known when planning or made by an earlier step), and `Step` (an op with what people
//! read about it). The planner makes them, the worker stores and executes them exactly as
//! stored, and the pages show their lines.

use crate::model::diff::FieldChange;
use crate::model::rules::BACKEND_PORT_VAR;
use crate::model::topology::{EndpointType, HealthCheck, Quota, Throttle};
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

    pub(super) fn id(step: usize) -> Self {
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

    pub(super) fn step(&self) -> Option<usize> {
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
/// fixed or the stage's `BACKEND_PORT_VAR` variable.
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
                "http://{dns}:${{stageVariables.{BACKEND_PORT_VAR}}}{}",
                self.path
            ),
        }
    }
}

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
            let fields: Vec<String> = self.changes.iter().map(ToString::to_string).collect();
            s.push_str(": ");
            s.push_str(&fields.join(", "));
        }
        s
    }
}
