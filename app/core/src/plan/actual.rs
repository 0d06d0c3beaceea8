//! What AWS holds for one gateway, as the worker observed it: only resources Portico owns (by
//! tag, or by living inside an owned REST API). The planner compares this with the desired
//! topology; the status pages and `portico status` print it.

use crate::model::topology::{AccessLog, EndpointType, HealthCheck, Quota, Throttle};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Actual {
    /// Owned target groups, by name.
    pub target_groups: BTreeMap<String, TargetGroup>,
    /// Owned network load balancers, by ARN (names are unique in AWS, but a create cut off
    /// by a crash can leave two with one name where AWS does not enforce it).
    pub load_balancers: BTreeMap<String, LoadBalancer>,
    /// Owned VPC links, by id.
    pub vpc_links: BTreeMap<String, VpcLink>,
    /// Owned REST APIs, by id (one, unless a crash or a hand-made copy left more).
    pub rest_apis: BTreeMap<String, RestApi>,
    /// Owned usage plans, by name.
    pub usage_plans: BTreeMap<String, UsagePlan>,
    /// Owned API keys, by Portico's key id (the `portico:key` tag). Never their values.
    #[serde(default)]
    pub api_keys: BTreeMap<i64, ApiKey>,
    /// Owned usage plans beyond the first of one name, and AWS keys beyond the first for one
    /// Portico key: copies a crash between a create and its record, a past bug or a restored
    /// backup left. Duplicates are drift: the plan deletes them (see `Actual::add_usage_plan`
    /// and `add_api_key`), they are never hidden behind the one the maps hold. (Load
    /// balancers, VPC links and REST APIs are kept by id, so their copies are in their maps.)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_usage_plans: Vec<(String, UsagePlan)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_api_keys: Vec<(i64, ApiKey)>,
    /// Owned resources that do not carry this installation's id yet (tagged before
    /// installations had ids): the plan adds the tag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub untagged: Vec<Untagged>,
    /// Names of load balancers and target groups carrying this gateway's name but another
    /// Portico installation's id. AWS keeps these names unique per account and region, so
    /// this installation cannot make its own under them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_names: Vec<String>,
}

/// An owned resource missing this installation's tags (from before installation ids, or
/// adopted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Untagged {
    /// Its id (an ARN for load balancers and target groups).
    #[serde(default)]
    pub id: String,
    /// elbv2 or apigateway: which service's tagging call adds it.
    pub service: String,
    /// The resource's ARN (API Gateway's form for its resources).
    pub arn: String,
    /// What it is, in words ("load balancer pt-shop-1a2b").
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// AWS's id.
    pub id: String,
    pub name: String,
    pub enabled: bool,
    /// Usage-plan ids the key is in.
    pub usage_plans: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetGroup {
    pub arn: String,
    pub port: u32,
    pub vpc_id: String,
    pub health_check: HealthCheck,
    pub deregistration_delay: u32,
    /// Registered instance targets and their health.
    pub targets: BTreeMap<String, TargetHealth>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetHealth {
    /// initial, healthy, unhealthy, unused, draining, unavailable
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadBalancer {
    pub name: String,
    pub arn: String,
    pub dns: String,
    /// provisioning, active, active_impaired, failed
    pub state: String,
    pub subnets: Vec<String>,
    /// By listener port.
    pub listeners: BTreeMap<u32, Listener>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listener {
    pub arn: String,
    /// The target group it forwards to.
    pub target_group_arn: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcLink {
    pub name: String,
    pub target_arns: Vec<String>,
    /// PENDING, AVAILABLE, DELETING, FAILED
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RestApi {
    pub name: String,
    pub endpoint_type: EndpointType,
    /// By path; `/` is the root every API has.
    pub resources: BTreeMap<String, Resource>,
    /// Deployment id → description.
    pub deployments: BTreeMap<String, String>,
    pub stages: BTreeMap<String, Stage>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub id: String,
    /// By HTTP method (`ANY`, `GET` …).
    pub methods: BTreeMap<String, Method>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Method {
    pub api_key_required: bool,
    pub integration: Option<Integration>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integration {
    /// HTTP_PROXY for what Portico makes.
    pub kind: String,
    pub uri: String,
    /// VPC_LINK for what Portico makes.
    pub connection_type: String,
    pub connection_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub deployment_id: String,
    pub variables: BTreeMap<String, String>,
    pub throttle: Option<Throttle>,
    /// Cache size in GB when the cache is on.
    pub cache_gb: Option<String>,
    /// The access log, when the stage writes one (its format as AWS holds it).
    #[serde(default)]
    pub access_log: Option<AccessLog>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsagePlan {
    pub id: String,
    pub throttle: Option<Throttle>,
    pub quota: Option<Quota>,
    /// `(api id, stage)` pairs it covers.
    pub api_stages: Vec<(String, String)>,
}

impl Actual {
    /// Everything Portico owns for the gateway is gone.
    pub fn is_empty(&self) -> bool {
        self.target_groups.is_empty()
            && self.load_balancers.is_empty()
            && self.vpc_links.is_empty()
            && self.rest_apis.is_empty()
            && self.usage_plans.is_empty()
            && self.api_keys.is_empty()
            && self.extra_usage_plans.is_empty()
            && self.extra_api_keys.is_empty()
    }

    /// Records an owned usage plan. A second plan of the same name is a duplicate: the one
    /// kept is the one covering more stages (then the smaller id), so the choice does not
    /// depend on the order AWS listed them in.
    pub fn add_usage_plan(&mut self, name: String, plan: UsagePlan) {
        let Some(held) = self.usage_plans.get(&name) else {
            self.usage_plans.insert(name, plan);
            return;
        };
        let rank = |p: &UsagePlan| (std::cmp::Reverse(p.api_stages.len()), p.id.clone());
        let extra = if rank(&plan) < rank(held) {
            self.usage_plans.insert(name.clone(), plan).expect("held")
        } else {
            plan
        };
        self.extra_usage_plans.push((name, extra));
        self.extra_usage_plans
            .sort_by(|a, b| (&a.0, &a.1.id).cmp(&(&b.0, &b.1.id)));
    }

    /// Records an owned API key by Portico's key id. A second AWS key with the same id is a
    /// duplicate; which copy is kept is the planner's choice (the one Portico recorded).
    pub fn add_api_key(&mut self, key: i64, found: ApiKey) {
        let Some(held) = self.api_keys.get(&key) else {
            self.api_keys.insert(key, found);
            return;
        };
        let extra = if found.id < held.id {
            self.api_keys.insert(key, found).expect("held")
        } else {
            found
        };
        self.extra_api_keys.push((key, extra));
        self.extra_api_keys
            .sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
    }

    /// Every owned copy of Portico's key `key`: the one the map holds first.
    pub fn key_copies(&self, key: i64) -> impl Iterator<Item = &ApiKey> {
        self.api_keys.get(&key).into_iter().chain(
            self.extra_api_keys
                .iter()
                .filter(move |(k, _)| *k == key)
                .map(|(_, c)| c),
        )
    }

    /// Every owned usage plan, duplicates included, with its name.
    pub fn all_usage_plans(&self) -> impl Iterator<Item = (&String, &UsagePlan)> {
        self.usage_plans
            .iter()
            .chain(self.extra_usage_plans.iter().map(|(n, p)| (n, p)))
    }

    /// Every owned API key, duplicates included, with Portico's key id.
    pub fn all_api_keys(&self) -> impl Iterator<Item = (i64, &ApiKey)> {
        self.api_keys
            .iter()
            .map(|(k, c)| (*k, c))
            .chain(self.extra_api_keys.iter().map(|(k, c)| (*k, c)))
    }

    /// How many AWS resources of each kind, for status lines.
    pub fn count(&self) -> usize {
        let api: usize = self
            .rest_apis
            .values()
            .map(|a| 1 + a.resources.len() + a.stages.len() + a.deployments.len())
            .sum();
        let lb: usize = self
            .load_balancers
            .values()
            .map(|l| 1 + l.listeners.len())
            .sum();
        self.target_groups.len()
            + lb
            + self.vpc_links.len()
            + api
            + self.usage_plans.len()
            + self.api_keys.len()
            + self.extra_usage_plans.len()
            + self.extra_api_keys.len()
    }
}
