//! The gateway's own settings: region, network, endpoint type, modes (admins edit them).

use super::{open_form, Ctx, TopologyActions};
use crate::components::error::ActionError;
use leptos::prelude::*;
use portico_core::model::topology::{ApplyMode, DriftMode, EndpointType};

#[component]
pub fn Settings(ctx: Ctx<TopologyActions>) -> impl IntoView {
    let open = open_form("gateway");
    let g = ctx.topology.gateway.clone();
    let c = ctx.clone();
    view! {
        <section class="card" id="settings" aria-labelledby="settings-title">
            <div class="section-head">
                <h2 id="settings-title">"Gateway"</h2>
                {ctx.is_admin.then(|| view! {
                    <span>
                        <a class="button" href=format!("{}?edit=gateway:settings#settings", ctx.here())>"Edit settings"</a>
                        " "
                        <a class="button" href=format!("{}?delete=gateway:{}#settings", ctx.here(), ctx.gateway)>"Delete gateway"</a>
                    </span>
                })}
            </div>
            <dl class="facts">
                <dt>"Region"</dt><dd>{g.region.clone()}</dd>
                <dt>"VPC"</dt><dd class="mono">{g.vpc_id.clone()}</dd>
                <dt>"NLB subnets"</dt><dd class="mono">{g.subnet_ids.join(", ")}</dd>
                <dt>"Endpoint"</dt><dd>{format!("{:?}", g.endpoint_type).to_ascii_uppercase()}</dd>
                <dt>"Apply"</dt><dd>{match g.apply_mode { ApplyMode::Auto => "automatically", ApplyMode::Approve => "after an admin approves" }}</dd>
                <dt>"Drift"</dt><dd>{match g.drift_mode { DriftMode::Correct => "corrected", DriftMode::Report => "reported only" }}</dd>
                {g.role_arn.clone().map(|r| view! { <dt>"Role"</dt><dd class="mono">{r}</dd> })}
            </dl>
            {move || { let c = c.clone(); open.get().filter(|_| c.is_admin).map(move |(mode, _)| {
                if mode == "delete" {
                    return view! { <DeleteGateway ctx=c.clone()/> }.into_any();
                }
                let g = c.topology.gateway.clone();
                view! { <SettingsForm ctx=c.clone() g/> }.into_any()
            })}}
        </section>
    }
}

/// The settings form: the region's VPCs and the chosen VPC's subnets offered to pick from.
#[component]
fn SettingsForm(
    ctx: Ctx<TopologyActions>,
    g: portico_core::model::topology::Gateway,
) -> impl IntoView {
    use crate::components::network::{network_of, subnet_choices, Picker, VpcChoices};
    let c = ctx;
    let region = RwSignal::new(g.region.clone());
    let vpc = RwSignal::new(g.vpc_id.clone());
    let subnets = RwSignal::new(g.subnet_ids.join(", "));
    let network = network_of(Some(c.gateway.clone()), move || region.get());
    view! {
        <ActionForm action=c.actions.save_settings attr:class="card form-grid" attr:id="settings-form">
            <h3>"Edit gateway settings"</h3>
            <input type="hidden" name="gateway" value=c.gateway.clone()/>
            <input type="hidden" name="from" value=c.generation/>
            <label>"Region"<input name="region" required value=g.region.clone()
                on:change=move |ev| region.set(event_target_value(&ev))/></label>
            <label>"VPC id"<input name="vpc_id" required list="vpc-choices" prop:value=vpc
                on:input=move |ev| vpc.set(event_target_value(&ev))/></label>
            <label class="wide">"NLB subnet ids (one per zone)"<input name="subnet_ids" required prop:value=subnets
                on:input=move |ev| subnets.set(event_target_value(&ev))/></label>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let n = network.await;
                    let v = vpc.get();
                    let picker = n.as_ref().map(|n| view! {
                        <Picker title=format!("Subnets of {v}") choices=subnet_choices(n, &v) value=subnets/>
                    });
                    view! { <VpcChoices network=n.clone()/> {picker} }
                })}
            </Suspense>
            <label>"Endpoint type"
                <select name="endpoint_type">
                    {[(EndpointType::Regional, "REGIONAL"), (EndpointType::Edge, "EDGE")].into_iter().map(|(v, s)| view! {
                        <option value=s selected={v == g.endpoint_type}>{s}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Role to assume (optional)"<input name="role_arn" value=g.role_arn.clone().unwrap_or_default() placeholder="arn:aws:iam::123456789012:role/portico"/></label>
            <label>"Apply mode"
                <select name="apply_mode">
                    <option value="auto" selected={g.apply_mode == ApplyMode::Auto}>"auto"</option>
                    <option value="approve" selected={g.apply_mode == ApplyMode::Approve}>"approve"</option>
                </select>
            </label>
            <label>"Drift mode"
                <select name="drift_mode">
                    <option value="correct" selected={g.drift_mode == DriftMode::Correct}>"correct"</option>
                    <option value="report" selected={g.drift_mode == DriftMode::Report}>"report"</option>
                </select>
            </label>
            <div class="actions">
                <button type="submit" class="primary">"Save settings"</button>
                <a href=c.here()>"Cancel"</a>
            </div>
            <ActionError value=c.actions.save_settings.value()/>
        </ActionForm>
    }
}

#[component]
fn DeleteGateway(ctx: Ctx<TopologyActions>) -> impl IntoView {
    let delete = ServerAction::<crate::api::gateways::DeleteGateway>::new();
    view! {
        <div class="confirm" role="alertdialog" aria-labelledby="confirm-gateway">
            <p id="confirm-gateway">
                {format!("Remove gateway {} and its whole history from Portico? \"Delete from AWS\" removes everything it owns there too; \"Release\" removes only Portico's tags and leaves every resource running as it is.", ctx.gateway)}
            </p>
            <ActionForm action=delete attr:class="inline">
                <input type="hidden" name="name" value=ctx.gateway.clone()/>
                <label>"Type its name to confirm"<input name="confirm" required autocomplete="off"/></label>
                <fieldset class="choice">
                    <legend>"Its AWS resources"</legend>
                    <label class="check"><input type="radio" name="mode" value="delete" checked=true/>"Delete from AWS"</label>
                    <label class="check"><input type="radio" name="mode" value="release"/>"Release: remove Portico's tags, leave them running"</label>
                </fieldset>
                <button type="submit" class="danger">"Delete gateway"</button>
                <a href=ctx.here()>"Cancel"</a>
            </ActionForm>
            <ActionError value=delete.value()/>
        </div>
    }
}
