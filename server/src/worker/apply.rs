//! Apply: one plan step = one AWS call (or a wait), through `Caller` (paced, retried). Values a
//! step needs from earlier steps are resolved from what those steps returned.

use crate::aws::call::{AwsError, Caller, Service};
use crate::aws::Clients;
use app::model::topology::{EndpointType, HealthCheck, HealthProtocol, QuotaPeriod};
use app::plan::names::{TAG_GATEWAY, TAG_PORT};
use app::plan::{Field, Op, Patch, Val};
use aws_sdk_apigateway::types as agw;
use aws_sdk_elasticloadbalancingv2::types as elbt;
use std::collections::{BTreeMap, HashMap};
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
#[derive(Debug, Default)]
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

fn patch(p: &Patch) -> agw::PatchOperation {
    agw::PatchOperation::builder()
        .op(agw::Op::from(p.op.as_str()))
        .path(&p.path)
        .set_value(p.value.clone())
        .build()
}

fn id(value: Option<&str>, operation: &'static str) -> Result<String, StepError> {
    value.map(str::to_owned).ok_or_else(|| {
        StepError::Aws(AwsError {
            operation,
            code: None,
            message: "AWS answered without an id".into(),
            request_id: None,
            kind: crate::aws::call::ErrorKind::Unexpected,
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

use app::model::keys::hint;

fn elb_tags(gateway: &str, port: Option<u32>) -> Vec<elbt::Tag> {
    let mut tags = vec![elbt::Tag::builder().key(TAG_GATEWAY).value(gateway).build()];
    if let Some(p) = port {
        tags.push(
            elbt::Tag::builder()
                .key(TAG_PORT)
                .value(p.to_string())
                .build(),
        );
    }
    tags
}

fn api_tags(gateway: &str) -> HashMap<String, String> {
    HashMap::from([(TAG_GATEWAY.to_owned(), gateway.to_owned())])
}

fn health_protocol(h: &HealthCheck) -> elbt::ProtocolEnum {
    match h.protocol {
        HealthProtocol::Tcp => elbt::ProtocolEnum::Tcp,
        HealthProtocol::Http => elbt::ProtocolEnum::Http,
    }
}

fn endpoint(t: EndpointType) -> agw::EndpointType {
    match t {
        EndpointType::Regional => agw::EndpointType::Regional,
        EndpointType::Edge => agw::EndpointType::Edge,
        EndpointType::Private => agw::EndpointType::Private,
    }
}

fn forward(target_group: String) -> elbt::Action {
    elbt::Action::builder()
        .r#type(elbt::ActionTypeEnum::Forward)
        .target_group_arn(target_group)
        .build()
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

pub async fn execute(
    clients: &Clients,
    caller: &Caller,
    gateway: &str,
    op: &Op,
    out: &Outputs,
    waits: Waits,
) -> Result<Made, StepError> {
    let elb = &clients.elb;
    let api = &clients.apigateway;
    let e = Service::Elb;
    let a = Service::ApiGateway;
    let operation = op.operation();
    Ok(match op {
        Op::CreateTargetGroup {
            name,
            port,
            vpc_id,
            health_check,
        } => {
            let (o, rid) = caller
                .call(e, operation, || {
                    elb.create_target_group()
                        .name(name)
                        .protocol(elbt::ProtocolEnum::Tcp)
                        .port(*port as i32)
                        .vpc_id(vpc_id)
                        .target_type(elbt::TargetTypeEnum::Instance)
                        .health_check_protocol(health_protocol(health_check))
                        .set_health_check_path(health_check.path.clone())
                        .health_check_interval_seconds(health_check.interval_seconds as i32)
                        .healthy_threshold_count(health_check.healthy_threshold as i32)
                        .unhealthy_threshold_count(health_check.unhealthy_threshold as i32)
                        .set_tags(Some(elb_tags(gateway, Some(*port))))
                        .send()
                })
                .await?;
            let arn = id(
                o.target_groups().first().and_then(|t| t.target_group_arn()),
                operation,
            )?;
            made(vec![(Field::Id, arn)], rid)
        }
        Op::ModifyTargetGroup {
            target_group,
            health_check,
        } => {
            let arn = out.get(target_group)?;
            let (_, rid) = caller
                .call(e, operation, || {
                    elb.modify_target_group()
                        .target_group_arn(&arn)
                        .health_check_protocol(health_protocol(health_check))
                        .set_health_check_path(health_check.path.clone())
                        .health_check_interval_seconds(health_check.interval_seconds as i32)
                        .healthy_threshold_count(health_check.healthy_threshold as i32)
                        .unhealthy_threshold_count(health_check.unhealthy_threshold as i32)
                        .send()
                })
                .await?;
            made(vec![], rid)
        }
        Op::SetDeregistrationDelay {
            target_group,
            seconds,
        } => {
            let arn = out.get(target_group)?;
            let (_, rid) = caller
                .call(e, operation, || {
                    elb.modify_target_group_attributes()
                        .target_group_arn(&arn)
                        .attributes(
                            elbt::TargetGroupAttribute::builder()
                                .key("deregistration_delay.timeout_seconds")
                                .value(seconds.to_string())
                                .build(),
                        )
                        .send()
                })
                .await?;
            made(vec![], rid)
        }
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
            let arn = out.get(target_group)?;
            let targets: Vec<elbt::TargetDescription> = instances
                .iter()
                .map(|i| {
                    elbt::TargetDescription::builder()
                        .id(i)
                        .port(*port as i32)
                        .build()
                })
                .collect();
            let register = matches!(op, Op::RegisterTargets { .. });
            let rid = if register {
                caller
                    .call(e, operation, || {
                        elb.register_targets()
                            .target_group_arn(&arn)
                            .set_targets(Some(targets.clone()))
                            .send()
                    })
                    .await?
                    .1
            } else {
                caller
                    .call(e, operation, || {
                        elb.deregister_targets()
                            .target_group_arn(&arn)
                            .set_targets(Some(targets.clone()))
                            .send()
                    })
                    .await?
                    .1
            };
            made(vec![], rid)
        }
        Op::CreateLoadBalancer { name, subnets } => {
            let (o, rid) = caller
                .call(e, operation, || {
                    elb.create_load_balancer()
                        .name(name)
                        .r#type(elbt::LoadBalancerTypeEnum::Network)
                        .scheme(elbt::LoadBalancerSchemeEnum::Internal)
                        .set_subnets(Some(subnets.clone()))
                        .set_tags(Some(elb_tags(gateway, None)))
                        .send()
                })
                .await?;
            let lb = o.load_balancers().first();
            let arn = id(lb.and_then(|l| l.load_balancer_arn()), operation)?;
            let dns = id(lb.and_then(|l| l.dns_name()), operation)?;
            made(vec![(Field::Id, arn), (Field::Dns, dns)], rid)
        }
        Op::WaitLoadBalancer { load_balancer } => {
            let arn = out.get(load_balancer)?;
            let started = tokio::time::Instant::now();
            loop {
                let (o, rid) = caller
                    .call(e, operation, || {
                        elb.describe_load_balancers()
                            .load_balancer_arns(&arn)
                            .send()
                    })
                    .await?;
                let state = o
                    .load_balancers()
                    .first()
                    .and_then(|l| l.state())
                    .and_then(|s| s.code())
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_default();
                match state.as_str() {
                    "active" | "active_impaired" => break made(vec![], rid),
                    "failed" => {
                        return Err(StepError::Wait(format!(
                            "the load balancer failed to provision ({arn})"
                        )))
                    }
                    _ if started.elapsed() > waits.timeout => {
                        return Err(StepError::Wait(format!(
                            "the load balancer is still {state} after {} s",
                            waits.timeout.as_secs()
                        )))
                    }
                    _ => tokio::time::sleep(waits.every).await,
                }
            }
        }
        Op::CreateListener {
            load_balancer,
            port,
            target_group,
        } => {
            let lb = out.get(load_balancer)?;
            let tg = out.get(target_group)?;
            let (o, rid) = caller
                .call(e, operation, || {
                    elb.create_listener()
                        .load_balancer_arn(&lb)
                        .protocol(elbt::ProtocolEnum::Tcp)
                        .port(*port as i32)
                        .default_actions(forward(tg.clone()))
                        .set_tags(Some(elb_tags(gateway, None)))
                        .send()
                })
                .await?;
            let arn = id(
                o.listeners().first().and_then(|l| l.listener_arn()),
                operation,
            )?;
            made(vec![(Field::Id, arn)], rid)
        }
        Op::ModifyListener {
            listener,
            target_group,
        } => {
            let tg = out.get(target_group)?;
            let (_, rid) = caller
                .call(e, operation, || {
                    elb.modify_listener()
                        .listener_arn(listener)
                        .default_actions(forward(tg.clone()))
                        .send()
                })
                .await?;
            made(vec![], rid)
        }
        Op::CreateVpcLink {
            name,
            load_balancer,
        } => {
            let lb = out.get(load_balancer)?;
            let (o, rid) = caller
                .call(a, operation, || {
                    api.create_vpc_link()
                        .name(name)
                        .target_arns(&lb)
                        .description("Made by Portico")
                        .set_tags(Some(api_tags(gateway)))
                        .send()
                })
                .await?;
            made(vec![(Field::Id, id(o.id(), operation)?)], rid)
        }
        Op::WaitVpcLink { vpc_link } => {
            let link = out.get(vpc_link)?;
            let started = tokio::time::Instant::now();
            loop {
                let (o, rid) = caller
                    .call(a, operation, || {
                        api.get_vpc_link().vpc_link_id(&link).send()
                    })
                    .await?;
                let status = o
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default();
                match status.as_str() {
                    "AVAILABLE" => break made(vec![], rid),
                    "FAILED" => {
                        return Err(StepError::Wait(format!(
                            "VPC link {link} FAILED: {}",
                            o.status_message().unwrap_or("AWS gave no reason")
                        )))
                    }
                    _ if started.elapsed() > waits.timeout => {
                        return Err(StepError::Wait(format!(
                            "VPC link {link} is still {status} after {} s; the next run waits again",
                            waits.timeout.as_secs()
                        )))
                    }
                    _ => tokio::time::sleep(waits.every).await,
                }
            }
        }
        Op::CreateRestApi {
            name,
            endpoint_type,
        } => {
            let (o, rid) = caller
                .call(a, operation, || {
                    api.create_rest_api()
                        .name(name)
                        .description("Managed by Portico")
                        .endpoint_configuration(
                            agw::EndpointConfiguration::builder()
                                .types(endpoint(*endpoint_type))
                                .build(),
                        )
                        .set_tags(Some(api_tags(gateway)))
                        .send()
                })
                .await?;
            let api_id = id(o.id(), operation)?;
            let root = match o.root_resource_id() {
                Some(r) => r.to_owned(),
                None => {
                    let (res, _) = caller
                        .call(a, "GetResources", || {
                            api.get_resources().rest_api_id(&api_id).send()
                        })
                        .await?;
                    id(
                        res.items()
                            .iter()
                            .find(|r| r.path() == Some("/"))
                            .and_then(|r| r.id()),
                        "GetResources",
                    )?
                }
            };
            made(vec![(Field::Id, api_id), (Field::Root, root)], rid)
        }
        Op::UpdateRestApi { rest_api, patches } => {
            let (_, rid) = caller
                .call(a, operation, || {
                    api.update_rest_api()
                        .rest_api_id(rest_api)
                        .set_patch_operations(Some(patches.iter().map(patch).collect()))
                        .send()
                })
                .await?;
            made(vec![], rid)
        }
        Op::CreateResource {
            rest_api,
            parent,
            path_part,
            ..
        } => {
            let api_id = out.get(rest_api)?;
            let parent = out.get(parent)?;
            let (o, rid) = caller
                .call(a, operation, || {
                    api.create_resource()
                        .rest_api_id(&api_id)
                        .parent_id(&parent)
                        .path_part(path_part)
                        .send()
                })
                .await?;
            made(vec![(Field::Id, id(o.id(), operation)?)], rid)
        }
        Op::PutMethod {
            rest_api,
            resource,
            method,
            api_key_required,
            path_parameters,
        } => {
            let api_id = out.get(rest_api)?;
            let res = out.get(resource)?;
            let params: HashMap<String, bool> = path_parameters
                .iter()
                .map(|p| (format!("method.request.path.{p}"), true))
                .collect();
            let (_, rid) = caller
                .call(a, operation, || {
                    api.put_method()
                        .rest_api_id(&api_id)
                        .resource_id(&res)
                        .http_method(method)
                        .authorization_type("NONE")
                        .api_key_required(*api_key_required)
                        .set_request_parameters((!params.is_empty()).then(|| params.clone()))
                        .send()
                })
                .await?;
            made(vec![], rid)
        }
        Op::UpdateMethod {
            rest_api,
            resource,
            method,
            patches,
        } => {
            let (_, rid) = caller
                .call(a, operation, || {
                    api.update_method()
                        .rest_api_id(rest_api)
                        .resource_id(resource)
                        .http_method(method)
                        .set_patch_operations(Some(patches.iter().map(patch).collect()))
                        .send()
                })
                .await?;
            made(vec![], rid)
        }
        Op::PutIntegration {
            rest_api,
            resource,
            method,
            uri,
            vpc_link,
            path_parameters,
        } => {
            let api_id = out.get(rest_api)?;
            let res = out.get(resource)?;
            let dns = out.get(&uri.dns)?;
            let link = out.get(vpc_link)?;
            let params: HashMap<String, String> = path_parameters
                .iter()
                .map(|p| {
                    (
                        format!("integration.request.path.{p}"),
                        format!("method.request.path.{p}"),
                    )
                })
                .collect();
            let target = uri.render(&dns);
            let (_, rid) = caller
                .call(a, operation, || {
                    api.put_integration()
                        .rest_api_id(&api_id)
                        .resource_id(&res)
                        .http_method(method)
                        .r#type(agw::IntegrationType::HttpProxy)
                        .integration_http_method(method)
                        .uri(&target)
                        .connection_type(agw::ConnectionType::VpcLink)
                        .connection_id(&link)
                        .set_request_parameters((!params.is_empty()).then(|| params.clone()))
                        .send()
                })
                .await?;
            made(vec![], rid)
        }
        Op::CreateDeployment {
            rest_api,
            description,
        } => {
            let api_id = out.get(rest_api)?;
            let (o, rid) = caller
                .call(a, operation, || {
                    api.create_deployment()
                        .rest_api_id(&api_id)
                        .description(description)
                        .send()
                })
                .await?;
            made(vec![(Field::Id, id(o.id(), operation)?)], rid)
        }
        Op::CreateStage {
            rest_api,
            name,
            deployment,
            variables,
            cache_gb,
        } => {
            let api_id = out.get(rest_api)?;
            let dep = out.get(deployment)?;
            let vars: HashMap<String, String> = variables.clone().into_iter().collect();
            let (_, rid) = caller
                .call(a, operation, || {
                    api.create_stage()
                        .rest_api_id(&api_id)
                        .stage_name(name)
                        .deployment_id(&dep)
                        .set_variables(Some(vars.clone()))
                        .cache_cluster_enabled(cache_gb.is_some())
                        .set_cache_cluster_size(
                            cache_gb.as_deref().map(agw::CacheClusterSize::from),
                        )
                        .set_tags(Some(api_tags(gateway)))
                        .send()
                })
                .await?;
            made(vec![], rid)
        }
        Op::UpdateStage {
            rest_api,
            name,
            deployment,
            patches,
        } => {
            let api_id = out.get(rest_api)?;
            let mut ops: Vec<agw::PatchOperation> = vec![];
            if let Some(d) = deployment {
                ops.push(patch(&Patch::replace("/deploymentId", out.get(d)?)));
            }
            ops.extend(patches.iter().map(patch));
            let (_, rid) = caller
                .call(a, operation, || {
                    api.update_stage()
                        .rest_api_id(&api_id)
                        .stage_name(name)
                        .set_patch_operations(Some(ops.clone()))
                        .send()
                })
                .await?;
            made(vec![], rid)
        }
        Op::CreateUsagePlan {
            name,
            rest_api,
            stages,
            throttle,
            quota,
        } => {
            let api_id = out.get(rest_api)?;
            let stages: Vec<agw::ApiStage> = stages
                .iter()
                .map(|s| agw::ApiStage::builder().api_id(&api_id).stage(s).build())
                .collect();
            let (o, rid) = caller
                .call(a, operation, || {
                    api.create_usage_plan()
                        .name(name)
                        .description("Managed by Portico")
                        .set_api_stages(Some(stages.clone()))
                        .set_throttle(throttle.as_ref().map(|t| {
                            agw::ThrottleSettings::builder()
                                .rate_limit(t.rate)
                                .burst_limit(t.burst as i32)
                                .build()
                        }))
                        .set_quota(quota.as_ref().map(|q| {
                            agw::QuotaSettings::builder()
                                .limit(q.limit as i32)
                                .offset(q.offset as i32)
                                .period(match q.period {
                                    QuotaPeriod::Day => agw::QuotaPeriodType::Day,
                                    QuotaPeriod::Week => agw::QuotaPeriodType::Week,
                                    QuotaPeriod::Month => agw::QuotaPeriodType::Month,
                                })
                                .build()
                        }))
                        .set_tags(Some(api_tags(gateway)))
                        .send()
                })
                .await?;
            made(vec![(Field::Id, id(o.id(), operation)?)], rid)
        }
        Op::UpdateUsagePlan {
            usage_plan,
            rest_api,
            add_stages,
            remove_stages,
            patches,
        } => {
            let mut ops: Vec<agw::PatchOperation> = remove_stages
                .iter()
                .map(|(api_id, s)| {
                    patch(&Patch {
                        op: "remove".into(),
                        path: "/apiStages".into(),
                        value: Some(format!("{api_id}:{s}")),
                    })
                })
                .collect();
            if !add_stages.is_empty() {
                let api_id = out.get(rest_api)?;
                ops.extend(add_stages.iter().map(|s| {
                    patch(&Patch {
                        op: "add".into(),
                        path: "/apiStages".into(),
                        value: Some(format!("{api_id}:{s}")),
                    })
                }));
            }
            ops.extend(patches.iter().map(patch));
            let (_, rid) = caller
                .call(a, operation, || {
                    api.update_usage_plan()
                        .usage_plan_id(usage_plan)
                        .set_patch_operations(Some(ops.clone()))
                        .send()
                })
                .await?;
            made(vec![], rid)
        }
        Op::CreateApiKey {
            key,
            name,
            description,
            enabled,
        } => {
            let mut tags = api_tags(gateway);
            tags.insert(app::plan::names::TAG_KEY.to_owned(), key.to_string());
            let (o, rid) = caller
                .call(a, operation, || {
                    api.create_api_key()
                        .name(name)
                        .description(description)
                        .enabled(*enabled)
                        .set_tags(Some(tags.clone()))
                        .send()
                })
                .await?;
            let mut m = made(vec![(Field::Id, id(o.id(), operation)?)], rid);
            m.key_hint = o.value().map(hint);
            m
        }
        Op::UpdateApiKey { api_key, enabled } => {
            let (_, rid) = caller
                .call(a, operation, || {
                    api.update_api_key()
                        .api_key(api_key)
                        .patch_operations(patch(&Patch::replace("/enabled", enabled.to_string())))
                        .send()
                })
                .await?;
            made(vec![], rid)
        }
        Op::CreateUsagePlanKey {
            usage_plan,
            api_key,
        } => {
            let plan = out.get(usage_plan)?;
            let key = out.get(api_key)?;
            let (_, rid) = caller
                .call(a, operation, || {
                    api.create_usage_plan_key()
                        .usage_plan_id(&plan)
                        .key_id(&key)
                        .key_type("API_KEY")
                        .send()
                })
                .await?;
            made(vec![], rid)
        }
        Op::DeleteUsagePlanKey {
            usage_plan,
            api_key,
        } => gone(
            caller
                .call(a, operation, || {
                    api.delete_usage_plan_key()
                        .usage_plan_id(usage_plan)
                        .key_id(api_key)
                        .send()
                })
                .await,
        )?,
        Op::DeleteApiKey { api_key } => gone(
            caller
                .call(a, operation, || {
                    api.delete_api_key().api_key(api_key).send()
                })
                .await,
        )?,
        Op::DeleteUsagePlan { usage_plan } => gone(
            caller
                .call(a, operation, || {
                    api.delete_usage_plan().usage_plan_id(usage_plan).send()
                })
                .await,
        )?,
        Op::DeleteStage { rest_api, name } => gone(
            caller
                .call(a, operation, || {
                    api.delete_stage()
                        .rest_api_id(rest_api)
                        .stage_name(name)
                        .send()
                })
                .await,
        )?,
        Op::DeleteDeployment {
            rest_api,
            deployment,
        } => gone(
            caller
                .call(a, operation, || {
                    api.delete_deployment()
                        .rest_api_id(rest_api)
                        .deployment_id(deployment)
                        .send()
                })
                .await,
        )?,
        Op::DeleteMethod {
            rest_api,
            resource,
            method,
        } => gone(
            caller
                .call(a, operation, || {
                    api.delete_method()
                        .rest_api_id(rest_api)
                        .resource_id(resource)
                        .http_method(method)
                        .send()
                })
                .await,
        )?,
        Op::DeleteResource { rest_api, resource } => gone(
            caller
                .call(a, operation, || {
                    api.delete_resource()
                        .rest_api_id(rest_api)
                        .resource_id(resource)
                        .send()
                })
                .await,
        )?,
        Op::DeleteRestApi { rest_api } => gone(
            caller
                .call(a, operation, || {
                    api.delete_rest_api().rest_api_id(rest_api).send()
                })
                .await,
        )?,
        Op::DeleteVpcLink { vpc_link } => gone(
            caller
                .call(a, operation, || {
                    api.delete_vpc_link().vpc_link_id(vpc_link).send()
                })
                .await,
        )?,
        Op::DeleteListener { listener } => gone(
            caller
                .call(e, operation, || {
                    elb.delete_listener().listener_arn(listener).send()
                })
                .await,
        )?,
        Op::DeleteLoadBalancer { load_balancer } => gone(
            caller
                .call(e, operation, || {
                    elb.delete_load_balancer()
                        .load_balancer_arn(load_balancer)
                        .send()
                })
                .await,
        )?,
        Op::DeleteTargetGroup { target_group } => gone(
            caller
                .call(e, operation, || {
                    elb.delete_target_group()
                        .target_group_arn(target_group)
                        .send()
                })
                .await,
        )?,
    })
}
