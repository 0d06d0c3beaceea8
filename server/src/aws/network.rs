//! The region's VPCs, subnets and instances (`ec2:DescribeVpcs`, `DescribeSubnets`,
//! `DescribeInstances`, every page), for the forms to offer and the saves to check
//! (`portico_core::account`). A reading is kept a minute per account and region, so opening
//! forms does not become a stream of EC2 calls.

use super::call::{AwsError, Caller, Service};
use super::pace::Pacers;
use super::read::paged;
use super::Clients;
use aws_config::SdkConfig;
use portico_core::account::{Instance, Network, Subnet, Vpc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn name_tag(tags: &[aws_sdk_ec2::types::Tag]) -> String {
    tags.iter()
        .find(|t| t.key() == Some("Name"))
        .and_then(|t| t.value())
        .unwrap_or_default()
        .to_owned()
}

/// Reads the region's network through `caller`.
pub async fn read(clients: &Clients, caller: &Caller) -> Result<Network, AwsError> {
    let ec2 = &clients.ec2;
    let mut out = Network {
        region: caller.region.clone(),
        ..Network::default()
    };
    out.vpcs = paged(move |token| async move {
        let (page, _) = caller
            .call(Service::Ec2, "DescribeVpcs", || {
                ec2.describe_vpcs()
                    .max_results(1000)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
        let vpcs = page.vpcs().iter().filter_map(|v| {
            Some(Vpc {
                id: v.vpc_id()?.to_owned(),
                name: name_tag(v.tags()),
                cidr: v.cidr_block().unwrap_or_default().to_owned(),
            })
        });
        let next = page.next_token().map(str::to_owned);
        Ok::<_, AwsError>((vpcs.collect::<Vec<_>>(), next))
    })
    .await?;
    out.subnets = paged(move |token| async move {
        let (page, _) = caller
            .call(Service::Ec2, "DescribeSubnets", || {
                ec2.describe_subnets()
                    .max_results(1000)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
        let subnets = page.subnets().iter().filter_map(|s| {
            Some(Subnet {
                id: s.subnet_id()?.to_owned(),
                vpc_id: s.vpc_id().unwrap_or_default().to_owned(),
                zone: s.availability_zone().unwrap_or_default().to_owned(),
                name: name_tag(s.tags()),
                cidr: s.cidr_block().unwrap_or_default().to_owned(),
            })
        });
        let next = page.next_token().map(str::to_owned);
        Ok::<_, AwsError>((subnets.collect::<Vec<_>>(), next))
    })
    .await?;
    // Terminated instances are gone, whatever EC2 still lists.
    out.instances = paged(move |token| async move {
        let (page, _) = caller
            .call(Service::Ec2, "DescribeInstances", || {
                ec2.describe_instances()
                    .max_results(1000)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
        let instances = page
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter_map(|i| {
                let state = i.state()?.name()?.as_str().to_owned();
                (state != "terminated").then(|| Instance {
                    id: i.instance_id().unwrap_or_default().to_owned(),
                    vpc_id: i.vpc_id().unwrap_or_default().to_owned(),
                    name: name_tag(i.tags()),
                    state,
                    private_ip: i.private_ip_address().unwrap_or_default().to_owned(),
                })
            });
        let next = page.next_token().map(str::to_owned);
        Ok::<_, AwsError>((instances.collect::<Vec<_>>(), next))
    })
    .await?;
    out.instances.retain(|i| !i.id.is_empty());
    out.vpcs.sort_by(|a, b| a.id.cmp(&b.id));
    out.subnets
        .sort_by(|a, b| (&a.vpc_id, &a.zone, &a.id).cmp(&(&b.vpc_id, &b.zone, &b.id)));
    out.instances.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// An account (its role, None for Portico's own) and region.
type Place = (String, Option<String>);

/// The forms' reading of the account, kept `SdkNetworks::KEEP` per account and region.
pub struct SdkNetworks {
    base: SdkConfig,
    pacers: Arc<Pacers>,
    read: Mutex<HashMap<Place, (Instant, Network)>>,
}

impl SdkNetworks {
    pub const KEEP: Duration = Duration::from_secs(60);

    pub fn new(base: SdkConfig, pacers: Arc<Pacers>) -> Self {
        Self {
            base,
            pacers,
            read: Mutex::new(HashMap::new()),
        }
    }
}

impl app::state::Networks for SdkNetworks {
    fn network(
        self: Arc<Self>,
        region: String,
        role_arn: Option<String>,
        fresh: bool,
    ) -> app::state::Answer<Result<Network, String>> {
        Box::pin(async move {
            let key = (region.clone(), role_arn.clone());
            let kept = {
                let read = self.read.lock().unwrap_or_else(|e| e.into_inner());
                read.get(&key)
                    .filter(|(at, _)| !fresh && at.elapsed() < Self::KEEP)
                    .map(|(_, n)| n.clone())
            };
            if let Some(n) = kept {
                return Ok(n);
            }
            let clients = Clients::for_account(&self.base, &region, role_arn.as_deref()).await;
            let caller = Caller::new(self.pacers.clone(), &region, role_arn.as_deref());
            let network = read(&clients, &caller).await.map_err(|e| e.to_string())?;
            self.read
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, (Instant::now(), network.clone()));
            Ok(network)
        })
    }
}
