//! The worker: the only part of Portico that writes to AWS.
//!
//! One task per gateway (never two at once for the same gateway; gateways run in parallel),
//! woken within a second of an edit (a Notify from the server functions, and a one-second look
//! at the database, which also catches the CLI's edits) and every `drift_interval` for drift.
//! Each run is level-triggered: observe AWS, plan, and apply — it never trusts memory of an
//! earlier run. Plans that need an admin wait for approval; a plan is only executed if the
//! generation it was made from is still the latest and planning again gives the same steps.
//!
//! Here: the worker, its tasks and their timing. `term`: holding the worker lease, which makes
//! this process the one that writes. `reconcile`: one run of one gateway, carrying
//! out what `decide` (pure, unit-tested) chose. `apply`: one step, one AWS call. `observe`: AWS
//! as it is. All records go through `portico_store`.

pub mod apply;
pub mod decide;
mod listing;
pub mod observe;
pub mod owner;
mod reconcile;
mod run;
mod term;
mod traffic;

use crate::aws::call::{Caller, Retry};
use crate::aws::pace::Pacers;
use crate::aws::{base_config, Clients};
use app::error::AppError;
use apply::Waits;
use aws_config::SdkConfig;
use portico_core::plan::actual::Actual;
use portico_core::plan::{plan, Plan};
use portico_store::gateways::Desired;
use portico_store::{gateways, keys, status, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// How often a converged gateway is observed again for drift.
    pub drift_interval: Duration,
    /// How often the database is looked at for edits made elsewhere (the CLI).
    pub poll: Duration,
    /// How often health is read (reads only) between reconciles.
    pub health_interval: Duration,
    /// How old a listing of the account and region a reconcile may plan from: the gateways of
    /// one account and region share one (a health read takes one up to `health_interval` old;
    /// see `listing` for when a reconcile takes none). The worker's own writes forget it, so
    /// a change made outside the worker is seen up to this much later. Zero: every reconcile
    /// lists the region itself.
    pub listing_age: Duration,
    /// API Gateway tokens (of the 30 of the account's burst Portico uses) a health read must
    /// leave for changes; below it the read skips a round. None: health reads wait for quota
    /// like any call.
    pub health_reserve: Option<f64>,
    pub waits: Waits,
    pub retry: Retry,
    /// Longest wait after repeated failures.
    pub max_backoff: Duration,
    /// After a restart that cut a plan off: how long to let AWS finish requests that were in
    /// flight before observing again (so a create that lands late is seen, not repeated).
    /// After another server called AWS less than this ago (a restart), the rest of it: the
    /// shared request buckets the last holder spent (API Gateway's, ELB's) refill meanwhile,
    /// the slowest as paced (ELB changes) in 5 s. The lease is renewed while settling.
    pub settle: Duration,
    /// For crash tests only: stop the run right after the AWS call of this step index
    /// returns, before the journal records it, as a `kill -9` at that point would.
    pub crash_after_call: Option<usize>,
    /// How long the worker lease lasts unrenewed: another server takes over this long after
    /// the holder dies. The holder renews it every third of that, and before every AWS write.
    pub lease_ttl: Duration,
    /// This worker's name in the lease; None: the process's (host, pid and a nonce), which
    /// every worker of one process shares.
    pub holder: Option<String>,
    /// How often a gateway's traffic is read from CloudWatch (with a health read that falls
    /// due); None: never. CloudWatch bills each metric asked for: `serve` never asks more
    /// often than the points' period (`aws::cloudwatch::PERIOD`); tests may.
    pub metrics_interval: Option<Duration>,
    /// When a stage's 5xx answers make it degraded.
    pub error_threshold: portico_core::health::ErrorThreshold,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            drift_interval: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            health_interval: Duration::from_secs(15),
            listing_age: Duration::from_secs(15),
            health_reserve: Some(15.0),
            waits: Waits::default(),
            retry: Retry::default(),
            max_backoff: Duration::from_secs(300),
            settle: Duration::from_secs(5),
            crash_after_call: None,
            lease_ttl: Duration::from_secs(30),
            holder: None,
            metrics_interval: Some(Duration::from_secs(crate::aws::cloudwatch::PERIOD as u64)),
            error_threshold: Default::default(),
        }
    }
}

pub struct Worker {
    pub store: Store,
    /// Who this worker is in the lease.
    pub holder: String,
    base: SdkConfig,
    pacers: Arc<Pacers>,
    pub config: WorkerConfig,
    clients: Mutex<HashMap<(String, Option<String>), Clients>>,
    /// Target-group attributes and deployments read lately (forgotten whenever a plan runs).
    remembered: observe::Remembered,
    /// The listings of each account and region, shared by reconciles and health reads.
    listings: listing::Listings,
    /// This installation's id, read once.
    installation: tokio::sync::OnceCell<String>,
}

/// How a run ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// AWS matches the topology.
    InSync,
    /// A plan ran; run again at once to confirm.
    Applied { writes: usize },
    /// A plan waits for an admin.
    AwaitingApproval,
    /// Drift found and only reported.
    DriftReported,
    /// The gateway was deleted and AWS holds nothing of it.
    Removed,
    /// No such gateway (any more).
    Gone,
    /// The run failed; retried with backoff.
    Failed(String),
    /// Test hook: stopped as if killed.
    Crashed,
    /// Another server holds the worker lease: nothing was read or written.
    Standby,
    /// A periodic drift check put off: routine looks in the account and region have spent
    /// their share of the read quota (`aws::pace::IDLE_SHARE`). Nothing was read.
    Postponed,
}

/// This process's name in the worker lease: host, pid and a nonce (a restarted process with a
/// reused pid is still someone else).
fn process_holder() -> String {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        format!(
            "{host} pid {} {:08x}",
            std::process::id(),
            fastrand::u32(..)
        )
    })
    .clone()
}

impl Worker {
    pub fn new(store: Store, base: SdkConfig, config: WorkerConfig) -> Self {
        Self {
            holder: config.holder.clone().unwrap_or_else(process_holder),
            store,
            base,
            pacers: Arc::new(Pacers::default()),
            config,
            clients: Mutex::new(HashMap::new()),
            installation: tokio::sync::OnceCell::new(),
            listings: listing::Listings::default(),
            remembered: observe::Remembered::default(),
        }
    }

    /// The standard credential chain (environment, profile, SSO, IMDS, `AWS_ENDPOINT_URL`).
    pub async fn from_environment(store: Store, config: WorkerConfig) -> Self {
        Self::new(store, base_config().await, config)
    }

    async fn clients(&self, region: &str, role: Option<&str>) -> Clients {
        let key = (region.to_owned(), role.map(str::to_owned));
        if let Some(c) = self
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return c.clone();
        }
        let clients = Clients::for_account(&self.base, region, role).await;
        self.clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, clients.clone());
        clients
    }

    fn caller(&self, region: &str, role: Option<&str>) -> Caller {
        Caller {
            retry: self.config.retry,
            write_guard: Some(Arc::new(term::LeaseGuard {
                store: self.store.clone(),
                holder: self.holder.clone(),
                ttl: self.config.lease_ttl,
            })),
            ..Caller::new(self.pacers.clone(), region, role)
        }
    }

    /// Observes a gateway and plans, without writing anything (`portico plan`, `status`).
    pub async fn preview(&self, gateway: i64) -> Result<Option<(Desired, Actual, Plan)>, AppError> {
        let Some(g) = gateways::by_id(&self.store, gateway).await? else {
            return Ok(None);
        };
        let gw = &g.topology.gateway;
        let clients = self.clients(&gw.region, gw.role_arn.as_deref()).await;
        let caller = self.caller(&gw.region, gw.role_arn.as_deref());
        let owner = self.owner(&g).await?;
        let actual = observe::observe(&clients, &caller, &owner)
            .await
            .map_err(|e| AppError::Unavailable(format!("Could not read AWS: {e}")))?;
        let desired = (!g.deleting).then_some(&g.topology);
        let wanted = keys::desired_keys(&self.store, gateway, portico_store::now_unix()).await?;
        let p = plan(desired, &wanted, &actual);
        Ok(Some((g, actual, p)))
    }

    /// The gateway as the owner of AWS resources: its name and this installation's id (read
    /// from the database once), and what it adopted.
    pub async fn owner(&self, g: &Desired) -> Result<owner::Owner, portico_store::StoreError> {
        let installation = self
            .installation
            .get_or_try_init(|| portico_store::installation::id(&self.store))
            .await?;
        owner::Owner::of(&self.store, installation, g).await
    }

    /// The API Gateway pacers this worker's calls take tokens from (the key screen's read
    /// shares them).
    pub fn pacers(&self) -> Arc<Pacers> {
        self.pacers.clone()
    }

    /// The next wait after `outcome`, and whether the reconcile after it is a routine drift
    /// check (put off when routine looks have spent their budget) rather than work due: an
    /// edit, a first look, a confirmation after a plan, a retry, a key's deadline.
    async fn next_run(&self, gateway: i64, outcome: &Outcome) -> Option<(Duration, bool)> {
        match outcome {
            Outcome::Gone | Outcome::Removed | Outcome::Standby => None,
            Outcome::Applied { .. } => Some((Duration::ZERO, false)),
            Outcome::Failed(_) | Outcome::Crashed => {
                let failures = status::failures(&self.store, gateway)
                    .await
                    .unwrap_or(1)
                    .clamp(1, 16);
                let backoff = Duration::from_secs(2).saturating_mul(1 << (failures - 1).min(10));
                Some((backoff.min(self.config.max_backoff), false))
            }
            // Tried again once health is next read; still routine.
            Outcome::Postponed => Some((self.config.health_interval, true)),
            _ => {
                // Sooner when a key expires, ends its grace period or is due for deletion.
                let now = portico_store::now_unix();
                let deadline = keys::next_key_deadline(&self.store, gateway, now)
                    .await
                    .ok()
                    .flatten()
                    .map(|t| Duration::from_secs((t - now).max(0) as u64 + 1));
                Some(match deadline {
                    Some(d) if d < self.config.drift_interval => (d, false),
                    _ => (self.config.drift_interval, true),
                })
            }
        }
    }

    /// Reads health only (no plan, no write): between reconciles, every `health_interval`.
    pub async fn refresh_health(
        &self,
        gateway: i64,
    ) -> Result<portico_core::health::Health, AppError> {
        self.refresh_health_as(gateway, false).await
    }

    /// `refresh_health`; `routine`: the worker's periodic read, admitted by the budget routine
    /// looks share and charged every read it makes, or skipped this round when it is spent.
    #[doc(hidden)]
    pub async fn refresh_health_as(
        &self,
        gateway: i64,
        routine: bool,
    ) -> Result<portico_core::health::Health, AppError> {
        let Some(g) = gateways::by_id(&self.store, gateway).await? else {
            return Err(AppError::NotFound("no such gateway".into()));
        };
        let gw = &g.topology.gateway;
        let clients = self.clients(&gw.region, gw.role_arn.as_deref()).await;
        // Health reads give way: they skip a round rather than queue, when changes need the
        // quota or routine looks have spent their share of it.
        let caller = Caller {
            best_effort_reserve: self.config.health_reserve,
            ..self.caller(&gw.region, gw.role_arn.as_deref())
        };
        let caller = if routine {
            let Some(prepaid) = self.admit_routine(&caller, &g.topology) else {
                return Err(AppError::Unavailable(
                    "Health read skipped this round: routine reads have spent their share of \
                     the AWS read quota."
                        .into(),
                ));
            };
            Caller {
                routine: Some(prepaid),
                ..caller
            }
        } else {
            caller
        };
        let owner = self.owner(&g).await?;
        let read = async {
            let inventory = self
                .listings
                .get(&clients, &caller, self.config.health_interval, None, true)
                .await?;
            observe::observe_in(
                &clients,
                &caller,
                &inventory,
                &owner,
                Some(&self.remembered),
                true,
            )
            .await
        };
        let actual = match read.await {
            Ok(a) => a,
            Err(e) if e.kind == crate::aws::call::ErrorKind::Deferred => {
                return Err(AppError::Unavailable(format!("Could not read AWS: {e}")))
            }
            Err(e) => {
                self.forget_listings(&caller);
                self.note_unreadable(gateway, &e.to_string()).await;
                return Err(AppError::Unavailable(format!("Could not read AWS: {e}")));
            }
        };
        let now = portico_store::now_unix();
        self.refresh_traffic(gw, gateway, &clients, &caller, &actual, now)
            .await;
        let wanted = keys::desired_keys(&self.store, gateway, now).await?;
        let health = portico_core::health::assess(&g.topology, &key_wants(&wanted), &actual);
        let health = self
            .health_with_traffic(gateway, &g.topology, health, now)
            .await?;
        status::record_health(&self.store, gateway, &health, now).await?;
        Ok(health)
    }

    /// Admits a routine look (a drift check, a health read) of topology `t` when the budget
    /// routine looks share in the caller's account and region holds the gateway's own reads
    /// (ELB: listeners, and target health per backend port; API Gateway: resources and
    /// stages), which it takes at once. The look's other reads (a listing's, when it makes one)
    /// are charged as they are made (`Caller::routine`). None: put the look off.
    fn admit_routine(
        &self,
        caller: &Caller,
        t: &portico_core::model::topology::Topology,
    ) -> Option<Arc<crate::aws::pace::Prepaid>> {
        use crate::aws::pace::Budget;
        let elb = 1.0 + t.ports.len() as f64;
        self.pacers.admit_routine(
            &caller.account,
            &caller.region,
            &[(Budget::Elb, elb), (Budget::ApiGateway, 2.0)],
        )
    }

    /// Forgets the listings of the caller's region, and the target-group attributes and
    /// deployments read lately: the worker just changed what AWS holds there (a plan, tags), or
    /// a read there failed, so the next reads ask AWS.
    pub(crate) fn forget_listings(&self, caller: &Caller) {
        self.remembered.forget();
        self.listings.forget_region(&caller.region);
    }

    /// Forgets every listing and reading this worker holds, in every account and region (a new
    /// lease term; tests, to age what was read at once).
    #[doc(hidden)]
    pub fn forget_all_read(&self) {
        self.remembered.forget();
        self.listings.forget_all();
    }

    /// AWS could not be read for this gateway. Once the last good read is two health
    /// intervals old (or there never was one), its health turns unknown, saying why and for
    /// how long: the last good picture is not shown as if it were current.
    pub(crate) async fn note_unreadable(&self, gateway: i64, why: &str) {
        let now = portico_store::now_unix();
        let read_at = status::health_read_at(&self.store, gateway)
            .await
            .ok()
            .flatten();
        let two_intervals = 2 * self.config.health_interval.as_secs() as i64;
        if read_at.is_some_and(|t| now - t < two_intervals) {
            return;
        }
        let health = portico_core::health::unreadable(why, read_at.map(|t| (now - t) / 60));
        if let Err(e) = status::record_unreadable(&self.store, gateway, &health, read_at, now).await
        {
            tracing::warn!(gateway, "could not record unknown health: {e}");
        }
    }

    async fn run_gateway(self: Arc<Self>, id: i64, notify: Arc<Notify>) {
        let mut next_reconcile = tokio::time::Instant::now();
        // The next reconcile is a periodic drift check (`next_run` says).
        let mut routine = false;
        loop {
            let now = tokio::time::Instant::now();
            if now >= next_reconcile {
                let outcome = self.reconcile_as(id, routine).await;
                let Some((next, next_routine)) = self.next_run(id, &outcome).await else {
                    return;
                };
                routine = next_routine;
                next_reconcile = tokio::time::Instant::now() + next;
                if next.is_zero() {
                    continue;
                }
            } else {
                // An edit does not wait behind a health read (its CloudWatch calls can take
                // seconds): the read gives way, and is made again at the next interval. What it
                // stored so far stays (each write is its own transaction, cursors with points).
                tokio::select! {
                    read = self.refresh_health_as(id, true) => {
                        if let Err(e) = read {
                            tracing::debug!(gateway = id, "health refresh: {e}");
                        }
                    }
                    _ = notify.notified() => {
                        next_reconcile = tokio::time::Instant::now();
                        routine = false;
                        continue;
                    }
                }
            }
            let wait = next_reconcile
                .saturating_duration_since(tokio::time::Instant::now())
                .min(self.config.health_interval);
            tokio::select! {
                _ = notify.notified() => {
                    next_reconcile = tokio::time::Instant::now();
                    routine = false;
                }
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// The keys as health assessment wants them (present, and enabled or not).
fn key_wants(
    wanted: &[portico_core::plan::keys::DesiredKey],
) -> Vec<portico_core::health::KeyWant> {
    wanted
        .iter()
        .map(|k| portico_core::health::KeyWant {
            id: k.id,
            name: k.name.clone(),
            enabled: k.enabled,
        })
        .collect()
}
