//! The steps `plan::rest` makes: the REST API, its resources, methods and integrations, and the
//! deployments that publish them.

use super::{gone, id, made, patch, Context, Made, StepError};
use crate::aws::call::Service;
use aws_sdk_apigateway::types as agw;
use portico_core::model::topology::EndpointType;
use portico_core::plan::{Field, Patch, Uri, Val};
use std::collections::HashMap;

const API: Service = Service::ApiGateway;

fn endpoint(t: EndpointType) -> agw::EndpointType {
    match t {
        EndpointType::Regional => agw::EndpointType::Regional,
        EndpointType::Edge => agw::EndpointType::Edge,
        EndpointType::Private => agw::EndpointType::Private,
    }
}

/// Creates the REST API and returns its id and root resource, which the first resources hang
/// from.
pub(super) async fn create_rest_api(
    s: &Context<'_>,
    name: &str,
    endpoint_type: EndpointType,
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    // Edge-optimized APIs have their own, slower quota (1 per 30 s) on top of CreateRestApi's.
    let operation = match endpoint_type {
        EndpointType::Edge => "CreateRestApi:EDGE",
        _ => s.operation,
    };
    let (o, rid) = s
        .caller
        .call(API, operation, || {
            api.create_rest_api()
                .name(name)
                .description("Managed by Portico")
                .endpoint_configuration(
                    agw::EndpointConfiguration::builder()
                        .types(endpoint(endpoint_type))
                        .build(),
                )
                .set_tags(Some(s.owner.tags()))
                .send()
        })
        .await?;
    let api_id = id(o.id(), s.operation)?;
    let root = match o.root_resource_id() {
        Some(r) => r.to_owned(),
        // Not every answer names the root: look it up (a call of its own, paced as such).
        None => {
            let (res, _) = s
                .caller
                .call(API, "GetResources", || {
                    api.get_resources().rest_api_id(&api_id).send()
                })
                .await?;
            id(
                res.items()
                    .iter()
                    .find(|r| r.path() == Some("/"))
                    .and_then(|r| r.id()),
                "GetResources",
            )?
        }
    };
    Ok(made(vec![(Field::Id, api_id), (Field::Root, root)], rid))
}

pub(super) async fn update_rest_api(
    s: &Context<'_>,
    rest_api: &str,
    patches: &[Patch],
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    let (_, rid) = s
        .call(API, || {
            api.update_rest_api()
                .rest_api_id(rest_api)
                .set_patch_operations(Some(patches.iter().map(patch).collect()))
                .send()
        })
        .await?;
    Ok(made(vec![], rid))
}

pub(super) async fn create_resource(
    s: &Context<'_>,
    rest_api: &Val,
    parent: &Val,
    path_part: &str,
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    let api_id = s.get(rest_api)?;
    let parent = s.get(parent)?;
    let (o, rid) = s
        .call(API, || {
            api.create_resource()
                .rest_api_id(&api_id)
                .parent_id(&parent)
                .path_part(path_part)
                .send()
        })
        .await?;
    Ok(made(vec![(Field::Id, id(o.id(), s.operation)?)], rid))
}

pub(super) async fn put_method(
    s: &Context<'_>,
    rest_api: &Val,
    resource: &Val,
    method: &str,
    api_key_required: bool,
    path_parameters: &[String],
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    let api_id = s.get(rest_api)?;
    let res = s.get(resource)?;
    let params: HashMap<String, bool> = path_parameters
        .iter()
        .map(|p| (format!("method.request.path.{p}"), true))
        .collect();
    let (_, rid) = s
        .call(API, || {
            api.put_method()
                .rest_api_id(&api_id)
                .resource_id(&res)
                .http_method(method)
                .authorization_type("NONE")
                .api_key_required(api_key_required)
                .set_request_parameters((!params.is_empty()).then(|| params.clone()))
                .send()
        })
        .await?;
    Ok(made(vec![], rid))
}

pub(super) async fn update_method(
    s: &Context<'_>,
    rest_api: &str,
    resource: &str,
    method: &str,
    patches: &[Patch],
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    let (_, rid) = s
        .call(API, || {
            api.update_method()
                .rest_api_id(rest_api)
                .resource_id(resource)
                .http_method(method)
                .set_patch_operations(Some(patches.iter().map(patch).collect()))
                .send()
        })
        .await?;
    Ok(made(vec![], rid))
}

/// Points a method at the load balancer through the VPC link, passing each path parameter on.
pub(super) async fn put_integration(
    s: &Context<'_>,
    rest_api: &Val,
    resource: &Val,
    method: &str,
    uri: &Uri,
    vpc_link: &Val,
    path_parameters: &[String],
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    let api_id = s.get(rest_api)?;
    let res = s.get(resource)?;
    let dns = s.get(&uri.dns)?;
    let link = s.get(vpc_link)?;
    let params: HashMap<String, String> = path_parameters
        .iter()
        .map(|p| {
            (
                format!("integration.request.path.{p}"),
                format!("method.request.path.{p}"),
            )
        })
        .collect();
    let target = uri.render(&dns);
    let (_, rid) = s
        .call(API, || {
            api.put_integration()
                .rest_api_id(&api_id)
                .resource_id(&res)
                .http_method(method)
                .r#type(agw::IntegrationType::HttpProxy)
                .integration_http_method(method)
                .uri(&target)
                .connection_type(agw::ConnectionType::VpcLink)
                .connection_id(&link)
                .set_request_parameters((!params.is_empty()).then(|| params.clone()))
                .send()
        })
        .await?;
    Ok(made(vec![], rid))
}

pub(super) async fn create_deployment(
    s: &Context<'_>,
    rest_api: &Val,
    description: &str,
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    let api_id = s.get(rest_api)?;
    let (o, rid) = s
        .call(API, || {
            api.create_deployment()
                .rest_api_id(&api_id)
                .description(description)
                .send()
        })
        .await?;
    Ok(made(vec![(Field::Id, id(o.id(), s.operation)?)], rid))
}

pub(super) async fn delete_method(
    s: &Context<'_>,
    rest_api: &str,
    resource: &str,
    method: &str,
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    gone(
        s.call(API, || {
            api.delete_method()
                .rest_api_id(rest_api)
                .resource_id(resource)
                .http_method(method)
                .send()
        })
        .await,
    )
}

pub(super) async fn delete_resource(
    s: &Context<'_>,
    rest_api: &str,
    resource: &str,
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    gone(
        s.call(API, || {
            api.delete_resource()
                .rest_api_id(rest_api)
                .resource_id(resource)
                .send()
        })
        .await,
    )
}

pub(super) async fn delete_rest_api(s: &Context<'_>, rest_api: &str) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    gone(
        s.call(API, || api.delete_rest_api().rest_api_id(rest_api).send())
            .await,
    )
}
