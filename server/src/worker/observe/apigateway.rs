//! REST APIs (resources, methods, deployments, stages), VPC links, usage plans and API keys:
//! listed once per account and region, then the details of the gateway's own.

use super::{Inventory, Kept};
use crate::aws::call::{AwsError, Caller, Service};
use crate::aws::read::{self, paged};
use crate::aws::{convert, Clients};
use crate::worker::owner::{Owner, Verdict};
use portico_core::model::topology::EndpointType;
use portico_core::plan::actual::*;
use std::collections::BTreeMap;

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

pub(super) async fn list(
    clients: &Clients,
    caller: &Caller,
    inv: &mut Inventory,
    keys: bool,
) -> Result<(), AwsError> {
    let api = &clients.apigateway;
    inv.rest_apis = paged(move |position| async move {
        let (out, _) = caller
            .call(Service::ApiGateway, "GetRestApis", || {
                api.get_rest_apis()
                    .limit(500)
                    .set_position(position.clone())
                    .send()
            })
            .await?;
        let next = out.position().map(str::to_owned);
        Ok::<_, AwsError>((out.items().to_vec(), next))
    })
    .await?;
    inv.vpc_links = paged(move |position| async move {
        let (out, _) = caller
            .call(Service::ApiGateway, "GetVpcLinks", || {
                api.get_vpc_links()
                    .limit(500)
                    .set_position(position.clone())
                    .send()
            })
            .await?;
        let next = out.position().map(str::to_owned);
        Ok::<_, AwsError>((out.items().to_vec(), next))
    })
    .await?;
    inv.usage_plans = read::usage_plans(clients, caller, None).await?;
    if !keys {
        return Ok(());
    }
    // API keys, never their values (GetApiKeys without includeValues).
    inv.api_keys = paged(move |position| async move {
        let (out, _) = caller
            .call(Service::ApiGateway, "GetApiKeys", || {
                api.get_api_keys()
                    .include_values(false)
                    .limit(500)
                    .set_position(position.clone())
                    .send()
            })
            .await?;
        let next = out.position().map(str::to_owned);
        Ok::<_, AwsError>((out.items().to_vec(), next))
    })
    .await?;
    Ok(())
}

/// A REST API's deployments: id → description.
async fn deployments(
    clients: &Clients,
    caller: &Caller,
    id: &str,
) -> Result<BTreeMap<String, String>, AwsError> {
    let api = &clients.apigateway;
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
    Ok(found
        .iter()
        .filter_map(|d| {
            Some((
                d.id()?.to_owned(),
                d.description().unwrap_or_default().to_owned(),
            ))
        })
        .collect())
}

/// An owned resource without this installation's tags (from before installation ids, or
/// adopted): remembered so its tags are added.
fn untagged(
    actual: &mut Actual,
    inv: &Inventory,
    verdict: Verdict,
    (id, path): (&str, String),
    label: impl FnOnce() -> String,
) {
    if verdict == Verdict::MineUntagged {
        actual.untagged.push(Untagged {
            id: id.to_owned(),
            service: "apigateway".into(),
            arn: convert::apigateway_arn(&inv.region, &path),
            label: label(),
        });
    }
}

pub(super) async fn details(
    clients: &Clients,
    caller: &Caller,
    inv: &Inventory,
    owner: &Owner,
    remembered: Option<&Kept<BTreeMap<String, String>>>,
    keys: bool,
    actual: &mut Actual,
) -> Result<(), AwsError> {
    let api = &clients.apigateway;
    let rest_apis = inv
        .rest_apis
        .iter()
        .filter(|a| owner.owns(a.id().unwrap_or_default(), a.tags()));
    for a in rest_apis {
        let Some(id) = a.id() else { continue };
        untagged(
            actual,
            inv,
            owner.judge(id, a.tags()),
            (id, format!("/restapis/{id}")),
            || format!("REST API {}", a.name().unwrap_or_default()),
        );
        let found = read::resources(clients, caller, id).await?;
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
                            let integration = m.method_integration().map(convert::integration);
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
                Some((
                    name,
                    Stage {
                        deployment_id: s.deployment_id().unwrap_or_default().to_owned(),
                        variables: convert::stage_variables(s),
                        throttle: convert::stage_throttle(s),
                        cache_gb: convert::stage_cache_gb(s),
                        access_log: convert::stage_access_log(s),
                    },
                ))
            })
            .collect::<BTreeMap<_, _>>();
        // The deployments as remembered, unless a stage serves one not among them.
        let known = remembered.and_then(|r| r.get(id)).filter(|known| {
            stages
                .values()
                .all(|s: &Stage| s.deployment_id.is_empty() || known.contains_key(&s.deployment_id))
        });
        let deployments = match known {
            Some(known) => known,
            None => {
                let read = deployments(clients, caller, id).await?;
                if let Some(r) = remembered {
                    r.put(id, read.clone());
                }
                read
            }
        };
        actual.rest_apis.insert(
            id.to_owned(),
            RestApi {
                name: a.name().unwrap_or_default().to_owned(),
                endpoint_type: endpoint_type(a),
                resources,
                deployments,
                stages,
            },
        );
    }

    let links = inv
        .vpc_links
        .iter()
        .filter(|l| owner.owns(l.id().unwrap_or_default(), l.tags()));
    for l in links {
        let Some(id) = l.id() else { continue };
        untagged(
            actual,
            inv,
            owner.judge(id, l.tags()),
            (id, format!("/vpclinks/{id}")),
            || format!("VPC link {}", l.name().unwrap_or_default()),
        );
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

    let usage_plans = inv
        .usage_plans
        .iter()
        .filter(|p| owner.owns(p.id().unwrap_or_default(), p.tags()));
    for p in usage_plans {
        let (Some(id), Some(name)) = (p.id(), p.name()) else {
            continue;
        };
        untagged(
            actual,
            inv,
            owner.judge(id, p.tags()),
            (id, format!("/usageplans/{id}")),
            || format!("usage plan {name}"),
        );
        actual.add_usage_plan(
            name.to_owned(),
            UsagePlan {
                id: id.to_owned(),
                throttle: convert::usage_plan_throttle(p),
                quota: convert::usage_plan_quota(p),
                api_stages: convert::usage_plan_stages(p),
            },
        );
    }
    // Then which owned plan each key is in. GetUsagePlanKeys answers with the values too;
    // they are dropped at once.
    let keys = inv
        .api_keys
        .iter()
        .filter(|_| keys)
        .filter(|k| owner.owns(k.id().unwrap_or_default(), k.tags()));
    for k in keys {
        let Some(id) = k.id() else { continue };
        let Some(key) = owner.key_id(id, k.tags()) else {
            continue;
        };
        untagged(
            actual,
            inv,
            owner.judge(id, k.tags()),
            (id, format!("/apikeys/{id}")),
            || format!("API key {}", k.name().unwrap_or_default()),
        );
        actual.add_api_key(
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
        let plan_ids: Vec<String> = actual
            .all_usage_plans()
            .map(|(_, p)| p.id.clone())
            .collect();
        for plan in plan_ids {
            let members: Vec<String> = read::usage_plan_keys(clients, caller, &plan)
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            let copies = actual
                .api_keys
                .values_mut()
                .chain(actual.extra_api_keys.iter_mut().map(|(_, k)| k));
            for key in copies {
                if members.contains(&key.id) {
                    key.usage_plans.push(plan.clone());
                    key.usage_plans.sort();
                }
            }
        }
    }
    Ok(())
}
