//! The AWS account a gateway lives in, as far as its forms need it: the region's VPCs, subnets
//! (with their zones) and instances, read by the server (`ec2:Describe*`), offered in the forms
//! to pick from, and checked on save, so an id that does not exist, two subnets in one zone or
//! an instance outside the VPC is refused before the worker meets it.

use crate::model::topology::Topology;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub region: String,
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    /// Every instance not terminated.
    pub instances: Vec<Instance>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vpc {
    pub id: String,
    /// Its Name tag.
    pub name: String,
    pub cidr: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub zone: String,
    pub name: String,
    pub cidr: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub vpc_id: String,
    pub name: String,
    /// pending, running, stopping, stopped, shutting-down.
    pub state: String,
    pub private_ip: String,
}

/// How many of what exists a refusal lists.
const LISTED: usize = 12;

fn listing<'a>(items: impl Iterator<Item = String> + 'a) -> String {
    let all: Vec<String> = items.collect();
    match all.len() {
        0 => "none".into(),
        n if n > LISTED => format!("{}, … ({n} in all)", all[..LISTED].join(", ")),
        _ => all.join(", "),
    }
}

fn named(id: &str, name: &str) -> String {
    if name.is_empty() {
        id.to_owned()
    } else {
        format!("{id} ({name})")
    }
}

impl Network {
    pub fn vpc(&self, id: &str) -> Option<&Vpc> {
        self.vpcs.iter().find(|v| v.id == id)
    }

    pub fn subnets_of<'a>(&'a self, vpc: &'a str) -> impl Iterator<Item = &'a Subnet> + 'a {
        self.subnets.iter().filter(move |s| s.vpc_id == vpc)
    }

    pub fn instances_of<'a>(&'a self, vpc: &'a str) -> impl Iterator<Item = &'a Instance> + 'a {
        self.instances.iter().filter(move |i| i.vpc_id == vpc)
    }

    /// What `after` introduces beyond `before` (none: a new gateway) that this account refuses:
    /// a VPC, subnet or instance that does not exist here, two subnets in one zone, a subnet or
    /// instance outside the VPC. Each sentence lists what does exist. Ids `before` already had
    /// are not checked again, so an instance terminated since does not block unrelated edits.
    pub fn check(&self, before: Option<&Topology>, after: &Topology) -> Vec<String> {
        let mut problems = vec![];
        let g = &after.gateway;
        // Another region or account is another network: everything is checked again.
        let before =
            before.filter(|b| b.gateway.region == g.region && b.gateway.role_arn == g.role_arn);
        let region = &self.region;
        let vpc_changed = before.is_none_or(|b| b.gateway.vpc_id != g.vpc_id);
        if vpc_changed && self.vpc(&g.vpc_id).is_none() {
            problems.push(format!(
                "VPC {} does not exist in {region}. It has: {}.",
                g.vpc_id,
                listing(self.vpcs.iter().map(|v| named(&v.id, &v.name)))
            ));
            return problems;
        }
        let in_vpc = || {
            listing(
                self.subnets_of(&g.vpc_id)
                    .map(|s| format!("{} ({})", s.id, s.zone)),
            )
        };
        let subnets_changed =
            vpc_changed || before.is_none_or(|b| b.gateway.subnet_ids != g.subnet_ids);
        if subnets_changed {
            let mut zones: Vec<(&str, &str)> = vec![];
            for id in &g.subnet_ids {
                match self.subnets.iter().find(|s| s.id == *id) {
                    None => problems.push(format!(
                        "Subnet {id} does not exist in {region}. {} has: {}.",
                        g.vpc_id,
                        in_vpc()
                    )),
                    Some(s) if s.vpc_id != g.vpc_id => problems.push(format!(
                        "Subnet {id} is in {}, not in {}. {} has: {}.",
                        s.vpc_id,
                        g.vpc_id,
                        g.vpc_id,
                        in_vpc()
                    )),
                    Some(s) => {
                        if let Some((other, _)) = zones.iter().find(|(_, z)| *z == s.zone) {
                            problems.push(format!(
                                "Subnets {other} and {id} are both in {}: the load balancer \
                                 takes one subnet per zone. {} has: {}.",
                                s.zone,
                                g.vpc_id,
                                in_vpc()
                            ));
                        }
                        zones.push((id, &s.zone));
                    }
                }
            }
        }
        let had: BTreeSet<&str> = before
            .filter(|_| !vpc_changed)
            .map(|b| {
                b.ports
                    .iter()
                    .flat_map(|p| p.instances.iter().map(String::as_str))
                    .collect()
            })
            .unwrap_or_default();
        let instances_here = || {
            listing(self.instances_of(&g.vpc_id).map(|i| {
                let name = if i.name.is_empty() { "" } else { &i.name };
                format!(
                    "{} ({}{}{})",
                    i.id,
                    name,
                    if name.is_empty() { "" } else { ", " },
                    i.state
                )
            }))
        };
        let mut seen = BTreeSet::new();
        for p in &after.ports {
            for id in &p.instances {
                if had.contains(id.as_str()) || !seen.insert(id.as_str()) {
                    continue;
                }
                match self.instances.iter().find(|i| i.id == *id) {
                    None => problems.push(format!(
                        "Instance {id} (port {}) does not exist in {region}. {} has: {}.",
                        p.port,
                        g.vpc_id,
                        instances_here()
                    )),
                    Some(i) if i.vpc_id != g.vpc_id => problems.push(format!(
                        "Instance {id} (port {}) is in {}, not in the gateway's {}: the load \
                         balancer cannot reach it. {} has: {}.",
                        p.port,
                        i.vpc_id,
                        g.vpc_id,
                        g.vpc_id,
                        instances_here()
                    )),
                    Some(_) => {}
                }
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Network {
        let subnet = |id: &str, vpc: &str, zone: &str| Subnet {
            id: id.into(),
            vpc_id: vpc.into(),
            zone: zone.into(),
            name: String::new(),
            cidr: String::new(),
        };
        let instance = |id: &str, vpc: &str| Instance {
            id: id.into(),
            vpc_id: vpc.into(),
            name: "web".into(),
            state: "running".into(),
            private_ip: "10.0.0.5".into(),
        };
        let vpc = |id: &str| Vpc {
            id: id.into(),
            name: "main".into(),
            cidr: "10.0.0.0/16".into(),
        };
        Network {
            region: "eu-west-1".into(),
            vpcs: vec![vpc("vpc-a"), vpc("vpc-b")],
            subnets: vec![
                subnet("subnet-1", "vpc-a", "eu-west-1a"),
                subnet("subnet-2", "vpc-a", "eu-west-1b"),
                subnet("subnet-3", "vpc-a", "eu-west-1a"),
                subnet("subnet-9", "vpc-b", "eu-west-1c"),
            ],
            instances: vec![instance("i-1", "vpc-a"), instance("i-9", "vpc-b")],
        }
    }

    fn topology(vpc: &str, subnets: &[&str], instances: &[&str]) -> Topology {
        let mut t = Topology::from_yaml(&format!(
            "gateway: {{name: shop, region: eu-west-1, vpc_id: {vpc}, subnet_ids: [{}]}}\n\
             ports: [{{port: 8080, instances: [{}]}}]\n",
            subnets.join(", "),
            instances.join(", ")
        ))
        .unwrap();
        t = t.normalised();
        t
    }

    #[test]
    fn what_exists_in_the_vpc_passes() {
        let t = topology("vpc-a", &["subnet-1", "subnet-2"], &["i-1"]);
        assert_eq!(account().check(None, &t), Vec::<String>::new());
    }

    #[test]
    fn each_refusal_names_what_exists() {
        let a = account();
        let p = a.check(None, &topology("vpc-x", &["subnet-1"], &[]));
        assert!(
            p[0].contains("VPC vpc-x does not exist") && p[0].contains("vpc-a (main)"),
            "{p:?}"
        );
        let p = a.check(None, &topology("vpc-a", &["subnet-1", "subnet-3"], &[]));
        assert!(
            p[0].contains("both in eu-west-1a") && p[0].contains("subnet-2 (eu-west-1b)"),
            "{p:?}"
        );
        let p = a.check(None, &topology("vpc-a", &["subnet-1", "subnet-9"], &[]));
        assert!(p[0].contains("Subnet subnet-9 is in vpc-b"), "{p:?}");
        let p = a.check(None, &topology("vpc-a", &["subnet-1", "subnet-7"], &[]));
        assert!(p[0].contains("Subnet subnet-7 does not exist"), "{p:?}");
        let p = a.check(None, &topology("vpc-a", &["subnet-1"], &["i-9", "i-404"]));
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("i-404 (port 8080) does not exist") || p[1].contains("i-404"));
        assert!(
            p.iter()
                .any(|m| m.contains("i-9 (port 8080) is in vpc-b")
                    && m.contains("i-1 (web, running)"))
        );
    }

    #[test]
    fn only_what_an_edit_introduces_is_checked() {
        let a = account();
        // An instance gone since it was added does not block an unrelated edit …
        let before = topology("vpc-a", &["subnet-1"], &["i-gone"]);
        let mut after = before.clone();
        after.ports[0].deregistration_delay = 30;
        assert_eq!(a.check(Some(&before), &after), Vec::<String>::new());
        // … but adding another missing one is refused.
        after.ports[0].instances.push("i-404".into());
        assert_eq!(a.check(Some(&before), &after).len(), 1);
    }
}
