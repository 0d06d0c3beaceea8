//! The cost model against hand calculations from the price table.

use super::prices::{embedded, for_region};
use super::*;
use crate::model::topology::Topology;
use proptest::prelude::*;

fn seed() -> Topology {
    let text = include_str!("../../../../examples/seed-topology.yaml");
    serde_yaml_ng::from_str::<Topology>(text)
        .unwrap()
        .normalised()
}

fn d(text: &str) -> Money {
    Money::dollars(text)
}

fn line(e: &Estimate, resource: &str) -> Money {
    e.lines
        .iter()
        .find(|l| l.resource == resource)
        .unwrap()
        .amount
}

#[test]
fn money_parses_sums_and_prints_exactly() {
    assert_eq!(d("0.0225").times(730, 1), d("16.425"));
    assert_eq!(d("16.425").exact(), "$16.425");
    assert_eq!(d("16.425").cents(), "$16.43");
    assert_eq!(d("1234567.5").cents(), "$1,234,567.50");
    assert_eq!(d("0.0000166667").0, 16_666_700);
    // Ten cents a million times is exactly $100,000 (no float drift).
    let sum: Money = std::iter::repeat_n(d("0.10"), 1_000_000).sum();
    assert_eq!(sum, d("100000"));
    assert_eq!((d("1") - d("3")).cents(), "-$2.00");
}

#[test]
fn the_seed_in_seoul_equals_the_hand_calculation() {
    // Usage: 10 M requests/month × 20 KB, 5 new connections/s, 100 active.
    let (p, exact) = for_region("ap-northeast-2", &[]);
    assert!(exact);
    let e = estimate(&seed(), &p, exact);
    // NLB: 730 × 0.0225 = 16.425
    assert_eq!(line(&e, "NLB hours"), d("16.425"));
    // NLCU: max(5/800 = 0.00625, 100/100,000 = 0.001, 200 GB / 730 h = 0.27397 GB/h) → processed
    // bytes win: 0.27397 × 730 = 200 NLCU-h × 0.006 = 1.20
    assert_eq!(line(&e, "NLB capacity units (NLCU)"), d("1.2"));
    // REST: 10 M × 3.50 = 35.00
    assert_eq!(line(&e, "REST API requests"), d("35"));
    // Transfer: 10 M × 20 KB = 200 GB − 100 free = 100 GB × 0.126 = 12.60
    assert_eq!(line(&e, "data transfer out"), d("12.6"));
    assert_eq!(e.total, d("65.225"));
    assert_eq!(e.total.cents(), "$65.23");
    assert_eq!(e.price_date, "2026-11-24");
}

#[test]
fn the_seed_in_us_east_1_equals_the_hand_calculation() {
    let (p, _) = for_region("us-east-1", &[]);
    let e = estimate(&seed(), &p, true);
    // 16.425 + 1.20 + 35.00 + 100 GB × 0.09 = 9.00 → 61.625
    assert_eq!(line(&e, "data transfer out"), d("9"));
    assert_eq!(e.total, d("61.625"));
}

#[test]
fn rest_tier_boundaries_are_exact() {
    let (p, _) = for_region("ap-northeast-2", &[]);
    // Exactly 333 M: all in the first tier.
    assert_eq!(tiered(333_000_000, &p.rest_tiers).0, d("1165.5"));
    // One more million: 333 × 3.50 + 1 × 3.19.
    assert_eq!(tiered(334_000_000, &p.rest_tiers).0, d("1168.69"));
    // One request past the boundary costs the second tier's price per request.
    assert_eq!(
        tiered(333_000_001, &p.rest_tiers).0 - tiered(333_000_000, &p.rest_tiers).0,
        d("0.00000319")
    );
    // 1 B: 333 × 3.50 + 667 × 3.19 = 1165.5 + 2127.73
    assert_eq!(tiered(1_000_000_000, &p.rest_tiers).0, d("3293.23"));
    // 21 B: 3293.23 + 19,000 × 2.71 (51,490) + 1,000 × 1.72 (1,720)
    assert_eq!(tiered(21_000_000_000, &p.rest_tiers).0, d("56503.23"));
}

#[test]
fn a_cache_and_an_unknown_region_say_what_they_used() {
    let mut t = seed();
    t.stages[0].cache_gb = Some("0.5".into());
    t.stages[1].cache_gb = Some("237".into());
    let (p, exact) = for_region("eu-west-9", &[]);
    assert!(
        !exact,
        "an unknown region is estimated with us-east-1's prices"
    );
    let e = estimate(&t, &p, exact);
    assert_eq!(line(&e, "cache of stage dev"), d("14.6"));
    let unknown = e
        .lines
        .iter()
        .find(|l| l.resource == "cache of stage release")
        .unwrap();
    assert_eq!(unknown.amount, Money::ZERO);
    assert!(unknown.formula.contains("no price for this size"));
}

#[test]
fn the_alternatives_and_where_they_cross() {
    let (p, _) = for_region("ap-northeast-2", &[]);
    let t = seed();
    let alts = alternatives(&t, &p, LambdaInputs::default());
    // Three stages on three NLBs: two more NLBs.
    assert_eq!(alts[0].difference, d("32.85"));
    assert!(alts[0].crossover.starts_with("dearer at every volume"));
    // Lambda: 10 M × 0.1 s × 0.5 GB = 500,000 GB-s × 0.0000166667 = 8.33335 + 10 × 0.20 = 2
    // + REST 35 + transfer 12.60 = 57.93335
    assert_eq!(alts[1].monthly, d("57.93335"));
    assert!(
        alts[1]
            .crossover
            .contains("dearer than the current shape above"),
        "{}",
        alts[1].crossover
    );
    // HTTP API: NLB 16.425 + NLCU 1.20 + 10 × 1.23 + 12.60 = 42.525
    assert_eq!(alts[2].monthly, d("42.525"));
    assert!(alts[2].note.contains("no API keys or usage plans"));
    // ALB: 16.425 + LCU max(5/25 = 0.2, 100/3000, 0.274) = 0.27397 … × 730 × 0.008 = 1.60 + 35 + 12.60
    assert_eq!(alts[3].monthly, d("65.625"));
}

proptest! {
    #[test]
    fn totals_are_the_sum_of_their_lines_and_grow_with_requests(
        req in 0u64..50_000_000_000, kb in 0u32..1000, nc in 0u32..10_000, ac in 0u32..1_000_000,
    ) {
        for p in embedded() {
            let mut t = seed();
            t.usage = crate::model::topology::UsageAssumptions {
                requests_per_month: req, average_response_kb: kb,
                new_connections_per_second: nc, active_connections: ac,
            };
            let e = estimate(&t, &p, true);
            prop_assert_eq!(e.total, e.lines.iter().map(|l| l.amount).sum::<Money>());
            // Without formulas (a headline, the overview's column), the same amounts.
            let bare = amounts(&t, &p, true);
            let amount_of = |e: &Estimate| e.lines.iter().map(|l| (l.resource.clone(), l.amount)).collect::<Vec<_>>();
            prop_assert_eq!(amount_of(&bare), amount_of(&e));
            prop_assert!(bare.lines.iter().all(|l| l.formula.is_empty()));
            prop_assert_eq!(monthly_total(&t, &p), e.total);
            t.usage.requests_per_month = req + 1_000_000;
            prop_assert!(estimate(&t, &p, true).total >= e.total);
        }
    }
}
