//! Observe: read what AWS holds for one gateway into `Actual`, with as few calls as the APIs
//! allow (one paged describe per kind, tags in batches of 20, per-target-group health and
//! attributes, one paged `GetResources` with the methods embedded). Only resources tagged with
//! the gateway's name (and what lives inside its REST API) are read in: anything else in the
//! account is not Portico's and is never touched.
//!
//! Every listing AWS pages is followed to its last page (through `paged`), at the largest page
//! the API allows (API Gateway `limit` 500, ELBv2 `PageSize` 400), so a small account still
//! costs one call per listing. Stopping at the first page would make whatever sits beyond it
//! look absent to the planner, which would then recreate or delete it.

use crate::aws::call::{AwsError, Caller, Service};
use crate::aws::Clients;
use portico_core::model::topology::{
    EndpointType, HealthCheck, HealthProtocol, Quota, QuotaPeriod, Throttle,
};
use portico_core::plan::actual::*;
use portico_core::plan::names::{TAG_GATEWAY, TAG_KEY};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;

fn owned(tags: Option<&HashMap<String, String>>, gateway: &str) -> bool {
    tags.and_then(|t| t.get(TAG_GATEWAY))
        .is_some_and(|g| g == gateway)
}

/// Reads every page of a listing. `page` makes one call from the token AWS gave last (None the
/// first time) and answers with that page's items and the next token: ELB's `Marker` and API
/// Gateway's `position` are the same loop, only the call differs, so the loop is written once.
async fn paged<T, Fut>(mut page: impl FnMut(Option<String>) -> Fut) -> Result<Vec<T>, AwsError>
where
    Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
{
    let mut items = vec![];
    let mut token = None;
    loop {
        let (more, next) = page(token).await?;
        items.extend(more);
        token = next;
        if token.is_none() {
            return Ok(items);
        }
    }
}

pub async fn observe(
    clients: &Clients,
    caller: &Caller,
    gateway: &str,
) -> Result<Actual, AwsError> {
    let mut actual = Actual::default();
    observe_elb(clients, caller, gateway, &mut actual).await?;
    observe_apigateway(clients, caller, gateway, &mut actual).await?;
    Ok(actual)
}

async fn observe_elb(
    clients: &Clients,
    caller: &Caller,
    gateway: &str,
    actual: &mut Actual,
) -> Result<(), AwsError> {
    let elb = &clients.elb;
    let lbs = paged(move |marker| async move {
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
    let groups = paged(move |marker| async move {
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
    // Tags, 20 ARNs per call (the API's limit; DescribeTags has no marker, each batch is whole).
    let arns: Vec<String> = lbs
        .iter()
        .filter_map(|l| l.load_balancer_arn().map(str::to_owned))
        .chain(
            groups
                .iter()
                .filter_map(|g| g.target_group_arn().map(str::to_owned)),
        )
        .collect();
    let mut mine: HashSet<String> = HashSet::new();
    for chunk in arns.chunks(20) {
        let (out, _) = caller
            .call(Service::Elb, "DescribeTags", || {
                elb.describe_tags()
                    .set_resource_arns(Some(chunk.to_vec()))
                    .send()
            })
            .await?;
        for d in out.tag_descriptions() {
            let tags: HashMap<String, String> = d
                .tags()
                .iter()
                .filter_map(|t| {
                    Some((
                        t.key()?.to_owned(),
                        t.value().unwrap_or_default().to_owned(),
                    ))
                })
                .collect();
            if owned(Some(&tags), gateway) {
                if let Some(arn) = d.resource_arn() {
                    mine.insert(arn.to_owned());
                }
            }
        }
    }

    for lb in lbs {
        let (Some(arn), Some(name)) = (lb.load_balancer_arn(), lb.load_balancer_name()) else {
            continue;
        };
        if !mine.contains(arn) {
            continue;
        }
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
        if !mine.contains(arn) {
            continue;
        }
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
        let (attrs, _) = caller
            .call(Service::Elb, "DescribeTargetGroupAttributes", || {
                elb.describe_target_group_attributes()
                    .target_group_arn(arn)
                    .send()
            })
            .await?;
        let deregistration_delay = attrs
            .attributes()
            .iter()
            .find(|a| a.key() == Some("deregistration_delay.timeout_seconds"))
            .and_then(|a| a.value())
            .and_then(|v| v.parse().ok())
            .unwrap_or(300);
        let protocol = match g.health_check_protocol().map(|p| p.as_str()) {
            Some("HTTP") | Some("HTTPS") => HealthProtocol::Http,
            _ => HealthProtocol::Tcp,
        };
        actual.target_groups.insert(
            name.to_owned(),
            TargetGroup {
                arn: arn.to_owned(),
                port: g.port().unwrap_or(0) as u32,
                vpc_id: g.vpc_id().unwrap_or_default().to_owned(),
                health_check: HealthCheck {
                    protocol,
                    path: match protocol {
                        HealthProtocol::Http => g.health_check_path().map(str::to_owned),
                        HealthProtocol::Tcp => None,
                    },
                    interval_seconds: g.health_check_interval_seconds().unwrap_or(30) as u32,
                    healthy_threshold: g.healthy_threshold_count().unwrap_or(3) as u32,
                    unhealthy_threshold: g.unhealthy_threshold_count().unwrap_or(3) as u32,
                },
                deregistration_delay,
                targets,
            },
        );
    }
    Ok(())
}

fn endpoint_type(api: &aws_sdk_apigateway::types::RestApi) -> EndpointType {
    match api
        .endpoint_configuration()
        .and_then(|e| e.types().first())
        .map(|t| t.as_str())
    {
        Some("EDGE") => EndpointType::Edge,
        Some("PRIVATE") => EndpointType::Private,
        _ => EndpointType::Regional,
    }
}

async fn observe_apigateway(
    clients: &Clients,
    caller: &Caller,
    gateway: &str,
    actual: &mut Actual,
) -> Result<(), AwsError> {
    let api = &clients.apigateway;
    let rest_apis = paged(move |position| async move {
        let (out, _) = caller
            .call(Service::ApiGateway, "GetRestApis", || {
                api.get_rest_apis()
                    .limit(500)
                    .set_position(position.clone())
                    .send()
            })
            .await?;
        let mine = out.items().iter().filter(|a| owned(a.tags(), gateway));
        let next = out.position().map(str::to_owned);
        Ok::<_, AwsError>((mine.cloned().collect::<Vec<_>>(), next))
    })
    .await?;
    for a in rest_apis {
        let Some(id) = a.id() else { continue };
        let found = paged(move |position| async move {
            let (out, _) = caller
                .call(Service::ApiGateway, "GetResources", || {
                    api.get_resources()
                        .rest_api_id(id)
                        .embed("methods")
                        .limit(500)
                        .set_position(position.clone())
                        .send()
                })
                .await?;
            let next = out.position().map(str::to_owned);
            Ok::<_, AwsError>((out.items().to_vec(), next))
        })
        .await?;
        let mut resources = BTreeMap::new();
        for r in &found {
            let (Some(rid), Some(path)) = (r.id(), r.path()) else {
                continue;
            };
            let methods = r
                .resource_methods()
                .map(|m| {
                    m.iter()
                        .map(|(verb, m)| {
                            let integration = m.method_integration().map(|i| Integration {
                                kind: i
                                    .r#type()
                                    .map(|t| t.as_str().to_owned())
                                    .unwrap_or_default(),
                                uri: i.uri().unwrap_or_default().to_owned(),
                                connection_type: i
                                    .connection_type()
                                    .map(|t| t.as_str().to_owned())
                                    .unwrap_or_default(),
                                connection_id: i.connection_id().map(str::to_owned),
                            });
                            (
                                verb.clone(),
                                Method {
                                    api_key_required: m.api_key_required().unwrap_or(false),
                                    integration,
                                },
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            resources.insert(
                path.to_owned(),
                Resource {
                    id: rid.to_owned(),
                    methods,
                },
            );
        }
        let found = paged(move |position| async move {
            let (out, _) = caller
                .call(Service::ApiGateway, "GetDeployments", || {
                    api.get_deployments()
                        .rest_api_id(id)
                        .limit(500)
                        .set_position(position.clone())
                        .send()
                })
                .await?;
            let next = out.position().map(str::to_owned);
            Ok::<_, AwsError>((out.items().to_vec(), next))
        })
        .await?;
        let deployments = found
            .iter()
            .filter_map(|d| {
                Some((
                    d.id()?.to_owned(),
                    d.description().unwrap_or_default().to_owned(),
                ))
            })
            .collect();
        // GetStages is not paged (no `position`): one answer holds every stage.
        let (out, _) = caller
            .call(Service::ApiGateway, "GetStages", || {
                api.get_stages().rest_api_id(id).send()
            })
            .await?;
        let stages = out
            .item()
            .iter()
            .filter_map(|s| {
                let name = s.stage_name()?.to_owned();
                let throttle =
                    s.method_settings()
                        .and_then(|m| m.get("*/*"))
                        .and_then(|m| {
                            (m.throttling_burst_limit() != 0 || m.throttling_rate_limit() != 0.0)
                                .then(|| Throttle {
                                    rate: m.throttling_rate_limit(),
                                    burst: m.throttling_burst_limit().max(0) as u32,
                                })
                        });
                Some((
                    name,
                    Stage {
                        deployment_id: s.deployment_id().unwrap_or_default().to_owned(),
                        variables: s
                            .variables()
                            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                            .unwrap_or_default(),
                        throttle,
                        cache_gb: s
                            .cache_cluster_enabled()
                            .then(|| s.cache_cluster_size().map(|c| c.as_str().to_owned()))
                            .flatten(),
                    },
                ))
            })
            .collect();
        actual.rest_apis.insert(
            id.to_owned(),
            RestApi {
                name: a.name().unwrap_or_default().to_owned(),
                endpoint_type: endpoint_type(&a),
                resources,
                deployments,
                stages,
            },
        );
    }

    let links = paged(move |position| async move {
        let (out, _) = caller
            .call(Service::ApiGateway, "GetVpcLinks", || {
                api.get_vpc_links()
                    .limit(500)
                    .set_position(position.clone())
                    .send()
            })
            .await?;
        let mine = out.items().iter().filter(|l| owned(l.tags(), gateway));
        let next = out.position().map(str::to_owned);
        Ok::<_, AwsError>((mine.cloned().collect::<Vec<_>>(), next))
    })
    .await?;
    for l in links {
        let Some(id) = l.id() else { continue };
        actual.vpc_links.insert(
            id.to_owned(),
            VpcLink {
                name: l.name().unwrap_or_default().to_owned(),
                target_arns: l.target_arns().to_vec(),
                status: l
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                status_message: l
                    .status_message()
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned),
            },
        );
    }

    let usage_plans = paged(move |position| async move {
        let (out, _) = caller
            .call(Service::ApiGateway, "GetUsagePlans", || {
                api.get_usage_plans()
                    .limit(500)
                    .set_position(position.clone())
                    .send()
            })
            .await?;
        let mine = out.items().iter().filter(|p| owned(p.tags(), gateway));
        let next = out.position().map(str::to_owned);
        Ok::<_, AwsError>((mine.cloned().collect::<Vec<_>>(), next))
    })
    .await?;
    for p in usage_plans {
        let (Some(id), Some(name)) = (p.id(), p.name()) else {
            continue;
        };
        let mut api_stages: Vec<(String, String)> = p
            .api_stages()
            .iter()
            .filter_map(|s| Some((s.api_id()?.to_owned(), s.stage()?.to_owned())))
            .collect();
        api_stages.sort();
        actual.usage_plans.insert(
            name.to_owned(),
            UsagePlan {
                id: id.to_owned(),
                throttle: p.throttle().map(|t| Throttle {
                    rate: t.rate_limit(),
                    burst: t.burst_limit().max(0) as u32,
                }),
                quota: p.quota().and_then(|q| {
                    let period = match q.period()?.as_str() {
                        "DAY" => QuotaPeriod::Day,
                        "WEEK" => QuotaPeriod::Week,
                        _ => QuotaPeriod::Month,
                    };
                    Some(Quota {
                        limit: q.limit().max(0) as u32,
                        period,
                        offset: q.offset().max(0) as u32,
                    })
                }),
                api_stages,
            },
        );
    }
    // API keys (never their values: GetApiKeys without includeValues), then which owned plan
    // each is in. GetUsagePlanKeys answers with the values too; they are dropped at once.
    let keys = paged(move |position| async move {
        let (out, _) = caller
            .call(Service::ApiGateway, "GetApiKeys", || {
                api.get_api_keys()
                    .include_values(false)
                    .limit(500)
                    .set_position(position.clone())
                    .send()
            })
            .await?;
        let mine = out.items().iter().filter(|k| owned(k.tags(), gateway));
        let next = out.position().map(str::to_owned);
        Ok::<_, AwsError>((mine.cloned().collect::<Vec<_>>(), next))
    })
    .await?;
    for k in keys {
        let (Some(id), Some(key)) = (
            k.id(),
            k.tags()
                .and_then(|t| t.get(TAG_KEY))
                .and_then(|v| v.parse::<i64>().ok()),
        ) else {
            continue;
        };
        actual.api_keys.insert(
            key,
            ApiKey {
                id: id.to_owned(),
                name: k.name().unwrap_or_default().to_owned(),
                enabled: k.enabled(),
                usage_plans: vec![],
            },
        );
    }
    if !actual.api_keys.is_empty() {
        let plan_ids: Vec<String> = actual.usage_plans.values().map(|p| p.id.clone()).collect();
        for plan in plan_ids {
            let plan_id = plan.as_str();
            let members: Vec<String> = paged(move |position| async move {
                let (out, _) = caller
                    .call(Service::ApiGateway, "GetUsagePlanKeys", || {
                        api.get_usage_plan_keys()
                            .usage_plan_id(plan_id)
                            .limit(500)
                            .set_position(position.clone())
                            .send()
                    })
                    .await?;
                let ids = out.items().iter().filter_map(|k| k.id().map(str::to_owned));
                let next = out.position().map(str::to_owned);
                Ok::<_, AwsError>((ids.collect::<Vec<_>>(), next))
            })
            .await?;
            for key in actual.api_keys.values_mut() {
                if members.contains(&key.id) {
                    key.usage_plans.push(plan.clone());
                    key.usage_plans.sort();
                }
            }
        }
    }
    Ok(())
}
