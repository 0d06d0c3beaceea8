//! The steps `plan::keys` makes: API keys (enabled or not) and which usage plan each belongs
//! to. A new key's value is read once, for its hint, and dropped here.

use super::{gone, id, made, patch, Context, Made, StepError};
use crate::aws::call::Service;
use portico_core::model::keys::hint;
use portico_core::plan::names::TAG_KEY;
use portico_core::plan::{Field, Patch, Val};

const API: Service = Service::ApiGateway;

/// Creates an API key tagged with Portico's id for it, so `observe` can match it back.
pub(super) async fn create_api_key(
    s: &Context<'_>,
    key: i64,
    name: &str,
    description: &str,
    enabled: bool,
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    let mut tags = s.owner.tags();
    tags.insert(TAG_KEY.to_owned(), key.to_string());
    let (o, rid) = s
        .call(API, || {
            api.create_api_key()
                .name(name)
                .description(description)
                .enabled(enabled)
                .set_tags(Some(tags.clone()))
                .send()
        })
        .await?;
    let mut m = made(vec![(Field::Id, id(o.id(), s.operation)?)], rid);
    m.key_hint = o.value().map(hint);
    Ok(m)
}

pub(super) async fn update_api_key(
    s: &Context<'_>,
    api_key: &str,
    enabled: bool,
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    let (_, rid) = s
        .call(API, || {
            api.update_api_key()
                .api_key(api_key)
                .patch_operations(patch(&Patch::replace("/enabled", enabled.to_string())))
                .send()
        })
        .await?;
    Ok(made(vec![], rid))
}

pub(super) async fn create_usage_plan_key(
    s: &Context<'_>,
    usage_plan: &Val,
    api_key: &Val,
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    let plan = s.get(usage_plan)?;
    let key = s.get(api_key)?;
    let (_, rid) = s
        .call(API, || {
            api.create_usage_plan_key()
                .usage_plan_id(&plan)
                .key_id(&key)
                .key_type("API_KEY")
                .send()
        })
        .await?;
    Ok(made(vec![], rid))
}

pub(super) async fn delete_usage_plan_key(
    s: &Context<'_>,
    usage_plan: &str,
    api_key: &str,
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    gone(
        s.call(API, || {
            api.delete_usage_plan_key()
                .usage_plan_id(usage_plan)
                .key_id(api_key)
                .send()
        })
        .await,
    )
}

pub(super) async fn delete_api_key(s: &Context<'_>, api_key: &str) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    gone(
        s.call(API, || api.delete_api_key().api_key(api_key).send())
            .await,
    )
}
