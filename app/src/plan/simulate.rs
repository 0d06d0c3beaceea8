//! For the planner's properties only: what each step does to the observed state, with AWS's
//! dependency rules checked (a step that AWS would refuse panics). Not used by the worker,
//! which talks to AWS (or the sandbox) through the SDK.

use super::actual::*;
use super::{Field, Op, Plan, Val};
use std::collections::BTreeMap;

static NEXT_ID: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

#[derive(Default)]
struct Outputs {
    values: BTreeMap<(usize, u8), String>,
    counter: usize,
}

impl Outputs {
    fn get(&self, v: &Val) -> String {
        match v {
            Val::Known(s) => s.clone(),
            Val::Output { step, field } => self
                .values
                .get(&(*step, *field as u8))
                .unwrap_or_else(|| panic!("step {step} made no {field:?} before it was read"))
                .clone(),
        }
    }

    fn make(&mut self, step: usize, field: Field, prefix: &str) -> String {
        // Unique across runs, as AWS's ids are.
        self.counter = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let v = format!("{prefix}{}", self.counter);
        self.values.insert((step, field as u8), v.clone());
        v
    }
}

fn api<'a>(a: &'a mut Actual, id: &str) -> &'a mut RestApi {
    a.rest_apis
        .get_mut(id)
        .unwrap_or_else(|| panic!("no REST API {id}"))
}

fn resource_path(api: &RestApi, id: &str) -> String {
    api.resources
        .iter()
        .find(|(_, r)| r.id == id)
        .map(|(p, _)| p.clone())
        .unwrap_or_else(|| panic!("no resource {id}"))
}

/// The state after `plan` ran against `before`.
pub fn run(plan: &Plan, before: &Actual) -> Actual {
    let result = std::panic::catch_unwind(|| run_steps(plan, before));
    match result {
        Ok(a) => a,
        Err(e) => {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{why} in plan:\n{}", plan.lines().join("\n"))
        }
    }
}

fn run_steps(plan: &Plan, before: &Actual) -> Actual {
    let mut a = before.clone();
    let mut out = Outputs::default();
    for (i, step) in plan.steps.iter().enumerate() {
        match &step.op {
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
                tg(&mut a, &arn).health_check = health_check.clone();
            }
            Op::SetDeregistrationDelay {
                target_group,
                seconds,
            } => {
                let arn = out.get(target_group);
                tg(&mut a, &arn).deregistration_delay = *seconds;
            }
            Op::RegisterTargets {
                target_group,
                instances,
                ..
            } => {
                let arn = out.get(target_group);
                for i in instances {
                    tg(&mut a, &arn).targets.insert(
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
                        tg(&mut a, &arn).targets.remove(i).is_some(),
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
                lb(&mut a, &arn).state = "active".into();
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
                let prev = lb(&mut a, &arn).listeners.insert(
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
            Op::CreateRestApi {
                name,
                endpoint_type,
            } => {
                let id = out.make(i, Field::Id, "api-");
                let root = out.make(i, Field::Root, "res-");
                let mut resources = BTreeMap::new();
                resources.insert(
                    "/".into(),
                    Resource {
                        id: root,
                        methods: BTreeMap::new(),
                    },
                );
                a.rest_apis.insert(
                    id,
                    RestApi {
                        name: name.clone(),
                        endpoint_type: *endpoint_type,
                        resources,
                        deployments: BTreeMap::new(),
                        stages: BTreeMap::new(),
                    },
                );
            }
            Op::UpdateRestApi { rest_api, patches } => {
                let t = patches[0].value.clone().unwrap();
                api(&mut a, rest_api).endpoint_type =
                    serde_json::from_value(serde_json::Value::String(t)).unwrap();
            }
            Op::CreateResource {
                rest_api,
                parent,
                path,
                ..
            } => {
                let id = out.get(rest_api);
                let parent = out.get(parent);
                let r = out.make(i, Field::Id, "res-");
                let api = api(&mut a, &id);
                resource_path(api, &parent);
                assert!(
                    api.resources
                        .insert(
                            path.clone(),
                            Resource {
                                id: r,
                                methods: BTreeMap::new()
                            }
                        )
                        .is_none(),
                    "duplicate resource {path}"
                );
            }
            Op::PutMethod {
                rest_api,
                resource,
                method,
                api_key_required,
                ..
            } => {
                let id = out.get(rest_api);
                let res = out.get(resource);
                let api = api(&mut a, &id);
                let path = resource_path(api, &res);
                api.resources.get_mut(&path).unwrap().methods.insert(
                    method.clone(),
                    Method {
                        api_key_required: *api_key_required,
                        integration: None,
                    },
                );
            }
            Op::UpdateMethod {
                rest_api,
                resource,
                method,
                patches,
            } => {
                let api = api(&mut a, rest_api);
                let path = resource_path(api, resource);
                let m = api
                    .resources
                    .get_mut(&path)
                    .unwrap()
                    .methods
                    .get_mut(method)
                    .expect("method");
                m.api_key_required = patches[0].value.as_deref() == Some("true");
            }
            Op::PutIntegration {
                rest_api,
                resource,
                method,
                uri,
                vpc_link,
                ..
            } => {
                let id = out.get(rest_api);
                let res = out.get(resource);
                let dns = out.get(&uri.dns);
                let link = out.get(vpc_link);
                assert_eq!(
                    a.vpc_links.get(&link).map(|l| l.status.as_str()),
                    Some("AVAILABLE"),
                    "integration through a link that is not AVAILABLE"
                );
                let api = api(&mut a, &id);
                let path = resource_path(api, &res);
                let m = api
                    .resources
                    .get_mut(&path)
                    .unwrap()
                    .methods
                    .get_mut(method)
                    .expect("integration before its method");
                m.integration = Some(Integration {
                    kind: "HTTP_PROXY".into(),
                    uri: uri.render(&dns),
                    connection_type: "VPC_LINK".into(),
                    connection_id: Some(link),
                });
            }
            Op::CreateDeployment {
                rest_api,
                description,
            } => {
                let id = out.get(rest_api);
                let d = out.make(i, Field::Id, "dep-");
                let api = api(&mut a, &id);
                assert!(
                    api.resources.values().any(|r| !r.methods.is_empty()),
                    "deployment of an API without methods"
                );
                assert!(
                    api.resources
                        .values()
                        .flat_map(|r| r.methods.values())
                        .all(|m| m.integration.is_some()),
                    "deployment with a method lacking its integration"
                );
                api.deployments.insert(d, description.clone());
            }
            Op::CreateStage {
                rest_api,
                name,
                deployment,
                variables,
                cache_gb,
            } => {
                let id = out.get(rest_api);
                let d = out.get(deployment);
                let api = api(&mut a, &id);
                assert!(
                    api.deployments.contains_key(&d),
                    "stage on a missing deployment"
                );
                assert!(api
                    .stages
                    .insert(
                        name.clone(),
                        Stage {
                            deployment_id: d,
                            variables: variables.clone(),
                            throttle: None,
                            cache_gb: cache_gb.clone()
                        }
                    )
                    .is_none());
            }
            Op::UpdateStage {
                rest_api,
                name,
                deployment,
                patches,
            } => {
                let id = out.get(rest_api);
                let d = deployment.as_ref().map(|d| out.get(d));
                let api = api(&mut a, &id);
                if let Some(d) = &d {
                    assert!(api.deployments.contains_key(d));
                }
                let st = api.stages.get_mut(name).expect("stage");
                if let Some(d) = d {
                    st.deployment_id = d;
                }
                for p in patches {
                    let value = p.value.clone().unwrap_or_default();
                    if let Some(k) = p.path.strip_prefix("/variables/") {
                        if p.op == "remove" {
                            st.variables.remove(k);
                        } else {
                            st.variables.insert(k.into(), value);
                        }
                    } else if p.path.ends_with("rateLimit") {
                        st.throttle
                            .get_or_insert(crate::model::topology::Throttle {
                                rate: 0.0,
                                burst: 0,
                            })
                            .rate = value.parse().unwrap();
                    } else if p.path.ends_with("burstLimit") {
                        st.throttle
                            .get_or_insert(crate::model::topology::Throttle {
                                rate: 0.0,
                                burst: 0,
                            })
                            .burst = value.parse().unwrap();
                    } else if p.path == "/cacheClusterEnabled" {
                        if value == "false" {
                            st.cache_gb = None;
                        }
                    } else if p.path == "/cacheClusterSize" {
                        st.cache_gb = Some(value);
                    }
                }
            }
            Op::CreateUsagePlan {
                name,
                rest_api,
                stages,
                throttle,
                quota,
            } => {
                let api_id = out.get(rest_api);
                for s in stages {
                    assert!(
                        a.rest_apis[&api_id].stages.contains_key(s),
                        "usage plan before its stage {s}"
                    );
                }
                let id = out.make(i, Field::Id, "plan-");
                a.usage_plans.insert(
                    name.clone(),
                    UsagePlan {
                        id,
                        throttle: throttle.clone(),
                        quota: quota.clone(),
                        api_stages: stages.iter().map(|s| (api_id.clone(), s.clone())).collect(),
                    },
                );
            }
            Op::UpdateUsagePlan {
                usage_plan,
                rest_api,
                add_stages,
                remove_stages,
                patches,
            } => {
                let api_id = if add_stages.is_empty() {
                    String::new()
                } else {
                    out.get(rest_api)
                };
                for s in add_stages {
                    assert!(
                        a.rest_apis[&api_id].stages.contains_key(s),
                        "usage plan before its stage {s}"
                    );
                }
                let p = a
                    .usage_plans
                    .values_mut()
                    .find(|p| p.id == *usage_plan)
                    .expect("usage plan");
                p.api_stages.retain(|x| !remove_stages.contains(x));
                p.api_stages
                    .extend(add_stages.iter().map(|s| (api_id.clone(), s.clone())));
                for patch in patches {
                    let v = patch.value.clone().unwrap_or_default();
                    match patch.path.as_str() {
                        "/throttle" => p.throttle = None,
                        "/quota" => p.quota = None,
                        "/throttle/rateLimit" => {
                            p.throttle
                                .get_or_insert(crate::model::topology::Throttle {
                                    rate: 0.0,
                                    burst: 0,
                                })
                                .rate = v.parse().unwrap()
                        }
                        "/throttle/burstLimit" => {
                            p.throttle
                                .get_or_insert(crate::model::topology::Throttle {
                                    rate: 0.0,
                                    burst: 0,
                                })
                                .burst = v.parse().unwrap()
                        }
                        "/quota/limit" => quota(p).limit = v.parse().unwrap(),
                        "/quota/offset" => quota(p).offset = v.parse().unwrap(),
                        "/quota/period" => {
                            quota(p).period =
                                serde_json::from_value(serde_json::Value::String(v)).unwrap()
                        }
                        other => panic!("unexpected patch {other}"),
                    }
                }
            }
            Op::CreateApiKey {
                key, name, enabled, ..
            } => {
                let id = out.make(i, Field::Id, "key-");
                assert!(!a.api_keys.contains_key(key), "duplicate key {key}");
                a.api_keys.insert(
                    *key,
                    ApiKey {
                        id,
                        name: name.clone(),
                        enabled: *enabled,
                        plans: vec![],
                    },
                );
            }
            Op::UpdateApiKey { api_key, enabled } => {
                a.api_keys
                    .values_mut()
                    .find(|k| k.id == *api_key)
                    .expect("key")
                    .enabled = *enabled;
            }
            Op::CreateUsagePlanKey {
                usage_plan,
                api_key,
            } => {
                let plan = out.get(usage_plan);
                let key = out.get(api_key);
                assert!(
                    a.usage_plans.values().any(|p| p.id == plan),
                    "key joins a missing plan"
                );
                let k = a.api_keys.values_mut().find(|k| k.id == key).expect("key");
                assert!(!k.plans.contains(&plan), "key already in plan");
                k.plans.push(plan);
                k.plans.sort();
            }
            Op::DeleteUsagePlanKey {
                usage_plan,
                api_key,
            } => {
                let k = a
                    .api_keys
                    .values_mut()
                    .find(|k| k.id == *api_key)
                    .expect("key");
                assert!(k.plans.contains(usage_plan));
                k.plans.retain(|p| p != usage_plan);
            }
            Op::DeleteApiKey { api_key } => {
                let before = a.api_keys.len();
                a.api_keys.retain(|_, k| k.id != *api_key);
                assert_eq!(a.api_keys.len() + 1, before, "no key {api_key}");
            }
            Op::DeleteUsagePlan { usage_plan } => {
                // AWS takes the plan's keys out of it.
                for k in a.api_keys.values_mut() {
                    k.plans.retain(|p| p != usage_plan);
                }
                let name = a
                    .usage_plans
                    .iter()
                    .find(|(_, p)| p.id == *usage_plan)
                    .map(|(n, _)| n.clone())
                    .expect("usage plan");
                assert!(
                    a.usage_plans[&name].api_stages.is_empty(),
                    "usage plan deleted with stages"
                );
                a.usage_plans.remove(&name);
            }
            Op::DeleteStage { rest_api, name } => {
                assert!(
                    !a.usage_plans
                        .values()
                        .any(|p| p.api_stages.contains(&(rest_api.clone(), name.clone()))),
                    "stage {name} deleted while a usage plan covers it"
                );
                assert!(api(&mut a, rest_api).stages.remove(name).is_some());
            }
            Op::DeleteDeployment {
                rest_api,
                deployment,
            } => {
                let api = api(&mut a, rest_api);
                assert!(
                    !api.stages.values().any(|s| s.deployment_id == *deployment),
                    "deployment {deployment} deleted while a stage serves it"
                );
                assert!(api.deployments.remove(deployment).is_some());
            }
            Op::DeleteMethod {
                rest_api,
                resource,
                method,
            } => {
                let api = api(&mut a, rest_api);
                let path = resource_path(api, resource);
                assert!(api
                    .resources
                    .get_mut(&path)
                    .unwrap()
                    .methods
                    .remove(method)
                    .is_some());
            }
            Op::DeleteResource { rest_api, resource } => {
                let api = api(&mut a, rest_api);
                let path = resource_path(api, resource);
                let prefix = format!("{path}/");
                api.resources
                    .retain(|p, _| *p != path && !p.starts_with(&prefix));
            }
            Op::DeleteRestApi { rest_api } => {
                assert!(
                    !a.usage_plans
                        .values()
                        .any(|p| p.api_stages.iter().any(|(x, _)| x == rest_api)),
                    "REST API deleted while a usage plan covers it"
                );
                assert!(a.rest_apis.remove(rest_api).is_some());
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
        }
    }
    a
}

fn quota(p: &mut UsagePlan) -> &mut crate::model::topology::Quota {
    p.quota.get_or_insert(crate::model::topology::Quota {
        limit: 0,
        period: crate::model::topology::QuotaPeriod::Month,
        offset: 0,
    })
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
