//! The run of a stored plan: each step starts as soon as the steps it depends on are done
//! (`portico_core::plan::schedule`), so independent calls overlap within the pacer's quotas,
//! and each is journalled before and after its AWS call. A failed step's dependents never
//! start; steps independent of it still run, so the run gets as far as it can, and then reports
//! the first failure. A lost lease stops every new step at once.

use super::apply::{self, Made, Outputs, StepError};
use super::owner::Owner;
use super::Worker;
use crate::aws::call::{Caller, ErrorKind};
use crate::aws::Clients;
use futures::stream::{FuturesUnordered, StreamExt};
use portico_core::plan::schedule::{dependencies, Ready};
use portico_core::plan::{Op, Plan};
use portico_store::plans::{self, StepEnd};
use portico_store::{keys, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};

/// What a run calls AWS with: the account's clients, the paced caller, the gateway as owner.
pub(super) type Aws<'a> = (&'a Clients, &'a Caller, &'a Owner);

/// How a step's course ended (`Worker::step`).
enum Ended {
    /// Not started: why the run stops.
    NotStarted(RunError),
    /// Not started: the run was already stopping when its turn came.
    Skipped,
    /// Test hook: stopped as if killed, after the call and before its journal row.
    Crashed,
    /// Called; how it ended as journalled (the outer error: the journal could not be written).
    Ran(Result<Result<Made, RunError>, RunError>),
}

/// Which step of which run `Worker::step` takes from start to end.
struct Course<'a> {
    plan_id: i64,
    i: usize,
    op: &'a Op,
    gateway_id: i64,
    /// Set once the run stops: a step not started yet does not start.
    stopping: &'a AtomicBool,
}

/// Why a plan's run stopped before its end.
pub(super) enum RunError {
    Step(usize, StepError),
    /// Test hook: stopped as if killed.
    Crashed,
    /// Another server took the worker lease before this step's write.
    LostLease(usize),
    Db(StoreError),
}

impl Worker {
    /// Runs the plan's steps, each once its dependencies are done.
    pub(super) async fn run_plan(
        &self,
        plan_id: i64,
        p: &Plan,
        (clients, caller, owner): Aws<'_>,
        gateway_id: i64,
    ) -> Result<(), RunError> {
        let deps = dependencies(p);
        // How many dependencies each step still waits for, and who waits for each step.
        let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); p.steps.len()];
        for (j, d) in deps.iter().enumerate() {
            for &i in d {
                dependents[i].push(j);
            }
        }
        let mut ready = Ready::new(p, &deps);
        for j in (0..p.steps.len()).filter(|&j| waiting[j] == 0) {
            ready.add(j);
        }
        let mut outputs = Outputs::default();
        // Every step's whole course (the lease claimed, journalled before, called, journalled
        // after) is one future here, and this loop awaits nothing but them: a step's database
        // transaction (a wait's health read, a claim) is never left unpolled while the loop
        // waits for the write lock it holds (that stalled writers for the busy timeout, and
        // the run failed as "busy").
        // `stop` as the steps already pushed see it: one whose turn comes after it is set does
        // not start (the old loop started steps one by one and so never did).
        let stopping = AtomicBool::new(false);
        let mut running = FuturesUnordered::new();
        // Why the run stops, once it must: no step starts after that.
        let mut stop: Option<RunError> = None;
        // The first step that failed (its dependents wait forever).
        let mut failed: Option<RunError> = None;
        loop {
            while stop.is_none() {
                let Some(i) = ready.next(running.is_empty()) else {
                    break;
                };
                let step = &p.steps[i];
                // The step takes the values it reads now: they are all made already.
                let inputs = outputs.only(&step.op.inputs());
                let stopping = &stopping;
                running.push(async move {
                    let aws = (clients, caller, owner);
                    let course = Course {
                        plan_id,
                        i,
                        op: &step.op,
                        gateway_id,
                        stopping,
                    };
                    (i, self.step(course, aws, &inputs).await)
                });
            }
            let Some((i, ended)) = running.next().await else {
                break;
            };
            if matches!(ended, Ended::NotStarted(_) | Ended::Ran(Err(_))) {
                stopping.store(true, Ordering::SeqCst);
            }
            let journalled = match ended {
                Ended::Skipped => continue,
                Ended::NotStarted(e) => {
                    stop.get_or_insert(e);
                    continue;
                }
                Ended::Crashed => return Err(RunError::Crashed),
                // A database error stops new steps; those in flight still finish (and their
                // journal rows are written if the database answers again).
                Ended::Ran(Err(e)) => {
                    stop.get_or_insert(e);
                    continue;
                }
                Ended::Ran(Ok(journalled)) => journalled,
            };
            match journalled {
                Ok(made) => {
                    outputs.put(i, &made);
                    for &j in &dependents[i] {
                        waiting[j] -= 1;
                        if waiting[j] == 0 {
                            ready.add(j);
                        }
                    }
                }
                Err(e @ RunError::Step(..)) => {
                    failed.get_or_insert(e);
                }
                Err(e) => {
                    stopping.store(true, Ordering::SeqCst);
                    stop.get_or_insert(e);
                }
            }
        }
        match stop.or(failed) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Step `i` from start to end: the lease claimed before a write (a holder that lost it
    /// stops here; the caller checks again once the pacer lets the call through), journalled
    /// as started, called, journalled as ended.
    async fn step(&self, course: Course<'_>, aws: Aws<'_>, inputs: &Outputs) -> Ended {
        let Course {
            plan_id,
            i,
            op,
            gateway_id,
            stopping,
        } = course;
        if stopping.load(Ordering::SeqCst) {
            return Ended::Skipped;
        }
        if op.is_write() {
            match self.claim_lease().await {
                Ok(true) => {}
                Ok(false) => return Ended::NotStarted(RunError::LostLease(i)),
                Err(e) => return Ended::NotStarted(RunError::Db(e)),
            }
        }
        // The run may have begun to stop while the claim waited.
        if stopping.load(Ordering::SeqCst) {
            return Ended::Skipped;
        }
        if let Err(e) = plans::step_started(&self.store, plan_id, i).await {
            return Ended::NotStarted(RunError::Db(e));
        }
        let made = self.run_step(op, aws, inputs, gateway_id).await;
        if self.config.crash_after_call == Some(i) {
            return Ended::Crashed;
        }
        Ended::Ran(self.journal(plan_id, i, op, made).await)
    }

    /// One step's call; a wait (which can take minutes: a VPC link) keeps health current
    /// meanwhile.
    async fn run_step(
        &self,
        op: &Op,
        (clients, caller, owner): Aws<'_>,
        inputs: &Outputs,
        gateway_id: i64,
    ) -> Result<Made, StepError> {
        let call = apply::execute(clients, caller, owner, op, inputs, self.config.waits);
        if op.is_write() {
            return call.await;
        }
        // The reads go on beside the wait, both polled all along (a read's transaction is
        // never left waiting on the call), and stop with it.
        let health = async {
            loop {
                tokio::time::sleep(self.config.health_interval).await;
                if let Err(e) = self.refresh_health_as(gateway_id, true).await {
                    tracing::debug!(gateway = %owner.gateway, "health refresh during a wait: {e}");
                }
            }
        };
        tokio::select! {
            r = call => r,
            _ = health => unreachable!("the health reads go on until the wait ends"),
        }
    }

    /// Records how step `i` ended; a failure comes back as why the run stops.
    async fn journal(
        &self,
        plan_id: i64,
        i: usize,
        op: &Op,
        result: Result<Made, StepError>,
    ) -> Result<Result<Made, RunError>, RunError> {
        let db = RunError::Db;
        match result {
            Ok(made) => {
                if let Op::CreateApiKey { key, .. } = op {
                    if let Some((_, aws_id)) = made.values.first() {
                        keys::key_created(&self.store, *key, aws_id, made.key_hint.as_deref())
                            .await
                            .map_err(db)?;
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
                let end = StepEnd::Done {
                    request_id: made.request_id.as_deref(),
                    output: output.as_deref(),
                };
                plans::step_finished(&self.store, plan_id, i, &end)
                    .await
                    .map_err(db)?;
                Ok(Ok(made))
            }
            Err(StepError::Aws(e)) if e.kind == ErrorKind::Superseded => {
                let end = StepEnd::Failed {
                    request_id: None,
                    code: Some("Superseded"),
                    message: "not sent: another Portico server took the worker lease (a try \
                              made before, if any, may still have been carried out); it \
                              observes AWS before going on",
                };
                plans::step_finished(&self.store, plan_id, i, &end)
                    .await
                    .map_err(db)?;
                Ok(Err(RunError::LostLease(i)))
            }
            Err(e) => {
                let (request_id, code, message) = (e.request_id(), e.code(), e.to_string());
                let end = StepEnd::Failed {
                    request_id: request_id.as_deref(),
                    code: code.as_deref(),
                    message: &message,
                };
                plans::step_finished(&self.store, plan_id, i, &end)
                    .await
                    .map_err(db)?;
                Ok(Err(RunError::Step(i, e)))
            }
        }
    }
}
