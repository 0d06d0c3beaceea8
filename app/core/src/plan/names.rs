//! Names and tags of what Portico creates in AWS: the one place they are made. The planner, the
//! health assessment, the diagram and the pages all call these functions, so a page never names
//! a resource the worker did not create. Names are deterministic, so a re-run after a crash
//! finds what an interrupted run made; tags mark ownership, so Portico never touches a resource
//! it did not make.
//!
//! The load balancer, its target groups and the VPC link carry an *epoch*: a short hash of the
//! settings AWS cannot change in place (the VPC and the NLB's subnets). Changing them gives new
//! names, so the replacement can be built beside the old resources (create before destroy).

use crate::model::topology::{Adopted, Gateway};

/// The tag naming the Portico gateway a resource belongs to.
pub const TAG_GATEWAY: &str = "portico:gateway";
/// The installation that made a resource (its id, from the database): two installations
/// sharing an account never take each other's resources, even for gateways of one name.
pub const TAG_INSTALLATION: &str = "portico:installation";
/// On target groups: the backend port it serves.
pub const TAG_PORT: &str = "portico:port";
/// On API keys: Portico's key id.
pub const TAG_KEY: &str = "portico:key";
/// AWS's limit for load balancer and target group names (and so VPC links, named after the
/// load balancer).
pub const NAME_MAX: usize = 32;
/// The description of every deployment Portico makes starts with this, then the routes'
/// fingerprint, so a stage's freshness is read from AWS, not remembered.
pub const DEPLOYMENT_PREFIX: &str = "portico routes ";

/// FNV-1a: tiny, stable across platforms and releases (std's hasher is neither). Every hash in
/// a name or a fingerprint is this one, so names made by one release are found by the next.
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

/// The adopted resources whose names hold in the gateway's current network: none once the VPC
/// or the subnets change (the replacement is Portico's, named Portico's way).
fn adopted_network(gateway: &Gateway) -> Option<&Adopted> {
    gateway
        .adopted
        .as_ref()
        .filter(|a| a.epoch == epoch(gateway))
}

/// `pt-<gateway>-<epoch>`, or the adopted load balancer's name.
pub fn load_balancer(gateway: &Gateway) -> String {
    match adopted_network(gateway) {
        Some(a) => a.load_balancer.name.clone(),
        None => fit(&gateway.name, &format!("-{}", epoch(gateway))),
    }
}

/// `pt-<gateway>-<port>-<epoch>`: what the worker creates for a backend port, and what the
/// ports page shows (or the adopted target group's name).
pub fn target_group(gateway: &Gateway, port: u32) -> String {
    match adopted_network(gateway).and_then(|a| a.target_groups.get(&port)) {
        Some(tg) => tg.name.clone(),
        None => fit(&gateway.name, &format!("-{port}-{}", epoch(gateway))),
    }
}

/// The VPC link is named after the load balancer it reaches (or keeps its adopted name).
pub fn vpc_link(gateway: &Gateway) -> String {
    match adopted_network(gateway) {
        Some(a) => a.vpc_link.name.clone(),
        None => load_balancer(gateway),
    }
}

/// The REST API is named after the gateway (or keeps its adopted name).
pub fn rest_api(gateway: &Gateway) -> String {
    match &gateway.adopted {
        Some(a) => a.rest_api.name.clone(),
        None => gateway.name.clone(),
    }
}

/// `<gateway>-<usage plan>`, or the adopted plan's name.
pub fn usage_plan(gateway: &Gateway, plan: &str) -> String {
    match gateway
        .adopted
        .as_ref()
        .and_then(|a| a.usage_plans.get(plan))
    {
        Some(p) => p.name.clone(),
        None => format!("{}-{plan}", gateway.name),
    }
}

/// An API key's AWS name: the gateway, the key's name and Portico's id (names repeat after a
/// rotation).
pub fn api_key(gateway: &Gateway, name: &str, id: i64) -> String {
    format!("{}-{name}-{id}", gateway.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A gateway in the seed's network (epoch `bef9`), with the optional fields defaulted.
    fn gateway(name: &str) -> Gateway {
        serde_json::from_value(serde_json::json!({
            "name": name,
            "region": "ap-northeast-2",
            "vpc_id": "vpc-0a1b2c3d4e5f60718",
            "subnet_ids": ["subnet-0a1b2c3d4e5f6071a", "subnet-0a1b2c3d4e5f60719"],
        }))
        .expect("a gateway")
    }

    #[test]
    fn fnv_matches_the_published_vectors() {
        assert_eq!(fnv1a(b""), 0x811c_9dc5);
        assert_eq!(fnv1a(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn the_seed_names_what_the_worker_creates() {
        let g = gateway("seed");
        assert_eq!(epoch(&g), "bef9", "the subnets' order does not matter");
        assert_eq!(target_group(&g, 8080), "pt-seed-8080-bef9");
        assert_eq!(load_balancer(&g), "pt-seed-bef9");
        assert_eq!(vpc_link(&g), "pt-seed-bef9");
    }

    proptest! {
        #[test]
        fn names_fit_aws(name in "[a-z][a-z0-9-]{0,22}[a-z0-9]", port in 1u32..=65_535) {
            let g = gateway(&name);
            let tg = target_group(&g, port);
            let lb = load_balancer(&g);
            for made in [&tg, &lb] {
                prop_assert!(made.len() <= NAME_MAX, "{} is {} long", made, made.len());
                prop_assert!(made.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
                prop_assert!(made.starts_with("pt-") && !made.ends_with('-'));
            }
            let suffix = format!("-{port}-{}", epoch(&g));
            prop_assert!(tg.ends_with(&suffix), "{} does not end with {}", tg, suffix);
        }
    }
}
