//! The steps `plan::usage` makes: usage plans (throttle, quota, and which stages they cover).

use super::{gone, id, made, patch, Context, Made, StepError};
use crate::aws::call::Service;
use aws_sdk_apigateway::types as agw;
use portico_core::model::topology::{Quota, QuotaPeriod, Throttle};
use portico_core::plan::{Field, Patch, Val};

const API: Service = Service::ApiGateway;

fn throttle_settings(t: &Throttle) -> agw::ThrottleSettings {
    agw::ThrottleSettings::builder()
        .rate_limit(t.rate)
        .burst_limit(t.burst as i32)
        .build()
}

fn quota_settings(q: &Quota) -> agw::QuotaSettings {
    agw::QuotaSettings::builder()
        .limit(q.limit as i32)
        .offset(q.offset as i32)
        .period(match q.period {
            QuotaPeriod::Day => agw::QuotaPeriodType::Day,
            QuotaPeriod::Week => agw::QuotaPeriodType::Week,
            QuotaPeriod::Month => agw::QuotaPeriodType::Month,
        })
        .build()
}

/// A stage of a usage plan, as API Gateway's `/apiStages` patches name it.
fn api_stage(op: &str, api_id: &str, stage: &str) -> agw::PatchOperation {
    patch(&Patch {
        op: op.into(),
        path: "/apiStages".into(),
        value: Some(format!("{api_id}:{stage}")),
    })
}

pub(super) async fn create_usage_plan(
    s: &Context<'_>,
    name: &str,
    rest_api: &Val,
    stages: &[String],
    throttle: Option<&Throttle>,
    quota: Option<&Quota>,
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    let api_id = s.get(rest_api)?;
    let stages: Vec<agw::ApiStage> = stages
        .iter()
        .map(|stage| {
            agw::ApiStage::builder()
                .api_id(&api_id)
                .stage(stage)
                .build()
        })
        .collect();
    let (o, rid) = s
        .call(API, || {
            api.create_usage_plan()
                .name(name)
                .description("Managed by Portico")
                .set_api_stages(Some(stages.clone()))
                .set_throttle(throttle.map(throttle_settings))
                .set_quota(quota.map(quota_settings))
                .set_tags(Some(s.owner.tags()))
                .send()
        })
        .await?;
    Ok(made(vec![(Field::Id, id(o.id(), s.operation)?)], rid))
}

/// Updates a usage plan: stages leave first, then new ones join (the REST API is only looked up
/// when some do), then the plan's own patches.
pub(super) async fn update_usage_plan(
    s: &Context<'_>,
    usage_plan: &str,
    rest_api: &Val,
    add_stages: &[String],
    remove_stages: &[(String, String)],
    patches: &[Patch],
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    let mut ops: Vec<agw::PatchOperation> = remove_stages
        .iter()
        .map(|(api_id, stage)| api_stage("remove", api_id, stage))
        .collect();
    if !add_stages.is_empty() {
        let api_id = s.get(rest_api)?;
        ops.extend(
            add_stages
                .iter()
                .map(|stage| api_stage("add", &api_id, stage)),
        );
    }
    ops.extend(patches.iter().map(patch));
    let (_, rid) = s
        .call(API, || {
            api.update_usage_plan()
                .usage_plan_id(usage_plan)
                .set_patch_operations(Some(ops.clone()))
                .send()
        })
        .await?;
    Ok(made(vec![], rid))
}

pub(super) async fn delete_usage_plan(
    s: &Context<'_>,
    usage_plan: &str,
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    gone(
        s.call(API, || {
            api.delete_usage_plan().usage_plan_id(usage_plan).send()
        })
        .await,
    )
}
