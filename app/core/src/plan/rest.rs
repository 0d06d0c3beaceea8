//! The REST API, its resources, methods and integrations, and the deployment stages serve.

use super::actual::{Actual, RestApi};
use super::elb::Network;
use super::{change, names, Action, Builder, Field, Kind, Op, Patch, Uri, Val};
use crate::model::topology::{Adopted, EndpointType, Route, Topology};
use std::collections::{BTreeMap, BTreeSet};

/// What stages and usage plans need from the API.
pub(crate) struct Api<'a> {
    pub id: Val,
    pub actual: Option<&'a RestApi>,
    /// The deployment every stage should serve; none when the API has no methods yet (AWS
    /// can't deploy an API without methods, so it has no stages either).
    pub deployment: Option<Val>,
    /// The description of a deployment of the desired routes.
    pub description: String,
    /// Resources, methods or integrations change in this plan: a new deployment is needed.
    pub routes_changed: bool,
    /// What the gateway was adopted with.
    pub adopted: Option<&'a Adopted>,
}

impl Api<'_> {
    /// What a deployment serves (`deployment_description`).
    pub fn described(&self, deployment_id: &str) -> Option<&String> {
        super::deployment_description(self.adopted, self.actual?, deployment_id)
    }

    /// Does this stage's deployment serve the desired routes?
    pub fn fresh(&self, deployment_id: &str) -> bool {
        !self.routes_changed && self.described(deployment_id) == Some(&self.description)
    }
}

fn endpoint(t: EndpointType) -> &'static str {
    match t {
        EndpointType::Regional => "REGIONAL",
        EndpointType::Edge => "EDGE",
        EndpointType::Private => "PRIVATE",
    }
}

/// The methods a route makes: `ANY`, or each listed one.
pub(crate) fn route_methods(route: &Route) -> Vec<String> {
    if route.methods.is_empty() {
        vec!["ANY".into()]
    } else {
        route.methods.clone()
    }
}

/// `{proxy+}` → `proxy`, `{id}` → `id`.
fn path_parameters(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|part| part.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
        .map(|p| p.trim_end_matches('+').to_owned())
        .collect()
}

/// `/a/b/{c+}` → `/a`, `/a/b`, `/a/b/{c+}`.
pub(crate) fn prefixes(path: &str) -> Vec<String> {
    let mut out = vec![];
    let mut current = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        current.push('/');
        current.push_str(part);
        out.push(current.clone());
    }
    out
}

fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// A fingerprint of everything a deployment snapshots: routes, methods, key requirements and
/// where each integration points.
pub fn fingerprint(desired: &Topology, listener_ports: &BTreeMap<u32, u32>) -> String {
    let mut text = format!(
        "{}|{}\n",
        names::load_balancer(&desired.gateway),
        names::vpc_link(&desired.gateway)
    );
    for r in &desired.routes {
        let port = r.port.and_then(|p| listener_ports.get(&p).copied());
        text.push_str(&format!(
            "{} {:?} {} {:?}\n",
            r.path,
            route_methods(r),
            r.api_key_required,
            port
        ));
        // Only when set, so deployments made before backend paths existed stay fresh.
        if let Some(b) = &r.backend_path {
            text.push_str(&format!("  → {b}\n"));
        }
    }
    format!(
        "{}{:016x}",
        names::DEPLOYMENT_PREFIX,
        names::fnv1a64(text.as_bytes())
    )
}

pub(super) fn plan<'a>(
    b: &mut Builder,
    desired: &'a Topology,
    actual: &'a Actual,
    network: Option<&Network>,
    vpc_link: Option<&Val>,
) -> Api<'a> {
    let g = &desired.gateway;
    let name = names::rest_api(g);
    let existing = actual.rest_apis.iter().find(|(_, a)| a.name == name);
    let (id, root, current) = match existing {
        Some((id, api)) => {
            if api.endpoint_type != g.endpoint_type {
                b.push(
                    Kind::RestApi,
                    Action::Update,
                    format!("REST API {name}"),
                    vec![change(
                        "endpoint_type",
                        Some(endpoint(api.endpoint_type).into()),
                        Some(endpoint(g.endpoint_type).into()),
                    )],
                    Op::UpdateRestApi {
                        rest_api: id.clone(),
                        patches: vec![Patch::replace(
                            format!(
                                "/endpointConfiguration/types/{}",
                                endpoint(api.endpoint_type)
                            ),
                            endpoint(g.endpoint_type),
                        )],
                    },
                );
            }
            let root = api
                .resources
                .get("/")
                .map(|r| Val::known(&r.id))
                .unwrap_or_else(|| Val::known(""));
            (Val::known(id), root, Some(api))
        }
        None => {
            let i = b.push(
                Kind::RestApi,
                Action::Create,
                format!("REST API {name}"),
                vec![change(
                    "endpoint_type",
                    None,
                    Some(endpoint(g.endpoint_type).into()),
                )],
                Op::CreateRestApi {
                    name: name.clone(),
                    endpoint_type: g.endpoint_type,
                },
            );
            (
                Val::id(i),
                Val::Output {
                    step: i,
                    field: Field::Root,
                },
                None,
            )
        }
    };
    let api_id = id.as_known().map(str::to_owned);
    let first = b.steps.len();

    // Without a load balancer (no backend ports) nothing can be routed.
    let (routes, network, link): (&[Route], _, _) = match (network, vpc_link) {
        (Some(n), Some(l)) => (&desired.routes, Some(n), Some(l)),
        _ => (&[], None, None),
    };

    // Resources, parents first (a BTreeMap orders a parent before its children).
    let wanted: BTreeSet<String> = routes.iter().flat_map(|r| prefixes(&r.path)).collect();
    let mut ids: BTreeMap<String, Val> = BTreeMap::new();
    ids.insert("/".into(), root);
    for path in &wanted {
        let val = match current.and_then(|a| a.resources.get(path)) {
            Some(r) => Val::known(&r.id),
            None => {
                let part = path.rsplit('/').next().unwrap_or_default().to_owned();
                let i = b.push(
                    Kind::Resource,
                    Action::Create,
                    format!("resource {path}"),
                    vec![],
                    Op::CreateResource {
                        rest_api: id.clone(),
                        parent: ids[parent(path)].clone(),
                        path_part: part,
                        path: path.clone(),
                    },
                );
                Val::id(i)
            }
        };
        ids.insert(path.clone(), val);
    }

    // Methods and their integrations.
    let mut wanted_methods: BTreeSet<(String, String)> = BTreeSet::new();
    if let (Some(network), Some(link)) = (network, link) {
        for route in routes {
            let resource = &ids[&route.path];
            let params = path_parameters(&route.path);
            let uri = Uri {
                dns: network.dns.clone(),
                port: route
                    .port
                    .and_then(|p| network.listener_ports.get(&p).copied()),
                path: route.backend(),
            };
            for method in route_methods(route) {
                wanted_methods.insert((route.path.clone(), method.clone()));
                let label = format!("route {} {method}", route.path);
                let have = current
                    .and_then(|a| a.resources.get(&route.path))
                    .and_then(|r| r.methods.get(&method));
                match have {
                    None => {
                        b.push(
                            Kind::Method,
                            Action::Create,
                            label.clone(),
                            vec![change(
                                "api_key_required",
                                None,
                                Some(route.api_key_required.to_string()),
                            )],
                            Op::PutMethod {
                                rest_api: id.clone(),
                                resource: resource.clone(),
                                method: method.clone(),
                                api_key_required: route.api_key_required,
                                path_parameters: params.clone(),
                            },
                        );
                    }
                    Some(m) if m.api_key_required != route.api_key_required => {
                        if let (Some(api), Some(res)) = (&api_id, resource.as_known()) {
                            b.push(
                                Kind::Method,
                                Action::Update,
                                label.clone(),
                                vec![change(
                                    "api_key_required",
                                    Some(m.api_key_required.to_string()),
                                    Some(route.api_key_required.to_string()),
                                )],
                                Op::UpdateMethod {
                                    rest_api: api.clone(),
                                    resource: res.to_owned(),
                                    method: method.clone(),
                                    patches: vec![Patch::replace(
                                        "/apiKeyRequired",
                                        route.api_key_required.to_string(),
                                    )],
                                },
                            );
                        }
                    }
                    Some(_) => {}
                }
                let integration = have.and_then(|m| m.integration.as_ref());
                let want_uri = network.dns.as_known().map(|dns| uri.render(dns));
                let current_ok = integration.is_some_and(|i| {
                    i.kind == "HTTP_PROXY"
                        && i.connection_type == "VPC_LINK"
                        && link.as_known().is_some()
                        && i.connection_id.as_deref() == link.as_known()
                        && Some(&i.uri) == want_uri.as_ref()
                });
                if !current_ok {
                    let mut changes = vec![];
                    match integration {
                        Some(i) => {
                            let target = want_uri
                                .clone()
                                .unwrap_or_else(|| "the new load balancer".into());
                            if Some(&i.uri) != want_uri.as_ref() {
                                changes.push(change("uri", Some(i.uri.clone()), Some(target)));
                            }
                            if i.connection_id.as_deref() != link.as_known() {
                                changes.push(change(
                                    "vpc link",
                                    i.connection_id.clone(),
                                    Some(link.as_known().unwrap_or("the new VPC link").into()),
                                ));
                            }
                            if i.kind != "HTTP_PROXY" || i.connection_type != "VPC_LINK" {
                                changes.push(change(
                                    "type",
                                    Some(format!("{} {}", i.kind, i.connection_type)),
                                    Some("HTTP_PROXY VPC_LINK".into()),
                                ));
                            }
                        }
                        None => changes.push(change(
                            "integration",
                            None,
                            Some(match route.port {
                                Some(p) => format!("port {p}"),
                                None => "the stage's port".into(),
                            }),
                        )),
                    }
                    b.push(
                        Kind::Method,
                        if integration.is_some() {
                            Action::Update
                        } else {
                            Action::Create
                        },
                        format!("integration {} {method}", route.path),
                        changes,
                        Op::PutIntegration {
                            rest_api: id.clone(),
                            resource: resource.clone(),
                            method: method.clone(),
                            uri: uri.clone(),
                            vpc_link: link.clone(),
                            path_parameters: params.clone(),
                        },
                    );
                }
            }
        }
    }

    // Routes that went: deleted before the deployment, so no stage keeps serving them.
    if let (Some(api), Some(current)) = (&api_id, current) {
        for (path, r) in &current.resources {
            if path == "/" {
                continue;
            }
            if !wanted.contains(path) {
                // Deleting a resource deletes its children: only the topmost goes.
                if parent(path) == "/" || wanted.contains(parent(path)) {
                    b.push(
                        Kind::Resource,
                        Action::Delete,
                        format!("resource {path}"),
                        vec![],
                        Op::DeleteResource {
                            rest_api: api.clone(),
                            resource: r.id.clone(),
                        },
                    );
                }
                continue;
            }
            for method in r.methods.keys() {
                if !wanted_methods.contains(&(path.clone(), method.clone())) {
                    b.push(
                        Kind::Method,
                        Action::Delete,
                        format!("route {path} {method}"),
                        vec![],
                        Op::DeleteMethod {
                            rest_api: api.clone(),
                            resource: r.id.clone(),
                            method: method.clone(),
                        },
                    );
                }
            }
        }
    }
    let routes_changed = b.steps.len() > first;

    // The deployment stages should serve.
    let listener_ports = network
        .map(|n| n.listener_ports.clone())
        .unwrap_or_default();
    let description = fingerprint(desired, &listener_ports);
    let mut out = Api {
        id,
        actual: current,
        deployment: None,
        description,
        routes_changed,
        adopted: g.adopted.as_ref(),
    };
    if wanted_methods.is_empty() {
        return out;
    }
    let reusable = current.and_then(|a| {
        // Prefer the fresh deployment a stage already serves (after a crash between deploying
        // and moving the stages, the others move to it).
        a.stages
            .values()
            .map(|s| &s.deployment_id)
            .chain(a.deployments.keys())
            .find(|d| out.described(d) == Some(&out.description))
    });
    out.deployment = match reusable {
        _ if desired.stages.is_empty() => None,
        Some(d) if !routes_changed => Some(Val::known(d)),
        _ => {
            let i = b.push(
                Kind::Deployment,
                Action::Create,
                "deployment".into(),
                vec![change("routes", None, Some(out.description.clone()))],
                Op::CreateDeployment {
                    rest_api: out.id.clone(),
                    description: out.description.clone(),
                },
            );
            Some(Val::id(i))
        }
    };
    out
}

/// REST APIs of this gateway other than the one in use (a hand-made copy, a duplicate).
pub(super) fn delete(b: &mut Builder, actual: &Actual, api: &Api) {
    let kept = api.id.as_known();
    for (id, a) in &actual.rest_apis {
        if Some(id.as_str()) != kept {
            // A copy without stages serves nothing (a duplicate left by a crash).
            b.delete_guarded(
                Kind::RestApi,
                format!("REST API {} ({id})", a.name),
                !a.stages.is_empty(),
                Op::DeleteRestApi {
                    rest_api: id.clone(),
                },
            );
        }
    }
}
