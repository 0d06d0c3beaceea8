//! Observe: read what AWS holds for one gateway into `Actual`, with as few calls as the APIs
//! allow. Two parts:
//!
//! - The *inventory* of an account and region (`inventory`): every load balancer and target
//!   group with their tags (tags in batches of 20), every REST API, VPC link, usage plan and
//!   API key with theirs. These listings are account-wide whatever gateway asks, so one
//!   inventory serves every gateway of the account and region (the worker's `listing`).
//! - The gateway's *details* (`observe_in`): for what its tags say is its own (`Owner`), the
//!   calls that take one resource each — listeners, target health and attributes per target
//!   group, one paged `GetResources` with the methods embedded, deployments and stages per
//!   API, the keys of each usage plan. Anything else in the account is never touched.
//!
//! Every listing AWS pages is followed to its last page (through `aws::read::paged`), at the largest page
//! the API allows (API Gateway `limit` 500, ELBv2 `PageSize` 400), so a small account still
//! costs one call per listing. Stopping at the first page would make whatever sits beyond it
//! look absent to the planner, which would then recreate or delete it.

mod apigateway;
mod elb;

use super::owner::Owner;
use crate::aws::call::{AwsError, Caller};
use crate::aws::Clients;
use aws_sdk_apigateway::types as agw;
use aws_sdk_elasticloadbalancingv2::types as elbt;
use portico_core::plan::actual::Actual;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

/// What AWS changes only when someone changes it, as Portico last read it, to spare a call per
/// resource on each observation: each target group's deregistration delay (ELBv2 answers for
/// one group per call) and each REST API's deployments (they never change once made). A reading
/// is kept for `Remembered::KEEP` and forgotten whenever a plan runs (Portico's own writes);
/// deployments are read again at once when a stage points at one not remembered. So a change
/// made by hand is seen within the hour, and every other observation saves those calls.
#[derive(Debug, Default)]
pub struct Remembered {
    attributes: Kept<u32>,
    deployments: Kept<BTreeMap<String, String>>,
}

impl Remembered {
    pub const KEEP: Duration = Duration::from_secs(3600);

    /// Everything read so far is forgotten (a plan just ran).
    pub fn forget(&self) {
        self.attributes.forget();
        self.deployments.forget();
    }
}

/// Readings by id, each with when it was read.
#[derive(Debug)]
struct Kept<V>(Mutex<HashMap<String, (V, tokio::time::Instant)>>);

impl<V> Default for Kept<V> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

impl<V: Clone> Kept<V> {
    fn get(&self, id: &str) -> Option<V> {
        let read = self.0.lock().unwrap_or_else(|e| e.into_inner());
        read.get(id)
            .filter(|(_, at)| at.elapsed() < Remembered::KEEP)
            .map(|(v, _)| v.clone())
    }

    fn put(&self, id: &str, value: V) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned(), (value, tokio::time::Instant::now()));
    }

    fn forget(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// Everything listed account-wide in one account and region, with tags.
#[derive(Debug, Default)]
pub struct Inventory {
    load_balancers: Vec<elbt::LoadBalancer>,
    target_groups: Vec<elbt::TargetGroup>,
    /// ELB tags by ARN (only resources carrying any Portico tag are kept).
    elb_tags: HashMap<String, HashMap<String, String>>,
    rest_apis: Vec<agw::RestApi>,
    vpc_links: Vec<agw::VpcLink>,
    usage_plans: Vec<agw::UsagePlan>,
    api_keys: Vec<agw::ApiKey>,
    /// The region, for the ARNs of API Gateway resources.
    region: String,
}

/// Lists the account and region: the part of an observation every gateway shares.
pub async fn inventory(clients: &Clients, caller: &Caller) -> Result<Inventory, AwsError> {
    inventory_of(clients, caller, true).await
}

/// `inventory`, without the API keys when `keys` is false (for a gateway that never had a
/// key: none of the account's keys can be its own).
pub async fn inventory_of(
    clients: &Clients,
    caller: &Caller,
    keys: bool,
) -> Result<Inventory, AwsError> {
    let mut inv = Inventory {
        region: caller.region.clone(),
        ..Inventory::default()
    };
    elb::list(clients, caller, &mut inv).await?;
    apigateway::list(clients, caller, &mut inv, keys).await?;
    Ok(inv)
}

/// The gateway's resources, from an inventory of its account and region (target-group
/// attributes and deployments from `remembered` where it has them); its API keys only if
/// `keys` (a shared inventory lists them whoever asked, but a gateway that never had a key
/// is observed as if they were not listed, whether or not its inventory is shared).
pub async fn observe_in(
    clients: &Clients,
    caller: &Caller,
    inventory: &Inventory,
    owner: &Owner,
    remembered: Option<&Remembered>,
    keys: bool,
) -> Result<Actual, AwsError> {
    let mut actual = Actual::default();
    let attributes = remembered.map(|r| &r.attributes);
    elb::details(clients, caller, inventory, owner, attributes, &mut actual).await?;
    let deployments = remembered.map(|r| &r.deployments);
    apigateway::details(
        clients,
        caller,
        inventory,
        owner,
        deployments,
        keys,
        &mut actual,
    )
    .await?;
    Ok(actual)
}

/// A fresh inventory and the gateway's resources in it.
pub async fn observe(
    clients: &Clients,
    caller: &Caller,
    owner: &Owner,
) -> Result<Actual, AwsError> {
    let inv = inventory(clients, caller).await?;
    observe_in(clients, caller, &inv, owner, None, true).await
}
