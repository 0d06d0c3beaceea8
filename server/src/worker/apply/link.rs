//! The steps `plan::link` makes: the VPC link from API Gateway to the load balancer, and the
//! wait until AWS has provisioned it (integrations through a pending link fail).

use super::{gone, id, made, Context, Made, StepError};
use crate::aws::call::Service;
use portico_core::plan::{Field, Val};

const API: Service = Service::ApiGateway;

pub(super) async fn create_vpc_link(
    s: &Context<'_>,
    name: &str,
    load_balancer: &Val,
) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    let lb = s.get(load_balancer)?;
    let (o, rid) = s
        .call(API, || {
            api.create_vpc_link()
                .name(name)
                .target_arns(&lb)
                .description("Made by Portico")
                .set_tags(Some(s.owner.tags()))
                .send()
        })
        .await?;
    Ok(made(vec![(Field::Id, id(o.id(), s.operation)?)], rid))
}

pub(super) async fn wait_vpc_link(s: &Context<'_>, vpc_link: &Val) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    let link = s.get(vpc_link)?;
    let started = tokio::time::Instant::now();
    loop {
        let (o, rid) = s
            .call(API, || api.get_vpc_link().vpc_link_id(&link).send())
            .await?;
        let status = o
            .status()
            .map(|status| status.as_str().to_owned())
            .unwrap_or_default();
        match status.as_str() {
            "AVAILABLE" => return Ok(made(vec![], rid)),
            "FAILED" => {
                return Err(StepError::Wait(format!(
                    "VPC link {link} FAILED: {}",
                    o.status_message().unwrap_or("AWS gave no reason")
                )))
            }
            _ if started.elapsed() > s.waits.timeout => {
                return Err(StepError::Wait(format!(
                    "VPC link {link} is still {status} after {} s; the next run waits again",
                    s.waits.timeout.as_secs()
                )))
            }
            _ => tokio::time::sleep(s.waits.every).await,
        }
    }
}

pub(super) async fn delete_vpc_link(s: &Context<'_>, vpc_link: &str) -> Result<Made, StepError> {
    let api = &s.clients.apigateway;
    gone(
        s.call(API, || api.delete_vpc_link().vpc_link_id(vpc_link).send())
            .await,
    )
}
