//! The steps `plan::stages` makes: stages (which deployment each serves, its variables, cache
//! and throttling) and the deployments no stage serves any more.

use super::{gone, made, patch, Context, Made, StepError};
use crate::aws::call::Service;
use aws_sdk_apigateway::types as agw;
use portico_core::plan::{Patch, Val};
use std::collections::{BTreeMap, HashMap};

const API: Service = Service::ApiGateway;

pub(super) async fn create_stage(
    s: &Context<'_>,
    rest_api: &Val,
    name: &str,
    deployment: &Val,
    variables: &BTreeMap<String, String>,
    cache_gb: Option<&str>,
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    let api_id = s.get(rest_api)?;
    let dep = s.get(deployment)?;
    let vars: HashMap<String, String> = variables.clone().into_iter().collect();
    let (_, rid) = s
        .call(API, || {
            api.create_stage()
                .rest_api_id(&api_id)
                .stage_name(name)
                .deployment_id(&dep)
                .set_variables(Some(vars.clone()))
                .cache_cluster_enabled(cache_gb.is_some())
                .set_cache_cluster_size(cache_gb.map(agw::CacheClusterSize::from))
                .set_tags(Some(s.owner.tags()))
                .send()
        })
        .await?;
    Ok(made(vec![], rid))
}

/// Updates a stage; a new deployment to serve goes first among the patches.
pub(super) async fn update_stage(
    s: &Context<'_>,
    rest_api: &Val,
    name: &str,
    deployment: Option<&Val>,
    patches: &[Patch],
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    let api_id = s.get(rest_api)?;
    let mut ops: Vec<agw::PatchOperation> = vec![];
    if let Some(d) = deployment {
        ops.push(patch(&Patch::replace("/deploymentId", s.get(d)?)));
    }
    ops.extend(patches.iter().map(patch));
    let (_, rid) = s
        .call(API, || {
            api.update_stage()
                .rest_api_id(&api_id)
                .stage_name(name)
                .set_patch_operations(Some(ops.clone()))
                .send()
        })
        .await?;
    Ok(made(vec![], rid))
}

pub(super) async fn delete_stage(
    s: &Context<'_>,
    rest_api: &str,
    name: &str,
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    gone(
        s.call(API, || {
            api.delete_stage()
                .rest_api_id(rest_api)
                .stage_name(name)
                .send()
        })
        .await,
    )
}

pub(super) async fn delete_deployment(
    s: &Context<'_>,
    rest_api: &str,
    deployment: &str,
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    gone(
        s.call(API, || {
            api.delete_deployment()
                .rest_api_id(rest_api)
                .deployment_id(deployment)
                .send()
        })
        .await,
    )
}
