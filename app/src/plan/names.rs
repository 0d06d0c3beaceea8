//! Names and tags of what Portico creates in AWS. Names are deterministic, so a re-run after a
//! crash finds what an interrupted run made; tags mark ownership, so Portico never touches a
//! resource it did not make.
//!
//! The load balancer, its target groups and the VPC link carry an *epoch*: a short hash of the
//! settings AWS cannot change in place (the VPC and the NLB's subnets). Changing them gives new
//! names, so the replacement can be built beside the old resources (create before destroy).

use crate::model::topology::Gateway;

/// The tag naming the Portico gateway a resource belongs to.
pub const TAG_GATEWAY: &str = "portico:gateway";
/// On target groups: the backend port it serves.
pub const TAG_PORT: &str = "portico:port";
/// On API keys: Portico's key id.
pub const TAG_KEY: &str = "portico:key";
/// AWS's limit for load balancer and target group names.
pub const NAME_MAX: usize = 32;
/// The description of every deployment Portico makes starts with this, then the routes'
/// fingerprint, so a stage's freshness is read from AWS, not remembered.
pub const DEPLOYMENT_PREFIX: &str = "portico routes ";

/// FNV-1a: tiny, stable across platforms and releases (std's hasher is neither).
pub fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// 64-bit FNV-1a, for fingerprints.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The epoch of a gateway's network settings: 4 hex digits.
pub fn epoch(gateway: &Gateway) -> String {
    let mut subnets = gateway.subnet_ids.clone();
    subnets.sort();
    let key = format!("{}|{}", gateway.vpc_id, subnets.join(","));
    format!("{:04x}", fnv1a(key.as_bytes()) & 0xffff)
}

/// `pt-<gateway><suffix>`, shortened to `NAME_MAX` by hashing the gateway name when needed.
fn fit(gateway: &str, suffix: &str) -> String {
    let full = format!("pt-{gateway}{suffix}");
    if full.len() <= NAME_MAX {
        return full;
    }
    let tail = format!("-{:06x}{suffix}", fnv1a(gateway.as_bytes()) & 0xff_ffff);
    let keep = NAME_MAX.saturating_sub(tail.len() + 3);
    let head: String = gateway.chars().take(keep).collect();
    format!("pt-{}{tail}", head.trim_end_matches('-'))
}

pub fn load_balancer(gateway: &Gateway) -> String {
    fit(&gateway.name, &format!("-{}", epoch(gateway)))
}

pub fn target_group(gateway: &Gateway, port: u32) -> String {
    fit(&gateway.name, &format!("-{port}-{}", epoch(gateway)))
}

pub fn vpc_link(gateway: &Gateway) -> String {
    load_balancer(gateway)
}

/// The REST API is named after the gateway.
pub fn rest_api(gateway: &Gateway) -> String {
    gateway.name.clone()
}

pub fn usage_plan(gateway: &Gateway, plan: &str) -> String {
    format!("{}-{plan}", gateway.name)
}

/// An API key's AWS name: the gateway, the key's name and Portico's id (names repeat after a
/// rotation).
pub fn api_key(gateway: &Gateway, name: &str, id: i64) -> String {
    format!("{}-{name}-{id}", gateway.name)
}
