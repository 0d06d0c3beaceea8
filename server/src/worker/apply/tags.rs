//! Portico's ownership tags outside any plan: added to owned resources that lack them (tagged
//! before installations had ids, or adopted), removed from everything a released gateway owns.
//! Neither changes how a resource behaves, only who may claim it.

use super::super::owner::Owner;
use crate::aws::call::{AwsError, Caller, Service};
use crate::aws::{convert, Clients};
use portico_core::plan::actual::{Actual, Untagged};
use portico_core::plan::names::{TAG_GATEWAY, TAG_INSTALLATION, TAG_KEY, TAG_PORT};

/// Adds this installation's tags to owned resources without them (tagged before installations
/// had ids, or adopted): one call each, through the caller like every write. Outside any plan:
/// it changes no behaviour of the resource, only who may claim it. A failure is logged and
/// tried again on the next run; meanwhile the resource is still this gateway's.
pub async fn tag_untagged(
    clients: &Clients,
    caller: &Caller,
    owner: &Owner,
    untagged: &[Untagged],
) {
    for u in untagged {
        let done = tag(clients, caller, owner, u).await;
        match done {
            Ok(()) => tracing::info!(
                gateway = %owner.gateway,
                "tagged {} with this installation's id",
                u.label
            ),
            Err(e) => tracing::warn!(
                gateway = %owner.gateway,
                "could not tag {} with this installation's id: {e}",
                u.label
            ),
        }
    }
}

/// Gives one owned resource the tags it lacks (`Owner::tags_of`).
pub async fn tag(
    clients: &Clients,
    caller: &Caller,
    owner: &Owner,
    u: &Untagged,
) -> Result<(), AwsError> {
    if u.service == "elbv2" {
        let tags: Vec<_> = owner
            .tags_of(&u.id)
            .into_iter()
            .map(|(k, v)| {
                aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
            })
            .collect();
        caller
            .call(Service::Elb, "AddTags", || {
                clients
                    .elb
                    .add_tags()
                    .resource_arns(&u.arn)
                    .set_tags(Some(tags.clone()))
                    .send()
            })
            .await
            .map(|_| ())
    } else {
        caller
            .call(Service::ApiGateway, "TagResource", || {
                clients
                    .apigateway
                    .tag_resource()
                    .resource_arn(&u.arn)
                    .set_tags(Some(owner.tags_of(&u.id)))
                    .send()
            })
            .await
            .map(|_| ())
    }
}

/// Removes Portico's tags from everything the gateway owns in `actual`, leaving the resources
/// running (a released gateway). ELB takes 20 ARNs a call; API Gateway one resource a call.
/// Returns how many resources were untagged.
pub async fn untag_all(
    clients: &Clients,
    caller: &Caller,
    actual: &Actual,
) -> Result<usize, AwsError> {
    let keys = [TAG_GATEWAY, TAG_INSTALLATION, TAG_PORT, TAG_KEY].map(str::to_owned);
    let elb: Vec<String> = actual
        .load_balancers
        .keys()
        .cloned()
        .chain(actual.target_groups.values().map(|t| t.arn.clone()))
        .collect();
    for chunk in elb.chunks(20) {
        caller
            .call(Service::Elb, "RemoveTags", || {
                clients
                    .elb
                    .remove_tags()
                    .set_resource_arns(Some(chunk.to_vec()))
                    .set_tag_keys(Some(keys.to_vec()))
                    .send()
            })
            .await?;
    }
    let paths: Vec<String> = actual
        .rest_apis
        .keys()
        .map(|id| format!("/restapis/{id}"))
        .chain(actual.vpc_links.keys().map(|id| format!("/vpclinks/{id}")))
        .chain(
            actual
                .all_usage_plans()
                .map(|(_, p)| format!("/usageplans/{}", p.id)),
        )
        .chain(
            actual
                .all_api_keys()
                .map(|(_, k)| format!("/apikeys/{}", k.id)),
        )
        .collect();
    for path in &paths {
        let arn = convert::apigateway_arn(&caller.region, path);
        caller
            .call(Service::ApiGateway, "UntagResource", || {
                clients
                    .apigateway
                    .untag_resource()
                    .resource_arn(&arn)
                    .set_tag_keys(Some(keys.to_vec()))
                    .send()
            })
            .await?;
    }
    Ok(elb.len() + paths.len())
}
