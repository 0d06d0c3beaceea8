//! Cost: the monthly estimate line by line (each with its formula, the prices, their region and
//! date), a chart by resource, and the alternatives with where each turns cheaper or dearer.
//! Computed in the browser too, so the Lambda inputs recompute as they are typed.

use super::{CostActions, Ctx, StatusActions};
use crate::api::gateways::PricesView;
use leptos::prelude::*;
use portico_core::cost::measured::Measured;
use portico_core::cost::prices::Prices;
use portico_core::cost::{alternatives, estimate, plain, LambdaInputs};
use portico_core::model::keys::format_time;
use portico_core::model::topology::Topology;

/// The month's total on the status tab, with what weighs most; the details are on the cost tab.
#[component]
pub fn CostSummary(ctx: Ctx<StatusActions>) -> impl IntoView {
    let c = ctx.cost;
    view! {
        <section class="card" id="cost-summary" aria-labelledby="cost-summary-title">
            <h2 id="cost-summary-title">{format!("Monthly cost: {}", c.total)}</h2>
            <p class="muted small">
                {format!("Estimate at {} prices of {}. Most of it: {}. ", c.region, c.price_date, c.top)}
                <a href=super::Tab::Cost.href(&ctx.gateway)>"Cost lines, alternatives and usage assumptions"</a>
            </p>
        </section>
    }
}

#[component]
pub fn CostSection(ctx: Ctx<CostActions>, prices: PricesView) -> impl IntoView {
    let (prices, exact): (Prices, bool) = (prices.prices, prices.exact);
    let topology: Topology = ctx.topology.clone();
    let e = estimate(&topology, &prices, exact);
    let max = e.lines.iter().map(|l| l.amount.0).max().unwrap_or(1).max(1);
    let duration = RwSignal::new(LambdaInputs::default().duration_ms);
    let memory = RwSignal::new(LambdaInputs::default().memory_mb);
    let (t2, p2) = (topology.clone(), prices.clone());
    let alts = Memo::new(move |_| {
        alternatives(
            &t2,
            &p2,
            LambdaInputs {
                duration_ms: duration.get().max(1),
                memory_mb: memory.get().clamp(128, 10_240),
            },
        )
    });
    let row_h = 24.0_f64;
    let height = row_h * e.lines.len() as f64;
    view! {
        <section class="card" id="cost" aria-labelledby="cost-title">
            <h2 id="cost-title">{format!("Monthly cost: {}", e.total)}</h2>
            <p class="muted small">
                {format!("Estimate for 730 hours at {} prices of {} ({}).", e.region, e.price_date, e.price_source)}
                {(!e.exact_region).then_some(" This region is not in the price table: us-east-1's prices stand in.")}
                " Usage assumptions are edited below."
            </p>
            <table class="table">
                <thead><tr><th scope="col">"For"</th><th scope="col">"Per month"</th><th scope="col">"How"</th></tr></thead>
                <tbody>
                    {e.lines.iter().map(|l| view! {
                        <tr data-cost=l.resource.clone()>
                            <td>{l.resource.clone()}</td>
                            <td class="mono" title=l.amount.exact()>{l.amount.cents()}</td>
                            <td class="small"><details><summary>"formula"</summary><span class="mono">{l.formula.clone()}</span></details></td>
                        </tr>
                    }).collect_view()}
                    <tr><th scope="row">"Total"</th><td class="mono"><strong>{e.total.cents()}</strong></td><td></td></tr>
                </tbody>
            </table>
            <figure class="chart">
                <svg role="img" aria-labelledby="cost-chart-title" width="100%" viewBox=format!("0 0 760 {height}") xmlns="http://www.w3.org/2000/svg">
                    <title id="cost-chart-title">"Monthly cost by resource"</title>
                    {e.lines.iter().enumerate().map(|(i, l)| {
                        let y = row_h * i as f64;
                        let w = 420.0 * (l.amount.0.max(0) as f64) / (max as f64);
                        view! {
                            <g>
                                <text x="0" y={y + 16.0} font-size="12" fill="currentColor">{l.resource.clone()}</text>
                                <rect x="220" y={y + 4.0} width={w.max(1.0)} height="16" fill="#2754c5">
                                    <title>{format!("{}: {}", l.resource, l.amount.exact())}</title>
                                </rect>
                                <text x={226.0 + w} y={y + 16.0} font-size="12" fill="currentColor">{l.amount.cents()}</text>
                            </g>
                        }
                    }).collect_view()}
                </svg>
            </figure>
            <h3>"Alternatives, from the same usage"</h3>
            <div class="form-row">
                <label>"Lambda duration (ms)"
                    <input type="number" min="1" value=move || duration.get().to_string()
                        on:input=move |ev| duration.set(event_target_value(&ev).parse().unwrap_or(1))/>
                </label>
                <label>"Lambda memory (MB)"
                    <input type="number" min="128" max="10240" value=move || memory.get().to_string()
                        on:input=move |ev| memory.set(event_target_value(&ev).parse().unwrap_or(128))/>
                </label>
            </div>
            <table class="table" id="alternatives">
                <thead><tr><th scope="col">"Shape"</th><th scope="col">"Per month"</th><th scope="col">"Versus now"</th><th scope="col">"Where it crosses"</th></tr></thead>
                <tbody>
                    {move || alts.get().into_iter().map(|a| view! {
                        <tr data-alternative=a.name.clone()>
                            <td>{a.name.clone()}<div class="muted small">{a.note.clone()}</div></td>
                            <td class="mono" title=a.formula.clone()>{a.monthly.cents()}</td>
                            <td class="mono">{if a.difference.0 > 0 { format!("+{}", a.difference.cents()) } else { a.difference.cents() }}</td>
                            <td class="small">{a.crossover.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

/// Up to the last 30 days as CloudWatch counted them, at the same prices, line by line with the
/// formulas; and, for editors, the same usage as the assumptions (saved like any edit of them).
#[component]
pub fn MeasuredCost(ctx: Ctx<CostActions>, measured: Option<Measured>) -> impl IntoView {
    let Some(m) = measured else {
        return view! {
            <section class="card" id="measured-cost" aria-labelledby="measured-title">
                <h2 id="measured-title">"Measured cost"</h2>
                <p class="muted">
                    "Nothing measured yet: the worker reads the stages' requests and the load balancer's bytes and flows from CloudWatch once an hour (the "
                    <a href=super::Tab::Status.href(&ctx.gateway)>"status tab's health section"</a>
                    " says why, when it cannot)."
                </p>
            </section>
        }
        .into_any();
    };
    let u = m.usage.clone();
    let same = u == ctx.topology.usage;
    let days = m.hours / 24;
    let plural = |n: i64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    let span = match (days, m.hours % 24) {
        (0, hours) => plural(hours, "hour"),
        (days, 0) => plural(days, "day"),
        (days, hours) => format!("{} and {}", plural(days, "day"), plural(hours, "hour")),
    };
    view! {
        <section class="card" id="measured-cost" aria-labelledby="measured-title">
            <h2 id="measured-title">{format!("Measured over {span}: {}", m.estimate.total.cents())}</h2>
            <p class="muted small">
                {format!(
                    "As CloudWatch counted it, {} to {} UTC (up to the last 30 days), at {} prices of {}: about {} for a 730-hour month. Hours without data count as no traffic.",
                    format_time(m.from), format_time(m.to), m.estimate.region, m.estimate.price_date, m.monthly.cents()
                )}
            </p>
            <table class="table" id="measured-lines">
                <thead><tr><th scope="col">"For"</th><th scope="col">"Measured"</th><th scope="col">"How"</th></tr></thead>
                <tbody>
                    {m.estimate.lines.iter().map(|l| view! {
                        <tr data-measured=l.resource.clone()>
                            <td>{l.resource.clone()}</td>
                            <td class="mono" title=l.amount.exact()>{l.amount.cents()}</td>
                            <td class="small"><details><summary>"formula"</summary><span class="mono">{l.formula.clone()}</span></details></td>
                        </tr>
                    }).collect_view()}
                    <tr><th scope="row">"Total"</th><td class="mono"><strong>{m.estimate.total.cents()}</strong></td><td></td></tr>
                </tbody>
            </table>
            <p class="small">
                {format!(
                    "As a month's assumptions: {} requests, {} KB per response, {} new connections per second, {} active connections{}",
                    plain(i128::from(u.requests_per_month)), u.average_response_kb, u.new_connections_per_second, plain(i128::from(u.active_connections)),
                    if same { " (the assumptions now)." } else { "." }
                )}
            </p>
            {(ctx.can_edit && !same).then(|| view! {
                <ActionForm action=ctx.actions.save_usage attr:id="use-measured">
                    <input type="hidden" name="gateway" value=ctx.gateway.clone()/>
                    <input type="hidden" name="from" value=ctx.generation/>
                    <input type="hidden" name="requests_per_month" value=u.requests_per_month/>
                    <input type="hidden" name="average_response_kb" value=u.average_response_kb/>
                    <input type="hidden" name="new_connections_per_second" value=u.new_connections_per_second/>
                    <input type="hidden" name="active_connections" value=u.active_connections/>
                    <button type="submit">"Use measured usage as the assumptions"</button>
                </ActionForm>
            })}
        </section>
    }
    .into_any()
}
