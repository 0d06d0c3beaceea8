//! Target groups, their targets, the shared NLB and its listeners.

use super::actual::{Actual, LoadBalancer};
use super::{change, names, Action, Builder, Field, Kind, Op, Val};
use crate::model::topology::{HealthCheck, Topology};
use std::collections::{BTreeMap, BTreeSet};

/// What later kinds need from the network: the NLB (ARN, DNS name) and each backend port's
/// listener port.
pub(crate) struct Network {
    pub load_balancer: Val,
    pub dns: Val,
    pub listener_ports: BTreeMap<u32, u32>,
}

/// AWS's default deregistration delay for a new target group.
const DEFAULT_DEREGISTRATION_DELAY: u32 = 300;

pub(super) fn plan(b: &mut Builder, desired: &Topology, actual: &Actual) -> Option<Network> {
    if desired.ports.is_empty() {
        return None;
    }
    let g = &desired.gateway;
    let mut groups = BTreeMap::new();
    for p in &desired.ports {
        let name = names::target_group(g, p.port);
        let label = format!("target group {}", p.port);
        let want: BTreeSet<&String> = p.instances.iter().collect();
        let (group, have) = match actual.target_groups.get(&name) {
            Some(tg) => {
                let arn = Val::known(&tg.arn);
                if tg.health_check != p.health_check {
                    b.push(
                        Kind::TargetGroup,
                        Action::Update,
                        label.clone(),
                        health_changes(&tg.health_check, &p.health_check),
                        Op::ModifyTargetGroup {
                            target_group: arn.clone(),
                            health_check: p.health_check.clone(),
                        },
                    );
                }
                if tg.deregistration_delay != p.deregistration_delay {
                    b.push(
                        Kind::TargetGroup,
                        Action::Update,
                        label.clone(),
                        vec![change(
                            "deregistration_delay",
                            Some(tg.deregistration_delay.to_string()),
                            Some(p.deregistration_delay.to_string()),
                        )],
                        Op::SetDeregistrationDelay {
                            target_group: arn.clone(),
                            seconds: p.deregistration_delay,
                        },
                    );
                }
                (arn, tg.targets.keys().collect::<BTreeSet<_>>())
            }
            None => {
                let i = b.push(
                    Kind::TargetGroup,
                    Action::Create,
                    label.clone(),
                    vec![change("name", None, Some(name.clone()))],
                    Op::CreateTargetGroup {
                        name,
                        port: p.port,
                        vpc_id: g.vpc_id.clone(),
                        health_check: p.health_check.clone(),
                    },
                );
                if p.deregistration_delay != DEFAULT_DEREGISTRATION_DELAY {
                    b.push(
                        Kind::TargetGroup,
                        Action::Update,
                        label.clone(),
                        vec![change(
                            "deregistration_delay",
                            Some(DEFAULT_DEREGISTRATION_DELAY.to_string()),
                            Some(p.deregistration_delay.to_string()),
                        )],
                        Op::SetDeregistrationDelay {
                            target_group: Val::id(i),
                            seconds: p.deregistration_delay,
                        },
                    );
                }
                (Val::id(i), BTreeSet::new())
            }
        };
        let add: Vec<String> = want.difference(&have).map(|s| s.to_string()).collect();
        let remove: Vec<String> = have.difference(&want).map(|s| s.to_string()).collect();
        if !add.is_empty() {
            b.push(
                Kind::TargetGroup,
                Action::Update,
                format!("targets of port {}", p.port),
                add.iter()
                    .map(|i| change("target", None, Some(i.clone())))
                    .collect(),
                Op::RegisterTargets {
                    target_group: group.clone(),
                    port: p.port,
                    instances: add,
                },
            );
        }
        if !remove.is_empty() {
            b.push(
                Kind::TargetGroup,
                Action::Update,
                format!("targets of port {}", p.port),
                remove
                    .iter()
                    .map(|i| change("target", Some(i.clone()), None))
                    .collect(),
                Op::DeregisterTargets {
                    target_group: group.clone(),
                    port: p.port,
                    instances: remove,
                },
            );
        }
        groups.insert(p.port, group);
    }

    let lb_name = names::load_balancer(g);
    let label = format!("load balancer {lb_name}");
    let existing: Option<&LoadBalancer> = kept(actual, &lb_name);
    let (lb, dns) = match existing {
        Some(lb) => {
            if lb.state == "provisioning" {
                b.push(
                    Kind::LoadBalancer,
                    Action::Wait,
                    format!("{label} to become active"),
                    vec![],
                    Op::WaitLoadBalancer {
                        load_balancer: Val::known(&lb.arn),
                    },
                );
            }
            (Val::known(&lb.arn), Val::known(&lb.dns))
        }
        None => {
            let i = b.push(
                Kind::LoadBalancer,
                Action::Create,
                label.clone(),
                vec![
                    change("scheme", None, Some("internal".into())),
                    change("subnets", None, Some(g.subnet_ids.join(", "))),
                ],
                Op::CreateLoadBalancer {
                    name: lb_name.clone(),
                    subnets: g.subnet_ids.clone(),
                },
            );
            b.push(
                Kind::LoadBalancer,
                Action::Wait,
                format!("{label} to become active"),
                vec![],
                Op::WaitLoadBalancer {
                    load_balancer: Val::id(i),
                },
            );
            (
                Val::id(i),
                Val::Output {
                    step: i,
                    field: Field::Dns,
                },
            )
        }
    };

    let mut listener_ports = BTreeMap::new();
    for p in &desired.ports {
        let port = p.listener();
        listener_ports.insert(p.port, port);
        let group = &groups[&p.port];
        let label = format!("listener {port}");
        match existing.and_then(|lb| lb.listeners.get(&port)) {
            Some(l) => {
                if l.target_group_arn.as_deref() != group.as_known() {
                    b.push(
                        Kind::Listener,
                        Action::Update,
                        label,
                        vec![change(
                            "target group",
                            l.target_group_arn.clone(),
                            Some(format!("port {}", p.port)),
                        )],
                        Op::ModifyListener {
                            listener: l.arn.clone(),
                            target_group: group.clone(),
                        },
                    );
                }
            }
            None => {
                b.push(
                    Kind::Listener,
                    Action::Create,
                    label,
                    vec![change(
                        "forwards to",
                        None,
                        Some(format!("target group {}", p.port)),
                    )],
                    Op::CreateListener {
                        load_balancer: lb.clone(),
                        port,
                        target_group: group.clone(),
                    },
                );
            }
        }
    }
    Some(Network {
        load_balancer: lb,
        dns,
        listener_ports,
    })
}

fn health_changes(old: &HealthCheck, new: &HealthCheck) -> Vec<super::FieldChange> {
    let mut out = vec![];
    let mut field = |name: &str, a: String, b: String| {
        if a != b {
            out.push(change(name, Some(a), Some(b)));
        }
    };
    field(
        "health_check.protocol",
        format!("{:?}", old.protocol).to_ascii_uppercase(),
        format!("{:?}", new.protocol).to_ascii_uppercase(),
    );
    field(
        "health_check.path",
        old.path.clone().unwrap_or_default(),
        new.path.clone().unwrap_or_default(),
    );
    field(
        "health_check.interval_seconds",
        old.interval_seconds.to_string(),
        new.interval_seconds.to_string(),
    );
    field(
        "health_check.healthy_threshold",
        old.healthy_threshold.to_string(),
        new.healthy_threshold.to_string(),
    );
    field(
        "health_check.unhealthy_threshold",
        old.unhealthy_threshold.to_string(),
        new.unhealthy_threshold.to_string(),
    );
    out
}

/// The load balancer the gateway uses: the one with its name (the first by ARN if a crash left
/// two).
fn kept<'a>(actual: &'a Actual, name: &str) -> Option<&'a LoadBalancer> {
    actual.load_balancers.values().find(|lb| lb.name == name)
}

/// Listeners no port uses, load balancers of an old epoch (or duplicates), target groups no
/// port uses.
pub(super) fn delete(
    b: &mut Builder,
    desired: &Topology,
    actual: &Actual,
    network: Option<&Network>,
) {
    let g = &desired.gateway;
    let kept_lb = network.and_then(|_| kept(actual, &names::load_balancer(g)));
    if let (Some(lb), Some(network)) = (kept_lb, network) {
        let wanted: BTreeSet<u32> = network.listener_ports.values().copied().collect();
        for (port, l) in &lb.listeners {
            if !wanted.contains(port) {
                b.later(
                    Kind::Listener,
                    Action::Delete,
                    format!("listener {port}"),
                    vec![],
                    Op::DeleteListener {
                        listener: l.arn.clone(),
                    },
                );
            }
        }
    }
    for lb in actual.load_balancers.values() {
        if Some(&lb.arn) != kept_lb.map(|k| &k.arn) {
            // Serving when a VPC link still in use points at it; an orphan (a duplicate left by
            // a crash) goes without an admin.
            let serving = actual
                .vpc_links
                .iter()
                .any(|(id, l)| l.target_arns.contains(&lb.arn) && super::link::in_use(actual, id));
            b.delete_guarded(
                Kind::LoadBalancer,
                format!("load balancer {}", lb.name),
                serving,
                Op::DeleteLoadBalancer {
                    load_balancer: lb.arn.clone(),
                },
            );
        }
    }
    let wanted: BTreeSet<String> = desired
        .ports
        .iter()
        .map(|p| names::target_group(g, p.port))
        .collect();
    for (name, tg) in &actual.target_groups {
        if !wanted.contains(name) {
            b.later(
                Kind::TargetGroup,
                Action::Delete,
                format!("target group {} ({name})", tg.port),
                vec![],
                Op::DeleteTargetGroup {
                    target_group: tg.arn.clone(),
                },
            );
        }
    }
}
