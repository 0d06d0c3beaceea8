//! VPC links: made only to an active load balancer, gone only when no integration uses them.

use super::Outputs;
use crate::plan::actual::{Actual, VpcLink};
use crate::plan::{Field, Op};

pub(super) fn run(a: &mut Actual, out: &mut Outputs, i: usize, op: &Op) {
    match op {
        Op::CreateVpcLink {
            name,
            load_balancer,
        } => {
            let arn = out.get(load_balancer);
            assert!(
                a.load_balancers
                    .values()
                    .any(|l| l.arn == arn && l.state == "active"),
                "link to a missing or provisioning NLB"
            );
            let id = out.make(i, Field::Id, "link-");
            a.vpc_links.insert(
                id,
                VpcLink {
                    name: name.clone(),
                    target_arns: vec![arn],
                    status: "PENDING".into(),
                    status_message: None,
                },
            );
        }
        Op::WaitVpcLink { vpc_link } => {
            let id = out.get(vpc_link);
            a.vpc_links.get_mut(&id).expect("link").status = "AVAILABLE".into();
        }
        Op::DeleteVpcLink { vpc_link } => {
            let used = a
                .rest_apis
                .values()
                .flat_map(|api| api.resources.values())
                .flat_map(|r| r.methods.values())
                .any(|m| {
                    m.integration
                        .as_ref()
                        .and_then(|i| i.connection_id.as_ref())
                        == Some(vpc_link)
                });
            assert!(
                !used,
                "VPC link {vpc_link} deleted while an integration uses it"
            );
            assert!(a.vpc_links.remove(vpc_link).is_some());
        }
        other => unreachable!("{} is not a VPC link call", other.operation()),
    }
}
