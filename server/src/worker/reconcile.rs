//! One reconcile of one gateway: observe AWS, plan, let `decide` choose, carry the decision out
//! (store, run, record the gateway's state). The run of a plan is `run`.

use super::apply;
use super::decide::{decide, Decision, Fresh, Open, Replace, Situation};
use super::run::{Aws, RunError};
use super::{key_wants, Outcome, Worker};
use crate::aws::call::Caller;
use app::error::AppError;
use portico_core::plan::actual::Actual;
use portico_core::plan::lifecycle::{GatewayState, PlanReason, PlanStatus};
use portico_core::plan::{plan, Op, Plan};
use portico_store::gateways::Desired;
use portico_store::plans::NewPlan;
use portico_store::{gateways, keys, plans, status};
use std::time::Instant;

impl Worker {
    /// One reconcile of one gateway.
    pub async fn reconcile(&self, gateway: i64) -> Outcome {
        self.reconcile_as(gateway, false).await
    }

    /// A periodic drift check, as the worker's own loop makes it: put off (`Postponed`) when
    /// routine looks have spent their budget.
    #[doc(hidden)]
    pub async fn drift_check(&self, gateway: i64) -> Outcome {
        self.reconcile_as(gateway, true).await
    }

    /// `reconcile`; `routine`: a periodic drift check, admitted by the budget routine looks
    /// share (`aws::pace::IDLE_SHARE`) and charged every read it makes, or put off when the
    /// budget is spent, so a large fleet's checks stretch out instead of taking the account's
    /// quota, and nothing waits behind them.
    pub(super) async fn reconcile_as(&self, gateway: i64, routine: bool) -> Outcome {
        let started = Instant::now();
        let outcome = match self.reconcile_inner(gateway, routine).await {
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
            Outcome::Standby => "standby",
            Outcome::Postponed => "postponed",
        };
        metrics::counter!("portico_reconciles_total", "outcome" => label).increment(1);
        metrics::histogram!("portico_reconcile_seconds").record(started.elapsed().as_secs_f64());
        if matches!(outcome, Outcome::Failed(_) | Outcome::Crashed) {
            // What the run did may not show in a listing read before its next look.
            self.listings.relist_next(gateway);
        }
        if let Outcome::Failed(why) = &outcome {
            tracing::warn!(gateway, "reconcile failed: {why}");
            let failures = status::failures(&self.store, gateway).await.unwrap_or(0) + 1;
            let _ = status::set(
                &self.store,
                gateway,
                GatewayState::Error,
                why,
                None,
                failures,
            )
            .await;
        }
        outcome
    }

    /// A released gateway: Portico's tags come off everything it owns, which keeps running,
    /// then its rows go. Half done (a failed call), the next run untags what still carries
    /// them.
    async fn release(
        &self,
        g: &gateways::Desired,
        clients: &crate::aws::Clients,
        caller: &crate::aws::call::Caller,
        actual: &portico_core::plan::actual::Actual,
    ) -> Result<Outcome, AppError> {
        if !self.claim_lease().await? {
            return Ok(Outcome::Standby);
        }
        let untagged = apply::untag_all(clients, caller, actual).await;
        self.forget_listings(caller);
        match untagged {
            Ok(n) => {
                plans::supersede(&self.store, g.id).await?;
                gateways::remove(&self.store, g.id).await?;
                tracing::info!(
                    gateway = %g.name,
                    "released: Portico's tags removed from {n} resource(s), left running in AWS"
                );
                Ok(Outcome::Removed)
            }
            Err(e) => Ok(Outcome::Failed(format!(
                "Could not remove Portico's tags: {e}"
            ))),
        }
    }

    async fn reconcile_inner(&self, gateway: i64, routine: bool) -> Result<Outcome, AppError> {
        // Only the lease holder observes, plans and writes: a standby would supersede the
        // holder's plans and duplicate its creates.
        if !self.claim_lease().await? {
            return Ok(Outcome::Standby);
        }
        let Some(g) = gateways::by_id(&self.store, gateway).await? else {
            return Ok(Outcome::Gone);
        };
        let gw = &g.topology.gateway;
        let clients = self.clients(&gw.region, gw.role_arn.as_deref()).await;
        let caller = self.caller(&gw.region, gw.role_arn.as_deref());
        let owner = self.owner(&g).await?;
        // The account and region's listing, shared when a recent one will do (`listing`;
        // keys only for a gateway that ever had one); attributes and deployments from memory.
        let with_keys = keys::any(&self.store, gateway).await?;
        // A drift check's reads are charged to the routine budget (its listing's too, when it
        // makes one); its corrections are not routine.
        let reader = if routine {
            let Some(prepaid) = self.admit_routine(&caller, &g.topology) else {
                return Ok(Outcome::Postponed);
            };
            Caller {
                routine: Some(prepaid),
                ..caller.clone()
            }
        } else {
            caller.clone()
        };
        let read = async {
            let since = self.listings.begin_reconcile(gateway);
            let inventory = self
                .listings
                .get(&clients, &reader, self.config.listing_age, since, with_keys)
                .await?;
            super::observe::observe_in(
                &clients,
                &reader,
                &inventory,
                &owner,
                Some(&self.remembered),
                with_keys,
            )
            .await
        };
        let actual = match read.await {
            Ok(a) => a,
            Err(e) => {
                // A shared listing may name what was deleted since: the next look lists again.
                self.forget_listings(&caller);
                self.note_unreadable(gateway, &e.to_string()).await;
                return Ok(Outcome::Failed(format!("Could not read AWS: {e}")));
            }
        };
        if g.deleting && g.releasing {
            return self.release(&g, &clients, &caller, &actual).await;
        }
        let now = portico_store::now_unix();
        keys::sync_keys(&self.store, gateway, &actual, now).await?;
        let desired = (!g.deleting).then_some(&g.topology);
        let wanted = keys::desired_keys(&self.store, gateway, now).await?;
        if !g.deleting {
            let health = portico_core::health::assess(&g.topology, &key_wants(&wanted), &actual);
            let health = self
                .health_with_traffic(gateway, &g.topology, health, now)
                .await?;
            status::record_health(&self.store, gateway, &health, now).await?;
        }
        let p = plan(desired, &wanted, &actual);
        // Observing took a while: look again that this server still leads before writing
        // plans and status.
        if !self.claim_lease().await? {
            return Ok(Outcome::Standby);
        }
        if !actual.untagged.is_empty() {
            apply::tag_untagged(&clients, &caller, &owner, &actual.untagged).await;
            self.forget_listings(&caller);
        } else if g.legacy_tags {
            // Everything it owns carries the installation's tag now: from here on it claims
            // nothing tagged with its name alone.
            gateways::tags_current(&self.store, gateway).await?;
        }
        let first = p.keys_first();
        // The same key steps failed last time: don't let them hold the rest back forever.
        let first_failed = !first.is_empty()
            && plans::latest_for(&self.store, gateway, PlanReason::Keys)
                .await?
                .is_some_and(|k| k.status == PlanStatus::Failed && k.plan == first);
        // A load balancer or target group name another installation holds: nothing of this
        // plan can be built, but key changes (a revoke) still go out first.
        if let Some(name) = p.steps.iter().find_map(|s| match &s.op {
            Op::CreateLoadBalancer { name, .. } | Op::CreateTargetGroup { name, .. }
                if actual.foreign_names.contains(name) =>
            {
                Some(name)
            }
            _ => None,
        }) {
            if !first.is_empty() && !first_failed {
                return self
                    .run_keys_first(&g, &first, &actual, (&clients, &caller, &owner))
                    .await;
            }
            return Ok(Outcome::Failed(format!(
                "Another Portico installation already has a load balancer or target group \
                 named {name} for a gateway named {:?} in this account and region. AWS keeps \
                 those names unique, so this gateway cannot make its own: rename the gateway \
                 here, or delete it in the other installation.",
                g.name
            )));
        }
        let open = plans::open_plan(&self.store, gateway).await?;
        let repeats_last_run = !p.is_empty()
            && plans::recent(&self.store, gateway, 1)
                .await?
                .first()
                .is_some_and(|last| {
                    last.status == PlanStatus::Done
                        && last.generation == g.generation
                        && last.plan == p
                });
        let decision = decide(&Situation {
            generation: g.generation,
            converged_generation: g.converged_generation,
            deleting: g.deleting,
            apply_mode: gw.apply_mode,
            drift_mode: gw.drift_mode,
            fresh: Fresh::of(&p, !first.is_empty() && !first_failed),
            repeats_last_run,
            open: open.map(|o| Open {
                id: o.id,
                status: o.status,
                generation: o.generation,
                same_steps: o.plan == p,
            }),
        });
        let new = |r: Replace| NewPlan {
            gateway,
            generation: g.generation,
            reason: r.reason,
            plan: &p,
            needs_approval: r.needs_approval,
            status: r.status,
        };

        let plan_id = match decision {
            Decision::InSync => {
                plans::supersede(&self.store, gateway).await?;
                gateways::mark_converged(&self.store, gateway, g.generation).await?;
                let message = format!("AWS matches generation {}.", g.generation);
                status::set(
                    &self.store,
                    gateway,
                    GatewayState::InSync,
                    &message,
                    Some(&actual),
                    0,
                )
                .await?;
                return Ok(Outcome::InSync);
            }
            Decision::Remove => {
                plans::supersede(&self.store, gateway).await?;
                gateways::remove(&self.store, gateway).await?;
                tracing::info!(gateway = %g.name, "deleted: AWS holds nothing of it any more");
                return Ok(Outcome::Removed);
            }
            Decision::Report(replace) => {
                let failures = status::failures(&self.store, gateway).await?;
                if let Some(r) = replace {
                    plans::replace_open(&self.store, &new(r)).await?;
                }
                let message = format!(
                    "Drift: AWS differs from the topology in {} place(s); drift mode is report, so nothing was changed.",
                    p.steps.len()
                );
                status::set(
                    &self.store,
                    gateway,
                    GatewayState::Drift,
                    &message,
                    Some(&actual),
                    failures,
                )
                .await?;
                return Ok(Outcome::DriftReported);
            }
            Decision::AwaitApproval(replace) => {
                let failures = status::failures(&self.store, gateway).await?;
                if let Some(r) = replace {
                    plans::replace_open(&self.store, &new(r)).await?;
                }
                status::set(
                    &self.store,
                    gateway,
                    GatewayState::AwaitingApproval,
                    &p.approval_message(),
                    Some(&actual),
                    failures,
                )
                .await?;
                return Ok(Outcome::AwaitingApproval);
            }
            Decision::Stuck => {
                return Ok(Outcome::Failed(format!(
                    "The last plan ran to the end, yet AWS still differs in the same way ({}); \
                     Portico looks again later instead of repeating it at once.",
                    p.lines().first().cloned().unwrap_or_default()
                )));
            }
            Decision::RunApproved(id) => id,
            Decision::RunNew(r) => plans::replace_open(&self.store, &new(r)).await?,
            Decision::RunKeysFirst => {
                return self
                    .run_keys_first(&g, &first, &actual, (&clients, &caller, &owner))
                    .await;
            }
        };
        self.run(&g, plan_id, &p, &actual, (&clients, &caller, &owner))
            .await
    }

    /// Stores the key steps as a plan of their own and runs it.
    async fn run_keys_first(
        &self,
        g: &Desired,
        first: &Plan,
        actual: &Actual,
        aws: Aws<'_>,
    ) -> Result<Outcome, AppError> {
        let id = plans::insert(
            &self.store,
            &NewPlan {
                gateway: g.id,
                generation: g.generation,
                reason: PlanReason::Keys,
                plan: first,
                needs_approval: false,
                status: PlanStatus::Approved,
            },
        )
        .await?;
        self.run(g, id, first, actual, aws).await
    }

    /// Runs a stored plan and records how it ended.
    async fn run(
        &self,
        g: &Desired,
        plan_id: i64,
        p: &Plan,
        actual: &Actual,
        aws: Aws<'_>,
    ) -> Result<Outcome, AppError> {
        let failures = status::failures(&self.store, g.id).await?;
        plans::start(&self.store, plan_id).await?;
        let state = if g.deleting {
            GatewayState::Deleting
        } else {
            GatewayState::Applying
        };
        status::set(
            &self.store,
            g.id,
            state,
            &format!("Applying {} step(s).", p.steps.len()),
            Some(actual),
            failures,
        )
        .await?;
        let result = self.run_plan(plan_id, p, aws, g.id).await;
        self.forget_listings(aws.1);
        match result {
            Ok(()) => {
                plans::finish(&self.store, plan_id, PlanStatus::Done, None).await?;
                Ok(Outcome::Applied { writes: p.writes() })
            }
            Err(RunError::Crashed) => Ok(Outcome::Crashed),
            Err(RunError::LostLease(i)) => {
                let message = format!(
                    "Stopped before step {} ({}): another Portico server took the worker lease; \
                     it observes AWS again and plans what is left.",
                    i + 1,
                    p.steps[i].resource
                );
                plans::finish(
                    &self.store,
                    plan_id,
                    PlanStatus::Interrupted,
                    Some(&message),
                )
                .await?;
                Ok(Outcome::Standby)
            }
            Err(RunError::Step(i, e)) => {
                let message = format!("Step {} ({}) failed: {e}", i + 1, p.steps[i].resource);
                plans::finish(&self.store, plan_id, PlanStatus::Failed, Some(&message)).await?;
                Ok(Outcome::Failed(message))
            }
            Err(RunError::Db(e)) => Err(e.into()),
        }
    }
}
