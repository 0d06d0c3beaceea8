//! The REST API, its resources, methods, integrations and deployments.

use super::{api, resource_path, Outputs};
use crate::plan::actual::{Actual, Integration, Method, Resource, RestApi};
use crate::plan::{Field, Op};
use std::collections::BTreeMap;

pub(super) fn run(a: &mut Actual, out: &mut Outputs, i: usize, op: &Op) {
    match op {
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
            api(a, rest_api).endpoint_type =
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
            let api = api(a, &id);
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
            let api = api(a, &id);
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
            let api = api(a, rest_api);
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
            let api = api(a, &id);
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
            let api = api(a, &id);
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
        Op::DeleteDeployment {
            rest_api,
            deployment,
        } => {
            let api = api(a, rest_api);
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
            let api = api(a, rest_api);
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
            let api = api(a, rest_api);
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
        other => unreachable!("{} is not a REST API call", other.operation()),
    }
}
