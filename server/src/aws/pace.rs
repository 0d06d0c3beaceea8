//! Pacing: token buckets per account, region and service, sized to API Gateway's
//! control-plane quotas and to ELB's API request buckets with a margin under each (requests
//! reach AWS closer together than they are sent: `shared`, `paced`), so a convergence never
//! provokes a 429 or a `Throttling` itself. (429s, throttling and 5xx from elsewhere are
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
/// All operations together: AWS allows 10 per second with a burst of 40 (paced with
/// `ARRIVAL_MARGIN` kept).
const API_GATEWAY_ALL: (f64, f64) = shared((40.0, 10.0));
/// Tokens of AWS's shared request buckets (API Gateway's, ELB's `Describe*`, CloudWatch's
/// GetMetricData) Portico never
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

/// A bucket AWS shares among many operations (burst, tokens per second), as Portico paces it:
/// `ARRIVAL_MARGIN` of its burst kept.
const fn shared((burst, rate): (f64, f64)) -> (f64, f64) {
    (burst - ARRIVAL_MARGIN, rate)
}

/// An operation's bucket (burst, tokens per second) as Portico paces it: `ARRIVAL_SPACING`
/// added to the period of one-at-a-time operations.
fn paced((burst, rate): (f64, f64)) -> (f64, f64) {
    if burst <= 1.0 {
        (burst, 1.0 / (1.0 / rate + ARRIVAL_SPACING))
    } else {
        (burst, rate)
    }
}
/// The part of AWS's buckets kept for the calls pages make (a key's value shown once, an
/// adoption's reads), on whichever server serves the page: pages take it from buckets kept in
/// the database (`pages`), so however many servers serve pages, their calls and the one
/// worker's together stay within AWS's quotas. The worker's pacers keep to the rest. A fifth:
/// an inspection of a hand-built API reads some twenty things, and a person waits for it (a
/// tenth made that twenty seconds); the worker keeps 8 of API Gateway's 10 calls a second.
pub const PAGES_SHARE: f64 = 0.2;

/// Which part of AWS's buckets a pacer keeps to (`PAGES_SHARE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    Worker,
    Pages,
}

impl Part {
    /// A bucket (burst, tokens per second) as this part keeps to it. A bucket of one token (an
    /// operation AWS allows one at a time) cannot be split: the worker keeps it whole, and no
    /// page calls those operations (`pages::take` refuses them).
    fn of(self, (burst, rate): (f64, f64)) -> (f64, f64) {
        if burst < 2.0 {
            return match self {
                Part::Worker => (burst, rate),
                Part::Pages => (0.0, 0.0),
            };
        }
        let pages = ((burst * PAGES_SHARE).round().max(1.0), rate * PAGES_SHARE);
        match self {
            Part::Pages => pages,
            Part::Worker => (burst - pages.0, rate - pages.1),
        }
    }
}

/// Edge-optimised APIs are created more slowly: 1 per 30 s.
const CREATE_EDGE_REST_API: (f64, f64) = (1.0, 1.0 / 30.0);
const PUT_REST_API: (f64, f64) = (1.0, 1.0);

/// The least time (seconds) API Gateway's quotas, as Portico's worker paces them, allow for
/// these calls, made at once from full buckets: each bucket's calls beyond its burst at its
/// rate, the slowest bucket deciding.
pub fn api_gateway_lower_bound<'a>(calls: impl IntoIterator<Item = (&'a str, u64)>) -> f64 {
    let over = |n: u64, (burst, rate): (f64, f64)| ((n as f64 - burst).max(0.0)) / rate;
    let mut total = 0;
    let mut worst: f64 = 0.0;
    for (op, n) in calls {
        total += n;
        if let Some((_, burst, rate)) = API_GATEWAY_QUOTAS.iter().find(|(o, ..)| *o == op) {
            worst = worst.max(over(n, Part::Worker.of(paced((*burst, *rate)))));
        }
    }
    worst.max(over(total, Part::Worker.of(API_GATEWAY_ALL)))
}

/// ELB (API version 2) throttles per account and region with its own buckets: `Describe*`
/// calls share one of 40 tokens refilled at 10 per second (the ELB guide's API throttling
/// page), paced here with `ARRIVAL_MARGIN` kept. Changes are paced at 10 tokens and 2 per
/// second: a margin under the page's buckets for mutating calls, kept for the console and
/// other tools that share the account's buckets.
const ELB_DESCRIBE: (f64, f64) = shared((40.0, 10.0));
const ELB_CHANGES: (f64, f64) = (10.0, 2.0);

/// CloudWatch's GetMetricData: 50 requests a second per account and region (the CloudWatch
/// guide's quota table), shared with dashboards and alarm tools: its burst keeps
/// `ARRIVAL_MARGIN`, its rate is AWS's. The worker asks once per gateway per metrics
/// interval, so this is reached only by hundreds of gateways read in the same second.
const CLOUDWATCH_GET_METRIC_DATA: (f64, f64) = shared((50.0, 50.0));

/// The least time (seconds) ELB's buckets (as Portico's worker paces them) allow for these
/// calls, made at once from full buckets: `Describe*` calls in theirs, every other call in the
/// changes'.
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
    over(describes, Part::Worker.of(ELB_DESCRIBE)).max(over(changes, Part::Worker.of(ELB_CHANGES)))
}

/// The share of each service's read rate that routine looks (drift checks, health) may use
/// together in one account and region. Beyond it they are put off, never queued: a large
/// fleet's looks come less often instead of crowding out changes and the team's own tools,
/// which share the quota, and an edit never waits behind them.
pub const IDLE_SHARE: f64 = 0.5;

/// The budget of routine reads: `IDLE_SHARE` of API Gateway's account rate and of ELB's
/// `Describe*` bucket, with a burst of a few seconds' worth.
fn idle(bucket: (f64, f64)) -> (f64, f64) {
    let rate = Part::Worker.of(bucket).1;
    (5.0 * rate * IDLE_SHARE, rate * IDLE_SHARE)
}

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
        let (describe, changes) = (Part::Worker.of(ELB_DESCRIBE), Part::Worker.of(ELB_CHANGES));
        let operations = HashMap::from([
            ("Describe*", Bucket::new(describe.0, describe.1, now)),
            ("changes", Bucket::new(changes.0, changes.1, now)),
        ]);
        Self {
            all: Bucket::new(describe.0 + changes.0, describe.1 + changes.1, now),
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
                let (burst, rate) = Part::Worker.of(paced((*burst, *rate)));
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
        let all = Part::Worker.of(API_GATEWAY_ALL);
        Self {
            all: Bucket::new(all.0, all.1, now),
            operations,
            class: |_| None,
        }
    }

    /// Whether every bucket `operation` takes from holds `n` tokens (at most its burst: a
    /// larger ask is met by a full bucket). Nothing is taken.
    fn holds(&mut self, operation: &str, n: f64, now: Instant) -> bool {
        let keys = [Some(operation), (self.class)(operation)];
        let operations = &mut self.operations;
        std::iter::once(&mut self.all)
            .chain(
                operations
                    .iter_mut()
                    .filter(|(k, _)| keys.contains(&Some(**k)))
                    .map(|(_, b)| b),
            )
            .all(|b| {
                b.refill(now);
                b.tokens >= n.min(b.capacity)
            })
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
    CloudWatch,
    /// A routine reads' budget, beside the service's quotas (`Budget`).
    Routine(Budget),
}

/// The routine reads' budget (`IDLE_SHARE`) of a service: a routine look is admitted with a
/// few tokens of it and charged the rest of its reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Budget {
    ApiGateway,
    Elb,
}

impl Budget {
    /// The service's pacer this budget is a share of, and the read routine looks make there
    /// with the tightest buckets (ELB's `Describe*`; API Gateway's `GetResources`, which has
    /// its own besides the bucket of all operations).
    fn service(self) -> (Quotas, &'static str) {
        match self {
            Budget::ApiGateway => (Quotas::ApiGateway, "GetResources"),
            Budget::Elb => (Quotas::Elb, "DescribeTargetHealth"),
        }
    }
}

impl Quotas {
    fn pacer(self, now: Instant) -> Pacer {
        match self {
            Quotas::ApiGateway => Pacer::api_gateway(now),
            Quotas::Elb => Pacer::elb(now),
            Quotas::CloudWatch => Pacer::budget(CLOUDWATCH_GET_METRIC_DATA, now),
            Quotas::Routine(Budget::ApiGateway) => Pacer::budget(idle(API_GATEWAY_ALL), now),
            Quotas::Routine(Budget::Elb) => Pacer::budget(idle(ELB_DESCRIBE), now),
        }
    }
}

/// The reads a routine look paid for when it was admitted (`Pacers::admit_routine`), per
/// budget; its reads spend these first.
#[derive(Debug, Default)]
pub struct Prepaid {
    elb: AtomicU32,
    api_gateway: AtomicU32,
}

impl Prepaid {
    fn of(&self, budget: Budget) -> &AtomicU32 {
        match budget {
            Budget::Elb => &self.elb,
            Budget::ApiGateway => &self.api_gateway,
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
    ///
    /// A look is admitted only while the service's own pacer could send those first reads at
    /// once. Routine looks yield to work in progress (a restart's first looks, a convergence):
    /// admitted behind it, they would wait in the pacer with their budget spent, then send
    /// their reads together once it is done, above the share.
    pub fn admit_routine(
        &self,
        account: &str,
        region: &str,
        asks: &[(Budget, f64)],
    ) -> Option<Arc<Prepaid>> {
        let mut map = self.by_account.lock().unwrap_or_else(|e| e.into_inner());
        let now = tokio::time::Instant::now().into_std();
        let key = |b: Budget| (account.to_owned(), region.to_owned(), Quotas::Routine(b));
        let prepaid = Prepaid::default();
        for (b, n) in asks {
            // At most the budget's burst: a larger look is admitted by a full budget, and
            // needs no more of the service's buckets than that.
            let budget = map
                .entry(key(*b))
                .or_insert_with(|| Quotas::Routine(*b).pacer(now));
            let n = n.min(budget.all.capacity);
            // A budget is one bucket: no operation names another.
            if !budget.holds("", n, now) {
                return None;
            }
            let (quotas, read) = b.service();
            let service = map
                .entry((account.to_owned(), region.to_owned(), quotas))
                .or_insert_with(|| quotas.pacer(now));
            if !service.holds(read, n, now) {
                return None;
            }
            prepaid.of(*b).store(n as u32, Ordering::Relaxed);
        }
        for (b, _) in asks {
            if let Some(p) = map.get_mut(&key(*b)) {
                p.all.tokens -= f64::from(prepaid.of(*b).load(Ordering::Relaxed));
            }
        }
        Some(Arc::new(prepaid))
    }

    /// A read a routine look makes: from what it prepaid, else charged to `budget`, into
    /// debt if need be. A look is not cut off halfway (half a look is worth nothing); the
    /// looks after it are put off until the budget has refilled, so over time routine reads
    /// keep to their share.
    pub fn charge_routine(&self, account: &str, region: &str, budget: Budget, prepaid: &Prepaid) {
        let left = prepaid.of(budget);
        if left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
        {
            return;
        }
        self.with_budget(account, region, budget, |b| b.take());
    }

    /// The tokens a budget holds now (negative: in debt), for tests and diagnostics.
    #[doc(hidden)]
    pub fn routine_balance(&self, account: &str, region: &str, budget: Budget) -> f64 {
        self.with_budget(account, region, budget, |b| b.tokens)
    }

    /// `f` on the budget's bucket, refilled to now.
    fn with_budget<T>(
        &self,
        account: &str,
        region: &str,
        budget: Budget,
        f: impl FnOnce(&mut Bucket) -> T,
    ) -> T {
        let mut map = self.by_account.lock().unwrap_or_else(|e| e.into_inner());
        let now = tokio::time::Instant::now().into_std();
        let quotas = Quotas::Routine(budget);
        let pacer = map
            .entry((account.to_owned(), region.to_owned(), quotas))
            .or_insert_with(|| quotas.pacer(now));
        pacer.all.refill(now);
        f(&mut pacer.all)
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

pub mod pages;
#[cfg(test)]
mod tests;
