//! Plans and runs: what the worker plans and does for a gateway, step by step (the page polls
//! this while a plan runs), approving a plan, and asking for a reconcile now.

use crate::error::AppError;
use crate::plan::status::Report;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    pub idx: usize,
    pub line: String,
    pub resource: String,
    pub operation: String,
    /// pending | running | done | failed | interrupted
    pub status: String,
    pub elapsed_ms: Option<i64>,
    pub request_id: Option<String>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    pub id: i64,
    pub generation: i64,
    pub reason: String,
    pub status: String,
    pub needs_approval: bool,
    /// What makes it need an admin: "load balancer pt-…", "stage dev".
    pub guarded: Vec<String>,
    pub created_at: String,
    pub approved_by: Option<String>,
    pub error: Option<String>,
    pub steps: Vec<StepView>,
    /// Monthly cost before → after, in total and per resource that changes.
    pub cost: Option<CostDelta>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostDelta {
    pub before: String,
    pub after: String,
    /// (resource, before, after) for each line that differs.
    pub lines: Vec<(String, String, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunsView {
    pub gateway: String,
    pub generation: i64,
    /// in_sync | applying | awaiting_approval | drift | waiting | error | deleting | unknown
    pub state: String,
    pub message: String,
    pub observed_at: Option<String>,
    pub deleting: bool,
    pub report: Option<Report>,
    pub plans: Vec<PlanView>,
}

/// A gateway's state in words, and its tone (a CSS class: ok, busy, warn, bad, muted).
pub fn state_words(state: &str) -> (&'static str, &'static str) {
    match state {
        "in_sync" => ("In sync", "ok"),
        "applying" => ("Applying", "busy"),
        "deleting" => ("Deleting", "busy"),
        "awaiting_approval" => ("Awaiting approval", "warn"),
        "drift" => ("Drift", "warn"),
        "error" => ("Error", "bad"),
        _ => ("Not observed yet", "muted"),
    }
}

impl RunsView {
    /// A plan is running: the page should look again soon.
    pub fn busy(&self) -> bool {
        self.plans.iter().any(|p| p.status == "running")
            || self.state == "applying"
            || self.state == "deleting"
    }
}

#[server(prefix = "/api", endpoint = "gateway_runs")]
pub async fn gateway_runs(name: String) -> Result<RunsView, AppError> {
    let state = crate::state::state()?;
    crate::auth::ssr::require(crate::model::Role::Viewer, "read gateways").await?;
    ssr::view(&state.pool, &name).await
}

/// Approves a plan waiting for an admin; the worker runs it if it is still what it would do.
#[server(prefix = "/api", endpoint = "approve_plan")]
pub async fn approve_plan(name: String, plan: i64) -> Result<(), AppError> {
    let me = crate::auth::ssr::require(crate::model::Role::Admin, "approve plans").await?;
    let state = crate::state::state()?;
    ssr::approve(&state.pool, &me.name, &name, plan).await?;
    state.wake_worker();
    Ok(())
}

/// Asks the worker to observe and reconcile now instead of at the next drift check.
#[server(prefix = "/api", endpoint = "reconcile_now")]
pub async fn reconcile_now(name: String) -> Result<(), AppError> {
    crate::auth::ssr::require(crate::model::Role::Editor, "start a reconcile").await?;
    let state = crate::state::state()?;
    ssr::nudge(&state.pool, &name).await?;
    state.wake_worker();
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::api::audit::ssr::record;
    use crate::plan::actual::Actual;
    use crate::plan::Plan;
    use crate::state::now_unix;
    use sqlx::SqlitePool;

    #[derive(sqlx::FromRow)]
    struct PlanRecord {
        id: i64,
        generation: i64,
        reason: String,
        status: String,
        needs_approval: bool,
        plan: String,
        created_at: String,
        approved_by: Option<String>,
        error: Option<String>,
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

    pub async fn view(pool: &SqlitePool, name: &str) -> Result<RunsView, AppError> {
        let (id, generation, topology) = crate::api::gateways::ssr::load(pool, name).await?;
        let deleting: Option<i64> =
            sqlx::query_scalar("SELECT deleting_at FROM gateways WHERE id = ?")
                .bind(id)
                .fetch_one(pool)
                .await?;
        let status: Option<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT state, message, strftime('%Y-%m-%d %H:%M:%S', observed_at, 'unixepoch'), actual \
             FROM gateway_status WHERE gateway_id = ?",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?;
        let rows: Vec<PlanRecord> = sqlx::query_as(
            "SELECT id, generation, reason, status, needs_approval, plan, \
             strftime('%Y-%m-%d %H:%M:%S', created_at, 'unixepoch') AS created_at, approved_by, error \
             FROM plans WHERE gateway_id = ? ORDER BY id DESC LIMIT 10",
        )
        .bind(id)
        .fetch_all(pool)
        .await?;
        let mut plans = vec![];
        let mut open: Option<Plan> = None;
        for PlanRecord {
            id: pid,
            generation,
            reason,
            status,
            needs_approval,
            plan: json,
            created_at,
            approved_by,
            error,
        } in rows
        {
            let plan: Plan = serde_json::from_str(&json)
                .map_err(|e| AppError::internal("stored plan unreadable", e))?;
            let journal: Vec<StepRecord> = sqlx::query_as(
                "SELECT idx, operation, status, started_ms, finished_ms, request_id, error_code, error_message \
                 FROM plan_steps WHERE plan_id = ? ORDER BY idx",
            )
            .bind(pid)
            .fetch_all(pool)
            .await?;
            let now_ms = now_unix() * 1000;
            let steps = journal
                .into_iter()
                .map(
                    |StepRecord {
                         idx,
                         operation,
                         status: st,
                         started_ms: started,
                         finished_ms: finished,
                         request_id,
                         error_code: code,
                         error_message: message,
                     }| {
                        let step = plan.steps.get(idx as usize);
                        StepView {
                            idx: idx as usize,
                            line: step.map(|s| s.line()).unwrap_or_default(),
                            resource: step.map(|s| s.resource.clone()).unwrap_or_default(),
                            operation,
                            elapsed_ms: started.map(|s| finished.unwrap_or(now_ms).max(s) - s),
                            status: st,
                            request_id,
                            error: message.map(|m| match code {
                                Some(c) if !m.contains(&c) => format!("{c}: {m}"),
                                _ => m,
                            }),
                        }
                    },
                )
                .collect();
            if open.is_none()
                && matches!(
                    status.as_str(),
                    "awaiting_approval" | "approved" | "reported"
                )
            {
                open = Some(plan.clone());
            }
            let cost = cost_delta(pool, id, &topology, generation, &reason)
                .await
                .ok();
            plans.push(PlanView {
                cost,
                id: pid,
                generation,
                reason,
                guarded: plan.guarded_steps(),
                status,
                needs_approval,
                created_at,
                approved_by,
                error,
                steps,
            });
        }
        let (state, message, observed_at, actual) = match status {
            Some((s, m, o, a)) => (s, m, o, a),
            None if deleting.is_some() => (
                "deleting".into(),
                "Waiting for the worker to remove the gateway's AWS resources.".into(),
                None,
                None,
            ),
            None => (
                "unknown".into(),
                "The worker has not looked at this gateway yet.".into(),
                None,
                None,
            ),
        };
        let report = actual
            .and_then(|a| serde_json::from_str::<Actual>(&a).ok())
            .map(|a| Report::new(&topology, &a, &open.unwrap_or_default()));
        Ok(RunsView {
            gateway: name.to_owned(),
            generation,
            state,
            message,
            observed_at,
            deleting: deleting.is_some(),
            report,
            plans,
        })
    }

    /// What AWS costs now (the last converged generation) against what the plan's generation
    /// will cost (nothing, for a gateway being deleted).
    async fn cost_delta(
        pool: &SqlitePool,
        gateway: i64,
        latest: &crate::model::topology::Topology,
        generation: i64,
        reason: &str,
    ) -> Result<CostDelta, AppError> {
        use crate::cost::{estimate, Estimate, Money};
        let converged: i64 =
            sqlx::query_scalar("SELECT converged_generation FROM gateways WHERE id = ?")
                .bind(gateway)
                .fetch_one(pool)
                .await?;
        let (prices, exact) =
            crate::api::gateways::ssr::prices_for(pool, &latest.gateway.region).await?;
        let empty = |t: &crate::model::topology::Topology| Estimate {
            region: t.gateway.region.clone(),
            price_date: prices.date.clone(),
            price_source: prices.source.clone(),
            exact_region: exact,
            lines: vec![],
            total: Money::ZERO,
        };
        let before = if converged > 0 {
            estimate(
                &crate::api::gateways::ssr::snapshot(pool, gateway, converged).await?,
                &prices,
                exact,
            )
        } else {
            empty(latest)
        };
        let after = if reason == "delete" {
            empty(latest)
        } else {
            estimate(
                &crate::api::gateways::ssr::snapshot(pool, gateway, generation).await?,
                &prices,
                exact,
            )
        };
        let mut names: Vec<&String> = before
            .lines
            .iter()
            .chain(after.lines.iter())
            .map(|l| &l.resource)
            .collect();
        names.dedup();
        let mut seen = std::collections::BTreeSet::new();
        let lines = names
            .into_iter()
            .filter(|n| seen.insert((*n).clone()))
            .filter_map(|n| {
                let b = before
                    .lines
                    .iter()
                    .find(|l| &l.resource == n)
                    .map(|l| l.amount)
                    .unwrap_or(Money::ZERO);
                let a = after
                    .lines
                    .iter()
                    .find(|l| &l.resource == n)
                    .map(|l| l.amount)
                    .unwrap_or(Money::ZERO);
                (a != b).then(|| (n.clone(), b.cents(), a.cents()))
            })
            .collect();
        Ok(CostDelta {
            before: before.total.cents(),
            after: after.total.cents(),
            lines,
        })
    }

    pub async fn approve(
        pool: &SqlitePool,
        actor: &str,
        name: &str,
        plan: i64,
    ) -> Result<(), AppError> {
        let (id, generation, _) = crate::api::gateways::ssr::load(pool, name).await?;
        let mut tx = pool.begin().await?;
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT generation, status FROM plans WHERE id = ? AND gateway_id = ?")
                .bind(plan)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let (made_from, status) =
            row.ok_or_else(|| AppError::NotFound(format!("Gateway {name} has no plan {plan}.")))?;
        if status != "awaiting_approval" {
            return Err(AppError::Conflict(format!(
                "Plan {plan} is {} and can no longer be approved.",
                status.replace('_', " ")
            )));
        }
        if made_from != generation {
            return Err(AppError::Conflict(format!(
                "Plan {plan} was made from generation {made_from}, but the topology is at generation \
                 {generation} now: it will never run. The worker makes a new plan."
            )));
        }
        let now = now_unix();
        sqlx::query(
            "UPDATE plans SET status = 'approved', approved_by = ?, approved_at = ? WHERE id = ? AND status = 'awaiting_approval'",
        )
        .bind(actor)
        .bind(now)
        .bind(plan)
        .execute(&mut *tx)
        .await?;
        record(
            &mut *tx,
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

    pub async fn nudge(pool: &SqlitePool, name: &str) -> Result<(), AppError> {
        let done = sqlx::query("UPDATE gateways SET nudged_at = nudged_at + 1 WHERE name = ?")
            .bind(name)
            .execute(pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(AppError::NotFound(format!("No gateway named {name:?}.")));
        }
        Ok(())
    }
}
