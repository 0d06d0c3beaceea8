//! `portico adopt`: read what AWS holds under one REST API — following what it really uses:
//! its resources and methods, the VPC link its integrations name, that link's load balancer,
//! its listeners and their target groups and instances, the stages, the usage plans over them
//! and their keys (never key values) — into `portico_core::adopt::Found`, which the core turns
//! into the topology it would store. Reads only, through the paced caller.

use crate::aws::call::{AwsError, Caller, Service};
use crate::aws::{convert, read, Clients};
use aws_sdk_elasticloadbalancingv2::types as elbt;
use portico_core::adopt::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn tag_map(tags: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Everything under REST API `id` in the caller's account and region.
pub async fn discover(clients: &Clients, caller: &Caller, id: &str) -> Result<Found, AwsError> {
    let api = &clients.apigateway;
    let (rest, _) = caller
        .call(Service::ApiGateway, "GetRestApi", || {
            api.get_rest_api().rest_api_id(id).send()
        })
        .await?;
    let mut found = Found {
        region: caller.region.clone(),
        api: FoundApi {
            id: id.to_owned(),
            name: rest.name().unwrap_or_default().to_owned(),
            endpoint_type: rest
                .endpoint_configuration()
                .and_then(|e| e.types().first())
                .map(|t| t.as_str().to_owned())
                .unwrap_or_else(|| "REGIONAL".into()),
            tags: tag_map(rest.tags()),
        },
        ..Found::default()
    };

    // Resources with their methods and integrations embedded, every page.
    for r in read::resources(clients, caller, id).await? {
        let methods = r
            .resource_methods()
            .map(|m| {
                m.iter()
                    .map(|(verb, m)| FoundMethod {
                        verb: verb.clone(),
                        api_key_required: m.api_key_required().unwrap_or(false),
                        authorization: m.authorization_type().unwrap_or("NONE").to_owned(),
                        integration: m.method_integration().map(|i| {
                            let read = convert::integration(i);
                            FoundIntegration {
                                kind: read.kind,
                                connection_type: read.connection_type,
                                connection_id: read.connection_id,
                                uri: read.uri,
                                request_templates: i.request_templates().map_or(0, |t| t.len()),
                            }
                        }),
                    })
                    .collect()
            })
            .unwrap_or_default();
        found.resources.push(FoundResource {
            path: r.path().unwrap_or_default().to_owned(),
            methods,
        });
    }
    let (auth, _) = caller
        .call(Service::ApiGateway, "GetAuthorizers", || {
            api.get_authorizers().rest_api_id(id).limit(500).send()
        })
        .await?;
    found.authorizers = auth
        .items()
        .iter()
        .filter_map(|a| a.name().map(str::to_owned))
        .collect();
    let (models, _) = caller
        .call(Service::ApiGateway, "GetModels", || {
            api.get_models().rest_api_id(id).limit(500).send()
        })
        .await?;
    found.models = models
        .items()
        .iter()
        .filter_map(|m| m.name())
        .filter(|n| !matches!(*n, "Empty" | "Error"))
        .map(str::to_owned)
        .collect();

    // The links the integrations name, and the load balancers they reach.
    let links: BTreeSet<String> = found
        .resources
        .iter()
        .flat_map(|r| &r.methods)
        .filter_map(|m| m.integration.as_ref()?.connection_id.clone())
        .collect();
    for link in &links {
        let (l, _) = caller
            .call(Service::ApiGateway, "GetVpcLink", || {
                api.get_vpc_link().vpc_link_id(link).send()
            })
            .await?;
        found.vpc_links.insert(
            link.clone(),
            FoundLink {
                name: l.name().unwrap_or_default().to_owned(),
                target_arns: l.target_arns().to_vec(),
                tags: tag_map(l.tags()),
            },
        );
    }
    let lb_arns: BTreeSet<String> = found
        .vpc_links
        .values()
        .flat_map(|l| l.target_arns.clone())
        .collect();
    for arn in &lb_arns {
        read_load_balancer(clients, caller, arn, &mut found).await?;
    }

    // Stages, usage plans over them, and their keys.
    let (stages, _) = caller
        .call(Service::ApiGateway, "GetStages", || {
            api.get_stages().rest_api_id(id).send()
        })
        .await?;
    for s in stages.item() {
        found.stages.push(FoundStage {
            name: s.stage_name().unwrap_or_default().to_owned(),
            deployment_id: s.deployment_id().unwrap_or_default().to_owned(),
            variables: convert::stage_variables(s),
            throttle: convert::stage_throttle(s),
            cache_gb: convert::stage_cache_gb(s),
            access_log: convert::stage_access_log(s),
        });
    }
    // Every usage plan: those over this API are adopted.
    let plans = read::usage_plans(clients, caller, None).await?;
    let mut keys: BTreeMap<String, FoundKey> = BTreeMap::new();
    for p in &plans {
        let api_stages = convert::usage_plan_stages(p);
        if !api_stages.iter().any(|(a, _)| a == id) {
            continue;
        }
        let (Some(plan_id), Some(name)) = (p.id(), p.name()) else {
            continue;
        };
        found.usage_plans.push(FoundUsagePlan {
            id: plan_id.to_owned(),
            name: name.to_owned(),
            throttle: convert::usage_plan_throttle(p),
            quota: convert::usage_plan_quota(p),
            api_stages,
            tags: tag_map(p.tags()),
        });
        for (key_id, key_name) in read::usage_plan_keys(clients, caller, plan_id).await? {
            keys.entry(key_id.clone())
                .or_insert_with(|| FoundKey {
                    id: key_id,
                    name: key_name,
                    enabled: true,
                    ..FoundKey::default()
                })
                .usage_plans
                .push(name.to_owned());
        }
    }
    // Each key's switch and tags, and the plans it is in over other APIs (a key adopted here
    // could otherwise be revoked under them).
    for key in keys.values_mut() {
        let (k, _) = caller
            .call(Service::ApiGateway, "GetApiKey", || {
                api.get_api_key()
                    .api_key(&key.id)
                    .include_value(false)
                    .send()
            })
            .await?;
        key.enabled = k.enabled();
        key.tags = tag_map(k.tags());
        key.elsewhere = read::usage_plans(clients, caller, Some(&key.id))
            .await?
            .iter()
            .filter(|p| !convert::usage_plan_stages(p).iter().any(|(a, _)| a == id))
            .filter_map(|p| p.name().map(str::to_owned))
            .collect();
    }
    found.keys = keys.into_values().collect();
    Ok(found)
}

async fn read_load_balancer(
    clients: &Clients,
    caller: &Caller,
    arn: &str,
    found: &mut Found,
) -> Result<(), AwsError> {
    let elb = &clients.elb;
    let (lbs, _) = caller
        .call(Service::Elb, "DescribeLoadBalancers", || {
            elb.describe_load_balancers().load_balancer_arns(arn).send()
        })
        .await?;
    let Some(lb) = lbs.load_balancers().first() else {
        return Ok(());
    };
    let (listeners, _) = caller
        .call(Service::Elb, "DescribeListeners", || {
            elb.describe_listeners()
                .load_balancer_arn(arn)
                .page_size(400)
                .send()
        })
        .await?;
    let mut found_lb = FoundLoadBalancer {
        name: lb.load_balancer_name().unwrap_or_default().to_owned(),
        dns: lb.dns_name().unwrap_or_default().to_owned(),
        kind: lb
            .r#type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        vpc_id: lb.vpc_id().unwrap_or_default().to_owned(),
        subnets: lb
            .availability_zones()
            .iter()
            .filter_map(|z| z.subnet_id().map(str::to_owned))
            .collect(),
        listeners: vec![],
        tags: BTreeMap::new(),
    };
    // The target groups the listeners forward to, not read yet.
    let mut groups: Vec<String> = vec![];
    for l in listeners.listeners() {
        let target_group = l
            .default_actions()
            .iter()
            .find_map(|a| a.target_group_arn().map(str::to_owned));
        found_lb.listeners.push(FoundListener {
            port: l.port().unwrap_or(0) as u32,
            protocol: l
                .protocol()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            target_group: target_group.clone(),
        });
        if let Some(tg) = target_group {
            if !found.target_groups.contains_key(&tg) && !groups.contains(&tg) {
                groups.push(tg);
            }
        }
    }
    // The load balancer's tags and the groups', and the groups themselves, 20 ARNs a call
    // (the API's limit): a page's calls come from the pages' small part of ELB's quota.
    let tagged: Vec<String> = std::iter::once(arn.to_owned())
        .chain(groups.iter().cloned())
        .collect();
    let tags = read::elb_tags(clients, caller, &tagged).await?;
    found_lb.tags = tag_map(tags.get(arn));
    let mut described: Vec<elbt::TargetGroup> = vec![];
    for chunk in groups.chunks(20) {
        let (out, _) = caller
            .call(Service::Elb, "DescribeTargetGroups", || {
                elb.describe_target_groups()
                    .set_target_group_arns(Some(chunk.to_vec()))
                    .send()
            })
            .await?;
        described.extend(out.target_groups().iter().cloned());
    }
    for g in &described {
        let Some(tg_arn) = g.target_group_arn().map(str::to_owned) else {
            continue;
        };
        let (attrs, _) = caller
            .call(Service::Elb, "DescribeTargetGroupAttributes", || {
                elb.describe_target_group_attributes()
                    .target_group_arn(&tg_arn)
                    .send()
            })
            .await?;
        let (health, _) = caller
            .call(Service::Elb, "DescribeTargetHealth", || {
                elb.describe_target_health()
                    .target_group_arn(&tg_arn)
                    .send()
            })
            .await?;
        let mut instances: Vec<String> = health
            .target_health_descriptions()
            .iter()
            .filter_map(|d| d.target()?.id().map(str::to_owned))
            .collect();
        instances.sort();
        found.target_groups.insert(
            tg_arn.clone(),
            FoundTargetGroup {
                name: g.target_group_name().unwrap_or_default().to_owned(),
                port: g.port().unwrap_or(0) as u32,
                protocol: g
                    .protocol()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default(),
                target_type: g
                    .target_type()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_else(|| "instance".into()),
                health_check: convert::health_check(g),
                deregistration_delay: convert::deregistration_delay(attrs.attributes()),
                instances,
                tags: tag_map(tags.get(&tg_arn)),
            },
        );
    }
    found.load_balancers.insert(arn.to_owned(), found_lb);
    Ok(())
}

/// What `portico adopt --dry-run` prints: the file, the tags, what does not fit.
pub fn report(a: &Adoption) -> String {
    let mut out = String::new();
    if a.misfits.is_empty() {
        out.push_str(
            "# It fits: adopting would store this topology as the gateway's first generation.\n",
        );
    } else {
        out.push_str(
            "# It does not fit the shape Portico manages; nothing would be stored or tagged:\n",
        );
        for m in &a.misfits {
            out.push_str(&format!("#   - {m}\n"));
        }
    }
    out.push_str("# Portico's ownership tags would be added to (and nothing else changed):\n");
    for t in &a.tags {
        out.push_str(&format!("#   - {t}\n"));
    }
    if !a.keys.is_empty() {
        out.push_str("# API keys clients already use, adopted as they are (values never read):\n");
        for k in &a.keys {
            out.push_str(&format!(
                "#   - {} ({}), {}, in {}\n",
                k.name,
                k.id,
                if k.enabled { "enabled" } else { "disabled" },
                k.usage_plans.join(", ")
            ));
        }
    }
    out.push_str(&a.topology.to_yaml().unwrap_or_default());
    out
}

mod take_over;
pub use take_over::{store_adoption, take_over, SdkAdoptions, TakenOver};
