//! Reconcile plans and the journal of their steps.
//!
//! A plan is stored with the generation it was made from and executed as stored; each step has
//! a journal row, written before its AWS call and after it, so a run cut off by a stop shows
//! where it was. Statuses and reasons are the core's words (`PlanStatus`, `PlanReason`,
//! `StepStatus`), stored as `as_str()`. Which statuses make "the open plan" is decided once, in
//! `PlanStatus::is_open` (what the worker may reuse or supersede) and `PlanStatus::is_current`
//! (what the pages lay over the diagram); the SQL lists here are built from those two.

use crate::error::{decode, encode, word};
use crate::sql;
use crate::{now_ms, now_unix, Store, StoreError, StoreResult, Tx};
use portico_core::alerts::Kind;
use portico_core::model::keys::format_timestamp;
use portico_core::plan::lifecycle::{PlanReason, PlanStatus, StepStatus};
use portico_core::plan::Plan;

/// A stored plan.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanRow {
    pub id: i64,
    pub gateway_id: i64,
    /// The generation of the topology it was made from.
    pub generation: i64,
    pub reason: PlanReason,
    pub status: PlanStatus,
    /// Stored as waiting for an admin (guarded steps, or approve mode).
    pub needs_approval: bool,
    pub plan: Plan,
    /// When it was made, UTC, `YYYY-MM-DD HH:MM:SS` (as the pages show it).
    pub created_at: String,
    pub approved_by: Option<String>,
    /// Why it failed, or that a stop cut it off.
    pub error: Option<String>,
}

/// A step's journal row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRow {
    /// The step's index in its plan.
    pub idx: usize,
    /// The AWS operation (`CreateTargetGroup`, …).
    pub operation: String,
    pub status: StepStatus,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    pub request_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// A plan to store, with a pending journal row per step.
#[derive(Clone, Copy, Debug)]
pub struct NewPlan<'a> {
    pub gateway: i64,
    /// The generation it was made from.
    pub generation: i64,
    pub reason: PlanReason,
    pub plan: &'a Plan,
    pub needs_approval: bool,
    pub status: PlanStatus,
}

/// How a step's AWS call ended, for its journal row.
#[derive(Clone, Copy, Debug)]
pub enum StepEnd<'a> {
    Done {
        request_id: Option<&'a str>,
        /// JSON of what the step made (ids, ARNs, DNS name), if anything.
        output: Option<&'a str>,
    },
    Failed {
        request_id: Option<&'a str>,
        code: Option<&'a str>,
        message: &'a str,
    },
}

#[derive(sqlx::FromRow)]
struct PlanRecord {
    id: i64,
    gateway_id: i64,
    generation: i64,
    reason: String,
    status: String,
    needs_approval: bool,
    plan: String,
    created_at: i64,
    approved_by: Option<String>,
    error: Option<String>,
}

impl PlanRecord {
    fn typed(self, db: &Store) -> StoreResult<PlanRow> {
        Ok(PlanRow {
            id: self.id,
            gateway_id: self.gateway_id,
            generation: self.generation,
            reason: word("plan reason", &self.reason)?,
            status: word("plan status", &self.status)?,
            needs_approval: self.needs_approval,
            plan: db.decoded("plan", &self.plan)?,
            created_at: format_timestamp(self.created_at),
            approved_by: self.approved_by,
            error: self.error,
        })
    }
}

#[derive(sqlx::FromRow)]
struct StepRecord {
    idx: i64,
    operation: String,
    status: String,
    started_ms: Option<i64>,
    finished_ms: Option<i64>,
    request_id: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
}

impl StepRecord {
    fn typed(self) -> StoreResult<StepRow> {
        Ok(StepRow {
            idx: usize::try_from(self.idx)
                .map_err(|e| StoreError::internal("stored step index unreadable", e))?,
            operation: self.operation,
            status: word("step status", &self.status)?,
            started_ms: self.started_ms,
            finished_ms: self.finished_ms,
            request_id: self.request_id,
            error_code: self.error_code,
            error_message: self.error_message,
        })
    }
}

const SELECT_PLAN: &str =
    "SELECT id, gateway_id, generation, reason, status, needs_approval, plan, created_at, \
     approved_by, error FROM plans";

/// `'awaiting_approval', 'approved', 'reported'`: the stored words of the statuses `keep`
/// accepts, as an SQL list. The words are the core's constants (letters and underscores), so
/// writing them into the statement is safe, and the list can never drift from the rule.
fn statuses_where(keep: fn(PlanStatus) -> bool) -> String {
    PlanStatus::ALL
        .iter()
        .copied()
        .filter(|s| keep(*s))
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The gateway's latest plan whose status `keep` accepts.
async fn latest_where(
    db: &Store,
    gateway: i64,
    keep: fn(PlanStatus) -> bool,
) -> StoreResult<Option<PlanRow>> {
    let sql = format!(
        "{SELECT_PLAN} WHERE gateway_id = ? AND status IN ({}) ORDER BY id DESC LIMIT 1",
        statuses_where(keep)
    );
    sql::query_as::<PlanRecord>(&sql)
        .bind(gateway)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.typed(db))
        .transpose()
}

/// The latest open plan (awaiting approval, approved, or reported drift): what the worker may
/// run, keep waiting or supersede.
pub async fn open_plan(db: &Store, gateway: i64) -> StoreResult<Option<PlanRow>> {
    latest_where(db, gateway, PlanStatus::is_open).await
}

/// The latest plan not finished: open or running. The diagram lays it over the topology.
pub async fn current_plan(db: &Store, gateway: i64) -> StoreResult<Option<PlanRow>> {
    latest_where(db, gateway, PlanStatus::is_current).await
}

/// One of the gateway's plans (`None` if it has no plan of that id).
pub async fn by_id(db: &Store, gateway: i64, plan: i64) -> StoreResult<Option<PlanRow>> {
    sql::query_as::<PlanRecord>(&format!("{SELECT_PLAN} WHERE id = ? AND gateway_id = ?"))
        .bind(plan)
        .bind(gateway)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.typed(db))
        .transpose()
}

/// The gateway's latest `limit` plans, newest first.
pub async fn recent(db: &Store, gateway: i64, limit: i64) -> StoreResult<Vec<PlanRow>> {
    sql::query_as::<PlanRecord>(&format!(
        "{SELECT_PLAN} WHERE gateway_id = ? ORDER BY id DESC LIMIT ?"
    ))
    .bind(gateway)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|r| r.typed(db))
    .collect()
}

/// The latest plan of the gateway made for `reason`, if any.
pub async fn latest_for(
    db: &Store,
    gateway: i64,
    reason: PlanReason,
) -> StoreResult<Option<PlanRow>> {
    sql::query_as::<PlanRecord>(&format!(
        "{SELECT_PLAN} WHERE gateway_id = ? AND reason = ? ORDER BY id DESC LIMIT 1"
    ))
    .bind(gateway)
    .bind(reason.as_str())
    .fetch_optional(&db.pool)
    .await?
    .map(|r| r.typed(db))
    .transpose()
}

/// A plan's journal, in step order.
pub async fn steps(db: &Store, plan: i64) -> StoreResult<Vec<StepRow>> {
    sql::query_as::<StepRecord>(
        "SELECT idx, operation, status, started_ms, finished_ms, request_id, error_code, error_message \
         FROM plan_steps WHERE plan_id = ? ORDER BY idx",
    )
    .bind(plan)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(StepRecord::typed)
    .collect()
}

/// Marks every open plan of the gateway superseded: it will never run.
async fn supersede_on<'e>(exec: impl crate::sql::Exec<'e>, gateway: i64) -> StoreResult<()> {
    sql::query(&format!(
        "UPDATE plans SET status = ?, finished_at = ? WHERE gateway_id = ? AND status IN ({})",
        statuses_where(PlanStatus::is_open)
    ))
    .bind(PlanStatus::Superseded.as_str())
    .bind(now_unix())
    .bind(gateway)
    .execute(exec)
    .await?;
    Ok(())
}

/// Open plans no longer describe what would happen (AWS matches, or the gateway is gone).
pub async fn supersede(db: &Store, gateway: i64) -> StoreResult<()> {
    supersede_on(&db.pool, gateway).await
}

/// Stores a plan and a pending journal row per step; its id.
pub async fn insert(db: &Store, new: &NewPlan<'_>) -> StoreResult<i64> {
    let mut tx = db.write().await?;
    let id = insert_in(&mut tx, new).await?;
    tx.commit().await?;
    Ok(id)
}

/// Supersedes every open plan of the gateway and stores `new` in their place, in one
/// transaction (so the gateway never has two open plans); its id.
pub async fn replace_open(db: &Store, new: &NewPlan<'_>) -> StoreResult<i64> {
    let mut tx = db.write().await?;
    supersede_on(&mut tx, new.gateway).await?;
    let id = insert_in(&mut tx, new).await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert_in(tx: &mut Tx, new: &NewPlan<'_>) -> StoreResult<i64> {
    let json = encode("plan", new.plan)?;
    let id: i64 = sql::query_scalar(
        "INSERT INTO plans (gateway_id, generation, created_at, reason, plan, needs_approval, status) \
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(new.gateway)
    .bind(new.generation)
    .bind(now_unix())
    .bind(new.reason.as_str())
    .bind(json)
    .bind(new.needs_approval)
    .bind(new.status.as_str())
    .fetch_one(&mut *tx)
    .await?;
    crate::alerts::new_plan(tx, new, id).await?;
    for (i, step) in new.plan.steps.iter().enumerate() {
        sql::query("INSERT INTO plan_steps (plan_id, idx, operation, status) VALUES (?, ?, ?, ?)")
            .bind(id)
            .bind(i as i64)
            .bind(step.op.operation())
            .bind(StepStatus::Pending.as_str())
            .execute(&mut *tx)
            .await?;
    }
    Ok(id)
}

/// The worker starts running the plan.
pub async fn start(db: &Store, plan: i64) -> StoreResult<()> {
    sql::query("UPDATE plans SET status = ?, started_at = ? WHERE id = ?")
        .bind(PlanStatus::Running.as_str())
        .bind(now_unix())
        .bind(plan)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The run ended: `Done` or `Failed` (with why).
pub async fn finish(
    db: &Store,
    plan: i64,
    status: PlanStatus,
    error: Option<&str>,
) -> StoreResult<()> {
    let mut tx = db.write().await?;
    let row: Option<(i64, i64, String)> = sql::query_as(
        "UPDATE plans SET status = ?, finished_at = ?, error = ? WHERE id = ? \
         RETURNING gateway_id, generation, plan",
    )
    .bind(status.as_str())
    .bind(now_unix())
    .bind(error)
    .bind(plan)
    .fetch_optional(&mut tx)
    .await?;
    if let (Some((gateway, generation, json)), PlanStatus::Failed) = (row, status) {
        let text = format!(
            "Plan {plan} failed: {}",
            error.unwrap_or("no reason was recorded")
        );
        // The next try is a new plan, with fewer steps when some were done: the same steps
        // failing again are the same event (all of them, when none is recorded as failed).
        let steps: Plan = decode("plan", &json)?;
        let failed: Vec<i64> = sql::query_scalar(
            "SELECT idx FROM plan_steps WHERE plan_id = ? AND status = ? ORDER BY idx",
        )
        .bind(plan)
        .bind(StepStatus::Failed.as_str())
        .fetch_all(&mut tx)
        .await?;
        let mut lines: Vec<String> = failed
            .iter()
            .filter_map(|i| steps.steps.get(*i as usize).map(|s| s.line()))
            .collect();
        if lines.is_empty() {
            lines = steps.lines();
        }
        let event =
            crate::alerts::plan_event(&mut tx, "failed", gateway, generation, &lines).await?;
        crate::alerts::emit(&mut tx, gateway, Kind::ApplyFailed, &event, &text).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Journal: the step is about to call AWS.
pub async fn step_started(db: &Store, plan: i64, idx: usize) -> StoreResult<()> {
    sql::query(
        "UPDATE plan_steps SET status = ?, started_ms = ?, attempts = attempts + 1 \
         WHERE plan_id = ? AND idx = ?",
    )
    .bind(StepStatus::Running.as_str())
    .bind(now_ms())
    .bind(plan)
    .bind(idx as i64)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Journal: AWS answered.
pub async fn step_finished(
    db: &Store,
    plan: i64,
    idx: usize,
    end: &StepEnd<'_>,
) -> StoreResult<()> {
    let (status, request_id, code, message, output) = match *end {
        StepEnd::Done { request_id, output } => (StepStatus::Done, request_id, None, None, output),
        StepEnd::Failed {
            request_id,
            code,
            message,
        } => (StepStatus::Failed, request_id, code, Some(message), None),
    };
    sql::query(
        "UPDATE plan_steps SET status = ?, finished_ms = ?, request_id = ?, error_code = ?, \
         error_message = ?, output = ? WHERE plan_id = ? AND idx = ?",
    )
    .bind(status.as_str())
    .bind(now_ms())
    .bind(request_id)
    .bind(code)
    .bind(message)
    .bind(output)
    .bind(plan)
    .bind(idx as i64)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// After a restart: whatever was running was cut off. The next run observes AWS again and plans
/// what is left; nothing is re-run from the journal blindly. How many plans were cut off.
pub async fn interrupt_running(db: &Store) -> StoreResult<u64> {
    let mut tx = db.write().await?;
    sql::query("UPDATE plan_steps SET status = ? WHERE status = ?")
        .bind(StepStatus::Interrupted.as_str())
        .bind(StepStatus::Running.as_str())
        .execute(&mut tx)
        .await?;
    let n = sql::query(
        "UPDATE plans SET status = ?, finished_at = ?, \
         error = 'Portico stopped while this plan ran; the next run observed AWS again and planned what was left.' \
         WHERE status = ?",
    )
    .bind(PlanStatus::Interrupted.as_str())
    .bind(now_unix())
    .bind(PlanStatus::Running.as_str())
    .execute(&mut tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(n)
}

/// An admin approves a plan waiting for one, with an audit row in the same transaction. Refused
/// unless it still waits and was made from the gateway's latest generation: an older plan no
/// longer describes what would happen, and the worker makes a new one. `name` is the gateway's,
/// for messages and the audit.
pub async fn approve(
    db: &Store,
    actor: &str,
    gateway: i64,
    name: &str,
    plan: i64,
) -> StoreResult<()> {
    let mut tx = db.write().await?;
    let row: Option<(i64, String, i64)> = sql::query_as(
        "SELECT p.generation, p.status, g.generation FROM plans p \
         JOIN gateways g ON g.id = p.gateway_id WHERE p.id = ? AND p.gateway_id = ?",
    )
    .bind(plan)
    .bind(gateway)
    .fetch_optional(&mut tx)
    .await?;
    let (made_from, status, generation) =
        row.ok_or_else(|| StoreError::NotFound(format!("Gateway {name} has no plan {plan}.")))?;
    let status: PlanStatus = word("plan status", &status)?;
    if status != PlanStatus::AwaitingApproval {
        return Err(StoreError::Conflict(format!(
            "Plan {plan} is {} and can no longer be approved.",
            status.as_str().replace('_', " ")
        )));
    }
    if made_from != generation {
        return Err(StoreError::Conflict(format!(
            "Plan {plan} was made from generation {made_from}, but the topology is at generation \
             {generation} now: it will never run. The worker makes a new plan."
        )));
    }
    sql::query(
        "UPDATE plans SET status = ?, approved_by = ?, approved_at = ? WHERE id = ? AND status = ?",
    )
    .bind(PlanStatus::Approved.as_str())
    .bind(actor)
    .bind(now_unix())
    .bind(plan)
    .bind(PlanStatus::AwaitingApproval.as_str())
    .execute(&mut tx)
    .await?;
    crate::audit::record(
        &mut tx,
        actor,
        "plan.approve",
        &format!("{name}: plan {plan}"),
        None,
        Some(&serde_json::json!({ "generation": generation })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests;
