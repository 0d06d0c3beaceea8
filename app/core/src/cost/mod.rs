//! The cost model: a pure function from a topology, its usage assumptions and a price table to a
//! monthly estimate (730 hours), line by line, each with its formula and the prices it used.
//! It runs in the browser too, so the forms show what an edit costs as it is typed. Money is
//! integer pico-dollars (`Money`), never f64.

pub mod measured;
pub mod money;
pub mod prices;

#[cfg(test)]
mod tests;

use crate::model::topology::{Topology, UsageAssumptions};
pub use money::Money;
use prices::{Prices, Tier};
use serde::{Deserialize, Serialize};

/// Hours in a month, as AWS and Infracost bill.
pub const HOURS: i128 = 730;
/// KB per GB (decimal, as AWS's data-transfer and LCU pages count).
const KB_PER_GB: i128 = 1_000_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// What it is for: "NLB hours", "REST API requests", "cache of stage dev" …
    pub resource: String,
    pub amount: Money,
    /// How it was reached: "730 h × $0.0225/h".
    pub formula: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub region: String,
    pub price_date: String,
    pub price_source: String,
    /// False when the region is not in the price table and us-east-1's prices stood in.
    pub exact_region: bool,
    pub lines: Vec<Line>,
    pub total: Money,
}

/// A whole number with thousands separated: 4,175,611.
pub fn plain(n: i128) -> String {
    Money(n * money::PICO_PER_DOLLAR)
        .exact()
        .trim_start_matches('$')
        .to_string()
}

/// A fraction for display, to 3 decimals.
fn ratio(num: i128, den: i128) -> String {
    let milli = (num * 1000 + den / 2) / den;
    format!("{}.{:03}", milli / 1000, milli % 1000)
}

/// Whether a computation also writes out its formula: the page shows every formula, while the
/// alternatives' crossover search only compares amounts, dozens of probes per alternative.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Say {
    Formula,
    AmountOnly,
}

impl Say {
    fn text(self, formula: impl FnOnce() -> String) -> String {
        match self {
            Say::Formula => formula(),
            Say::AmountOnly => String::new(),
        }
    }
}

/// Requests priced by tier (tier bounds in millions, cumulative).
pub fn tiered(requests: u64, tiers: &[Tier]) -> (Money, String) {
    tiered_saying(requests, tiers, Say::Formula)
}

fn tiered_saying(requests: u64, tiers: &[Tier], say: Say) -> (Money, String) {
    let mut left = i128::from(requests);
    let mut lower: i128 = 0;
    let mut total = Money::ZERO;
    let mut parts = vec![];
    for (upper, price) in tiers {
        if left <= 0 {
            break;
        }
        let cap = if *upper == u64::MAX {
            left
        } else {
            i128::from(*upper) * 1_000_000 - lower
        };
        let here = left.min(cap);
        total += price.times(here, 1_000_000);
        if say == Say::Formula {
            parts.push(format!(
                "{} M × {}/M",
                ratio(here, 1_000_000),
                price.exact()
            ));
        }
        left -= here;
        lower += cap;
    }
    if parts.is_empty() && say == Say::Formula {
        parts.push("0 requests".into());
    }
    (total, parts.join(" + "))
}

/// Data processed per month, in KB.
fn kb_per_month(u: &UsageAssumptions) -> i128 {
    i128::from(u.requests_per_month) * i128::from(u.average_response_kb)
}

/// What one NLB capacity unit (NLCU) covers for TCP in an hour: new connections a second,
/// connections open at once, and GB processed (AWS's Elastic Load Balancing pricing).
const NLCU_NEW_PER_SECOND: i128 = 800;
const NLCU_ACTIVE: i128 = 100_000;
const NLCU_GB: i128 = 1;

/// The NLCU dimensions in words, for formulas.
const NLCU_DIMENSIONS: &str =
    "new connections/s ÷ 800, active connections ÷ 100,000, GB processed per hour ÷ 1";

/// The highest NLCU dimension per hour, as a fraction (numerator, denominator), and its name.
fn nlcu(u: &UsageAssumptions) -> ((i128, i128), String) {
    let dims = [
        (
            (
                i128::from(u.new_connections_per_second),
                NLCU_NEW_PER_SECOND,
            ),
            "new connections/s ÷ 800",
        ),
        (
            (i128::from(u.active_connections), NLCU_ACTIVE),
            "active connections ÷ 100,000",
        ),
        (
            (kb_per_month(u), KB_PER_GB * NLCU_GB * HOURS),
            "GB processed per hour ÷ 1",
        ),
    ];
    let best = dims
        .iter()
        .max_by(|a, b| (a.0 .0 * b.0 .1).cmp(&(b.0 .0 * a.0 .1)))
        .expect("three dimensions");
    (best.0, best.1.to_string())
}

fn transfer(u: &UsageAssumptions, p: &Prices, say: Say) -> Line {
    let kb = kb_per_month(u);
    let free = i128::from(p.transfer_free_gb) * KB_PER_GB;
    let billable = (kb - free).max(0);
    Line {
        resource: "data transfer out".into(),
        amount: p.transfer_gb.times(billable, KB_PER_GB),
        formula: say.text(|| {
            format!(
                "{} requests × {} KB = {} GB; first {} GB free; {} GB × {}/GB",
                plain(i128::from(u.requests_per_month)),
                u.average_response_kb,
                ratio(kb, KB_PER_GB),
                p.transfer_free_gb,
                ratio(billable, KB_PER_GB),
                p.transfer_gb.exact()
            )
        }),
    }
}

fn rest_requests(u: &UsageAssumptions, p: &Prices, say: Say) -> Line {
    let (amount, formula) = tiered_saying(u.requests_per_month, &p.rest_tiers, say);
    Line {
        resource: "REST API requests".into(),
        amount,
        formula,
    }
}

/// The monthly estimate of `t` at `p`'s prices.
pub fn estimate(t: &Topology, p: &Prices, exact_region: bool) -> Estimate {
    estimate_at(t, &t.usage, p, exact_region, Say::Formula)
}

/// The estimate's lines and total without their formulas (a headline: what weighs most).
pub fn amounts(t: &Topology, p: &Prices, exact_region: bool) -> Estimate {
    estimate_at(t, &t.usage, p, exact_region, Say::AmountOnly)
}

/// The monthly total alone (the overview's column): the estimate without writing out its
/// formulas.
pub fn monthly_total(t: &Topology, p: &Prices) -> Money {
    amounts(t, p, true).total
}

/// The estimate of `t`'s shape at usage `u` (the alternatives' volume search asks this many
/// times, so the topology is never copied for it).
fn estimate_at(
    t: &Topology,
    u: &UsageAssumptions,
    p: &Prices,
    exact_region: bool,
    say: Say,
) -> Estimate {
    let mut lines = vec![];
    if !t.ports.is_empty() {
        lines.push(Line {
            resource: "NLB hours".into(),
            amount: p.nlb_hour.times(HOURS, 1),
            formula: say.text(|| format!("730 h × {}/h", p.nlb_hour.exact())),
        });
        let ((num, den), dim) = nlcu(u);
        lines.push(Line {
            resource: "NLB capacity units (NLCU)".into(),
            amount: p.nlcu_hour.times(num * HOURS, den),
            formula: say.text(|| {
                format!(
                    "highest of {NLCU_DIMENSIONS} = {} NLCU ({dim}) × 730 h × {}/NLCU-h",
                    ratio(num, den),
                    p.nlcu_hour.exact()
                )
            }),
        });
    }
    lines.push(rest_requests(u, p, say));
    for stage in &t.stages {
        if let Some(size) = &stage.cache_gb {
            match p.cache_hour.iter().find(|(s, _)| s == size) {
                Some((_, price)) => lines.push(Line {
                    resource: format!("cache of stage {}", stage.name),
                    amount: price.times(HOURS, 1),
                    formula: say.text(|| format!("{size} GB cache: 730 h × {}/h", price.exact())),
                }),
                None => lines.push(Line {
                    resource: format!("cache of stage {}", stage.name),
                    amount: Money::ZERO,
                    formula: format!(
                        "{size} GB cache: no price for this size in the table (not counted)"
                    ),
                }),
            }
        }
    }
    lines.push(transfer(u, p, say));
    let total = lines.iter().map(|l| l.amount).sum();
    Estimate {
        region: p.region.clone(),
        price_date: p.date.clone(),
        price_source: p.source.clone(),
        exact_region,
        lines,
        total,
    }
}

/// What a Lambda proxy would run with (editable on the page).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LambdaInputs {
    pub duration_ms: u32,
    pub memory_mb: u32,
}

impl Default for LambdaInputs {
    fn default() -> Self {
        Self {
            duration_ms: 100,
            memory_mb: 512,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    pub name: String,
    pub monthly: Money,
    /// Monthly cost minus the current shape's (negative: cheaper).
    pub difference: Money,
    pub formula: String,
    pub note: String,
    /// Where it turns cheaper or dearer than the current shape, in requests per month.
    pub crossover: String,
}

fn lambda_cost(u: &UsageAssumptions, p: &Prices, l: LambdaInputs, say: Say) -> (Money, String) {
    let req = i128::from(u.requests_per_month);
    let compute = p.lambda_gb_second.times(
        req * i128::from(l.duration_ms) * i128::from(l.memory_mb),
        1000 * 1024,
    );
    let requests = p.lambda_million_requests.times(req, 1_000_000);
    (
        compute + requests,
        say.text(|| {
            format!(
                "{} requests × {} ms × {} MB = {} GB-s × {}/GB-s + {} M × {}/M",
                plain(req),
                l.duration_ms,
                l.memory_mb,
                ratio(
                    req * i128::from(l.duration_ms) * i128::from(l.memory_mb),
                    1000 * 1024
                ),
                p.lambda_gb_second.exact(),
                ratio(req, 1_000_000),
                p.lambda_million_requests.exact()
            )
        }),
    )
}

fn alb(u: &UsageAssumptions, p: &Prices, say: Say) -> (Money, String) {
    let dims = [
        (i128::from(u.new_connections_per_second), 25),
        (i128::from(u.active_connections), 3_000),
        (kb_per_month(u), KB_PER_GB * HOURS),
    ];
    let (num, den) = *dims
        .iter()
        .max_by(|a, b| (a.0 * b.1).cmp(&(b.0 * a.1)))
        .expect("dims");
    (
        p.alb_hour.times(HOURS, 1) + p.lcu_hour.times(num * HOURS, den),
        say.text(|| {
            format!(
                "730 h × {}/h + {} LCU × 730 h × {}/LCU-h",
                p.alb_hour.exact(),
                ratio(num, den),
                p.lcu_hour.exact()
            )
        }),
    )
}

/// The alternatives' monthly cost at usage `u` (index: 0 one NLB per stage, 1 Lambda, 2 HTTP API, 3 ALB).
fn alternative_cost(
    t: &Topology,
    u: &UsageAssumptions,
    p: &Prices,
    l: LambdaInputs,
    which: usize,
    say: Say,
) -> (Money, String) {
    let current = estimate_at(t, u, p, true, Say::AmountOnly).total;
    let transfer = transfer(u, p, Say::AmountOnly).amount;
    let rest = rest_requests(u, p, Say::AmountOnly).amount;
    match which {
        0 => {
            let extra = t.stages.len().saturating_sub(1) as i128;
            (
                current + p.nlb_hour.times(HOURS * extra, 1),
                say.text(|| {
                    format!(
                        "the current shape + {extra} more NLB × 730 h × {}/h",
                        p.nlb_hour.exact()
                    )
                }),
            )
        }
        1 => {
            let (lambda, formula) = lambda_cost(u, p, l, say);
            (
                lambda + rest + transfer,
                say.text(|| format!("REST requests + data transfer + Lambda: {formula}")),
            )
        }
        2 => {
            let (http, formula) = tiered_saying(u.requests_per_month, &p.http_tiers, say);
            let nlb: Money = estimate_at(t, u, p, true, Say::AmountOnly)
                .lines
                .iter()
                .filter(|l| l.resource.starts_with("NLB"))
                .map(|l| l.amount)
                .sum();
            (
                nlb + http + transfer,
                say.text(|| format!("NLB + NLCU + data transfer + HTTP requests: {formula}")),
            )
        }
        _ => {
            let (alb, formula) = alb(u, p, say);
            (
                alb + rest + transfer,
                say.text(|| format!("REST requests + data transfer + ALB: {formula}")),
            )
        }
    }
}

/// Where `which` turns cheaper or dearer than the current shape as requests per month grow
/// (other assumptions fixed), searched from 1 thousand to 100 billion.
fn crossover(t: &Topology, p: &Prices, l: LambdaInputs, which: usize) -> String {
    let diff = |r: u64| {
        let mut u = t.usage.clone();
        u.requests_per_month = r;
        let current = estimate_at(t, &u, p, true, Say::AmountOnly).total;
        (alternative_cost(t, &u, p, l, which, Say::AmountOnly).0 - current)
            .0
            .signum()
    };
    let (lo, hi) = (1_000u64, 100_000_000_000u64);
    let mut points = vec![lo];
    let mut r = lo;
    while r < hi {
        r = (r * 2).min(hi);
        points.push(r);
    }
    let signs: Vec<i128> = points.iter().map(|&r| diff(r)).collect();
    for i in 1..points.len() {
        if signs[i] != signs[i - 1] {
            // Bisect between points[i-1] and points[i].
            let (mut a, mut b) = (points[i - 1], points[i]);
            let sa = signs[i - 1];
            while b - a > 1 && (b - a) * 1000 > a {
                let m = a + (b - a) / 2;
                if diff(m) == sa {
                    a = m;
                } else {
                    b = m;
                }
            }
            let became = if signs[i] < 0 { "cheaper" } else { "dearer" };
            return format!(
                "{became} than the current shape above about {} requests/month",
                plain(i128::from(b))
            );
        }
    }
    match signs[0] {
        s if s < 0 => {
            "cheaper at every volume from 1 thousand to 100 billion requests/month".into()
        }
        0 => "the same at every volume".into(),
        _ => "dearer at every volume from 1 thousand to 100 billion requests/month".into(),
    }
}

/// The alternatives panel, from the same usage assumptions.
pub fn alternatives(t: &Topology, p: &Prices, l: LambdaInputs) -> Vec<Alternative> {
    let current = estimate(t, p, true).total;
    let names = [
        ("One NLB per stage", "What the shared NLB saves: each stage behind its own NLB."),
        ("Lambda proxy", "A Lambda function behind the REST API instead of the NLB and instances (compute only; your backend moves into Lambda)."),
        ("HTTP API instead of REST", "Cheaper requests, but HTTP APIs have no API keys or usage plans."),
        ("ALB behind a VPC link v2", "The REST API reaches an ALB directly (VPC link v2); AWS now recommends this over the NLB link."),
    ];
    names
        .iter()
        .enumerate()
        .map(|(i, (name, note))| {
            let (monthly, formula) = alternative_cost(t, &t.usage, p, l, i, Say::Formula);
            Alternative {
                name: (*name).into(),
                monthly,
                difference: monthly - current,
                formula,
                note: (*note).into(),
                crossover: crossover(t, p, l, i),
            }
        })
        .collect()
}
