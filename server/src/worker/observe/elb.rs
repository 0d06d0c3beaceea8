//! Load balancers and target groups: listed (with tags) once per account and region, then
//! the listeners, target health and attributes of the gateway's own.

use super::{Inventory, Kept};
use crate::aws::call::{AwsError, Caller, Service};
use crate::aws::read::paged;
use crate::aws::{convert, Clients};
use crate::worker::owner::{Owner, Verdict};
use portico_core::plan::actual::*;
use portico_core::plan::names::TAG_GATEWAY;
use std::collections::BTreeMap;

pub(super) async fn list(
    clients: &Clients,
    caller: &Caller,
    inv: &mut Inventory,
) -> Result<(), AwsError> {
    let elb = &clients.elb;
    inv.load_balancers = paged(move |marker| async move {
        let (out, _) = caller
            .call(Service::Elb, "DescribeLoadBalancers", || {
                elb.describe_load_balancers()
                    .page_size(400)
                    .set_marker(marker.clone())
                    .send()
            })
            .await?;
        let next = out.next_marker().map(str::to_owned);
        Ok::<_, AwsError>((out.load_balancers().to_vec(), next))
    })
    .await?;
    inv.target_groups = paged(move |marker| async move {
        let (out, _) = caller
            .call(Service::Elb, "DescribeTargetGroups", || {
                elb.describe_target_groups()
                    .page_size(400)
                    .set_marker(marker.clone())
                    .send()
            })
            .await?;
        let next = out.next_marker().map(str::to_owned);
        Ok::<_, AwsError>((out.target_groups().to_vec(), next))
    })
    .await?;
    // Tags (`read::elb_tags`): those of Portico's resources are kept.
    let arns: Vec<String> = inv
        .load_balancers
        .iter()
        .filter_map(|l| l.load_balancer_arn().map(str::to_owned))
        .chain(
            inv.target_groups
                .iter()
                .filter_map(|g| g.target_group_arn().map(str::to_owned)),
        )
        .collect();
    for (arn, tags) in crate::aws::read::elb_tags(clients, caller, &arns).await? {
        if tags.contains_key(TAG_GATEWAY) {
            inv.elb_tags.insert(arn, tags);
        }
    }
    Ok(())
}

pub(super) async fn details(
    clients: &Clients,
    caller: &Caller,
    inv: &Inventory,
    owner: &Owner,
    attributes: Option<&Kept<u32>>,
    actual: &mut Actual,
) -> Result<(), AwsError> {
    let elb = &clients.elb;
    // What the tags say of each ARN; another installation's are only remembered by name
    // (AWS keeps load balancer and target group names unique, so they are not free to use).
    let mut judge = |arn: &str, name: &str, label: &str| -> bool {
        let tags = inv.elb_tags.get(arn);
        match owner.judge(arn, tags) {
            Verdict::Mine => true,
            Verdict::MineUntagged => {
                actual.untagged.push(Untagged {
                    id: arn.to_owned(),
                    service: "elbv2".into(),
                    arn: arn.to_owned(),
                    label: format!("{label} {name}"),
                });
                true
            }
            Verdict::Foreign => {
                actual.foreign_names.push(name.to_owned());
                false
            }
            Verdict::Other => false,
        }
    };
    let lbs: Vec<_> = inv
        .load_balancers
        .iter()
        .filter(|l| match (l.load_balancer_arn(), l.load_balancer_name()) {
            (Some(arn), Some(name)) => judge(arn, name, "load balancer"),
            _ => false,
        })
        .collect();
    let groups: Vec<_> = inv
        .target_groups
        .iter()
        .filter(|g| match (g.target_group_arn(), g.target_group_name()) {
            (Some(arn), Some(name)) => judge(arn, name, "target group"),
            _ => false,
        })
        .collect();

    for lb in lbs {
        let (Some(arn), Some(name)) = (lb.load_balancer_arn(), lb.load_balancer_name()) else {
            continue;
        };
        let found = paged(move |marker| async move {
            let (out, _) = caller
                .call(Service::Elb, "DescribeListeners", || {
                    elb.describe_listeners()
                        .load_balancer_arn(arn)
                        .page_size(400)
                        .set_marker(marker.clone())
                        .send()
                })
                .await?;
            let next = out.next_marker().map(str::to_owned);
            Ok::<_, AwsError>((out.listeners().to_vec(), next))
        })
        .await?;
        let mut listeners = BTreeMap::new();
        for l in &found {
            let (Some(larn), Some(port)) = (l.listener_arn(), l.port()) else {
                continue;
            };
            let target_group_arn = l
                .default_actions()
                .iter()
                .find_map(|a| a.target_group_arn().map(str::to_owned));
            listeners.insert(
                port as u32,
                Listener {
                    arn: larn.to_owned(),
                    target_group_arn,
                },
            );
        }
        let mut subnets: Vec<String> = lb
            .availability_zones()
            .iter()
            .filter_map(|z| z.subnet_id().map(str::to_owned))
            .collect();
        subnets.sort();
        actual.load_balancers.insert(
            arn.to_owned(),
            LoadBalancer {
                name: name.to_owned(),
                arn: arn.to_owned(),
                dns: lb.dns_name().unwrap_or_default().to_owned(),
                state: lb
                    .state()
                    .and_then(|s| s.code())
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_else(|| "unknown".into()),
                subnets,
                listeners,
            },
        );
    }

    for g in groups {
        let (Some(arn), Some(name)) = (g.target_group_arn(), g.target_group_name()) else {
            continue;
        };
        // DescribeTargetHealth and the attributes are not paged: one answer holds them all.
        let (health, _) = caller
            .call(Service::Elb, "DescribeTargetHealth", || {
                elb.describe_target_health().target_group_arn(arn).send()
            })
            .await?;
        let targets = health
            .target_health_descriptions()
            .iter()
            .filter_map(|d| {
                let id = d.target()?.id()?.to_owned();
                let h = d.target_health();
                Some((
                    id,
                    TargetHealth {
                        state: h
                            .and_then(|h| h.state())
                            .map(|s| s.as_str().to_owned())
                            .unwrap_or_else(|| "unknown".into()),
                        reason: h.and_then(|h| h.reason()).map(|r| r.as_str().to_owned()),
                        description: h.and_then(|h| h.description()).map(str::to_owned),
                    },
                ))
            })
            .collect();
        let deregistration_delay = match attributes.and_then(|a| a.get(arn)) {
            Some(delay) => delay,
            None => {
                let (attrs, _) = caller
                    .call(Service::Elb, "DescribeTargetGroupAttributes", || {
                        elb.describe_target_group_attributes()
                            .target_group_arn(arn)
                            .send()
                    })
                    .await?;
                let delay = convert::deregistration_delay(attrs.attributes());
                if let Some(cache) = attributes {
                    cache.put(arn, delay);
                }
                delay
            }
        };
        actual.target_groups.insert(
            name.to_owned(),
            TargetGroup {
                arn: arn.to_owned(),
                port: g.port().unwrap_or(0) as u32,
                vpc_id: g.vpc_id().unwrap_or_default().to_owned(),
                health_check: convert::health_check(g),
                deregistration_delay,
                targets,
            },
        );
    }
    Ok(())
}
