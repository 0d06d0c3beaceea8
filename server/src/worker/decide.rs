//! The reconcile loop's decisions, as a pure function of plain values: after observing AWS and
//! planning, does the worker run a plan, wait for an admin, only report drift, or is the gateway
//! in sync (or gone)? Which stored plan does it run, and what does it store? Keeping this free
//! of AWS and the database lets every rule be tested on its own; `reconcile` only carries the
//! decision out.

use portico_core::model::topology::{ApplyMode, DriftMode};
use portico_core::plan::lifecycle::{PlanReason, PlanStatus};
use portico_core::plan::{Kind, Plan};

/// What the worker knows when it decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Situation {
    /// The gateway's latest (desired) generation.
    pub generation: i64,
    /// The last generation AWS was seen to match: a plan at or below it is drift.
    pub converged_generation: i64,
    /// An admin deleted the gateway: the plan removes what it owns.
    pub deleting: bool,
    pub apply_mode: ApplyMode,
    pub drift_mode: DriftMode,
    /// The plan made just now.
    pub fresh: Fresh,
    /// The latest open plan (awaiting approval, approved, or reported), if any.
    pub open: Option<Open>,
    /// The fresh plan is exactly the one that just ran to the end at this generation: AWS
    /// did not take it (or something undoes it), and running it again at once would loop.
    pub repeats_last_run: bool,
}

/// What matters about the plan made just now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fresh {
    /// No step: AWS matches.
    pub empty: bool,
    /// Deletes or replaces something that serves traffic: an admin approves first, whatever
    /// the apply mode.
    pub guarded: bool,
    /// Writes to AWS other than API keys'. Key steps are an admin's own action (issue, rotate,
    /// revoke), so approve mode, which is about the topology, does not hold them back.
    pub topology_writes: bool,
    /// Has key steps that can run on their own (`Plan::keys_first`), not the same ones that
    /// failed last time.
    pub keys_first: bool,
}

impl Fresh {
    /// `keys_first`: whether the plan's own key steps should go first (the caller has them
    /// already, and knows whether they failed last time).
    pub fn of(plan: &Plan, keys_first: bool) -> Self {
        Fresh {
            empty: plan.is_empty(),
            guarded: plan.needs_approval(),
            topology_writes: plan
                .steps
                .iter()
                .any(|s| s.op.is_write() && s.kind != Kind::ApiKey),
            keys_first,
        }
    }
}

/// The stored open plan, as far as deciding goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Open {
    pub id: i64,
    pub status: PlanStatus,
    /// The generation it was made from.
    pub generation: i64,
    /// Its steps are exactly the fresh plan's.
    pub same_steps: bool,
}

/// A plan to store in place of every open one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replace {
    pub reason: PlanReason,
    pub status: PlanStatus,
    pub needs_approval: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// AWS matches the topology: supersede open plans, record the generation as converged.
    InSync,
    /// The gateway is being deleted and AWS holds nothing of it: supersede open plans, remove
    /// the gateway's rows.
    Remove,
    /// Drift under `drift_mode: report`: change nothing in AWS. Store the plan as reported, or
    /// nothing (`None`) when the same plan is reported already.
    Report(Option<Replace>),
    /// An admin must approve first. Store the plan as awaiting approval, or nothing (`None`)
    /// when the same plan waits already.
    AwaitApproval(Option<Replace>),
    /// Run this approved open plan: it is still exactly what the worker would do.
    RunApproved(i64),
    /// Store the plan as approved (superseding open ones) and run it.
    RunNew(Replace),
    /// The plan that just ran comes back identical: don't run it again at once; the caller
    /// backs off and shows why.
    Stuck,
    /// Run the key steps that can go on their own first, stored as their own plan (reason
    /// keys), leaving open plans as they are: an admin's key action never waits behind an
    /// approval, a failing step or report-only drift. The rest is decided on the next run.
    RunKeysFirst,
}

pub fn decide(s: &Situation) -> Decision {
    if s.fresh.empty {
        return if s.deleting {
            Decision::Remove
        } else {
            Decision::InSync
        };
    }
    if s.repeats_last_run {
        return Decision::Stuck;
    }
    // Deleting the gateway removes its keys with everything else, in order.
    if s.fresh.keys_first && !s.deleting {
        return Decision::RunKeysFirst;
    }
    let reason = if s.deleting {
        PlanReason::Delete
    } else if s.converged_generation >= s.generation {
        PlanReason::Drift
    } else {
        PlanReason::Edit
    };
    // An open plan is only reused if it was made from the latest generation and planning again
    // gave the same steps: anything older no longer describes what would happen.
    let same = |status: PlanStatus| {
        s.open
            .filter(|o| o.status == status && o.generation == s.generation && o.same_steps)
    };

    if reason == PlanReason::Drift && s.drift_mode == DriftMode::Report {
        return Decision::Report(same(PlanStatus::Reported).is_none().then_some(Replace {
            reason,
            status: PlanStatus::Reported,
            needs_approval: false,
        }));
    }

    // Deleting a gateway was confirmed by an admin typing its name: it never waits again.
    let needs_approval = reason != PlanReason::Delete
        && (s.fresh.guarded || (s.apply_mode == ApplyMode::Approve && s.fresh.topology_writes));
    if !needs_approval {
        return Decision::RunNew(Replace {
            reason,
            status: PlanStatus::Approved,
            needs_approval: false,
        });
    }
    if let Some(approved) = same(PlanStatus::Approved) {
        return Decision::RunApproved(approved.id);
    }
    if same(PlanStatus::AwaitingApproval).is_some() {
        return Decision::AwaitApproval(None);
    }
    Decision::AwaitApproval(Some(Replace {
        reason,
        status: PlanStatus::AwaitingApproval,
        needs_approval: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An edit (generation 3, AWS last matched 2) in auto mode, nothing open.
    fn edit() -> Situation {
        Situation {
            generation: 3,
            converged_generation: 2,
            deleting: false,
            apply_mode: ApplyMode::Auto,
            drift_mode: DriftMode::Correct,
            fresh: Fresh {
                empty: false,
                guarded: false,
                topology_writes: true,
                keys_first: false,
            },
            open: None,
            repeats_last_run: false,
        }
    }

    fn approve_mode() -> Situation {
        Situation {
            apply_mode: ApplyMode::Approve,
            ..edit()
        }
    }

    fn drift() -> Situation {
        Situation {
            converged_generation: 3,
            ..edit()
        }
    }

    fn open(status: PlanStatus) -> Option<Open> {
        Some(Open {
            id: 7,
            status,
            generation: 3,
            same_steps: true,
        })
    }

    fn replace(reason: PlanReason, status: PlanStatus) -> Replace {
        Replace {
            reason,
            status,
            needs_approval: status == PlanStatus::AwaitingApproval,
        }
    }

    const EMPTY: Fresh = Fresh {
        empty: true,
        guarded: false,
        topology_writes: false,
        keys_first: false,
    };

    #[test]
    fn an_empty_plan_is_in_sync() {
        let s = Situation {
            fresh: EMPTY,
            open: open(PlanStatus::AwaitingApproval),
            ..approve_mode()
        };
        assert_eq!(decide(&s), Decision::InSync);
    }

    #[test]
    fn a_deleted_gateway_with_nothing_left_is_removed() {
        let s = Situation {
            fresh: EMPTY,
            deleting: true,
            ..edit()
        };
        assert_eq!(decide(&s), Decision::Remove);
    }

    #[test]
    fn an_edit_in_auto_mode_runs_a_new_plan() {
        assert_eq!(
            decide(&edit()),
            Decision::RunNew(replace(PlanReason::Edit, PlanStatus::Approved))
        );
        // Even when an approved plan of the same steps is open: auto mode stores afresh.
        let s = Situation {
            open: open(PlanStatus::Approved),
            ..edit()
        };
        assert_eq!(
            decide(&s),
            Decision::RunNew(replace(PlanReason::Edit, PlanStatus::Approved))
        );
    }

    #[test]
    fn an_edit_in_approve_mode_waits() {
        assert_eq!(
            decide(&approve_mode()),
            Decision::AwaitApproval(Some(replace(
                PlanReason::Edit,
                PlanStatus::AwaitingApproval
            )))
        );
    }

    #[test]
    fn the_same_plan_waiting_is_not_stored_again() {
        let s = Situation {
            open: open(PlanStatus::AwaitingApproval),
            ..approve_mode()
        };
        assert_eq!(decide(&s), Decision::AwaitApproval(None));
    }

    #[test]
    fn an_approved_identical_plan_runs() {
        let s = Situation {
            open: open(PlanStatus::Approved),
            ..approve_mode()
        };
        assert_eq!(decide(&s), Decision::RunApproved(7));
    }

    #[test]
    fn an_approved_plan_that_differs_is_superseded_and_waits_again() {
        let waits = Decision::AwaitApproval(Some(replace(
            PlanReason::Edit,
            PlanStatus::AwaitingApproval,
        )));
        let other_steps = Situation {
            open: Some(Open {
                same_steps: false,
                ..open(PlanStatus::Approved).unwrap()
            }),
            ..approve_mode()
        };
        assert_eq!(decide(&other_steps), waits);
        let older = Situation {
            open: Some(Open {
                generation: 2,
                ..open(PlanStatus::Approved).unwrap()
            }),
            ..approve_mode()
        };
        assert_eq!(decide(&older), waits);
        // A waiting plan of an older generation is replaced too.
        let stale = Situation {
            open: Some(Open {
                generation: 2,
                ..open(PlanStatus::AwaitingApproval).unwrap()
            }),
            ..approve_mode()
        };
        assert_eq!(decide(&stale), waits);
    }

    #[test]
    fn key_steps_alone_do_not_wait_in_approve_mode() {
        let s = Situation {
            fresh: Fresh {
                topology_writes: false,
                ..edit().fresh
            },
            ..approve_mode()
        };
        assert_eq!(
            decide(&s),
            Decision::RunNew(replace(PlanReason::Edit, PlanStatus::Approved))
        );
    }

    #[test]
    fn guarded_steps_wait_even_in_auto_mode() {
        let s = Situation {
            fresh: Fresh {
                guarded: true,
                ..edit().fresh
            },
            ..edit()
        };
        assert_eq!(
            decide(&s),
            Decision::AwaitApproval(Some(replace(
                PlanReason::Edit,
                PlanStatus::AwaitingApproval
            )))
        );
    }

    #[test]
    fn a_delete_never_needs_approval() {
        let s = Situation {
            deleting: true,
            fresh: Fresh {
                guarded: true,
                ..edit().fresh
            },
            open: open(PlanStatus::Approved),
            ..approve_mode()
        };
        assert_eq!(
            decide(&s),
            Decision::RunNew(replace(PlanReason::Delete, PlanStatus::Approved))
        );
        // A deleting gateway's plan is a delete, even if AWS last matched the latest generation
        // and drift is only reported.
        let converged = Situation {
            converged_generation: 3,
            drift_mode: DriftMode::Report,
            ..s
        };
        assert_eq!(
            decide(&converged),
            Decision::RunNew(replace(PlanReason::Delete, PlanStatus::Approved))
        );
    }

    #[test]
    fn drift_in_correct_mode_is_repaired() {
        assert_eq!(
            decide(&drift()),
            Decision::RunNew(replace(PlanReason::Drift, PlanStatus::Approved))
        );
        let approve = Situation {
            apply_mode: ApplyMode::Approve,
            ..drift()
        };
        assert_eq!(
            decide(&approve),
            Decision::AwaitApproval(Some(replace(
                PlanReason::Drift,
                PlanStatus::AwaitingApproval
            )))
        );
    }

    #[test]
    fn drift_in_report_mode_is_reported_once() {
        let report = Situation {
            drift_mode: DriftMode::Report,
            ..drift()
        };
        assert_eq!(
            decide(&report),
            Decision::Report(Some(replace(PlanReason::Drift, PlanStatus::Reported)))
        );
        let again = Situation {
            open: open(PlanStatus::Reported),
            ..report
        };
        assert_eq!(decide(&again), Decision::Report(None));
        // Other drift than reported: stored anew.
        let changed = Situation {
            open: Some(Open {
                same_steps: false,
                ..open(PlanStatus::Reported).unwrap()
            }),
            ..report
        };
        assert_eq!(
            decide(&changed),
            Decision::Report(Some(replace(PlanReason::Drift, PlanStatus::Reported)))
        );
        // Reporting wins over approval: guarded drift in approve mode is still only reported.
        let guarded = Situation {
            apply_mode: ApplyMode::Approve,
            fresh: Fresh {
                guarded: true,
                ..report.fresh
            },
            ..report
        };
        assert_eq!(
            decide(&guarded),
            Decision::Report(Some(replace(PlanReason::Drift, PlanStatus::Reported)))
        );
    }

    #[test]
    fn report_mode_does_not_hold_back_an_edit() {
        let s = Situation {
            drift_mode: DriftMode::Report,
            open: open(PlanStatus::Reported),
            ..edit()
        };
        assert_eq!(
            decide(&s),
            Decision::RunNew(replace(PlanReason::Edit, PlanStatus::Approved))
        );
    }

    #[test]
    fn a_reported_plan_is_not_run_once_approval_is_needed() {
        let s = Situation {
            open: open(PlanStatus::Reported),
            ..approve_mode()
        };
        assert_eq!(
            decide(&s),
            Decision::AwaitApproval(Some(replace(
                PlanReason::Edit,
                PlanStatus::AwaitingApproval
            )))
        );
    }

    #[test]
    fn fresh_reads_the_plan() {
        assert_eq!(Fresh::of(&Plan::default(), false), EMPTY);
    }

    /// A key issued, rotated, revoked or expired goes first, whatever waits: an approval, a
    /// failing plan (the fresh plan would fail again at the same step), report-only drift.
    #[test]
    fn key_steps_go_first_whatever_else_waits() {
        let keys = |s: Situation| Situation {
            fresh: Fresh {
                keys_first: true,
                ..s.fresh
            },
            ..s
        };
        for s in [
            edit(),
            Situation {
                open: open(PlanStatus::AwaitingApproval),
                ..approve_mode()
            },
            Situation {
                fresh: Fresh {
                    guarded: true,
                    ..edit().fresh
                },
                ..edit()
            },
            Situation {
                drift_mode: DriftMode::Report,
                ..drift()
            },
        ] {
            assert_eq!(decide(&keys(s)), Decision::RunKeysFirst, "{s:?}");
        }
        // Deleting the gateway removes its keys in the delete plan's order.
        let deleting = Situation {
            deleting: true,
            ..keys(edit())
        };
        assert_eq!(
            decide(&deleting),
            Decision::RunNew(replace(PlanReason::Delete, PlanStatus::Approved))
        );
    }

    /// A plan that ran to the end and comes back identical is not run again at once.
    #[test]
    fn an_identical_plan_right_after_it_ran_backs_off() {
        let s = Situation {
            repeats_last_run: true,
            ..edit()
        };
        assert_eq!(decide(&s), Decision::Stuck);
        assert_eq!(
            decide(&Situation { fresh: EMPTY, ..s }),
            Decision::InSync,
            "in sync is in sync"
        );
    }
}
