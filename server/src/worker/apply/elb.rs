//! The steps `plan::elb` makes: target groups and their targets, the network load balancer
//! (and the wait until it is active) and its listeners.

use super::{gone, id, made, Context, Made, StepError};
use crate::aws::call::Service;
use crate::worker::owner::Owner;
use aws_sdk_elasticloadbalancingv2::types as elbt;
use portico_core::model::topology::{HealthCheck, HealthProtocol};
use portico_core::plan::names::TAG_PORT;
use portico_core::plan::{Field, Val};

const ELB: Service = Service::Elb;

/// The tags `observe` reads back to tell Portico's load balancers and target groups from the
/// rest of the account; a target group also names the port it serves.
fn elb_tags(owner: &Owner, port: Option<u32>) -> Vec<elbt::Tag> {
    let mut tags: Vec<elbt::Tag> = owner
        .tags()
        .into_iter()
        .map(|(k, v)| elbt::Tag::builder().key(k).value(v).build())
        .collect();
    tags.sort_by(|a, b| a.key().cmp(&b.key()));
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

fn health_protocol(h: &HealthCheck) -> elbt::ProtocolEnum {
    match h.protocol {
        HealthProtocol::Tcp => elbt::ProtocolEnum::Tcp,
        HealthProtocol::Http => elbt::ProtocolEnum::Http,
    }
}

fn forward(target_group: String) -> elbt::Action {
    elbt::Action::builder()
        .r#type(elbt::ActionTypeEnum::Forward)
        .target_group_arn(target_group)
        .build()
}

pub(super) async fn create_target_group(
    s: &Context<'_>,
    name: &str,
    port: u32,
    vpc_id: &str,
    health_check: &HealthCheck,
) -> Result<Made, StepError> {
    let elb = &s.clients.elb;
    let (o, rid) = s
        .call(ELB, || {
            elb.create_target_group()
                .name(name)
                .protocol(elbt::ProtocolEnum::Tcp)
                .port(port as i32)
                .vpc_id(vpc_id)
                .target_type(elbt::TargetTypeEnum::Instance)
                .health_check_protocol(health_protocol(health_check))
                .set_health_check_path(health_check.path.clone())
                .health_check_interval_seconds(health_check.interval_seconds as i32)
                .healthy_threshold_count(health_check.healthy_threshold as i32)
                .unhealthy_threshold_count(health_check.unhealthy_threshold as i32)
                .set_tags(Some(elb_tags(s.owner, Some(port))))
                .send()
        })
        .await?;
    let arn = id(
        o.target_groups().first().and_then(|t| t.target_group_arn()),
        s.operation,
    )?;
    Ok(made(vec![(Field::Id, arn)], rid))
}

pub(super) async fn modify_target_group(
    s: &Context<'_>,
    target_group: &Val,
    health_check: &HealthCheck,
) -> Result<Made, StepError> {
    let elb = &s.clients.elb;
    let arn = s.get(target_group)?;
    let (_, rid) = s
        .call(ELB, || {
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
    Ok(made(vec![], rid))
}

pub(super) async fn set_deregistration_delay(
    s: &Context<'_>,
    target_group: &Val,
    seconds: u32,
) -> Result<Made, StepError> {
    let elb = &s.clients.elb;
    let arn = s.get(target_group)?;
    let (_, rid) = s
        .call(ELB, || {
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
    Ok(made(vec![], rid))
}

/// Registers (or, with `register` false, deregisters) instances: one request shape for two
/// operations, so one function.
pub(super) async fn targets(
    s: &Context<'_>,
    target_group: &Val,
    port: u32,
    instances: &[String],
    register: bool,
) -> Result<Made, StepError> {
    let elb = &s.clients.elb;
    let arn = s.get(target_group)?;
    let targets: Vec<elbt::TargetDescription> = instances
        .iter()
        .map(|i| {
            elbt::TargetDescription::builder()
                .id(i)
                .port(port as i32)
                .build()
        })
        .collect();
    let rid = if register {
        s.call(ELB, || {
            elb.register_targets()
                .target_group_arn(&arn)
                .set_targets(Some(targets.clone()))
                .send()
        })
        .await?
        .1
    } else {
        s.call(ELB, || {
            elb.deregister_targets()
                .target_group_arn(&arn)
                .set_targets(Some(targets.clone()))
                .send()
        })
        .await?
        .1
    };
    Ok(made(vec![], rid))
}

pub(super) async fn create_load_balancer(
    s: &Context<'_>,
    name: &str,
    subnets: &[String],
) -> Result<Made, StepError> {
    let elb = &s.clients.elb;
    let (o, rid) = s
        .call(ELB, || {
            elb.create_load_balancer()
                .name(name)
                .r#type(elbt::LoadBalancerTypeEnum::Network)
                .scheme(elbt::LoadBalancerSchemeEnum::Internal)
                .set_subnets(Some(subnets.to_vec()))
                .set_tags(Some(elb_tags(s.owner, None)))
                .send()
        })
        .await?;
    let lb = o.load_balancers().first();
    let arn = id(lb.and_then(|l| l.load_balancer_arn()), s.operation)?;
    let dns = id(lb.and_then(|l| l.dns_name()), s.operation)?;
    Ok(made(vec![(Field::Id, arn), (Field::Dns, dns)], rid))
}

/// Waits until a new load balancer is active: a VPC link to one still provisioning fails.
pub(super) async fn wait_load_balancer(
    s: &Context<'_>,
    load_balancer: &Val,
) -> Result<Made, StepError> {
    let elb = &s.clients.elb;
    let arn = s.get(load_balancer)?;
    let started = tokio::time::Instant::now();
    loop {
        let (o, rid) = s
            .call(ELB, || {
                elb.describe_load_balancers()
                    .load_balancer_arns(&arn)
                    .send()
            })
            .await?;
        let state = o
            .load_balancers()
            .first()
            .and_then(|l| l.state())
            .and_then(|state| state.code())
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default();
        match state.as_str() {
            "active" | "active_impaired" => return Ok(made(vec![], rid)),
            "failed" => {
                return Err(StepError::Wait(format!(
                    "the load balancer failed to provision ({arn})"
                )))
            }
            _ if started.elapsed() > s.waits.timeout => {
                return Err(StepError::Wait(format!(
                    "the load balancer is still {state} after {} s",
                    s.waits.timeout.as_secs()
                )))
            }
            _ => tokio::time::sleep(s.waits.every).await,
        }
    }
}

pub(super) async fn create_listener(
    s: &Context<'_>,
    load_balancer: &Val,
    port: u32,
    target_group: &Val,
) -> Result<Made, StepError> {
    let elb = &s.clients.elb;
    let lb = s.get(load_balancer)?;
    let tg = s.get(target_group)?;
    let (o, rid) = s
        .call(ELB, || {
            elb.create_listener()
                .load_balancer_arn(&lb)
                .protocol(elbt::ProtocolEnum::Tcp)
                .port(port as i32)
                .default_actions(forward(tg.clone()))
                .set_tags(Some(elb_tags(s.owner, None)))
                .send()
        })
        .await?;
    let arn = id(
        o.listeners().first().and_then(|l| l.listener_arn()),
        s.operation,
    )?;
    Ok(made(vec![(Field::Id, arn)], rid))
}

pub(super) async fn modify_listener(
    s: &Context<'_>,
    listener: &str,
    target_group: &Val,
) -> Result<Made, StepError> {
    let elb = &s.clients.elb;
    let tg = s.get(target_group)?;
    let (_, rid) = s
        .call(ELB, || {
            elb.modify_listener()
                .listener_arn(listener)
                .default_actions(forward(tg.clone()))
                .send()
        })
        .await?;
    Ok(made(vec![], rid))
}

pub(super) async fn delete_listener(s: &Context<'_>, listener: &str) -> Result<Made, StepError> {
    let elb = &s.clients.elb;
    gone(
        s.call(ELB, || elb.delete_listener().listener_arn(listener).send())
            .await,
    )
}

pub(super) async fn delete_load_balancer(
    s: &Context<'_>,
    load_balancer: &str,
) -> Result<Made, StepError> {
    let elb = &s.clients.elb;
    gone(
        s.call(ELB, || {
            elb.delete_load_balancer()
                .load_balancer_arn(load_balancer)
                .send()
        })
        .await,
    )
}

pub(super) async fn delete_target_group(
    s: &Context<'_>,
    target_group: &str,
) -> Result<Made, StepError> {
    let elb = &s.clients.elb;
    gone(
        s.call(ELB, || {
            elb.delete_target_group()
                .target_group_arn(target_group)
                .send()
        })
        .await,
    )
}
