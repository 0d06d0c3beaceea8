//! The cost of the last 30 days as measured: the hours CloudWatch counted (requests from the
//! stages' `Count`; bytes and flows from the load balancer) priced at the estimate's prices.
//! NLB capacity units are billed per hour at the highest of their dimensions in that hour, so
//! each hour is worked out on its own, not from the month's average. It also turns the
//! measurements into usage assumptions, for the estimate and the alternatives.

use super::prices::Prices;
use super::{
    plain, ratio, tiered, Estimate, Line, Money, HOURS, KB_PER_GB, NLCU_ACTIVE, NLCU_DIMENSIONS,
    NLCU_GB, NLCU_NEW_PER_SECOND,
};
use crate::model::topology::{Topology, UsageAssumptions};
use serde::{Deserialize, Serialize};

/// The window measured (and the 30-day view's): the last 30 days, in hours.
pub const WINDOW_HOURS: i64 = 30 * 24;

/// An hour in seconds: the measured hours' period.
pub const HOUR_SECONDS: i64 = 3600;

/// One hour as CloudWatch counted it (whole numbers: AWS bills whole requests and bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hour {
    /// The hour's start, unix seconds.
    pub at: i64,
    /// Requests of every stage (`Count`, Sum).
    pub requests: u64,
    /// Bytes through the load balancer, both ways (`ProcessedBytes`, Sum).
    pub bytes: u64,
    /// Connections opened (`NewFlowCount`, Sum).
    pub new_flows: u64,
    /// Connections open at once (`ActiveFlowCount`, Average).
    pub active_flows: u64,
}

/// What was measured over a window of `hours` hours.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    pub from: i64,
    pub to: i64,
    /// Hours in the window: from the first hour CloudWatch had data for (at most 30 days ago).
    pub hours: i64,
    pub estimate: Estimate,
    /// The total as a 730-hour month (the window is shorter while data builds up).
    pub monthly: Money,
    /// The same usage as assumptions for a 730-hour month.
    pub usage: UsageAssumptions,
}

/// NLCU-hours are summed exactly in units of 1 / `NLCU_UNIT`: a common multiple of the
/// three dimensions' divisors in an hour (800 new connections a second × 3,600 s, 100,000
/// active, 1 GB in bytes).
const NLCU_UNIT: i128 = 9_000_000_000;
const _: () = assert!(
    NLCU_UNIT % (3600 * NLCU_NEW_PER_SECOND) == 0
        && NLCU_UNIT % NLCU_ACTIVE == 0
        && NLCU_UNIT % (NLCU_GB * 1_000_000_000) == 0
);

/// An hour's NLCU in units of 1 / `NLCU_UNIT`: the highest of its three dimensions.
fn hour_nlcu(h: &Hour) -> i128 {
    let new_flows = i128::from(h.new_flows) * (NLCU_UNIT / (3600 * NLCU_NEW_PER_SECOND));
    let active = i128::from(h.active_flows) * (NLCU_UNIT / NLCU_ACTIVE);
    let bytes = i128::from(h.bytes) * (NLCU_UNIT / (NLCU_GB * 1_000_000_000));
    new_flows.max(active).max(bytes)
}

/// The window's cost at `p`'s prices. `hours` are the hours with data in [`from`, `to`)
/// (an hour without any counts as no traffic); `t` says what runs every hour (the NLB when
/// the gateway has backend ports, each stage's cache).
pub fn measured(
    t: &Topology,
    hours: &[Hour],
    from: i64,
    to: i64,
    p: &Prices,
    exact_region: bool,
) -> Measured {
    let window = ((to - from) / HOUR_SECONDS).max(0);
    let hours: Vec<&Hour> = hours
        .iter()
        .filter(|h| (from..to).contains(&h.at))
        .collect();
    // Summed in i128: 720 hours of any u64 cannot overflow it.
    let sum = |of: fn(&Hour) -> u64| -> i128 { hours.iter().map(|h| i128::from(of(h))).sum() };
    let (requests, bytes) = (sum(|h| h.requests), sum(|h| h.bytes));
    let (new_flows, active_hours) = (sum(|h| h.new_flows), sum(|h| h.active_flows));
    let window_i = i128::from(window.max(1));
    let narrow = |n: i128| u32::try_from(n).unwrap_or(u32::MAX);
    let mut lines = vec![];
    if !t.ports.is_empty() {
        lines.push(Line {
            resource: "NLB hours".into(),
            amount: p.nlb_hour.times(i128::from(window), 1),
            formula: format!("{window} h × {}/h", p.nlb_hour.exact()),
        });
        let units: i128 = hours.iter().map(|h| hour_nlcu(h)).sum();
        lines.push(Line {
            resource: "NLB capacity units (NLCU)".into(),
            amount: p.nlcu_hour.times(units, NLCU_UNIT),
            formula: format!(
                "each hour's highest of {NLCU_DIMENSIONS} (connections as the load balancer's flows), summed over {window} h = {} NLCU-h × {}/NLCU-h",
                ratio(units, NLCU_UNIT),
                p.nlcu_hour.exact()
            ),
        });
    }
    let (amount, formula) = tiered(u64::try_from(requests).unwrap_or(u64::MAX), &p.rest_tiers);
    lines.push(Line {
        resource: "REST API requests".into(),
        amount,
        formula: format!("{} requests counted: {formula}", plain(requests)),
    });
    for stage in &t.stages {
        if let Some(size) = &stage.cache_gb {
            if let Some((_, price)) = p.cache_hour.iter().find(|(s, _)| s == size) {
                lines.push(Line {
                    resource: format!("cache of stage {}", stage.name),
                    amount: price.times(i128::from(window), 1),
                    formula: format!("{size} GB cache: {window} h × {}/h", price.exact()),
                });
            }
        }
    }
    // The load balancer's bytes, both ways, stand in for what API Gateway sent out: an
    // approximation (requests count too, and answers from a stage's cache never pass it).
    let kb = bytes / 1000;
    let free = i128::from(p.transfer_free_gb) * KB_PER_GB;
    let billable = (kb - free).max(0);
    lines.push(Line {
        resource: "data transfer out".into(),
        amount: p.transfer_gb.times(billable, KB_PER_GB),
        formula: format!(
            "{} GB through the NLB (both ways, standing in for what went out); first {} GB free; {} GB × {}/GB",
            ratio(kb, KB_PER_GB),
            p.transfer_free_gb,
            ratio(billable, KB_PER_GB),
            p.transfer_gb.exact()
        ),
    });
    let total: Money = lines.iter().map(|l| l.amount).sum();
    let usage = UsageAssumptions {
        requests_per_month: u64::try_from(requests * HOURS / window_i).unwrap_or(u64::MAX),
        // Any bytes at all are at least 1 KB a request: 0 would make the data out free.
        average_response_kb: if requests == 0 {
            t.usage.average_response_kb
        } else if bytes > 0 {
            narrow(div_round(bytes, requests * 1000).max(1))
        } else {
            0
        },
        new_connections_per_second: narrow(div_round(
            new_flows,
            window_i * i128::from(HOUR_SECONDS),
        )),
        active_connections: narrow(div_round(active_hours, window_i)),
    };
    Measured {
        from,
        to,
        hours: window,
        monthly: total.times(HOURS, i128::from(window.max(1))),
        estimate: Estimate {
            region: p.region.clone(),
            price_date: p.date.clone(),
            price_source: p.source.clone(),
            exact_region,
            lines,
            total,
        },
        usage,
    }
}

/// `n / d` rounded half up (`d` > 0).
fn div_round(n: i128, d: i128) -> i128 {
    (n + d / 2) / d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::prices::embedded;
    use crate::cost::Money;
    use proptest::prelude::*;

    fn seed() -> Topology {
        let text = include_str!("../../../../examples/seed-topology.yaml");
        serde_yaml_ng::from_str::<Topology>(text)
            .unwrap()
            .normalised()
    }

    fn line(m: &Measured, resource: &str) -> Money {
        m.estimate
            .lines
            .iter()
            .find(|l| l.resource == resource)
            .unwrap_or_else(|| panic!("no line {resource}"))
            .amount
    }

    fn two_hours() -> [Hour; 2] {
        [
            // Bytes weigh most: 2 GB in the hour is 2 NLCU (800 new flows/s is 1, 50,000
            // active 0.5).
            Hour {
                at: 0,
                requests: 1_000_000,
                bytes: 2_000_000_000,
                new_flows: 2_880_000,
                active_flows: 50_000,
            },
            // Active flows weigh most: 300,000 is 3 NLCU.
            Hour {
                at: 3600,
                requests: 500_000,
                bytes: 0,
                new_flows: 0,
                active_flows: 300_000,
            },
        ]
    }

    #[test]
    fn each_hour_is_billed_at_its_own_highest_dimension() {
        let t = seed();
        let p = embedded().remove(0);
        let m = measured(&t, &two_hours(), 0, 7200, &p, true);
        assert_eq!(m.hours, 2);
        // By hand: 2 h × $0.0225; (2 + 3) NLCU-h × $0.006; 1.5 M requests × $3.50/M; 2 GB is
        // within the free 100 GB.
        assert_eq!(line(&m, "NLB hours"), Money::dollars("0.045"));
        assert_eq!(
            line(&m, "NLB capacity units (NLCU)"),
            Money::dollars("0.03")
        );
        assert_eq!(line(&m, "REST API requests"), Money::dollars("5.25"));
        assert_eq!(line(&m, "data transfer out"), Money::ZERO);
        let caches: Money = t
            .stages
            .iter()
            .filter(|s| s.cache_gb.as_deref() == Some("0.5"))
            .map(|_| Money::dollars("0.040"))
            .sum();
        assert_eq!(
            m.estimate.total,
            Money::dollars("5.325") + caches,
            "{:?}",
            m.estimate.lines
        );
        let nlcu = m
            .estimate
            .lines
            .iter()
            .find(|l| l.resource.starts_with("NLB capacity"));
        assert!(nlcu.unwrap().formula.contains("5.000 NLCU-h"));
        // A 730-hour month of it: the total × 365.
        assert_eq!(m.monthly, m.estimate.total.times(365, 1));
        // As a 730-hour month: 1.5 M × 365; 2 GB over 1.5 M requests is 1.3 KB each; 2.88 M
        // flows over 7,200 s; 350,000 active flow-hours over 2 h.
        assert_eq!(
            m.usage,
            UsageAssumptions {
                requests_per_month: 547_500_000,
                average_response_kb: 1,
                new_connections_per_second: 400,
                active_connections: 175_000,
            }
        );
    }

    #[test]
    fn hours_outside_the_window_are_not_counted() {
        let t = seed();
        let p = embedded().remove(0);
        let inside = measured(&t, &two_hours()[..1], 0, 3600, &p, true);
        let both = measured(&t, &two_hours(), 0, 3600, &p, true);
        assert_eq!(inside.estimate.total, both.estimate.total);
        assert_eq!(inside.usage, both.usage);
    }

    #[test]
    fn small_answers_are_at_least_a_kilobyte() {
        let t = seed();
        let p = embedded().remove(0);
        let hour = Hour {
            at: 0,
            requests: 1000,
            bytes: 200_000,
            ..Hour::default()
        };
        assert_eq!(
            measured(&t, &[hour], 0, 3600, &p, true)
                .usage
                .average_response_kb,
            1
        );
    }

    #[test]
    fn transfer_past_the_free_tier_and_no_traffic() {
        let t = seed();
        let p = embedded().remove(0);
        let hour = Hour {
            at: 0,
            bytes: 150_000_000_000,
            ..Hour::default()
        };
        let m = measured(&t, &[hour], 0, 3600, &p, true);
        // 150 GB − 100 GB free = 50 GB × $0.09; 150 NLCU for the hour.
        assert_eq!(line(&m, "data transfer out"), Money::dollars("4.5"));
        assert_eq!(line(&m, "NLB capacity units (NLCU)"), Money::dollars("0.9"));
        // No requests: the response size stays as assumed.
        assert_eq!(m.usage.average_response_kb, t.usage.average_response_kb);
        let quiet = measured(&t, &[], 0, 24 * 3600, &p, true);
        assert_eq!(line(&quiet, "NLB hours"), Money::dollars("0.54"));
        assert_eq!(line(&quiet, "REST API requests"), Money::ZERO);
        assert_eq!(quiet.usage.requests_per_month, 0);
    }

    proptest! {
        #[test]
        fn more_traffic_never_costs_less(
            requests in 0u64..10_000_000_000,
            bytes in 0u64..1_000_000_000_000,
            flows in 0u64..100_000_000,
            active in 0u64..10_000_000,
            extra in 1u64..1_000_000_000,
            which in 0usize..4,
        ) {
            let t = seed();
            let p = embedded().remove(0);
            let hour = Hour { at: 0, requests, bytes, new_flows: flows, active_flows: active };
            let mut more = hour;
            match which {
                0 => more.requests += extra,
                1 => more.bytes += extra,
                2 => more.new_flows += extra,
                _ => more.active_flows += extra,
            }
            let a = measured(&t, &[hour], 0, 3600, &p, true).estimate.total;
            let b = measured(&t, &[more], 0, 3600, &p, true).estimate.total;
            prop_assert!(b >= a);
        }
    }
}
