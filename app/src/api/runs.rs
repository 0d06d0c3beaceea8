//! Plans and runs: what the worker plans and does for a gateway, step by step (the page polls
//! this while a plan runs), approving a plan, and asking for a reconcile now.

use crate::error::AppError;
use leptos::prelude::*;
use portico_core::plan::lifecycle::{GatewayState, PlanReason, PlanStatus, StepStatus};
use portico_core::plan::status::Report;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    pub idx: usize,
    pub line: String,
    pub resource: String,
    pub operation: String,
    pub status: StepStatus,
    pub elapsed_ms: Option<i64>,
    pub request_id: Option<String>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    pub id: i64,
    pub generation: i64,
    pub reason: PlanReason,
    pub status: PlanStatus,
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
    pub state: GatewayState,
    pub message: String,
    pub observed_at: Option<String>,
    pub deleting: bool,
    pub report: Option<Report>,
    pub plans: Vec<PlanView>,
}

impl RunsView {
    /// A plan is running: the page should look again soon.
    pub fn busy(&self) -> bool {
        self.plans.iter().any(|p| p.status == PlanStatus::Running) || self.state.is_busy()
    }
}

#[server(prefix = "/api", endpoint = "gateway_runs")]
pub async fn gateway_runs(name: String) -> Result<RunsView, AppError> {
    let (_, state) =
        crate::api::context::require(portico_core::model::Role::Viewer, "read gateways").await?;
    ssr::view(&state.store, &name).await
}

/// Approves a plan waiting for an admin; the worker runs it if it is still what it would do.
#[server(prefix = "/api", endpoint = "approve_plan")]
pub async fn approve_plan(name: String, plan: i64) -> Result<(), AppError> {
    let (me, state) =
        crate::api::context::require(portico_core::model::Role::Admin, "approve plans").await?;
    ssr::approve(&state.store, &me.name, &name, plan).await?;
    state.wake_worker();
    Ok(())
}

/// Asks the worker to observe and reconcile now instead of at the next drift check.
#[server(prefix = "/api", endpoint = "reconcile_now")]
pub async fn reconcile_now(name: String) -> Result<(), AppError> {
    let (_, state) =
        crate::api::context::require(portico_core::model::Role::Editor, "start a reconcile")
            .await?;
    portico_store::gateways::nudge(&state.store, &name).await?;
    state.wake_worker();
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use portico_core::cost::prices::Prices;
    use portico_core::cost::{estimate, Estimate, Money};
    use portico_core::model::topology::Topology;
    use portico_core::plan::Plan;
    use portico_store::gateways::Desired;
    use portico_store::plans::{PlanRow, StepRow};
    use portico_store::{gateways, plans, prices, status, Store};

    /// How many of a gateway's plans the page shows, newest first.
    const RECENT_PLANS: i64 = 10;

    pub async fn view(db: &Store, name: &str) -> Result<RunsView, AppError> {
        let g = gateways::load(db, name).await?;
        let observed = status::observed(db, g.id).await?;
        let rows = plans::recent(db, g.id, RECENT_PLANS).await?;
        // A missing price table leaves the plans without a cost, as a failed estimate does.
        let priced = prices::for_region(db, &g.topology.gateway.region)
            .await
            .map_err(AppError::from)
            .ok();
        // What AWS costs now, once for every plan (and not at all without one).
        let now = match &priced {
            Some(priced) if !rows.is_empty() => costs_now(db, &g, priced).await.ok(),
            _ => None,
        };
        let mut views = vec![];
        let mut open: Option<Plan> = None;
        for row in rows {
            let journal = plans::steps(db, row.id).await?;
            if open.is_none() && row.status.is_open() {
                open = Some(row.plan.clone());
            }
            let cost = match (&priced, &now) {
                (Some(priced), Some(now)) => {
                    cost_delta(db, &g, priced, now, row.generation, row.reason)
                        .await
                        .ok()
                }
                _ => None,
            };
            views.push(plan_view(row, journal, cost));
        }
        let (state, message, observed_at, actual) = match observed {
            Some(o) => (o.state, o.message, o.observed_at, o.actual),
            None if g.deleting => (
                GatewayState::Deleting,
                "Waiting for the worker to remove the gateway's AWS resources.".into(),
                None,
                None,
            ),
            None => (
                GatewayState::Unknown,
                "The worker has not looked at this gateway yet.".into(),
                None,
                None,
            ),
        };
        let report = actual.map(|a| Report::new(&g.topology, &a, &open.unwrap_or_default()));
        Ok(RunsView {
            gateway: g.name,
            generation: g.generation,
            state,
            message,
            observed_at,
            deleting: g.deleting,
            report,
            plans: views,
        })
    }

    /// A stored plan and its journal as the page shows them.
    fn plan_view(row: PlanRow, journal: Vec<StepRow>, cost: Option<CostDelta>) -> PlanView {
        let now_ms = portico_store::now_ms();
        let plan = &row.plan;
        let steps = journal
            .into_iter()
            .map(|s| {
                let step = plan.steps.get(s.idx);
                StepView {
                    idx: s.idx,
                    line: step.map(|st| st.line()).unwrap_or_default(),
                    resource: step.map(|st| st.resource.clone()).unwrap_or_default(),
                    operation: s.operation,
                    elapsed_ms: s
                        .started_ms
                        .map(|started| s.finished_ms.unwrap_or(now_ms).max(started) - started),
                    status: s.status,
                    request_id: s.request_id,
                    error: s.error_message.map(|m| match s.error_code {
                        Some(c) if !m.contains(&c) => format!("{c}: {m}"),
                        _ => m,
                    }),
                }
            })
            .collect();
        PlanView {
            guarded: plan.guarded_steps(),
            cost,
            id: row.id,
            generation: row.generation,
            reason: row.reason,
            status: row.status,
            needs_approval: row.needs_approval,
            created_at: row.created_at,
            approved_by: row.approved_by,
            error: row.error,
            steps,
        }
    }

    /// An estimate with no lines, priced from `priced`.
    fn nothing(t: &Topology, priced: &(Prices, bool)) -> Estimate {
        Estimate {
            region: t.gateway.region.clone(),
            price_date: priced.0.date.clone(),
            price_source: priced.0.source.clone(),
            exact_region: priced.1,
            lines: vec![],
            total: Money::ZERO,
        }
    }

    /// What AWS costs now: the last converged generation's estimate (nothing before one).
    async fn costs_now(
        db: &Store,
        g: &Desired,
        priced: &(Prices, bool),
    ) -> Result<Estimate, AppError> {
        Ok(if g.converged_generation > 0 {
            estimate(
                &gateways::snapshot(db, g.id, g.converged_generation).await?,
                &priced.0,
                priced.1,
            )
        } else {
            nothing(&g.topology, priced)
        })
    }

    /// What AWS costs now (`before`) against what the plan's generation will cost (nothing,
    /// for a gateway being deleted).
    async fn cost_delta(
        db: &Store,
        g: &Desired,
        priced: &(Prices, bool),
        before: &Estimate,
        generation: i64,
        reason: PlanReason,
    ) -> Result<CostDelta, AppError> {
        let after = if reason == PlanReason::Delete {
            nothing(&g.topology, priced)
        } else {
            estimate(
                &gateways::snapshot(db, g.id, generation).await?,
                &priced.0,
                priced.1,
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
        let amount = |e: &Estimate, n: &String| {
            e.lines
                .iter()
                .find(|l| &l.resource == n)
                .map(|l| l.amount)
                .unwrap_or(Money::ZERO)
        };
        let lines = names
            .into_iter()
            .filter(|n| seen.insert((*n).clone()))
            .filter_map(|n| {
                let (b, a) = (amount(before, n), amount(&after, n));
                (a != b).then(|| (n.clone(), b.cents(), a.cents()))
            })
            .collect();
        Ok(CostDelta {
            before: before.total.cents(),
            after: after.total.cents(),
            lines,
        })
    }

    /// Approves plan `plan` of gateway `name` (see `portico_store::plans::approve`).
    pub async fn approve(db: &Store, actor: &str, name: &str, plan: i64) -> Result<(), AppError> {
        let g = gateways::load(db, name).await?;
        plans::approve(db, actor, g.id, &g.name, plan).await?;
        Ok(())
    }
}
