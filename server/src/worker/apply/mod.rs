//! Apply: one plan step = one AWS call (or a wait), through `Caller` (paced, retried). Values a
//! step needs from earlier steps are resolved from what those steps returned.
//!
//! The executor mirrors the planner: each resource kind's steps are made by `plan::<kind>` and
//! run by `apply::<kind>` (`elb`: target groups, targets, the NLB, listeners; `link`: the VPC
//! link; `rest`: REST API, resources, methods, integrations, deployments; `stages`; `usage`:
//! usage plans; `keys`: API keys and their usage-plan membership), so a change to one kind's
//! steps touches one file on each side. This module holds what every kind shares: the step's
//! context, its outputs and errors, and the dispatch from an `Op` to its kind.

mod elb;
mod keys;
mod link;
mod rest;
mod stages;
mod tags;
mod usage;

pub use tags::{tag, tag_untagged, untag_all};

use super::owner::Owner;
use crate::aws::call::{AwsError, Caller, ErrorKind, Service};
use crate::aws::Clients;
use aws_sdk_apigateway::config::http::HttpResponse;
use aws_sdk_apigateway::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_apigateway::operation::RequestId;
use aws_sdk_apigateway::types as agw;
use portico_core::plan::{Field, Op, Patch, Val};
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("{0}")]
    Aws(#[from] AwsError),
    #[error("{0}")]
    Wait(String),
    #[error("step {step} made no {field:?}: the plan is inconsistent")]
    Missing { step: usize, field: Field },
}

impl StepError {
    pub fn code(&self) -> Option<String> {
        match self {
            StepError::Aws(e) => e.code.clone(),
            StepError::Wait(_) => Some("WaitFailed".into()),
            StepError::Missing { .. } => Some("PlanInconsistent".into()),
        }
    }

    pub fn request_id(&self) -> Option<String> {
        match self {
            StepError::Aws(e) => e.request_id.clone(),
            _ => None,
        }
    }
}

/// What a step made, keyed by field, and AWS's request id.
#[derive(Debug, Default)]
pub struct Made {
    pub values: Vec<(Field, String)>,
    pub request_id: Option<String>,
    /// A new API key's last four characters (the value itself is dropped here).
    pub key_hint: Option<String>,
}

/// Values made by earlier steps of the running plan.
#[derive(Clone, Debug, Default)]
pub struct Outputs(pub BTreeMap<(usize, u8), String>);

impl Outputs {
    pub fn get(&self, v: &Val) -> Result<String, StepError> {
        match v {
            Val::Known(s) => Ok(s.clone()),
            Val::Output { step, field } => {
                self.0
                    .get(&(*step, *field as u8))
                    .cloned()
                    .ok_or(StepError::Missing {
                        step: *step,
                        field: *field,
                    })
            }
        }
    }

    /// Only the values `inputs` name: what one step takes with it.
    pub fn only(&self, inputs: &[&Val]) -> Outputs {
        Outputs(
            inputs
                .iter()
                .filter_map(|v| match v {
                    Val::Output { step, field } => {
                        let key = (*step, *field as u8);
                        self.0.get(&key).map(|value| (key, value.clone()))
                    }
                    Val::Known(_) => None,
                })
                .collect(),
        )
    }

    pub fn put(&mut self, step: usize, made: &Made) {
        for (field, value) in &made.values {
            self.0.insert((step, *field as u8), value.clone());
        }
    }
}

/// How long a wait may take and how often it looks.
#[derive(Clone, Copy, Debug)]
pub struct Waits {
    pub timeout: Duration,
    pub every: Duration,
}

impl Default for Waits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(20 * 60),
            every: Duration::from_secs(5),
        }
    }
}

/// Runs one step: resolves the values it takes from earlier steps, makes its call and returns
/// what it made. Each arm hands the operation's fields to its kind's module, so the kinds never
/// see an `Op` that is not theirs.
pub async fn execute(
    clients: &Clients,
    caller: &Caller,
    owner: &Owner,
    op: &Op,
    out: &Outputs,
    waits: Waits,
) -> Result<Made, StepError> {
    let s = &Context {
        clients,
        caller,
        owner,
        out,
        waits,
        operation: op.operation(),
    };
    match op {
        Op::CreateTargetGroup {
            name,
            port,
            vpc_id,
            health_check,
        } => elb::create_target_group(s, name, *port, vpc_id, health_check).await,
        Op::ModifyTargetGroup {
            target_group,
            health_check,
        } => elb::modify_target_group(s, target_group, health_check).await,
        Op::SetDeregistrationDelay {
            target_group,
            seconds,
        } => elb::set_deregistration_delay(s, target_group, *seconds).await,
        Op::RegisterTargets {
            target_group,
            port,
            instances,
        }
        | Op::DeregisterTargets {
            target_group,
            port,
            instances,
        } => {
            let register = matches!(op, Op::RegisterTargets { .. });
            elb::targets(s, target_group, *port, instances, register).await
        }
        Op::CreateLoadBalancer { name, subnets } => {
            elb::create_load_balancer(s, name, subnets).await
        }
        Op::WaitLoadBalancer { load_balancer } => elb::wait_load_balancer(s, load_balancer).await,
        Op::CreateListener {
            load_balancer,
            port,
            target_group,
        } => elb::create_listener(s, load_balancer, *port, target_group).await,
        Op::ModifyListener {
            listener,
            target_group,
        } => elb::modify_listener(s, listener, target_group).await,
        Op::DeleteListener { listener } => elb::delete_listener(s, listener).await,
        Op::DeleteLoadBalancer { load_balancer } => {
            elb::delete_load_balancer(s, load_balancer).await
        }
        Op::DeleteTargetGroup { target_group } => elb::delete_target_group(s, target_group).await,

        Op::CreateVpcLink {
            name,
            load_balancer,
        } => link::create_vpc_link(s, name, load_balancer).await,
        Op::WaitVpcLink { vpc_link } => link::wait_vpc_link(s, vpc_link).await,
        Op::DeleteVpcLink { vpc_link } => link::delete_vpc_link(s, vpc_link).await,

        Op::CreateRestApi {
            name,
            endpoint_type,
        } => rest::create_rest_api(s, name, *endpoint_type).await,
        Op::UpdateRestApi { rest_api, patches } => {
            rest::update_rest_api(s, rest_api, patches).await
        }
        Op::CreateResource {
            rest_api,
            parent,
            path_part,
            ..
        } => rest::create_resource(s, rest_api, parent, path_part).await,
        Op::PutMethod {
            rest_api,
            resource,
            method,
            api_key_required,
            path_parameters,
        } => {
            rest::put_method(
                s,
                rest_api,
                resource,
                method,
                *api_key_required,
                path_parameters,
            )
            .await
        }
        Op::UpdateMethod {
            rest_api,
            resource,
            method,
            patches,
        } => rest::update_method(s, rest_api, resource, method, patches).await,
        Op::PutIntegration {
            rest_api,
            resource,
            method,
            uri,
            vpc_link,
            path_parameters,
        } => {
            rest::put_integration(
                s,
                rest_api,
                resource,
                method,
                uri,
                vpc_link,
                path_parameters,
            )
            .await
        }
        Op::CreateDeployment {
            rest_api,
            description,
        } => rest::create_deployment(s, rest_api, description).await,
        Op::DeleteMethod {
            rest_api,
            resource,
            method,
        } => rest::delete_method(s, rest_api, resource, method).await,
        Op::DeleteResource { rest_api, resource } => {
            rest::delete_resource(s, rest_api, resource).await
        }
        Op::DeleteRestApi { rest_api } => rest::delete_rest_api(s, rest_api).await,

        Op::CreateStage {
            rest_api,
            name,
            deployment,
            variables,
            cache_gb,
        } => {
            stages::create_stage(
                s,
                rest_api,
                name,
                deployment,
                variables,
                cache_gb.as_deref(),
            )
            .await
        }
        Op::UpdateStage {
            rest_api,
            name,
            deployment,
            patches,
        } => stages::update_stage(s, rest_api, name, deployment.as_ref(), patches).await,
        Op::DeleteStage { rest_api, name } => stages::delete_stage(s, rest_api, name).await,
        Op::DeleteDeployment {
            rest_api,
            deployment,
        } => stages::delete_deployment(s, rest_api, deployment).await,

        Op::CreateUsagePlan {
            name,
            rest_api,
            stages,
            throttle,
            quota,
        } => {
            usage::create_usage_plan(s, name, rest_api, stages, throttle.as_ref(), quota.as_ref())
                .await
        }
        Op::UpdateUsagePlan {
            usage_plan,
            rest_api,
            add_stages,
            remove_stages,
            patches,
        } => {
            usage::update_usage_plan(s, usage_plan, rest_api, add_stages, remove_stages, patches)
                .await
        }
        Op::DeleteUsagePlan { usage_plan } => usage::delete_usage_plan(s, usage_plan).await,

        Op::CreateApiKey {
            key,
            name,
            description,
            enabled,
        } => keys::create_api_key(s, *key, name, description, *enabled).await,
        Op::UpdateApiKey { api_key, enabled } => keys::update_api_key(s, api_key, *enabled).await,
        Op::CreateUsagePlanKey {
            usage_plan,
            api_key,
        } => keys::create_usage_plan_key(s, usage_plan, api_key).await,
        Op::DeleteUsagePlanKey {
            usage_plan,
            api_key,
        } => keys::delete_usage_plan_key(s, usage_plan, api_key).await,
        Op::DeleteApiKey { api_key } => keys::delete_api_key(s, api_key).await,
    }
}

/// What every step's call needs besides the operation's own fields: the account's clients and
/// paced caller, the gateway as owner (its tags), the values earlier steps made, how long a wait
/// may take, and the operation's name (what `call` counts, paces and reports).
struct Context<'a> {
    clients: &'a Clients,
    caller: &'a Caller,
    owner: &'a Owner,
    out: &'a Outputs,
    waits: Waits,
    operation: &'static str,
}

impl Context<'_> {
    /// One call of this step's operation to `service`, through the caller (so paced, counted
    /// and retried like every other AWS call).
    async fn call<T, E, F, Fut>(
        &self,
        service: Service,
        f: F,
    ) -> Result<(T, Option<String>), AwsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        T: RequestId,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.caller.call(service, self.operation, f).await
    }

    /// A value this step takes: known when planning, or made by an earlier step.
    fn get(&self, v: &Val) -> Result<String, StepError> {
        self.out.get(v)
    }
}

fn patch(p: &Patch) -> agw::PatchOperation {
    agw::PatchOperation::builder()
        .op(agw::Op::from(p.op.as_str()))
        .path(&p.path)
        .set_value(p.value.clone())
        .build()
}

/// The id AWS's answer must carry; an answer without one is AWS's fault, not the plan's.
fn id(value: Option<&str>, operation: &'static str) -> Result<String, StepError> {
    value.map(str::to_owned).ok_or_else(|| {
        StepError::Aws(AwsError {
            operation,
            code: None,
            message: "AWS answered without an id".into(),
            request_id: None,
            kind: ErrorKind::Unexpected,
        })
    })
}

fn made(values: Vec<(Field, String)>, request_id: Option<String>) -> Made {
    Made {
        values,
        request_id,
        key_hint: None,
    }
}

/// Deleting what is already gone counts as done (a re-run after a crash may find it so).
fn gone<T>(r: Result<(T, Option<String>), AwsError>) -> Result<Made, StepError> {
    match r {
        Ok((_, rid)) => Ok(made(vec![], rid)),
        Err(e)
            if e.code.as_deref().is_some_and(|c| {
                c == "NotFoundException"
                    || c.ends_with("NotFound")
                    || c == "LoadBalancerNotFound"
                    || c == "TargetGroupNotFound"
                    || c == "ListenerNotFound"
            }) =>
        {
            Ok(made(vec![], e.request_id))
        }
        Err(e) => Err(e.into()),
    }
}
