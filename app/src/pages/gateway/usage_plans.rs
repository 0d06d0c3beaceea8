//! Usage plans (throttle and quota over stages) and the usage assumptions behind the cost.

use super::{open_form, CostActions, Ctx, TopologyActions};
use crate::components::error::ActionError;
use leptos::prelude::*;
use portico_core::model::topology::{QuotaPeriod, UsagePlan};

#[component]
pub fn UsagePlans(ctx: Ctx<TopologyActions>) -> impl IntoView {
    let open = open_form("usage-plan");
    let c = ctx.clone();
    view! {
        <section class="card" id="usage-plans" aria-labelledby="usage-plans-title">
            <div class="section-head">
                <h2 id="usage-plans-title">"Usage plans"</h2>
                {ctx.can_edit.then(|| view! { <a class="button" href=format!("{}?edit=usage-plan:new#usage-plans", ctx.here())>"Add usage plan"</a> })}
            </div>
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Plan"</th>
                        <th scope="col">"Throttle"</th>
                        <th scope="col">"Quota"</th>
                        <th scope="col">"Stages"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {ctx.topology.usage_plans.iter().map(|p| view! {
                        <tr data-usage-plan=p.name.clone()>
                            <td>{p.name.clone()}</td>
                            <td>{p.throttle.as_ref().map(|t| format!("{} / {}", t.rate, t.burst)).unwrap_or_else(|| "none".into())}</td>
                            <td>{p.quota.as_ref().map(|q| format!("{} per {:?}", q.limit, q.period).to_ascii_lowercase()).unwrap_or_else(|| "none".into())}</td>
                            <td>{p.stages.join(", ")}</td>
                            <td>{ctx.can_edit.then(|| view! {
                                <a href=format!("{}?edit=usage-plan:{}#usage-plans", ctx.here(), p.name)>"Edit"</a>
                                " "
                                <a href=format!("{}?delete=usage-plan:{}#usage-plans", ctx.here(), p.name)>"Delete"</a>
                            })}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {move || {
                let c = c.clone();
                open.get().filter(|_| c.can_edit).map(|(mode, key)| {
                    let existing = c.topology.usage_plans.iter().find(|p| p.name == key).cloned();
                    if mode == "delete" {
                        let delete = c.actions.delete_usage_plan;
                        view! {
                            <div class="confirm" role="alertdialog">
                                <p>{format!("Delete usage plan {key}? Keys in it stop working on its stages.")}</p>
                                <ActionForm action=delete attr:class="inline">
                                    <input type="hidden" name="gateway" value=c.gateway.clone()/>
                                    <input type="hidden" name="from" value=c.generation/>
                                    <input type="hidden" name="name" value=key.clone()/>
                                    <button type="submit" class="danger">"Delete usage plan"</button>
                                    <a href=c.here()>"Cancel"</a>
                                </ActionForm>
                            </div>
                        }
                        .into_any()
                    } else {
                        view! { <PlanForm ctx=c existing/> }.into_any()
                    }
                })
            }}
            <ActionError value=ctx.actions.delete_usage_plan.value()/>
        </section>
    }
}

#[component]
fn PlanForm(ctx: Ctx<TopologyActions>, existing: Option<UsagePlan>) -> impl IntoView {
    let p = existing.clone();
    let throttle = p.as_ref().and_then(|p| p.throttle.clone());
    let quota = p.as_ref().and_then(|p| p.quota.clone());
    let period = quota
        .as_ref()
        .map(|q| q.period)
        .unwrap_or(QuotaPeriod::Month);
    let title = p
        .as_ref()
        .map(|p| format!("Edit usage plan {}", p.name))
        .unwrap_or_else(|| "Add a usage plan".into());
    let stages = p.as_ref().map(|p| p.stages.join(", ")).unwrap_or_else(|| {
        ctx.topology
            .stages
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    });
    view! {
        <ActionForm action=ctx.actions.save_usage_plan attr:class="card form-grid" attr:id="usage-plan-form">
            <h3>{title}</h3>
            <input type="hidden" name="gateway" value=ctx.gateway.clone()/>
            <input type="hidden" name="from" value=ctx.generation/>
            <input type="hidden" name="original" value=p.as_ref().map(|p| p.name.clone()).unwrap_or_default()/>
            <label>"Name"<input name="name" required maxlength="64" value=p.as_ref().map(|p| p.name.clone()).unwrap_or_default()/></label>
            <label>"Throttle rate (req/s)"<input name="throttle_rate" inputmode="decimal" value=throttle.as_ref().map(|t| t.rate.to_string()).unwrap_or_default()/></label>
            <label>"Throttle burst"<input name="throttle_burst" inputmode="numeric" value=throttle.as_ref().map(|t| t.burst.to_string()).unwrap_or_default()/></label>
            <label>"Quota limit (requests)"<input name="quota_limit" inputmode="numeric" value=quota.as_ref().map(|q| q.limit.to_string()).unwrap_or_default()/></label>
            <label>"Quota period"
                <select name="quota_period">
                    {[(QuotaPeriod::Day, "DAY"), (QuotaPeriod::Week, "WEEK"), (QuotaPeriod::Month, "MONTH")].into_iter().map(|(v, s)| view! {
                        <option value=s selected={v == period}>{s.to_ascii_lowercase()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Quota offset"<input name="quota_offset" inputmode="numeric" value=quota.as_ref().map(|q| q.offset.to_string()).unwrap_or_default()/></label>
            <label class="wide">"Stages (comma separated)"<input name="stages" value=stages/></label>
            <div class="actions">
                <button type="submit" class="primary">"Save usage plan"</button>
                <a href=ctx.here()>"Cancel"</a>
            </div>
            <ActionError value=ctx.actions.save_usage_plan.value()/>
        </ActionForm>
    }
}

/// The traffic the team expects, which the cost estimate is computed from.
#[component]
pub fn Usage(ctx: Ctx<CostActions>, prices: crate::api::gateways::PricesView) -> impl IntoView {
    let u = ctx.topology.usage.clone();
    let readonly = !ctx.can_edit;
    // The estimate follows the fields as they are typed (the cost model runs in the browser).
    let fields = [
        RwSignal::new(u.requests_per_month.to_string()),
        RwSignal::new(u.average_response_kb.to_string()),
        RwSignal::new(u.new_connections_per_second.to_string()),
        RwSignal::new(u.active_connections.to_string()),
    ];
    let (t, exact, prices) = (ctx.topology.clone(), prices.exact, prices.prices);
    let now = portico_core::cost::estimate(&t, &prices, exact).total;
    let typed = Memo::new(move |_| {
        let mut t = t.clone();
        let num = |i: usize| fields[i].get().trim().parse::<u64>().ok();
        match (num(0), num(1), num(2), num(3)) {
            (Some(r), Some(kb), Some(nc), Some(ac)) => {
                t.usage.requests_per_month = r;
                t.usage.average_response_kb = kb.min(u64::from(u32::MAX)) as u32;
                t.usage.new_connections_per_second = nc.min(u64::from(u32::MAX)) as u32;
                t.usage.active_connections = ac.min(u64::from(u32::MAX)) as u32;
                Some(portico_core::cost::estimate(&t, &prices, exact).total)
            }
            _ => None,
        }
    });
    let input = move |i: usize| move |ev| fields[i].set(event_target_value(&ev));
    view! {
        <section class="card" id="usage" aria-labelledby="usage-title">
            <h2 id="usage-title">"Usage assumptions"</h2>
            <ActionForm action=ctx.actions.save_usage attr:class="form-grid">
                <input type="hidden" name="gateway" value=ctx.gateway.clone()/>
                <input type="hidden" name="from" value=ctx.generation/>
                <label>"Requests per month"<input name="requests_per_month" inputmode="numeric" value=u.requests_per_month readonly=readonly on:input=input(0)/></label>
                <label>"Average response (KB)"<input name="average_response_kb" inputmode="numeric" value=u.average_response_kb readonly=readonly on:input=input(1)/></label>
                <label>"New connections per second"<input name="new_connections_per_second" inputmode="numeric" value=u.new_connections_per_second readonly=readonly on:input=input(2)/></label>
                <label>"Active connections"<input name="active_connections" inputmode="numeric" value=u.active_connections readonly=readonly on:input=input(3)/></label>
                <p class="wide live-estimate" aria-live="polite">
                    {move || match typed.get() {
                        Some(m) if m != now => format!("With these numbers: {}/month (now {}).", m.cents(), now.cents()),
                        Some(m) => format!("Estimated {}/month.", m.cents()),
                        None => "Type whole numbers to see the estimate.".to_string(),
                    }}
                </p>
                {ctx.can_edit.then(|| view! { <div class="actions"><button type="submit">"Save assumptions"</button></div> })}
                <ActionError value=ctx.actions.save_usage.value()/>
            </ActionForm>
        </section>
    }
}
