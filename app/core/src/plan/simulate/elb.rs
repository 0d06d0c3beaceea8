//! Target groups and their targets, the network load balancer and its listeners.

use super::Outputs;
use crate::plan::actual::{Actual, Listener, LoadBalancer, TargetGroup, TargetHealth};
use crate::plan::{Field, Op};
use std::collections::BTreeMap;

pub(super) fn run(a: &mut Actual, out: &mut Outputs, i: usize, op: &Op) {
    match op {
        Op::CreateTargetGroup {
            name,
            port,
            vpc_id,
            health_check,
        } => {
            let arn = out.make(i, Field::Id, "arn:tg/");
            assert!(
                !a.target_groups.contains_key(name),
                "duplicate target group {name}"
            );
            a.target_groups.insert(
                name.clone(),
                TargetGroup {
                    arn,
                    port: *port,
                    vpc_id: vpc_id.clone(),
                    health_check: health_check.clone(),
                    deregistration_delay: 300,
                    targets: BTreeMap::new(),
                },
            );
        }
        Op::ModifyTargetGroup {
            target_group,
            health_check,
        } => {
            let arn = out.get(target_group);
            tg(a, &arn).health_check = health_check.clone();
        }
        Op::SetDeregistrationDelay {
            target_group,
            seconds,
        } => {
            let arn = out.get(target_group);
            tg(a, &arn).deregistration_delay = *seconds;
        }
        Op::RegisterTargets {
            target_group,
            instances,
            ..
        } => {
            let arn = out.get(target_group);
            for i in instances {
                tg(a, &arn).targets.insert(
                    i.clone(),
                    TargetHealth {
                        state: "initial".into(),
                        reason: None,
                        description: None,
                    },
                );
            }
        }
        Op::DeregisterTargets {
            target_group,
            instances,
            ..
        } => {
            let arn = out.get(target_group);
            for i in instances {
                assert!(
                    tg(a, &arn).targets.remove(i).is_some(),
                    "{i} was not registered"
                );
            }
        }
        Op::CreateLoadBalancer { name, subnets } => {
            let arn = out.make(i, Field::Id, "arn:lb/");
            let dns = out.make(i, Field::Dns, "dns-");
            a.load_balancers.insert(
                arn.clone(),
                LoadBalancer {
                    name: name.clone(),
                    arn,
                    dns,
                    state: "provisioning".into(),
                    subnets: subnets.clone(),
                    listeners: BTreeMap::new(),
                },
            );
        }
        Op::WaitLoadBalancer { load_balancer } => {
            let arn = out.get(load_balancer);
            lb(a, &arn).state = "active".into();
        }
        Op::CreateListener {
            load_balancer,
            port,
            target_group,
        } => {
            let arn = out.get(load_balancer);
            let group = out.get(target_group);
            assert!(a.target_groups.values().any(|t| t.arn == group));
            let l = out.make(i, Field::Id, "arn:listener/");
            let prev = lb(a, &arn).listeners.insert(
                *port,
                Listener {
                    arn: l,
                    target_group_arn: Some(group),
                },
            );
            assert!(prev.is_none(), "duplicate listener {port}");
        }
        Op::ModifyListener {
            listener,
            target_group,
        } => {
            let group = out.get(target_group);
            let l = a
                .load_balancers
                .values_mut()
                .flat_map(|lb| lb.listeners.values_mut())
                .find(|l| l.arn == *listener)
                .expect("listener");
            l.target_group_arn = Some(group);
        }
        Op::DeleteListener { listener } => {
            for lb in a.load_balancers.values_mut() {
                lb.listeners.retain(|_, l| l.arn != *listener);
            }
        }
        Op::DeleteLoadBalancer { load_balancer } => {
            assert!(
                !a.vpc_links
                    .values()
                    .any(|l| l.target_arns.contains(load_balancer)),
                "NLB deleted while a VPC link uses it"
            );
            a.load_balancers.retain(|_, l| l.arn != *load_balancer);
        }
        Op::DeleteTargetGroup { target_group } => {
            let used = a
                .load_balancers
                .values()
                .flat_map(|l| l.listeners.values())
                .any(|l| l.target_group_arn.as_ref() == Some(target_group));
            assert!(!used, "target group deleted while a listener uses it");
            a.target_groups.retain(|_, t| t.arn != *target_group);
        }
        other => unreachable!("{} is not a load balancer call", other.operation()),
    }
}

fn tg<'a>(a: &'a mut Actual, arn: &str) -> &'a mut TargetGroup {
    a.target_groups
        .values_mut()
        .find(|t| t.arn == arn)
        .unwrap_or_else(|| panic!("no target group {arn}"))
}

fn lb<'a>(a: &'a mut Actual, arn: &str) -> &'a mut LoadBalancer {
    a.load_balancers
        .values_mut()
        .find(|l| l.arn == arn)
        .unwrap_or_else(|| panic!("no load balancer {arn}"))
}
