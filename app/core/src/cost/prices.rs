//! The embedded price table: USD, dated, per region (FACTS.md section 4: AWS's pricing pages as
//! quoted by Infracost's resource files and the AWS Price List files). `portico prices refresh`
//! can override it from the Price List API.
//!
//! To add a region: copy a `Prices` block below, set `region`, `date` and `source`, and fill
//! every price from the AWS pricing pages (or run `portico prices refresh` with that region in
//! use). A region missing here is estimated with us-east-1's prices and says so on the page.

use super::money::Money;
use serde::{Deserialize, Serialize};

/// A tiered price: (requests up to this many, in millions, cumulative; price per million).
pub type Tier = (u64, Money);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prices {
    pub region: String,
    /// When these prices were read.
    pub date: String,
    pub source: String,
    pub nlb_hour: Money,
    pub nlcu_hour: Money,
    pub alb_hour: Money,
    pub lcu_hour: Money,
    /// REST API requests per million, by tier; the last tier has no upper bound (u64::MAX).
    pub rest_tiers: Vec<Tier>,
    pub http_tiers: Vec<Tier>,
    /// Cache per hour by size in GB ("0.5", "1.6" …) where known.
    pub cache_hour: Vec<(String, Money)>,
    /// Data transfer out per GB (first 10 TB), after the free GB each month.
    pub transfer_gb: Money,
    pub transfer_free_gb: u64,
    pub lambda_million_requests: Money,
    pub lambda_gb_second: Money,
}

fn table(region: &str, transfer: &str, rest: [&str; 4], http: [&str; 2]) -> Prices {
    Prices {
        region: region.into(),
        date: "2026-11-24".into(),
        source: "AWS pricing pages via Infracost and the AWS Price List (FACTS.md section 4)"
            .into(),
        nlb_hour: Money::dollars("0.0225"),
        nlcu_hour: Money::dollars("0.006"),
        alb_hour: Money::dollars("0.0225"),
        lcu_hour: Money::dollars("0.008"),
        rest_tiers: vec![
            (333, Money::dollars(rest[0])),
            (1_000, Money::dollars(rest[1])),
            (20_000, Money::dollars(rest[2])),
            (u64::MAX, Money::dollars(rest[3])),
        ],
        http_tiers: vec![
            (300, Money::dollars(http[0])),
            (u64::MAX, Money::dollars(http[1])),
        ],
        cache_hour: vec![("0.5".into(), Money::dollars("0.020"))],
        transfer_gb: Money::dollars(transfer),
        transfer_free_gb: 100,
        lambda_million_requests: Money::dollars("0.20"),
        lambda_gb_second: Money::dollars("0.0000166667"),
    }
}

/// The embedded table.
pub fn embedded() -> Vec<Prices> {
    vec![
        table(
            "us-east-1",
            "0.09",
            ["3.50", "2.80", "2.38", "1.51"],
            ["1.00", "0.90"],
        ),
        table(
            "ap-northeast-2",
            "0.126",
            ["3.50", "3.19", "2.71", "1.72"],
            ["1.23", "1.11"],
        ),
    ]
}

/// The prices for `region`: the given tables first (refreshed ones), then the embedded table,
/// then us-east-1's as an estimate (`exact` false).
pub fn for_region(region: &str, refreshed: &[Prices]) -> (Prices, bool) {
    if let Some(p) = refreshed.iter().find(|p| p.region == region) {
        return (p.clone(), true);
    }
    let embedded = embedded();
    match embedded.iter().find(|p| p.region == region) {
        Some(p) => (p.clone(), true),
        None => (embedded[0].clone(), false),
    }
}
