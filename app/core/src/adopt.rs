//! Adopting a hand-built setup: from what AWS holds under one REST API (`Found`, read by the
//! server's `adopt` module, plain data here) to the desired topology that says exactly that,
//! with every part the shape cannot express listed instead of dropped. Pure, so every rule is
//! unit-tested without AWS.
//!
//! The shape followed is the one Portico builds: REST API → VPC_LINK integrations whose uri is
//! `http://<nlb dns>:<listener port or ${stageVariables.backendPort}>/…` → one VPC link → one
//! NLB → one TCP listener and target group per backend port → instances.

use crate::model::rules::BACKEND_PORT_VAR;
use crate::model::topology::*;
use crate::model::validate::validate;
use crate::plan::deployment_fingerprint;
use crate::plan::names::{self, TAG_GATEWAY};
use std::collections::{BTreeMap, BTreeSet};

mod found;
pub use found::*;

/// What adopting would store, tag and leave out.
#[derive(Clone, Debug, PartialEq)]
pub struct Adoption {
    pub topology: Topology,
    /// Every resource that would gain Portico's tags, in words with its id or ARN.
    pub tags: Vec<String>,
    /// What the shape cannot express, each with why: adoption is refused while any is left.
    pub misfits: Vec<String>,
    /// The keys clients already use, listed as adopted (never their values).
    pub keys: Vec<FoundKey>,
}

/// The routes' backend as an integration uri says it: a fixed listener port, or the stage's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Listener(u32),
    StagePort,
}

/// `http://<dns>:<port>/…` → the host, the port part and the path.
fn parse_uri(uri: &str) -> Option<(&str, &str, &str)> {
    let rest = uri.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (host, port) = authority.rsplit_once(':')?;
    Some((host, port, path))
}

/// A usage plan's AWS name as a topology name: characters Portico's names do not take become
/// `-` (the AWS name itself is kept, in `Adopted::usage_plans`).
fn plan_slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn portico_owner(tags: &BTreeMap<String, String>) -> Option<&String> {
    tags.get(TAG_GATEWAY)
}

/// The topology of what `found` holds, as gateway `name` (acting as `role_arn`).
pub fn adopt(found: &Found, name: &str, role_arn: Option<&str>) -> Adoption {
    let mut misfits = vec![];
    let mut tags = vec![];
    let api = &found.api;
    if let Some(g) = portico_owner(&api.tags) {
        misfits.push(format!(
            "REST API {} already belongs to Portico gateway {g:?}: it is managed, not adopted.",
            api.id
        ));
    }
    let endpoint_type = match api.endpoint_type.as_str() {
        "EDGE" => EndpointType::Edge,
        "PRIVATE" => {
            misfits.push(
                "The API is PRIVATE: Portico manages no VPC endpoint or resource policy.".into(),
            );
            EndpointType::Private
        }
        _ => EndpointType::Regional,
    };
    tags.push(format!("REST API {} ({})", api.name, api.id));
    for a in &found.authorizers {
        misfits.push(format!(
            "Authorizer {a:?}: Portico sets no authorizers and would drop it."
        ));
    }
    for m in &found.models {
        misfits.push(format!(
            "Model {m:?}: Portico keeps no models and would drop it."
        ));
    }

    // Integrations: each through one VPC link, to one NLB's DNS name.
    let mut links: BTreeSet<&str> = BTreeSet::new();
    let mut hosts: BTreeSet<(String, String)> = BTreeSet::new();
    let mut routes = vec![];
    for r in &found.resources {
        if r.methods.is_empty() {
            continue;
        }
        let mut target = None;
        let mut key_required = None;
        let mut backend: Option<&str> = None;
        for m in &r.methods {
            let at = format!("{} {}", m.verb, r.path);
            if m.authorization != "NONE" && !m.authorization.is_empty() {
                misfits.push(format!(
                    "{at} uses {} authorization: Portico sets none.",
                    m.authorization
                ));
            }
            if *key_required.get_or_insert(m.api_key_required) != m.api_key_required {
                misfits.push(format!(
                    "{}: its methods differ on requiring an API key; a Portico route has one setting.",
                    r.path
                ));
            }
            let Some(i) = &m.integration else {
                misfits.push(format!("{at} has no integration."));
                continue;
            };
            if i.connection_type != "VPC_LINK" || i.kind != "HTTP_PROXY" {
                misfits.push(format!(
                    "{at} integrates {} over {} ({}): only HTTP proxies through the VPC link fit.",
                    i.kind,
                    if i.connection_type.is_empty() {
                        "INTERNET"
                    } else {
                        &i.connection_type
                    },
                    i.uri
                ));
                continue;
            }
            if i.request_templates > 0 {
                misfits.push(format!(
                    "{at} maps requests with templates: Portico passes requests through and \
                     would drop them."
                ));
            }
            if let Some(link) = &i.connection_id {
                links.insert(link);
            }
            let parsed = parse_uri(&i.uri);
            if let Some((host, _, path)) = parsed {
                hosts.insert((host.to_owned(), at.clone()));
                if backend.is_some_and(|b| b != path) {
                    misfits.push(format!(
                        "{}: its methods call different backend paths; a Portico route has one.",
                        r.path
                    ));
                }
                backend = Some(path);
            }
            let stage_port = format!("${{stageVariables.{BACKEND_PORT_VAR}}}");
            let t = match parsed {
                Some((_, port, _)) if port == stage_port => Some(Target::StagePort),
                Some((_, port, _)) => port.parse().ok().map(Target::Listener),
                None => None,
            };
            let Some(t) = t else {
                misfits.push(format!(
                    "{at} calls {}: not http://<load balancer>:<port>/….",
                    i.uri
                ));
                continue;
            };
            if target.is_some_and(|old| old != t) {
                misfits.push(format!(
                    "{}: its methods reach different ports; a Portico route has one.",
                    r.path
                ));
            }
            target = Some(t);
        }
        let mut methods: Vec<String> = r.methods.iter().map(|m| m.verb.clone()).collect();
        methods.sort();
        let mut route = Route {
            path: r.path.clone(),
            methods,
            api_key_required: key_required.unwrap_or(false),
            port: None,
            backend_path: None,
        };
        // Recorded only where it is not the route's own (`Topology::normalised` drops it then).
        route.backend_path = backend.map(|b| if b.is_empty() { "/" } else { b }.to_owned());
        routes.push((route, target));
    }

    // The one link, and the one NLB behind it.
    let mut lb: Option<(&String, &FoundLoadBalancer)> = None;
    let mut record = Adopted {
        rest_api: AwsRef {
            id: api.id.clone(),
            name: api.name.clone(),
        },
        ..Adopted::default()
    };
    match links.len() {
        0 => misfits.push("No integration goes through a VPC link: nothing to adopt.".into()),
        1 => {}
        n => misfits.push(format!(
            "The integrations use {n} VPC links ({}): the shape has one.",
            links.iter().copied().collect::<Vec<_>>().join(", ")
        )),
    }
    for id in &links {
        let Some(link) = found.vpc_links.get(*id) else {
            misfits.push(format!("VPC link {id} could not be read."));
            continue;
        };
        if let Some(g) = portico_owner(&link.tags) {
            misfits.push(format!(
                "VPC link {id} already belongs to Portico gateway {g:?}."
            ));
        }
        tags.push(format!("VPC link {} ({id})", link.name));
        record.vpc_link = AwsRef {
            id: (*id).to_owned(),
            name: link.name.clone(),
        };
        match link.target_arns.as_slice() {
            [arn] => match found.load_balancers.get(arn) {
                Some(found_lb) => lb = Some((arn, found_lb)),
                None => misfits.push(format!("Load balancer {arn} could not be read.")),
            },
            other => misfits.push(format!(
                "VPC link {id} targets {} load balancers: the shape has one.",
                other.len()
            )),
        }
    }

    let mut ports: Vec<BackendPort> = vec![];
    let (mut vpc_id, mut subnets) = (String::new(), vec![]);
    if let Some((arn, nlb)) = lb {
        if nlb.kind != "network" {
            misfits.push(format!(
                "Load balancer {} is an {} load balancer: a VPC link reaches a network one.",
                nlb.name, nlb.kind
            ));
        }
        if let Some(g) = portico_owner(&nlb.tags) {
            misfits.push(format!(
                "Load balancer {} already belongs to Portico gateway {g:?}.",
                nlb.name
            ));
        }
        tags.push(format!("load balancer {} ({arn})", nlb.name));
        record.load_balancer = AwsRef {
            id: arn.clone(),
            name: nlb.name.clone(),
        };
        for (host, at) in &hosts {
            if *host != nlb.dns {
                misfits.push(format!(
                    "{at} calls {host}, not load balancer {} ({}): the shape has one.",
                    nlb.name, nlb.dns
                ));
            }
        }
        vpc_id = nlb.vpc_id.clone();
        subnets = nlb.subnets.clone();
        for (_, target) in &routes {
            if let Some(Target::Listener(p)) = target {
                if !nlb.listeners.iter().any(|l| l.port == *p) {
                    misfits.push(format!(
                        "A route calls port {p}, where {} has no listener.",
                        nlb.name
                    ));
                }
            }
        }
        for l in &nlb.listeners {
            let Some(tg_arn) = &l.target_group else {
                misfits.push(format!(
                    "Listener {} does not forward to a target group.",
                    l.port
                ));
                continue;
            };
            let Some(tg) = found.target_groups.get(tg_arn) else {
                misfits.push(format!("Target group {tg_arn} could not be read."));
                continue;
            };
            if l.protocol != "TCP" || tg.protocol != "TCP" {
                misfits.push(format!(
                    "Listener {} ({}) → target group {} ({}): the shape forwards TCP.",
                    l.port, l.protocol, tg.name, tg.protocol
                ));
            }
            if tg.target_type != "instance" {
                misfits.push(format!(
                    "Target group {} registers {} targets: the shape registers EC2 instances.",
                    tg.name, tg.target_type
                ));
            }
            if let Some(g) = portico_owner(&tg.tags) {
                misfits.push(format!(
                    "Target group {} already belongs to Portico gateway {g:?}.",
                    tg.name
                ));
            }
            tags.push(format!("target group {} ({tg_arn})", tg.name));
            if ports.iter().any(|p| p.port == tg.port) {
                misfits.push(format!(
                    "Two listeners reach backend port {}: the shape has one per port.",
                    tg.port
                ));
                continue;
            }
            record.target_groups.insert(
                tg.port,
                AwsRef {
                    id: tg_arn.clone(),
                    name: tg.name.clone(),
                },
            );
            ports.push(BackendPort {
                port: tg.port,
                listener_port: (l.port != tg.port).then_some(l.port),
                health_check: tg.health_check.clone(),
                deregistration_delay: tg.deregistration_delay,
                instances: tg.instances.clone(),
            });
        }
    }
    let backend_of = |listener: u32| {
        ports
            .iter()
            .find(|p| p.listener() == listener)
            .map(|p| p.port)
    };

    let uses_stage_port = routes.iter().any(|r| r.1 == Some(Target::StagePort));
    let mut stages = vec![];
    for s in &found.stages {
        let mut variables = s.variables.clone();
        let held = variables.remove(BACKEND_PORT_VAR);
        let own = held
            .as_deref()
            .and_then(|v| v.parse::<u32>().ok())
            .and_then(backend_of);
        let backend_port = match own {
            Some(p) => p,
            None if uses_stage_port => {
                misfits.push(format!(
                    "Stage {}: routes call ${{stageVariables.{BACKEND_PORT_VAR}}}, but the \
                     stage's {BACKEND_PORT_VAR} names no listener.",
                    s.name
                ));
                0
            }
            None => {
                if let Some(v) = held {
                    misfits.push(format!(
                        "Stage {}: its {BACKEND_PORT_VAR} variable ({v}) names no listener; \
                         Portico keeps that variable in step with the stage's backend port.",
                        s.name
                    ));
                }
                // Every route has its own port: the stage's is only a default.
                ports.first().map_or(0, |p| p.port)
            }
        };
        stages.push(Stage {
            name: s.name.clone(),
            backend_port,
            throttle: s.throttle.clone(),
            cache_gb: s.cache_gb.clone(),
            variables,
            access_log: adopted_access_log(s.access_log.as_ref(), &found.region),
        });
    }

    let routes = routes
        .into_iter()
        .map(|(route, target)| Route {
            port: match target {
                Some(Target::Listener(l)) => backend_of(l).or(Some(l)),
                _ => None,
            },
            ..route
        })
        .collect();

    let mut usage_plans = vec![];
    for p in &found.usage_plans {
        let others: Vec<String> = p
            .api_stages
            .iter()
            .filter(|(a, _)| *a != api.id)
            .map(|(a, s)| format!("{a}/{s}"))
            .collect();
        if !others.is_empty() {
            misfits.push(format!(
                "Usage plan {} also covers {}: a Portico usage plan covers one API.",
                p.name,
                others.join(", ")
            ));
        }
        if let Some(g) = portico_owner(&p.tags) {
            misfits.push(format!(
                "Usage plan {} already belongs to Portico gateway {g:?}.",
                p.name
            ));
        }
        tags.push(format!("usage plan {} ({})", p.name, p.id));
        let name = plan_slug(&p.name);
        if record.usage_plans.contains_key(&name) {
            misfits.push(format!(
                "Two usage plans over this API are named {:?}: Portico's plans have one name each.",
                p.name
            ));
        }
        record.usage_plans.insert(
            name.clone(),
            AwsRef {
                id: p.id.clone(),
                name: p.name.clone(),
            },
        );
        usage_plans.push(UsagePlan {
            name,
            throttle: p.throttle.clone(),
            quota: p.quota.clone(),
            stages: p
                .api_stages
                .iter()
                .filter(|(a, _)| *a == api.id)
                .map(|(_, s)| s.clone())
                .collect(),
        });
    }
    for k in &found.keys {
        tags.push(format!("API key {} ({})", k.name, k.id));
        if let Some(g) = portico_owner(&k.tags) {
            misfits.push(format!(
                "API key {} ({}) already belongs to Portico gateway {g:?}.",
                k.name, k.id
            ));
        }
        if !k.elsewhere.is_empty() {
            misfits.push(format!(
                "API key {} ({}) is also in usage plan(s) {} over other APIs: revoking or \
                 rotating it here would cut them off.",
                k.name,
                k.id,
                k.elsewhere.join(", ")
            ));
        }
    }
    let plan_of = |aws: &String| {
        let p = found.usage_plans.iter().find(|p| p.name == *aws);
        p.map_or_else(|| aws.clone(), |p| plan_slug(&p.name))
    };
    let keys = found
        .keys
        .iter()
        .map(|k| FoundKey {
            usage_plans: k.usage_plans.iter().map(plan_of).collect(),
            ..k.clone()
        })
        .collect();

    let topology = Topology {
        gateway: Gateway {
            name: name.to_owned(),
            region: found.region.clone(),
            vpc_id,
            subnet_ids: subnets,
            endpoint_type,
            role_arn: role_arn.map(str::to_owned),
            apply_mode: ApplyMode::default(),
            drift_mode: DriftMode::default(),
            adopted: None,
        },
        ports,
        stages,
        routes,
        usage_plans,
        usage: UsageAssumptions::default(),
    }
    .normalised();
    // The names hold in the network found; the deployments the stages serve count as
    // deployments of the routes found, so adopting deploys nothing.
    let mut topology = topology;
    record.epoch = names::epoch(&topology.gateway);
    topology.gateway.adopted = Some(record);
    let fingerprint = deployment_fingerprint(&topology);
    if let Some(record) = topology.gateway.adopted.as_mut() {
        for s in &found.stages {
            record
                .deployments
                .insert(s.deployment_id.clone(), fingerprint.clone());
        }
    }
    if misfits.is_empty() {
        if let Err(problems) = validate(&topology) {
            misfits.extend(problems.iter().map(|p| format!("Portico's rules: {p}")));
        }
    }
    Adoption {
        topology,
        tags,
        misfits,
        keys,
    }
}

/// A stage's access log as Portico will keep it. One Portico's rules refuse (it logs callers'
/// key values, say) is not taken over: it stays as AWS has it, untouched, and adoption goes on.
fn adopted_access_log(log: Option<&AccessLog>, region: &str) -> Option<AccessLogging> {
    let log = log?;
    let fits = crate::model::rules::access_log_destination(log.arn(), region).is_ok()
        && log
            .format
            .as_deref()
            .is_none_or(|f| crate::model::rules::access_log_format(f).is_ok());
    fits.then(|| AccessLogging::To(log.clone()))
}

#[cfg(test)]
mod tests;
