//! The worker: the only part of Portico that writes to AWS.
//!
//! One task per gateway (never two at once for the same gateway; gateways run in parallel),
//! woken within a second of an edit (a Notify from the server functions, and a one-second look
//! at the database, which also catches the CLI's edits) and every `drift_interval` for drift.
//! Each run is level-triggered: observe AWS, plan, and apply — it never trusts memory of an
//! earlier run. Plans that need an admin wait for approval; a plan is only executed if the
//! generation it was made from is still the latest and planning again gives the same steps.

pub mod apply;
pub mod observe;
pub mod pace;
pub mod store;

use crate::aws::call::{Caller, Retry};
use crate::aws::{config_for, Clients};
use app::error::AppError;
use app::model::topology::{ApplyMode, DriftMode};
use app::plan::{plan, Plan};
use apply::{Outputs, StepError, Waits};
use aws_config::SdkConfig;
use pace::Pacers;
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// How often a converged gateway is observed again for drift.
    pub drift_interval: Duration,
    /// How often the database is looked at for edits made elsewhere (the CLI).
    pub poll: Duration,
    /// How often health is read (reads only) between reconciles.
    pub health_interval: Duration,
    /// API Gateway tokens (of the account's burst of 40) a health read must leave for changes;
    /// below it the read skips a round. None: health reads wait for quota like any call.
    pub health_reserve: Option<f64>,
    pub waits: Waits,
    pub retry: Retry,
    /// Longest wait after repeated failures.
    pub max_backoff: Duration,
    /// After a restart that cut a plan off: how long to let AWS finish requests that were in
    /// flight before observing again (so a create that lands late is seen, not repeated).
    pub settle: Duration,
    /// For crash tests only: stop the run right after the AWS call of this step index
    /// returns, before the journal records it, as a `kill -9` at that point would.
    pub crash_after_call: Option<usize>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            drift_interval: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            health_interval: Duration::from_secs(15),
            health_reserve: Some(20.0),
            waits: Waits::default(),
            retry: Retry::default(),
            max_backoff: Duration::from_secs(300),
            settle: Duration::from_secs(5),
            crash_after_call: None,
        }
    }
}

pub struct Worker {
    pub pool: SqlitePool,
    base: SdkConfig,
    pacers: Arc<Pacers>,
    pub config: WorkerConfig,
    clients: Mutex<HashMap<(String, Option<String>), Clients>>,
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
}

impl Worker {
    pub fn new(pool: SqlitePool, base: SdkConfig, config: WorkerConfig) -> Self {
        Self {
            pool,
            base,
            pacers: Arc::new(Pacers::default()),
            config,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The standard credential chain (environment, profile, SSO, IMDS, `AWS_ENDPOINT_URL`).
    pub async fn from_environment(pool: SqlitePool, config: WorkerConfig) -> Self {
        let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        Self::new(pool, base, config)
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
        let config = config_for(&self.base, region, role).await;
        let clients = Clients::for_worker(&config);
        self.clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, clients.clone());
        clients
    }

    fn caller(&self, region: &str, role: Option<&str>) -> Caller {
        Caller {
            pacers: self.pacers.clone(),
            account: role.unwrap_or("default").to_owned(),
            region: region.to_owned(),
            retry: self.config.retry,
            best_effort_reserve: None,
        }
    }

    /// Observes a gateway and plans, without writing anything (`portico plan`, `status`).
    pub async fn preview(
        &self,
        gateway: i64,
    ) -> Result<Option<(store::GatewayRow, app::plan::actual::Actual, Plan)>, AppError> {
        let Some(g) = store::gateway(&self.pool, gateway).await? else {
            return Ok(None);
        };
        let gw = &g.topology.gateway;
        let clients = self.clients(&gw.region, gw.role_arn.as_deref()).await;
        let caller = self.caller(&gw.region, gw.role_arn.as_deref());
        let actual = observe::observe(&clients, &caller, &g.name)
            .await
            .map_err(|e| AppError::Unavailable(format!("Could not read AWS: {e}")))?;
        let desired = (!g.deleting).then_some(&g.topology);
        let keys = store::desired_keys(&self.pool, gateway, app::state::now_unix()).await?;
        let p = plan(desired, &keys, &actual);
        Ok(Some((g, actual, p)))
    }

    /// One reconcile of one gateway.
    pub async fn reconcile(&self, gateway: i64) -> Outcome {
        let started = Instant::now();
        let outcome = match self.reconcile_inner(gateway).await {
            Ok(o) => o,
            Err(e) => Outcome::Failed(e.to_string()),
        };
        let label = match &outcome {
            Outcome::InSync => "in_sync",
            Outcome::Applied { .. } => "applied",
            Outcome::AwaitingApproval => "awaiting_approval",
            Outcome::DriftReported => "drift",
            Outcome::Removed => "removed",
            Outcome::Gone => "gone",
            Outcome::Failed(_) => "failed",
            Outcome::Crashed => "crashed",
        };
        metrics::counter!("portico_reconciles_total", "outcome" => label).increment(1);
        metrics::histogram!("portico_reconcile_seconds").record(started.elapsed().as_secs_f64());
        if let Outcome::Failed(why) = &outcome {
            tracing::warn!(gateway, "reconcile failed: {why}");
            let failures = store::failures(&self.pool, gateway).await.unwrap_or(0) + 1;
            let _ = store::set_status(&self.pool, gateway, "error", why, None, failures).await;
        }
        outcome
    }

    async fn reconcile_inner(&self, gateway: i64) -> Result<Outcome, AppError> {
        let Some(g) = store::gateway(&self.pool, gateway).await? else {
            return Ok(Outcome::Gone);
        };
        let gw = &g.topology.gateway;
        let clients = self.clients(&gw.region, gw.role_arn.as_deref()).await;
        let caller = self.caller(&gw.region, gw.role_arn.as_deref());
        let actual = match observe::observe(&clients, &caller, &g.name).await {
            Ok(a) => a,
            Err(e) => return Ok(Outcome::Failed(format!("Could not read AWS: {e}"))),
        };
        let now = app::state::now_unix();
        store::sync_keys(&self.pool, gateway, &actual, now).await?;
        let desired = (!g.deleting).then_some(&g.topology);
        let keys = store::desired_keys(&self.pool, gateway, now).await?;
        if !g.deleting {
            let health = app::health::assess(&g.topology, &key_wants(&keys), &actual);
            store::record_health(&self.pool, gateway, &health, now).await?;
        }
        let p = plan(desired, &keys, &actual);
        if p.is_empty() {
            store::supersede(&self.pool, gateway, None).await?;
            if g.deleting {
                store::remove_gateway(&self.pool, gateway).await?;
                tracing::info!(gateway = %g.name, "deleted: AWS holds nothing of it any more");
                return Ok(Outcome::Removed);
            }
            store::mark_converged(&self.pool, gateway, g.generation).await?;
            let message = format!("AWS matches generation {}.", g.generation);
            store::set_status(&self.pool, gateway, "in_sync", &message, Some(&actual), 0).await?;
            return Ok(Outcome::InSync);
        }
        let reason = if g.deleting {
            "delete"
        } else if g.converged_generation >= g.generation {
            "drift"
        } else {
            "edit"
        };
        let failures = store::failures(&self.pool, gateway).await?;
        let open = store::open_plan(&self.pool, gateway).await?;
        let same = |row: &store::PlanRow| row.generation == g.generation && row.plan == p;

        if reason == "drift" && gw.drift_mode == DriftMode::Report {
            if !open
                .as_ref()
                .is_some_and(|o| o.status == "reported" && same(o))
            {
                store::replace_open_plan(
                    &self.pool,
                    gateway,
                    g.generation,
                    reason,
                    &p,
                    false,
                    "reported",
                )
                .await?;
            }
            let message = format!("Drift: AWS differs from the topology in {} place(s); drift mode is report, so nothing was changed.", p.steps.len());
            store::set_status(
                &self.pool,
                gateway,
                "drift",
                &message,
                Some(&actual),
                failures,
            )
            .await?;
            return Ok(Outcome::DriftReported);
        }

        // Deleting a gateway was confirmed by an admin typing its name.
        // Key steps are an admin's own action (issue, rotate, revoke): approve mode is about
        // the topology.
        let topology_writes = p
            .steps
            .iter()
            .any(|s| s.op.is_write() && s.kind != app::plan::Kind::ApiKey);
        let needs_approval = reason != "delete"
            && (p.needs_approval() || (gw.apply_mode == ApplyMode::Approve && topology_writes));
        let plan_id = if needs_approval {
            match open {
                Some(o) if o.status == "approved" && same(&o) => Some(o.id),
                // Already waiting for an admin: nothing new to store.
                Some(o) if o.status == "awaiting_approval" && same(&o) => None,
                _ => {
                    // Anything older no longer describes what would happen.
                    store::replace_open_plan(
                        &self.pool,
                        gateway,
                        g.generation,
                        reason,
                        &p,
                        true,
                        "awaiting_approval",
                    )
                    .await?;
                    None
                }
            }
        } else {
            store::replace_open_plan(
                &self.pool,
                gateway,
                g.generation,
                reason,
                &p,
                false,
                "approved",
            )
            .await
            .map(Some)?
        };

        let Some(plan_id) = plan_id else {
            let message = approval_message(&p);
            store::set_status(
                &self.pool,
                gateway,
                "awaiting_approval",
                &message,
                Some(&actual),
                failures,
            )
            .await?;
            return Ok(Outcome::AwaitingApproval);
        };
        store::start_plan(&self.pool, plan_id).await?;
        let state = if g.deleting { "deleting" } else { "applying" };
        store::set_status(
            &self.pool,
            gateway,
            state,
            &format!("Applying {} step(s).", p.steps.len()),
            Some(&actual),
            failures,
        )
        .await?;
        match self
            .execute(plan_id, &p, &clients, &caller, &g.name, gateway)
            .await
        {
            Ok(()) => {
                store::finish_plan(&self.pool, plan_id, "done", None).await?;
                Ok(Outcome::Applied { writes: p.writes() })
            }
            Err(RunError::Crashed) => Ok(Outcome::Crashed),
            Err(RunError::Step(i, e)) => {
                let message = format!("Step {} ({}) failed: {e}", i + 1, p.steps[i].resource);
                store::finish_plan(&self.pool, plan_id, "failed", Some(&message)).await?;
                Ok(Outcome::Failed(message))
            }
            Err(RunError::Db(e)) => Err(e),
        }
    }

    async fn execute(
        &self,
        plan_id: i64,
        p: &Plan,
        clients: &Clients,
        caller: &Caller,
        gateway: &str,
        gateway_id: i64,
    ) -> Result<(), RunError> {
        let mut outputs = Outputs::default();
        for (i, step) in p.steps.iter().enumerate() {
            store::step_started(&self.pool, plan_id, i)
                .await
                .map_err(RunError::Db)?;
            let call = apply::execute(
                clients,
                caller,
                gateway,
                &step.op,
                &outputs,
                self.config.waits,
            );
            let result = if step.op.is_write() {
                call.await
            } else {
                // A wait can take minutes (a VPC link): keep health current meanwhile.
                tokio::pin!(call);
                loop {
                    tokio::select! {
                        r = &mut call => break r,
                        _ = tokio::time::sleep(self.config.health_interval) => {
                            if let Err(e) = self.refresh_health(gateway_id).await {
                                tracing::debug!(gateway, "health refresh during a wait: {e}");
                            }
                        }
                    }
                }
            };
            if self.config.crash_after_call == Some(i) {
                return Err(RunError::Crashed);
            }
            match result {
                Ok(made) => {
                    outputs.put(i, &made);
                    if let app::plan::Op::CreateApiKey { key, .. } = &step.op {
                        if let Some((_, aws_id)) = made.values.first() {
                            store::key_created(&self.pool, *key, aws_id, made.key_hint.as_deref())
                                .await
                                .map_err(RunError::Db)?;
                        }
                    }
                    let output = (!made.values.is_empty()).then(|| {
                        serde_json::to_string(
                            &made
                                .values
                                .iter()
                                .map(|(f, v)| (format!("{f:?}"), v))
                                .collect::<Vec<_>>(),
                        )
                        .unwrap_or_default()
                    });
                    store::step_finished(
                        &self.pool,
                        plan_id,
                        i,
                        true,
                        made.request_id.as_deref(),
                        None,
                        None,
                        output.as_deref(),
                    )
                    .await
                    .map_err(RunError::Db)?;
                }
                Err(e) => {
                    store::step_finished(
                        &self.pool,
                        plan_id,
                        i,
                        false,
                        e.request_id().as_deref(),
                        e.code().as_deref(),
                        Some(&e.to_string()),
                        None,
                    )
                    .await
                    .map_err(RunError::Db)?;
                    return Err(RunError::Step(i, e));
                }
            }
        }
        Ok(())
    }

    /// The next wait after `outcome`.
    async fn next_run(&self, gateway: i64, outcome: &Outcome) -> Option<Duration> {
        match outcome {
            Outcome::Gone | Outcome::Removed => None,
            Outcome::Applied { .. } => Some(Duration::ZERO),
            Outcome::Failed(_) | Outcome::Crashed => {
                let failures = store::failures(&self.pool, gateway)
                    .await
                    .unwrap_or(1)
                    .clamp(1, 16);
                let backoff = Duration::from_secs(2).saturating_mul(1 << (failures - 1).min(10));
                Some(backoff.min(self.config.max_backoff))
            }
            _ => {
                // Sooner when a key expires, ends its grace period or is due for deletion.
                let now = app::state::now_unix();
                let deadline = store::next_key_deadline(&self.pool, gateway, now)
                    .await
                    .ok()
                    .flatten()
                    .map(|t| Duration::from_secs((t - now).max(0) as u64 + 1));
                Some(match deadline {
                    Some(d) => d.min(self.config.drift_interval),
                    None => self.config.drift_interval,
                })
            }
        }
    }

    /// Runs forever: one task per gateway, woken by `wake` or a change seen in the database.
    pub fn spawn(self: Arc<Self>, wake: Arc<Notify>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move { self.supervise(wake).await })
    }

    async fn supervise(self: Arc<Self>, wake: Arc<Notify>) {
        match store::interrupt_running(&self.pool).await {
            Ok(n) if n > 0 => {
                tracing::warn!(
                    "{n} plan(s) were cut off by a stop; observing AWS again in {} s",
                    self.config.settle.as_secs()
                );
                tokio::time::sleep(self.config.settle).await;
            }
            Ok(_) => {}
            Err(e) => tracing::error!("worker: {e}"),
        }
        let mut tasks: HashMap<i64, (Arc<Notify>, String, tokio::task::JoinHandle<()>)> =
            HashMap::new();
        loop {
            match store::wake_keys(&self.pool).await {
                Ok(keys) => {
                    let live: std::collections::HashSet<i64> =
                        keys.iter().map(|(id, _)| *id).collect();
                    tasks.retain(|id, (_, _, handle)| {
                        let keep = live.contains(id) && !handle.is_finished();
                        if !keep {
                            handle.abort();
                        }
                        keep
                    });
                    for (id, key) in keys {
                        match tasks.get_mut(&id) {
                            Some((notify, last, _)) => {
                                if *last != key {
                                    *last = key;
                                    notify.notify_one();
                                }
                            }
                            None => {
                                let notify = Arc::new(Notify::new());
                                let me = self.clone();
                                let n = notify.clone();
                                let handle =
                                    tokio::spawn(async move { me.run_gateway(id, n).await });
                                tasks.insert(id, (notify, key, handle));
                            }
                        }
                    }
                }
                Err(e) => tracing::error!("worker: {e}"),
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(self.config.poll) => {}
            }
        }
    }

    /// Reads health only (no plan, no write): between reconciles, every `health_interval`.
    pub async fn refresh_health(&self, gateway: i64) -> Result<app::health::Health, AppError> {
        let Some(g) = store::gateway(&self.pool, gateway).await? else {
            return Err(AppError::NotFound("no such gateway".into()));
        };
        let gw = &g.topology.gateway;
        let clients = self.clients(&gw.region, gw.role_arn.as_deref()).await;
        // Health reads give way to changes: they skip a round rather than queue for quota.
        let caller = Caller {
            best_effort_reserve: self.config.health_reserve,
            ..self.caller(&gw.region, gw.role_arn.as_deref())
        };
        let actual = observe::observe(&clients, &caller, &g.name)
            .await
            .map_err(|e| AppError::Unavailable(format!("Could not read AWS: {e}")))?;
        let now = app::state::now_unix();
        let keys = store::desired_keys(&self.pool, gateway, now).await?;
        let health = app::health::assess(&g.topology, &key_wants(&keys), &actual);
        store::record_health(&self.pool, gateway, &health, now).await?;
        Ok(health)
    }

    async fn run_gateway(self: Arc<Self>, id: i64, notify: Arc<Notify>) {
        let mut next_reconcile = tokio::time::Instant::now();
        loop {
            let now = tokio::time::Instant::now();
            if now >= next_reconcile {
                let outcome = self.reconcile(id).await;
                let Some(next) = self.next_run(id, &outcome).await else {
                    return;
                };
                next_reconcile = tokio::time::Instant::now() + next;
                if next.is_zero() {
                    continue;
                }
            } else if let Err(e) = self.refresh_health(id).await {
                tracing::debug!(gateway = id, "health refresh: {e}");
            }
            let wait = next_reconcile
                .saturating_duration_since(tokio::time::Instant::now())
                .min(self.config.health_interval);
            tokio::select! {
                _ = notify.notified() => { next_reconcile = tokio::time::Instant::now(); }
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

fn key_wants(keys: &[app::plan::keys::DesiredKey]) -> Vec<app::health::KeyWant> {
    keys.iter()
        .map(|k| app::health::KeyWant {
            id: k.id,
            name: k.name.clone(),
            enabled: k.enabled,
        })
        .collect()
}

enum RunError {
    Step(usize, StepError),
    Crashed,
    Db(AppError),
}

fn approval_message(p: &Plan) -> String {
    let guarded = p.guarded_steps();
    if guarded.is_empty() {
        format!(
            "A plan of {} step(s) waits for an admin's approval (apply mode: approve).",
            p.steps.len()
        )
    } else {
        format!(
            "A plan of {} step(s) waits for an admin's approval: it removes {}.",
            p.steps.len(),
            guarded.join(", ")
        )
    }
}
