//! The desired topology of one gateway: what the forms edit, what the YAML file holds, and
//! what the planner reads. Entities are keyed by what the user sees (port number, stage name,
//! route path, plan name), kept sorted, so the same topology always serialises the same way.

use super::rules;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    pub gateway: Gateway,
    #[serde(default)]
    pub ports: Vec<BackendPort>,
    #[serde(default)]
    pub stages: Vec<Stage>,
    #[serde(default)]
    pub routes: Vec<Route>,
    #[serde(default)]
    pub usage_plans: Vec<UsagePlan>,
    #[serde(default)]
    pub usage: UsageAssumptions,
}

/// One REST API + its VPC link + its NLB.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    pub name: String,
    pub region: String,
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub endpoint_type: EndpointType,
    /// An IAM role to assume for another account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub apply_mode: ApplyMode,
    #[serde(default)]
    pub drift_mode: DriftMode,
    /// What `portico adopt` took over: the ids and names of resources built by hand before
    /// Portico. Kept by Portico from one generation to the next, never read from a form or an
    /// uploaded file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted: Option<Adopted>,
}

/// The resources a gateway was adopted with. Their names stay as they were (Portico's own
/// naming applies only to what it creates later); the load balancer's, its target groups' and
/// the VPC link's hold while the network they were adopted in (`epoch`) is unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adopted {
    /// The REST API's id (`portico adopt --rest-api`).
    pub rest_api: AwsRef,
    pub vpc_link: AwsRef,
    /// `id` is the ARN.
    pub load_balancer: AwsRef,
    /// By backend port; `id` is the ARN.
    #[serde(default)]
    pub target_groups: BTreeMap<u32, AwsRef>,
    /// By the topology's usage plan name.
    #[serde(default)]
    pub usage_plans: BTreeMap<String, AwsRef>,
    /// The network epoch (`plan::names::epoch`) the load balancer was adopted in.
    pub epoch: String,
    /// The deployments the stages served when adopted, with the description of a Portico
    /// deployment of the adopted routes: they serve those routes, so adopting deploys nothing.
    #[serde(default)]
    pub deployments: BTreeMap<String, String>,
}

/// One AWS resource: its id (or ARN) and its name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsRef {
    pub id: String,
    pub name: String,
}

impl Adopted {
    /// Every adopted resource's id or ARN (what ownership recognises before the tags).
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        [&self.rest_api, &self.vpc_link, &self.load_balancer]
            .into_iter()
            .chain(self.target_groups.values())
            .chain(self.usage_plans.values())
            .map(|r| r.id.as_str())
            .filter(|id| !id.is_empty())
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EndpointType {
    #[default]
    Regional,
    Edge,
    Private,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplyMode {
    #[default]
    Auto,
    Approve,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DriftMode {
    #[default]
    Correct,
    Report,
}

/// A port on the instances, served by one NLB listener and one target group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendPort {
    pub port: u32,
    /// The NLB listener port; the same as `port` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_port: Option<u32>,
    #[serde(default)]
    pub health_check: HealthCheck,
    #[serde(default = "default_deregistration_delay")]
    pub deregistration_delay: u32,
    #[serde(default)]
    pub instances: Vec<String>,
}

fn default_deregistration_delay() -> u32 {
    300
}

impl BackendPort {
    pub fn listener(&self) -> u32 {
        self.listener_port.unwrap_or(self.port)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    #[serde(default)]
    pub protocol: HealthProtocol,
    /// Only for HTTP checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub interval_seconds: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
}

impl Default for HealthCheck {
    fn default() -> Self {
        Self {
            protocol: HealthProtocol::Tcp,
            path: None,
            interval_seconds: 30,
            healthy_threshold: 3,
            unhealthy_threshold: 3,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HealthProtocol {
    #[default]
    Tcp,
    Http,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub name: String,
    /// The port this stage serves by default (carried as the stage variable `backendPort`).
    pub backend_port: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<Throttle>,
    /// Cache size in GB, one of AWS's sizes; no cache when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_gb: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
    /// Where the stage writes its access log; absent leaves the stage's setting as AWS has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log: Option<AccessLogging>,
}

/// A stage's access log, as the topology file writes it: `access_log: off`, or
/// `access_log: !to { destination: ARN, format: … }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessLogging {
    /// No access log: one set on the stage by hand is removed.
    Off,
    /// Written to a CloudWatch Logs group or a Kinesis Data Firehose stream.
    To(AccessLog),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLog {
    /// A log group's ARN (`arn:aws:logs:REGION:ACCOUNT:log-group:NAME`) or a Firehose
    /// stream's (`arn:aws:firehose:REGION:ACCOUNT:deliverystream/amazon-apigateway-NAME`).
    pub destination: String,
    /// One line of `$context` variables; [`rules::ACCESS_LOG_JSON`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

impl AccessLog {
    /// The format the stage writes.
    pub fn format(&self) -> &str {
        self.format.as_deref().unwrap_or(rules::ACCESS_LOG_JSON)
    }

    /// The destination's ARN, trimmed and without the `:*` CloudWatch's console shows after a
    /// log group's.
    pub fn arn(&self) -> &str {
        let d = self.destination.trim();
        d.strip_suffix(":*").unwrap_or(d)
    }

    /// Whether `other` writes the same lines to the same place.
    pub fn same_as(&self, other: &AccessLog) -> bool {
        self.arn() == other.arn() && self.format().trim() == other.format().trim()
    }

    /// The log group's or stream's name, for tables.
    pub fn name(&self) -> &str {
        let t = self.arn();
        t.rsplit_once(":log-group:")
            .or_else(|| t.rsplit_once(":deliverystream/"))
            .map_or(t, |(_, name)| name)
    }

    /// Trimmed, without `:*`, and the default format written as no format.
    fn normalised(self) -> Self {
        let destination = self.arn().to_owned();
        let format = self
            .format
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty() && f != rules::ACCESS_LOG_JSON);
        AccessLog {
            destination,
            format,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    /// Requests per second (AWS takes a fraction).
    pub rate: f64,
    pub burst: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub path: String,
    /// `ANY`, or a set of HTTP methods.
    #[serde(default = "any_method")]
    pub methods: Vec<String>,
    #[serde(default = "yes")]
    pub api_key_required: bool,
    /// A fixed backend port, or the stage's own (`backendPort` variable) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
    /// The path requests take on the backend, when not the route's own: `/dev/{proxy+}` sent
    /// to `/{proxy}`. Parameters are the route's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_path: Option<String>,
}

impl Route {
    /// The path on the backend: `backend_path`, else the route's path with `{proxy+}` written
    /// `{proxy}`.
    pub fn backend(&self) -> String {
        self.backend_path
            .clone()
            .unwrap_or_else(|| self.path.replace("+}", "}"))
    }
}

fn any_method() -> Vec<String> {
    vec!["ANY".into()]
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsagePlan {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<Throttle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<Quota>,
    #[serde(default)]
    pub stages: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    pub limit: u32,
    pub period: QuotaPeriod,
    #[serde(default)]
    pub offset: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum QuotaPeriod {
    Day,
    Week,
    Month,
}

/// What the team expects of traffic, for the cost estimate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageAssumptions {
    pub requests_per_month: u64,
    pub average_response_kb: u32,
    pub new_connections_per_second: u32,
    pub active_connections: u32,
}

impl Default for UsageAssumptions {
    fn default() -> Self {
        Self {
            requests_per_month: 1_000_000,
            average_response_kb: 10,
            new_connections_per_second: 1,
            active_connections: 10,
        }
    }
}

impl Topology {
    /// An empty topology for a new gateway.
    pub fn new(gateway: Gateway) -> Self {
        Self {
            gateway,
            ports: vec![],
            stages: vec![],
            routes: vec![],
            usage_plans: vec![],
            usage: UsageAssumptions::default(),
        }
    }

    /// Reads a topology file (`portico topology apply -f`, the page's upload), normalised.
    /// The error is the message to show: it names the line and the field that did not parse.
    pub fn from_yaml(text: &str) -> Result<Topology, String> {
        serde_yaml_ng::from_str::<Topology>(text)
            .map(Topology::normalised)
            .map_err(|e| format!("The topology file is not valid: {e}"))
    }

    /// The topology as a file `from_yaml` reads back (`portico topology export`, the download).
    pub fn to_yaml(&self) -> Result<String, String> {
        serde_yaml_ng::to_string(self)
            .map_err(|e| format!("cannot write the topology as YAML: {e}"))
    }

    /// Sorted by key, so equal topologies serialise identically (and diff cleanly).
    pub fn normalised(mut self) -> Self {
        self.ports.sort_by_key(|p| p.port);
        self.stages.sort_by(|a, b| a.name.cmp(&b.name));
        self.routes.sort_by(|a, b| a.path.cmp(&b.path));
        self.usage_plans.sort_by(|a, b| a.name.cmp(&b.name));
        for port in &mut self.ports {
            port.instances.sort();
            port.instances.dedup();
        }
        for stage in &mut self.stages {
            stage.access_log = stage.access_log.take().map(|a| match a {
                AccessLogging::To(log) => AccessLogging::To(log.normalised()),
                off => off,
            });
        }
        for plan in &mut self.usage_plans {
            plan.stages.sort();
            plan.stages.dedup();
        }
        for route in &mut self.routes {
            for m in &mut route.methods {
                *m = m.trim().to_ascii_uppercase();
            }
            route.methods.sort();
            route.methods.dedup();
            // A backend path that is the route's own is no backend path of its own.
            let own = route.path.replace("+}", "}");
            route.backend_path = route
                .backend_path
                .take()
                .map(|b| b.trim().to_owned())
                .filter(|b| !b.is_empty() && *b != own);
        }
        self.gateway.subnet_ids.sort();
        self.gateway.subnet_ids.dedup();
        self
    }

    pub fn port(&self, port: u32) -> Option<&BackendPort> {
        self.ports.iter().find(|p| p.port == port)
    }

    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// Who uses a backend port, in words: "stage dev", "route /dev".
    pub fn users_of_port(&self, port: u32) -> Vec<String> {
        let stages = self
            .stages
            .iter()
            .filter(|s| s.backend_port == port)
            .map(|s| format!("stage {}", s.name));
        let routes = self
            .routes
            .iter()
            .filter(|r| r.port == Some(port))
            .map(|r| format!("route {}", r.path));
        stages.chain(routes).collect()
    }

    /// Usage plans that cover a stage.
    pub fn plans_of_stage(&self, stage: &str) -> Vec<String> {
        self.usage_plans
            .iter()
            .filter(|p| p.stages.iter().any(|s| s == stage))
            .map(|p| format!("usage plan {}", p.name))
            .collect()
    }
}
