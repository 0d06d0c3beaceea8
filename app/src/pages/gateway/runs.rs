//! Plans and runs: the worker's view of the gateway. The status line, each plan as a readable
//! diff (+ create, ~ change field old → new, - delete) with every step's progress (pending →
//! running → done / failed, elapsed time, AWS's request id or error), approval for admins, and
//! the AWS resources as AWS reports them. While a plan runs the section refreshes every second
//! without a reload (every five seconds otherwise).

use super::{Ctx, RunsSource, StatusActions};
use crate::api::runs::{ApprovePlan, PlanView, RunsView, StepView};
use crate::components::error::{ActionError, LoadError};
use leptos::prelude::*;
use portico_core::plan::lifecycle::{PlanStatus, StepStatus};
use std::time::Duration;

/// A step's status in words, and its tone (a CSS class).
fn step_words(status: StepStatus) -> (&'static str, &'static str) {
    match status {
        StepStatus::Done => ("done", "ok"),
        StepStatus::Running => ("running", "busy"),
        StepStatus::Failed => ("failed", "bad"),
        StepStatus::Interrupted => ("interrupted", "warn"),
        StepStatus::Pending => ("pending", "muted"),
    }
}

fn elapsed(ms: Option<i64>) -> String {
    match ms {
        None => String::new(),
        Some(ms) if ms < 1000 => format!("{ms} ms"),
        Some(ms) => format!("{:.1} s", ms as f64 / 1000.0),
    }
}

#[component]
pub fn Runs(ctx: Ctx<StatusActions>, runs: RunsSource) -> impl IntoView {
    let approve = ctx.actions.approve;
    let reconcile = ctx.actions.reconcile;
    let RunsSource { data: runs, tick } = runs;
    // Live progress: look again soon (only in the browser; effects don't run on the server).
    Effect::new(move |_| {
        let busy = runs.get().and_then(|r| r.ok()).map(|r| r.busy());
        if let Some(busy) = busy {
            let wait = if busy { 1000 } else { 5000 };
            set_timeout(
                move || tick.update(|t| *t += 1),
                Duration::from_millis(wait),
            );
        }
    });
    view! {
        <section class="card" id="runs" aria-labelledby="runs-title">
            <div class="section-head">
                <h2 id="runs-title">"AWS: plans and runs"</h2>
                {ctx.can_edit.then(|| {
                    let gateway = ctx.gateway.clone();
                    view! {
                        <ActionForm action=reconcile attr:class="inline">
                            <input type="hidden" name="name" value=gateway/>
                            <button type="submit" class="small">"Reconcile now"</button>
                        </ActionForm>
                    }
                })}
            </div>
            <ActionError value=approve.value()/>
            <ActionError value=reconcile.value()/>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let is_admin = ctx.is_admin;
                    Suspend::new(async move {
                        match runs.await {
                            Err(err) => view! { <LoadError err/> }.into_any(),
                            Ok(view) => view! { <RunsBody view is_admin approve/> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn RunsBody(view: RunsView, is_admin: bool, approve: ServerAction<ApprovePlan>) -> impl IntoView {
    let (words, tone) = view.state.badge();
    let gateway = view.gateway.clone();
    let observed = view
        .observed_at
        .clone()
        .map(|t| format!("Last observed {t} UTC."))
        .unwrap_or_default();
    let plans = view.plans.clone();
    let report = view.report.clone();
    // Erased: the section's view type would otherwise nest too deep for the compiler.
    view! {
        <p class="status-line" data-state=view.state.as_str()>
            <span class=format!("pill {tone}")>{words}</span>
            " " {view.message.clone()} " " <span class="muted small">{observed}</span>
        </p>
        {plans.is_empty().then(|| view! {
            <p class="empty">"No plan yet: the worker plans within a second of an edit."</p>
        })}
        // What is still in play is open; a finished plan is folded to its summary line, except
        // the latest when it failed or was cut off (its error is what to read next).
        {plans.into_iter().enumerate().map(|(i, plan)| {
            let open = plan.status.is_current()
                || (i == 0 && matches!(plan.status, PlanStatus::Failed | PlanStatus::Interrupted));
            view! { <PlanBox plan open gateway=gateway.clone() is_admin approve/> }
        }).collect_view()}
        {report.map(|r| view! {
            <details class="resources">
                <summary>{format!("AWS resources ({})", r.rows.len())}</summary>
                <table class="table">
                    <thead><tr>
                        <th scope="col">"Kind"</th><th scope="col">"Name"</th>
                        <th scope="col">"State in AWS"</th><th scope="col">"Pending"</th>
                    </tr></thead>
                    <tbody>
                        {r.rows.into_iter().map(|row| view! {
                            <tr>
                                <td>{row.kind}</td>
                                <td class="mono small" title=row.id>{row.name}</td>
                                <td class="small">{row.state}</td>
                                <td class="mono small">{row.pending.join("\n")}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        })}
    }
    .into_any()
}

#[component]
fn PlanBox(
    plan: PlanView,
    open: bool,
    gateway: String,
    is_admin: bool,
    approve: ServerAction<ApprovePlan>,
) -> impl IntoView {
    let waiting = plan.status == PlanStatus::AwaitingApproval;
    let summary = format!(
        "Plan {} · generation {} · {} · {} step(s) · {} · {} UTC",
        plan.id,
        plan.generation,
        plan.reason.label(),
        plan.steps.len(),
        plan.status.label(),
        plan.created_at
    );
    let guarded = plan.guarded.clone();
    let approved_by = plan.approved_by.clone();
    view! {
        <details class="plan" open=open data-plan=plan.id data-status=plan.status.as_str()>
            <summary>{summary}</summary>
            {(!guarded.is_empty()).then(|| view! {
                <p class="alert info">
                    "Needs an admin's approval: it removes or replaces " {guarded.join(", ")} "."
                </p>
            })}
            {approved_by.map(|by| view! { <p class="muted small">{format!("Approved by {by}.")}</p> })}
            {plan.cost.clone().map(|c| view! {
                <p class="plan-cost small">
                    <strong>{format!("Monthly cost {} → {}", c.before, c.after)}</strong>
                    {(!c.lines.is_empty()).then(|| format!(" ({})", c.lines.iter().map(|(r, b, a)| format!("{r} {b} → {a}")).collect::<Vec<_>>().join("; ")))}
                </p>
            })}
            {plan.error.clone().map(|e| view! { <p class="alert error">{e}</p> })}
            {(waiting && is_admin).then(|| view! {
                <ActionForm action=approve attr:class="inline">
                    <input type="hidden" name="name" value=gateway.clone()/>
                    <input type="hidden" name="plan" value=plan.id/>
                    <button type="submit" class="primary small">"Approve and apply"</button>
                </ActionForm>
            })}
            {(waiting && !is_admin).then(|| view! {
                <p class="muted small">"An admin approves this plan; it runs only if the topology is unchanged by then."</p>
            })}
            <table class="table steps">
                <thead><tr>
                    <th scope="col">"#"</th><th scope="col">"Change"</th>
                    <th scope="col">"Status"</th><th scope="col">"Time"</th><th scope="col">"AWS"</th>
                </tr></thead>
                <tbody>
                    {plan.steps.into_iter().map(|s| view! { <StepRow s/> }).collect_view()}
                </tbody>
            </table>
        </details>
    }
    .into_any()
}

#[component]
fn StepRow(s: StepView) -> impl IntoView {
    let (words, tone) = step_words(s.status);
    let sign = s.line.chars().next().unwrap_or(' ');
    let class = match sign {
        '+' => "add",
        '-' => "remove",
        '~' => "change",
        _ => "wait",
    };
    view! {
        <tr data-step=s.idx data-status=s.status.as_str()>
            <td>{s.idx + 1}</td>
            <td class=format!("mono small diff {class}")>{s.line}</td>
            <td><span class=format!("pill {tone}")>{words}</span></td>
            <td class="small">{elapsed(s.elapsed_ms)}</td>
            <td class="small">
                <span class="mono">{s.operation}</span>
                {s.error.map(|e| view! { <div class="field-error">{e}</div> })}
                {s.request_id.map(|r| view! { <div class="muted mono small">{format!("request {r}")}</div> })}
            </td>
        </tr>
    }
    .into_any()
}
