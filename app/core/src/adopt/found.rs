//! What AWS holds under one REST API, as read for adoption (by the server's `adopt` module):
//! plain data, so `adopt` is a pure function of it.

use crate::model::topology::{AccessLog, HealthCheck, Quota, Throttle};
use std::collections::BTreeMap;

/// What AWS holds under one REST API, as read for adoption.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Found {
    pub region: String,
    pub api: FoundApi,
    pub resources: Vec<FoundResource>,
    /// Authorizer names: Portico sets none.
    pub authorizers: Vec<String>,
    /// Model names beyond AWS's default `Empty` and `Error`.
    pub models: Vec<String>,
    /// The VPC links the integrations name, by id.
    pub vpc_links: BTreeMap<String, FoundLink>,
    /// The load balancers those links reach, by ARN.
    pub load_balancers: BTreeMap<String, FoundLoadBalancer>,
    /// Target groups the listeners forward to, by ARN.
    pub target_groups: BTreeMap<String, FoundTargetGroup>,
    pub stages: Vec<FoundStage>,
    /// Usage plans covering a stage of this API.
    pub usage_plans: Vec<FoundUsagePlan>,
    pub keys: Vec<FoundKey>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundApi {
    pub id: String,
    pub name: String,
    /// REGIONAL, EDGE or PRIVATE.
    pub endpoint_type: String,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundResource {
    pub path: String,
    pub methods: Vec<FoundMethod>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundMethod {
    pub verb: String,
    pub api_key_required: bool,
    /// NONE for what Portico makes; AWS_IAM, CUSTOM, COGNITO_USER_POOLS otherwise.
    pub authorization: String,
    pub integration: Option<FoundIntegration>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundIntegration {
    /// HTTP_PROXY, HTTP, AWS_PROXY, AWS, MOCK.
    pub kind: String,
    /// VPC_LINK or INTERNET.
    pub connection_type: String,
    pub connection_id: Option<String>,
    pub uri: String,
    /// How many request templates it maps with (Portico passes requests through).
    pub request_templates: usize,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundLink {
    pub name: String,
    pub target_arns: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundLoadBalancer {
    pub name: String,
    pub dns: String,
    /// network, application, gateway.
    pub kind: String,
    pub vpc_id: String,
    pub subnets: Vec<String>,
    pub listeners: Vec<FoundListener>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundListener {
    pub port: u32,
    pub protocol: String,
    /// The target group it forwards to (None: another action).
    pub target_group: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundTargetGroup {
    pub name: String,
    pub port: u32,
    pub protocol: String,
    /// instance, ip, lambda, alb.
    pub target_type: String,
    pub health_check: HealthCheck,
    pub deregistration_delay: u32,
    pub instances: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundStage {
    pub name: String,
    /// The deployment it serves.
    pub deployment_id: String,
    pub variables: BTreeMap<String, String>,
    pub throttle: Option<Throttle>,
    pub cache_gb: Option<String>,
    pub access_log: Option<AccessLog>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundUsagePlan {
    pub id: String,
    pub name: String,
    pub throttle: Option<Throttle>,
    pub quota: Option<Quota>,
    /// (API id, stage) pairs it covers, this API's and others'.
    pub api_stages: Vec<(String, String)>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoundKey {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    /// Names of the usage plans it is in (AWS's names when found; the topology's in an
    /// `Adoption`).
    pub usage_plans: Vec<String>,
    pub tags: BTreeMap<String, String>,
    /// Usage plans over other APIs it is also in.
    pub elsewhere: Vec<String>,
}
