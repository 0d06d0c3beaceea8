//! The VPC link: one per gateway, pointing at the NLB. AWS can't change a link's target, so a
//! new NLB gets a new link (and the old one goes once nothing uses it).

use super::actual::Actual;
use super::elb::Network;
use super::{change, names, Action, Builder, Kind, Op, Val};
use crate::model::topology::Topology;

pub(super) fn plan(
    b: &mut Builder,
    desired: &Topology,
    actual: &Actual,
    network: Option<&Network>,
) -> Option<Val> {
    let network = network?;
    let name = names::vpc_link(&desired.gateway);
    if let Some(arn) = network.load_balancer.as_known() {
        let usable = actual.vpc_links.iter().find(|(_, l)| {
            l.target_arns.len() == 1
                && l.target_arns[0] == arn
                && (l.status == "AVAILABLE" || l.status == "PENDING")
        });
        if let Some((id, l)) = usable {
            let link = Val::known(id);
            if l.status == "PENDING" {
                b.push(
                    Kind::VpcLink,
                    Action::Wait,
                    format!("VPC link {} to become AVAILABLE", l.name),
                    vec![],
                    Op::WaitVpcLink {
                        vpc_link: link.clone(),
                    },
                );
            }
            return Some(link);
        }
    }
    let i = b.push(
        Kind::VpcLink,
        Action::Create,
        format!("VPC link {name}"),
        vec![change(
            "target",
            None,
            Some(names::load_balancer(&desired.gateway)),
        )],
        Op::CreateVpcLink {
            name: name.clone(),
            load_balancer: network.load_balancer.clone(),
        },
    );
    b.push(
        Kind::VpcLink,
        Action::Wait,
        format!("VPC link {name} to become AVAILABLE"),
        vec![],
        Op::WaitVpcLink {
            vpc_link: Val::id(i),
        },
    );
    Some(Val::id(i))
}

/// Every owned link but the one in use: old targets, FAILED ones.
/// Does an integration route through this link?
pub(super) fn in_use(actual: &Actual, link: &str) -> bool {
    actual
        .rest_apis
        .values()
        .flat_map(|a| a.resources.values())
        .flat_map(|r| r.methods.values())
        .any(|m| {
            m.integration
                .as_ref()
                .and_then(|i| i.connection_id.as_deref())
                == Some(link)
        })
}

/// Every owned link but the one in use: old targets, FAILED ones, duplicates. One no
/// integration uses (a duplicate left by a crash) serves nothing and goes without an admin.
pub(super) fn delete(b: &mut Builder, actual: &Actual, kept: Option<&Val>) {
    let kept = kept.and_then(Val::as_known);
    for (id, l) in &actual.vpc_links {
        if Some(id.as_str()) != kept {
            let why = match &l.status_message {
                Some(m) if l.status == "FAILED" => format!(" (FAILED: {m})"),
                _ => String::new(),
            };
            b.delete_guarded(
                Kind::VpcLink,
                format!("VPC link {} ({id}){why}", l.name),
                in_use(actual, id),
                Op::DeleteVpcLink {
                    vpc_link: id.clone(),
                },
            );
        }
    }
}
