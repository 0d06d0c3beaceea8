//! Pacing: token buckets per account, region and service, sized to API Gateway's
//! control-plane quotas and to ELB's API request buckets, so a convergence never provokes a
//! 429 or a `Throttling` itself. (429s, throttling and 5xx from elsewhere are
//! still retried with backoff by the caller.) It lives beside `call`, its only user: the quotas
//! are AWS's, so pacing is part of calling AWS, not of any one user of the adapters.
//!
//! A call takes a token from the bucket of all operations and, where the operation has its
//! own quota, from that bucket too. The buckets are pure arithmetic over an `Instant` the
//! caller passes in, so the quotas are tested without sleeping; `Pacers::acquire` is the async
//! wrapper `Caller::call` awaits.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A bucket of `capacity` tokens refilled at `per_second`.
#[derive(Clone, Debug)]
pub struct Bucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub fn new(capacity: f64, per_second: f64, now: Instant) -> Self {
        Self {
            capacity,
            per_second,
            tokens: capacity,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.last = self.last.max(now);
    }

    /// How long until a token is available (zero when one is).
    fn wait(&mut self, now: Instant) -> Duration {
        self.refill(now);
        if self.tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.per_second)
        }
    }

    fn take(&mut self) {
        self.tokens -= 1.0;
    }
}

/// API Gateway's quotas per account (FACTS.md section 3; AWS can't raise them):
/// (operation, burst, tokens per second).
const API_GATEWAY_QUOTAS: [(&str, f64, f64); 9] = [
    ("CreateDeployment", 1.0, 1.0 / 5.0),
    ("CreateRestApi", 1.0, 1.0 / 3.0),
    ("DeleteRestApi", 1.0, 1.0 / 30.0),
    ("UpdateUsagePlan", 1.0, 1.0 / 20.0),
    ("CreateApiKey", 5.0, 5.0),
    ("DeleteApiKey", 5.0, 5.0),
    ("CreateResource", 5.0, 5.0),
    ("DeleteResource", 5.0, 5.0),
    ("GetResources", 5.0, 5.0 / 2.0),
];
/// All operations together: AWS allows 10 per second with a burst of 40; Portico keeps
/// `ARRIVAL_MARGIN` of the burst unused.
const API_GATEWAY_ALL: (f64, f64) = (40.0 - ARRIVAL_MARGIN, 10.0);
/// Tokens of AWS's shared request buckets (API Gateway's, ELB's `Describe*`) Portico never
/// spends. Requests reach AWS closer together than they were sent: a connection being set up
/// or a busy event loop holds one back while the next goes out. Paced at exactly AWS's burst
/// and rate, a long run of reads then meets an empty bucket now and again (a 200-gateway
/// restart drew 24 throttling answers that way). A second's worth at 10 a second absorbs
/// that, and leaves the rest to the console and the account's other tools.
const ARRIVAL_MARGIN: f64 = 10.0;
/// The same for an operation AWS allows one at a time (a burst of 1: `CreateDeployment`,
/// `CreateRestApi`, `UpdateUsagePlan` …): its calls are spaced this much (seconds) beyond
/// AWS's period, or two of them now and again reach AWS closer together than the period (a
/// 200-gateway convergence drew one 429 on `CreateDeployment` that way).
const ARRIVAL_SPACING: f64 = 0.25;

/// An operation's bucket (burst, tokens per second) as Portico paces it: `ARRIVAL_SPACING`
/// added to the period of one-at-a-time operations.
fn paced((burst, rate): (f64, f64)) -> (f64, f64) {
    if burst <= 1.0 {
        (burst, 1.0 / (1.0 / rate + ARRIVAL_SPACING))
    } else {
        (burst, rate)
    }
}
/// Edge-optimised APIs are created more slowly: 1 per 30 s.
const CREATE_EDGE_REST_API: (f64, f64) = (1.0, 1.0 / 30.0);
const PUT_REST_API: (f64, f64) = (1.0, 1.0);

/// The least time (seconds) API Gateway's quotas, as Portico paces them, allow for these calls,
/// made at once from full buckets: each bucket's calls beyond its burst at its rate, the
/// slowest bucket deciding.
pub fn api_gateway_lower_bound<'a>(calls: impl IntoIterator<Item = (&'a str, u64)>) -> f64 {
    let over = |n: u64, (burst, rate): (f64, f64)| ((n as f64 - burst).max(0.0)) / rate;
    let mut total = 0;
    let mut worst: f64 = 0.0;
    for (op, n) in calls {
        total += n;
        if let Some((_, burst, rate)) = API_GATEWAY_QUOTAS.iter().find(|(o, ..)| *o == op) {
            worst = worst.max(over(n, paced((*burst, *rate))));
        }
    }
    worst.max(over(total, API_GATEWAY_ALL))
}

/// ELB (API version 2) throttles per account and region with its own buckets: `Describe*`
/// calls share one of 40 tokens refilled at 10 per second (the ELB guide's API throttling
/// page), paced here with `ARRIVAL_MARGIN` kept. Changes are paced at 10 tokens and 2 per
/// second: a margin under the page's buckets for mutating calls, kept for the console and
/// other tools that share the account's buckets.
const ELB_DESCRIBE: (f64, f64) = (40.0 - ARRIVAL_MARGIN, 10.0);
const ELB_CHANGES: (f64, f64) = (10.0, 2.0);

/// The least time (seconds) ELB's buckets (as Portico paces them) allow for these calls, made
/// at once from full buckets: `Describe*` calls in theirs, every other call in the changes'.
pub fn elb_lower_bound<'a>(calls: impl IntoIterator<Item = (&'a str, u64)>) -> f64 {
    let over = |n: u64, (burst, rate): (f64, f64)| ((n as f64 - burst).max(0.0)) / rate;
    let (mut describes, mut changes) = (0, 0);
    for (op, n) in calls {
        if op.starts_with("Describe") {
            describes += n;
        } else {
            changes += n;
        }
    }
    over(describes, ELB_DESCRIBE).max(over(changes, ELB_CHANGES))
}

/// The share of each service's read rate that routine looks (drift checks, health) may use
/// together in one account and region. Beyond it they are put off, never queued: a large
/// fleet's looks come less often instead of crowding out changes and the team's own tools,
/// which share the quota, and an edit never waits behind them.
pub const IDLE_SHARE: f64 = 0.5;

/// The budget of routine reads: `IDLE_SHARE` of API Gateway's account rate and of ELB's
/// `Describe*` bucket, with a burst of a few seconds' worth.
const IDLE_API_GATEWAY: (f64, f64) = (
    5.0 * API_GATEWAY_ALL.1 * IDLE_SHARE,
    API_GATEWAY_ALL.1 * IDLE_SHARE,
);
const IDLE_ELB: (f64, f64) = (
    5.0 * ELB_DESCRIBE.1 * IDLE_SHARE,
    ELB_DESCRIBE.1 * IDLE_SHARE,
);

/// The buckets of one account, region and service.
#[derive(Debug)]
pub struct Pacer {
    all: Bucket,
    operations: HashMap<&'static str, Bucket>,
    /// The bucket a whole class of operations shares (ELB's `Describe*` and changes), if any.
    class: fn(&str) -> Option<&'static str>,
}

impl Pacer {
    /// ELB's buckets: one for `Describe*`, one for changes; nothing shared beyond them.
    pub fn elb(now: Instant) -> Self {
        let operations = HashMap::from([
            (
                "Describe*",
                Bucket::new(ELB_DESCRIBE.0, ELB_DESCRIBE.1, now),
            ),
            ("changes", Bucket::new(ELB_CHANGES.0, ELB_CHANGES.1, now)),
        ]);
        let all = ELB_DESCRIBE.0 + ELB_CHANGES.0;
        Self {
            all: Bucket::new(all, ELB_DESCRIBE.1 + ELB_CHANGES.1, now),
            operations,
            class: |op| {
                Some(if op.starts_with("Describe") {
                    "Describe*"
                } else {
                    "changes"
                })
            },
        }
    }

    /// One bucket, for a budget beside a service's quotas (routine reads).
    fn budget((burst, rate): (f64, f64), now: Instant) -> Self {
        Self {
            all: Bucket::new(burst, rate, now),
            operations: HashMap::new(),
            class: |_| None,
        }
    }

    pub fn api_gateway(now: Instant) -> Self {
        let mut operations: HashMap<&'static str, Bucket> = API_GATEWAY_QUOTAS
            .iter()
            .map(|(op, burst, rate)| {
                let (burst, rate) = paced((*burst, *rate));
                (*op, Bucket::new(burst, rate, now))
            })
            .collect();
        for (op, quota) in [
            ("CreateRestApi:EDGE", CREATE_EDGE_REST_API),
            ("PutRestApi", PUT_REST_API),
        ] {
            let (burst, rate) = paced(quota);
            operations.insert(op, Bucket::new(burst, rate, now));
        }
        Self {
            all: Bucket::new(API_GATEWAY_ALL.0, API_GATEWAY_ALL.1, now),
            operations,
            class: |_| None,
        }
    }

    /// Whether the bucket of all operations holds `n` tokens (at most its burst: a larger ask
    /// is met by a full bucket).
    fn has_many(&mut self, n: f64, now: Instant) -> bool {
        self.all.refill(now);
        self.all.tokens >= n.min(self.all.capacity)
    }

    /// Takes a token for a call that can be skipped (a health read) only while more than
    /// `reserve` tokens are left for the calls that change things.
    pub fn try_take_spare(&mut self, operation: &str, reserve: f64, now: Instant) -> bool {
        self.all.refill(now);
        if self.all.tokens < reserve + 1.0 {
            return false;
        }
        self.try_take(operation, now).is_ok()
    }

    /// Takes the tokens `operation` needs, or says how long to wait before asking again.
    /// Nothing is taken unless every bucket involved has a token, so a refused call costs
    /// no quota.
    ///
    /// A variant (`CreateRestApi:EDGE`) takes from its own bucket and its operation's.
    pub fn try_take(&mut self, operation: &str, now: Instant) -> Result<(), Duration> {
        let base = operation.split_once(':').map(|(op, _)| op);
        let keys = [Some(operation), base, (self.class)(operation)];
        let mut wait = self.all.wait(now);
        for key in keys.iter().flatten() {
            if let Some(b) = self.operations.get_mut(*key) {
                wait = wait.max(b.wait(now));
            }
        }
        if wait > Duration::ZERO {
            return Err(wait);
        }
        self.all.take();
        for key in keys.iter().flatten() {
            if let Some(b) = self.operations.get_mut(*key) {
                b.take();
            }
        }
        Ok(())
    }
}

/// Which service's quotas a pacer keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quotas {
    ApiGateway,
    Elb,
    /// The routine reads' budget (`IDLE_SHARE`) of each service, beside its quotas: a routine
    /// look is admitted with a few tokens of it and charged the rest of its reads.
    IdleApiGateway,
    IdleElb,
}

impl Quotas {
    fn pacer(self, now: Instant) -> Pacer {
        match self {
            Quotas::ApiGateway => Pacer::api_gateway(now),
            Quotas::Elb => Pacer::elb(now),
            Quotas::IdleApiGateway => Pacer::budget(IDLE_API_GATEWAY, now),
            Quotas::IdleElb => Pacer::budget(IDLE_ELB, now),
        }
    }
}

/// The reads a routine look paid for when it was admitted (`Pacers::admit_routine`), per
/// budget; its reads spend these first.
#[derive(Debug, Default)]
pub struct Prepaid {
    elb: AtomicU32,
    api_gateway: AtomicU32,
    /// Budgets a routine look is not charged to (the services' own quotas).
    none: AtomicU32,
}

impl Prepaid {
    fn of(&self, budget: Quotas) -> &AtomicU32 {
        match budget {
            Quotas::IdleElb => &self.elb,
            Quotas::IdleApiGateway => &self.api_gateway,
            Quotas::Elb | Quotas::ApiGateway => &self.none,
        }
    }
}

/// Pacers per (account, region, service), shared by every gateway's reconcile task.
#[derive(Debug, Default)]
pub struct Pacers {
    by_account: Mutex<HashMap<(String, String, Quotas), Pacer>>,
}

impl Pacers {
    /// A token for a call that can be skipped, without waiting: false when taking it would
    /// leave fewer than `reserve` tokens for changes.
    pub fn try_acquire_spare(
        &self,
        account: &str,
        region: &str,
        operation: &str,
        reserve: f64,
    ) -> bool {
        let mut map = self.by_account.lock().unwrap_or_else(|e| e.into_inner());
        let now = tokio::time::Instant::now().into_std();
        map.entry((account.to_owned(), region.to_owned(), Quotas::ApiGateway))
            .or_insert_with(|| Pacer::api_gateway(now))
            .try_take_spare(operation, reserve, now)
    }

    /// Admits a routine look in that account and region, without waiting: takes `n` tokens of
    /// each budget of `asks` (`(budget, n)` pairs, `n` at most the budget's burst), all or
    /// none, as the look's first reads (`Prepaid`). None: put the look off. The look's reads
    /// beyond those are charged as they are made (`charge_routine`).
    pub fn admit_routine(
        &self,
        account: &str,
        region: &str,
        asks: &[(Quotas, f64)],
    ) -> Option<Arc<Prepaid>> {
        let mut map = self.by_account.lock().unwrap_or_else(|e| e.into_inner());
        let now = tokio::time::Instant::now().into_std();
        let key = |q: Quotas| (account.to_owned(), region.to_owned(), q);
        for (q, _) in asks {
            map.entry(key(*q)).or_insert_with(|| q.pacer(now));
        }
        let prepaid = Prepaid::default();
        for (q, n) in asks {
            let p = map.get_mut(&key(*q))?;
            let n = n.min(p.all.capacity);
            if !p.has_many(n, now) {
                return None;
            }
            prepaid.of(*q).store(n as u32, Ordering::Relaxed);
        }
        for (q, _) in asks {
            if let Some(p) = map.get_mut(&key(*q)) {
                p.all.tokens -= f64::from(prepaid.of(*q).load(Ordering::Relaxed));
            }
        }
        Some(Arc::new(prepaid))
    }

    /// A read a routine look makes: from what it prepaid, else charged to `budget`, into
    /// debt if need be. A look is not cut off halfway (half a look is worth nothing); the
    /// looks after it are put off until the budget has refilled, so over time routine reads
    /// keep to their share.
    pub fn charge_routine(&self, account: &str, region: &str, budget: Quotas, prepaid: &Prepaid) {
        let left = prepaid.of(budget);
        if left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
        {
            return;
        }
        let mut map = self.by_account.lock().unwrap_or_else(|e| e.into_inner());
        let now = tokio::time::Instant::now().into_std();
        let pacer = map
            .entry((account.to_owned(), region.to_owned(), budget))
            .or_insert_with(|| budget.pacer(now));
        pacer.all.refill(now);
        pacer.all.take();
    }

    /// The tokens a budget holds now (negative: in debt), for tests and diagnostics.
    #[doc(hidden)]
    pub fn routine_balance(&self, account: &str, region: &str, budget: Quotas) -> f64 {
        let mut map = self.by_account.lock().unwrap_or_else(|e| e.into_inner());
        let now = tokio::time::Instant::now().into_std();
        let pacer = map
            .entry((account.to_owned(), region.to_owned(), budget))
            .or_insert_with(|| budget.pacer(now));
        pacer.all.refill(now);
        pacer.all.tokens
    }

    /// Waits (without blocking other tasks) until `operation` may be called in that account
    /// and region, and takes its tokens.
    pub async fn acquire(&self, account: &str, region: &str, operation: &str) {
        self.acquire_for(Quotas::ApiGateway, account, region, operation)
            .await
    }

    /// `acquire` for the given service's quotas.
    pub async fn acquire_for(&self, quotas: Quotas, account: &str, region: &str, operation: &str) {
        loop {
            let wait = {
                let mut map = self.by_account.lock().unwrap_or_else(|e| e.into_inner());
                // tokio's clock, so a paused test runtime moves it too.
                let now = tokio::time::Instant::now().into_std();
                let pacer = map
                    .entry((account.to_owned(), region.to_owned(), quotas))
                    .or_insert_with(|| quotas.pacer(now));
                match pacer.try_take(operation, now) {
                    Ok(()) => return,
                    Err(wait) => wait,
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_edge_api_waits_for_both_its_buckets() {
        let start = Instant::now();
        let mut p = Pacer::api_gateway(start);
        assert!(p.try_take("CreateRestApi:EDGE", start).is_ok());
        // The edge bucket (1 per 30 s) and the plain one (1 per 3 s) were both taken.
        let wait = p.try_take("CreateRestApi:EDGE", start).unwrap_err();
        assert!(wait > Duration::from_secs(20), "{wait:?}");
        let wait = p.try_take("CreateRestApi", start).unwrap_err();
        assert!(
            wait > Duration::from_secs(2) && wait <= Duration::from_millis(3251),
            "{wait:?}"
        );
    }

    /// Runs `ops` as fast as the pacer allows from `start`, returning each grant's time.
    fn grants(ops: &[&str], start: Instant) -> Vec<(String, Instant)> {
        let mut pacer = Pacer::api_gateway(start);
        let mut now = start;
        ops.iter()
            .map(|op| loop {
                match pacer.try_take(op, now) {
                    Ok(()) => break ((*op).to_owned(), now),
                    Err(wait) => now += wait,
                }
            })
            .collect()
    }

    /// The most grants of `op` (or of all, for None) in any window of `window`.
    fn busiest(grants: &[(String, Instant)], op: Option<&str>, window: Duration) -> usize {
        let times: Vec<Instant> = grants
            .iter()
            .filter(|(o, _)| op.is_none_or(|op| o == op))
            .map(|(_, t)| *t)
            .collect();
        times
            .iter()
            .map(|start| {
                times
                    .iter()
                    .filter(|t| **t >= *start && **t < *start + window)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn deployments_are_five_seconds_and_a_margin_apart() {
        let start = Instant::now();
        let g = grants(&["CreateDeployment"; 4], start);
        let offsets: Vec<u64> = g
            .iter()
            .map(|(_, t)| t.duration_since(start).as_millis() as u64)
            .collect();
        for (got, want) in offsets.iter().zip([0, 5250, 10500, 15750]) {
            assert!(got.abs_diff(want) <= 1, "{offsets:?}");
        }
    }

    #[test]
    fn the_all_operations_burst_is_thirty_then_ten_per_second() {
        let start = Instant::now();
        let g = grants(&["GetRestApis"; 60], start);
        assert!(
            g[..30].iter().all(|(_, t)| *t == start),
            "a burst of 30 at once (AWS's 40 less the margin)"
        );
        assert!(g[30].1 > start);
        let last = g[59].1.duration_since(start).as_secs_f64();
        assert!(
            (last - 3.0).abs() < 1e-6,
            "then 10 per second: the 60th at 3 s, got {last}"
        );
    }

    #[test]
    fn skippable_reads_leave_the_reserve_to_changes() {
        let start = Instant::now();
        let mut pacer = Pacer::api_gateway(start);
        let spare = (0..40)
            .filter(|_| pacer.try_take_spare("GetStages", 20.0, start))
            .count();
        assert_eq!(spare, 10, "reads stop while 20 tokens are left");
        let changes = (0..40)
            .filter(|_| pacer.try_take("CreateResource", start).is_ok())
            .count();
        assert_eq!(
            changes, 5,
            "CreateResource's own burst of 5 still goes at once"
        );
        assert!(
            pacer.try_take("PutMethod", start).is_ok(),
            "other changes use the reserve"
        );
    }

    #[test]
    fn a_refused_call_costs_no_quota() {
        let start = Instant::now();
        let mut pacer = Pacer::api_gateway(start);
        pacer.try_take("CreateDeployment", start).unwrap();
        for _ in 0..100 {
            assert!(pacer.try_take("CreateDeployment", start).is_err());
        }
        // The refusals took nothing from the shared bucket: 29 more calls still pass at once.
        for _ in 0..29 {
            pacer.try_take("GetStage", start).unwrap();
        }
    }

    #[test]
    fn elb_describes_and_changes_have_their_own_buckets() {
        let start = Instant::now();
        let mut p = Pacer::elb(start);
        let describes = (0..100)
            .filter(|_| p.try_take("DescribeTargetHealth", start).is_ok())
            .count();
        assert_eq!(describes, 30, "a burst of 30 Describe* calls");
        let changes = (0..100)
            .filter(|_| p.try_take("RegisterTargets", start).is_ok())
            .count();
        assert_eq!(changes, 10, "changes have a bucket of their own");
        let wait = p.try_take("DescribeTags", start).unwrap_err();
        assert!(
            (wait.as_secs_f64() - 0.1).abs() < 1e-6,
            "then 10 per second: {wait:?}"
        );
        let wait = p.try_take("CreateListener", start).unwrap_err();
        assert!(
            (wait.as_secs_f64() - 0.5).abs() < 1e-6,
            "changes 2 per second: {wait:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn routine_reads_keep_to_their_share_of_the_read_rate_and_never_wait() {
        let pacers = Pacers::default();
        let (elb, api) = (Quotas::IdleElb, Quotas::IdleApiGateway);
        let admit = |asks: &[(Quotas, f64)]| pacers.admit_routine("111", "us-east-1", asks);
        let balance = |q: Quotas| pacers.routine_balance("111", "us-east-1", q);
        let charge = |q: Quotas, paid: &Prepaid, n: usize| {
            for _ in 0..n {
                pacers.charge_routine("111", "us-east-1", q, paid);
            }
        };
        // Admission takes the look's first reads at once, so looks asking together can't all
        // pass on one balance.
        let looks = (0..100).filter_map(|_| admit(&[(elb, 5.0)])).count();
        assert_eq!(looks as f64, IDLE_ELB.0 / 5.0, "a burst's worth of looks");
        assert!(
            admit(&[(elb, 1.0), (api, 1.0)]).is_none(),
            "all budgets or none"
        );
        assert_eq!(
            balance(api),
            IDLE_API_GATEWAY.0,
            "a refused look takes nothing"
        );

        // A look's reads spend what it prepaid first, then go into debt, never cut off.
        tokio::time::advance(Duration::from_secs(60)).await;
        let paid = admit(&[(elb, 4.0)]).expect("a full budget");
        charge(elb, &paid, 4);
        assert_eq!(
            balance(elb),
            IDLE_ELB.0 - 4.0,
            "the prepaid reads cost nothing more"
        );
        charge(elb, &paid, IDLE_ELB.0 as usize + 6);
        assert_eq!(balance(elb), -10.0);
        assert!(admit(&[(elb, 1.0)]).is_none());
        assert!(
            admit(&[(api, IDLE_API_GATEWAY.0)]).is_some(),
            "each budget its own"
        );
        // The debt is repaid at the share of the read rate (10/s × IDLE_SHARE): 11 tokens
        // take 2.2 s.
        tokio::time::advance(Duration::from_millis(2100)).await;
        assert!(admit(&[(elb, 1.0)]).is_none());
        tokio::time::advance(Duration::from_millis(150)).await;
        assert!(admit(&[(elb, 1.0)]).is_some());
        // An ask beyond the burst is met by a full bucket instead of never passing.
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(admit(&[(elb, 500.0)]).is_some());

        // Over a long run, admitted looks with their reads keep to the share.
        tokio::time::advance(Duration::from_secs(60)).await;
        let mut reads = 0;
        for _ in 0..600 {
            if let Some(paid) = admit(&[(elb, 2.0)]) {
                charge(elb, &paid, 7);
                reads += 7;
            }
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        let most = IDLE_ELB.0 + 60.0 * ELB_DESCRIBE.1 * IDLE_SHARE;
        assert!(
            f64::from(reads) <= most + 7.0,
            "{reads} reads in a minute, at most {most}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_waits_without_blocking_and_per_account() {
        let pacers = Pacers::default();
        let started = tokio::time::Instant::now();
        pacers.acquire("111", "us-east-1", "UpdateUsagePlan").await;
        pacers.acquire("222", "us-east-1", "UpdateUsagePlan").await;
        assert_eq!(
            started.elapsed(),
            Duration::ZERO,
            "another account has its own buckets"
        );
        pacers.acquire("111", "us-east-1", "UpdateUsagePlan").await;
        assert!(
            started.elapsed() >= Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }

    const OPS: [&str; 8] = [
        "CreateDeployment",
        "CreateRestApi",
        "UpdateUsagePlan",
        "CreateResource",
        "GetResources",
        "PutMethod",
        "PutIntegration",
        "GetStages",
    ];

    proptest! {
        /// Whatever the mix, no quota is ever exceeded: in any window, grants never pass
        /// burst + rate × window.
        #[test]
        fn no_quota_is_ever_exceeded(picks in prop::collection::vec(0..OPS.len(), 1..150)) {
            let ops: Vec<&str> = picks.iter().map(|i| OPS[*i]).collect();
            let g = grants(&ops, Instant::now());
            prop_assert!(busiest(&g, None, Duration::from_secs(1)) <= 40 + 10);
            prop_assert!(busiest(&g, Some("CreateDeployment"), Duration::from_secs(5)) <= 1);
            prop_assert!(busiest(&g, Some("CreateRestApi"), Duration::from_secs(3)) <= 1);
            prop_assert!(busiest(&g, Some("UpdateUsagePlan"), Duration::from_secs(20)) <= 1);
            prop_assert!(busiest(&g, Some("CreateResource"), Duration::from_secs(1)) <= 5 + 5);
            prop_assert!(busiest(&g, Some("GetResources"), Duration::from_secs(2)) <= 5 + 5);
            // And grants come in the order asked, each as early as the quotas allow.
            prop_assert!(g.windows(2).all(|w| w[0].1 <= w[1].1));
        }
    }
}
