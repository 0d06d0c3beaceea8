//! Reads more than one part of Portico makes: following a listing to its last page (`paged`),
//! and the API Gateway listings both the worker's observation and adoption need (a REST API's
//! resources with their methods embedded, the region's usage plans), so both read AWS the
//! same way.

use super::call::{AwsError, Caller, Service};
use super::Clients;
use aws_sdk_apigateway::types as agw;
use std::collections::HashMap;
use std::future::Future;

/// Reads every page of a listing. `page` makes one call from the token AWS gave last (None the
/// first time) and answers with that page's items and the next token: ELB's `Marker`, API
/// Gateway's `position` and EC2's `NextToken` are the same loop, only the call differs, so the
/// loop is written once.
pub async fn paged<T, Fut>(mut page: impl FnMut(Option<String>) -> Fut) -> Result<Vec<T>, AwsError>
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

/// REST API `id`'s resources, methods and integrations embedded, every page.
pub async fn resources(
    clients: &Clients,
    caller: &Caller,
    id: &str,
) -> Result<Vec<agw::Resource>, AwsError> {
    let api = &clients.apigateway;
    paged(move |position| async move {
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
    .await
}

/// The region's usage plans (those key `key_id` is in, when given), every page.
pub async fn usage_plans(
    clients: &Clients,
    caller: &Caller,
    key_id: Option<&str>,
) -> Result<Vec<agw::UsagePlan>, AwsError> {
    let api = &clients.apigateway;
    paged(move |position| async move {
        let (out, _) = caller
            .call(Service::ApiGateway, "GetUsagePlans", || {
                api.get_usage_plans()
                    .set_key_id(key_id.map(str::to_owned))
                    .limit(500)
                    .set_position(position.clone())
                    .send()
            })
            .await?;
        let next = out.position().map(str::to_owned);
        Ok::<_, AwsError>((out.items().to_vec(), next))
    })
    .await
}

/// The keys in usage plan `plan` (ids and names; the values AWS sends along are dropped here),
/// every page.
pub async fn usage_plan_keys(
    clients: &Clients,
    caller: &Caller,
    plan: &str,
) -> Result<Vec<(String, String)>, AwsError> {
    let api = &clients.apigateway;
    paged(move |position| async move {
        let (out, _) = caller
            .call(Service::ApiGateway, "GetUsagePlanKeys", || {
                api.get_usage_plan_keys()
                    .usage_plan_id(plan)
                    .limit(500)
                    .set_position(position.clone())
                    .send()
            })
            .await?;
        let keys = out
            .items()
            .iter()
            .filter_map(|k| Some((k.id()?.to_owned(), k.name().unwrap_or_default().to_owned())));
        let next = out.position().map(str::to_owned);
        Ok::<_, AwsError>((keys.collect::<Vec<_>>(), next))
    })
    .await
}

/// The tags of load balancers and target groups `arns`, 20 ARNs a call (DescribeTags' limit;
/// it has no marker, each batch is whole), by ARN.
pub async fn elb_tags(
    clients: &Clients,
    caller: &Caller,
    arns: &[String],
) -> Result<HashMap<String, HashMap<String, String>>, AwsError> {
    let elb = &clients.elb;
    let mut out = HashMap::new();
    for chunk in arns.chunks(20) {
        let (answer, _) = caller
            .call(Service::Elb, "DescribeTags", || {
                elb.describe_tags()
                    .set_resource_arns(Some(chunk.to_vec()))
                    .send()
            })
            .await?;
        for d in answer.tag_descriptions() {
            let Some(arn) = d.resource_arn() else {
                continue;
            };
            let tags = d
                .tags()
                .iter()
                .filter_map(|t| {
                    Some((
                        t.key()?.to_owned(),
                        t.value().unwrap_or_default().to_owned(),
                    ))
                })
                .collect();
            out.insert(arn.to_owned(), tags);
        }
    }
    Ok(out)
}
