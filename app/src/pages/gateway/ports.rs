//! Backend ports: one NLB listener and target group each, with their instances. The target
//! group's name comes from the planner's naming (`plan::names`), so the page shows the name the
//! worker gives it in AWS.

use super::{open_form, Ctx, TopologyActions};
use crate::components::error::ActionError;
use crate::components::network::{instance_choices, network_of, Picker};
use leptos::prelude::*;
use portico_core::model::rules;
use portico_core::model::topology::{BackendPort, HealthProtocol};
use portico_core::plan::names;

#[component]
pub fn Ports(ctx: Ctx<TopologyActions>) -> impl IntoView {
    let open = open_form("port");
    let c = ctx.clone();
    view! {
        <section class="card" id="ports" aria-labelledby="ports-title">
            <div class="section-head">
                <h2 id="ports-title">"Backend ports"</h2>
                {ctx.can_edit.then(|| view! { <a class="button" href=format!("{}?edit=port:new#ports", ctx.here())>"Add port"</a> })}
            </div>
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Port"</th>
                        <th scope="col">"Listener"</th>
                        <th scope="col">"Target group"</th>
                        <th scope="col">"Health check"</th>
                        <th scope="col">"Instances"</th>
                        <th scope="col">"Used by"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {ctx.topology.ports.iter().map(|p| {
                        let hc = &p.health_check;
                        let check = match hc.protocol {
                            HealthProtocol::Tcp => format!("TCP every {} s", hc.interval_seconds),
                            HealthProtocol::Http => format!("HTTP {} every {} s", hc.path.clone().unwrap_or_default(), hc.interval_seconds),
                        };
                        let users = ctx.topology.users_of_port(p.port).join(", ");
                        view! {
                            <tr data-port=p.port>
                                <td>{p.port}</td>
                                <td>{p.listener()}</td>
                                <td class="mono small">{names::target_group(&ctx.topology.gateway, p.port)}</td>
                                <td>{check}</td>
                                <td class="mono small">{p.instances.join(", ")}</td>
                                <td class="small">{users}</td>
                                <td>{ctx.can_edit.then(|| view! {
                                    <a href=format!("{}?edit=port:{}#ports", ctx.here(), p.port)>"Edit"</a>
                                    " "
                                    <a href=format!("{}?delete=port:{}#ports", ctx.here(), p.port)>"Delete"</a>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {(ctx.topology.ports.is_empty()).then(|| view! { <p class="empty">"No backend ports yet: add the port your instances listen on (8080, say)."</p> })}
            {move || {
                let c = c.clone();
                open.get().filter(|_| c.can_edit).map(|(mode, key)| {
                    let existing = key.parse::<u32>().ok().and_then(|n| c.topology.port(n).cloned());
                    if mode == "delete" {
                        view! { <DeletePort ctx=c port=key.parse().unwrap_or_default()/> }.into_any()
                    } else {
                        view! { <PortForm ctx=c existing/> }.into_any()
                    }
                })
            }}
            <ActionError value=ctx.actions.delete_port.value()/>
        </section>
    }
}

#[component]
fn DeletePort(ctx: Ctx<TopologyActions>, port: u32) -> impl IntoView {
    let users = ctx.topology.users_of_port(port);
    view! {
        <div class="confirm" role="alertdialog" aria-labelledby="confirm-port">
            <p id="confirm-port">
                {format!("Delete backend port {port}? Its listener and target group will be removed from AWS.")}
                {(!users.is_empty()).then(|| format!(" It is used by {}: deleting will be refused.", users.join(", ")))}
            </p>
            <ActionForm action=ctx.actions.delete_port attr:class="inline">
                <input type="hidden" name="gateway" value=ctx.gateway.clone()/>
                <input type="hidden" name="from" value=ctx.generation/>
                <input type="hidden" name="port" value=port/>
                <button type="submit" class="danger">"Delete port"</button>
                <a href=ctx.here()>"Cancel"</a>
            </ActionForm>
        </div>
    }
}

#[component]
fn PortForm(ctx: Ctx<TopologyActions>, existing: Option<BackendPort>) -> impl IntoView {
    let p = existing.clone().unwrap_or(BackendPort {
        port: 8080,
        listener_port: None,
        health_check: Default::default(),
        deregistration_delay: 30,
        instances: vec![],
    });
    let port = RwSignal::new(
        existing
            .as_ref()
            .map(|p| p.port.to_string())
            .unwrap_or_default(),
    );
    let listener = RwSignal::new(p.listener_port.map(|l| l.to_string()).unwrap_or_default());
    let instances = RwSignal::new(p.instances.join(", "));
    let g = ctx.topology.gateway.clone();
    let vpc = g.vpc_id.clone();
    let network = network_of(Some(ctx.gateway.clone()), move || g.region.clone());
    let http = RwSignal::new(p.health_check.protocol == HealthProtocol::Http);
    let port_error = move || number_error(&port.get(), "Backend port");
    let listener_error = move || {
        let l = listener.get();
        (!l.trim().is_empty())
            .then(|| number_error(&l, "Listener port"))
            .flatten()
    };
    let instance_error = move || {
        crate::api::forms::list(&instances.get())
            .iter()
            .find_map(|i| rules::instance_id(i).err())
    };
    let title = match &existing {
        Some(e) => format!("Edit port {}", e.port),
        None => "Add a backend port".into(),
    };
    view! {
        <ActionForm action=ctx.actions.save_port attr:class="card form-grid" attr:id="port-form">
            <h3>{title}</h3>
            <input type="hidden" name="gateway" value=ctx.gateway.clone()/>
            <input type="hidden" name="from" value=ctx.generation/>
            <input type="hidden" name="original" value=existing.as_ref().map(|e| e.port.to_string()).unwrap_or_default()/>
            <label>"Backend port"
                <input name="port" inputmode="numeric" required value=port.get_untracked()
                    on:input=move |ev| port.set(event_target_value(&ev)) aria-invalid=move || port_error().is_some().to_string()/>
                <span class="field-error" aria-live="polite">{port_error}</span>
            </label>
            <label>"Listener port (empty: same)"
                <input name="listener_port" inputmode="numeric" value=listener.get_untracked()
                    on:input=move |ev| listener.set(event_target_value(&ev)) aria-invalid=move || listener_error().is_some().to_string()/>
                <span class="field-error" aria-live="polite">{listener_error}</span>
            </label>
            <label>"Health check"
                <select name="health_protocol" on:change=move |ev| http.set(event_target_value(&ev) == "HTTP")>
                    <option value="TCP" selected=!http.get_untracked()>"TCP"</option>
                    <option value="HTTP" selected=http.get_untracked()>"HTTP"</option>
                </select>
            </label>
            <label>"HTTP path (HTTP checks only)"
                <input name="health_path" value=p.health_check.path.clone().unwrap_or_default() placeholder="/health"/>
            </label>
            <label>"Interval (5–300 s)"<input name="interval_seconds" inputmode="numeric" value=p.health_check.interval_seconds/></label>
            <label>"Healthy threshold (2–10)"<input name="healthy_threshold" inputmode="numeric" value=p.health_check.healthy_threshold/></label>
            <label>"Unhealthy threshold (2–10)"<input name="unhealthy_threshold" inputmode="numeric" value=p.health_check.unhealthy_threshold/></label>
            <label>"Deregistration delay (0–3600 s)"<input name="deregistration_delay" inputmode="numeric" value=p.deregistration_delay/></label>
            <label class="wide">"EC2 instance ids (comma or space separated)"
                <input name="instances" prop:value=instances placeholder="i-0123456789abcdef0"
                    on:input=move |ev| instances.set(event_target_value(&ev)) aria-invalid=move || instance_error().is_some().to_string()/>
                <span class="field-error" aria-live="polite">{instance_error}</span>
            </label>
            <Suspense fallback=|| ()>
                {move || {
                    let vpc = vpc.clone();
                    Suspend::new(async move {
                        network.await.map(|n| {
                            let title = format!("Instances in {vpc}");
                            view! { <Picker title choices=instance_choices(&n, &vpc) value=instances/> }
                        })
                    })
                }}
            </Suspense>
            <div class="actions">
                <button type="submit" class="primary">"Save port"</button>
                <a href=ctx.here()>"Cancel"</a>
            </div>
            <ActionError value=ctx.actions.save_port.value()/>
        </ActionForm>
    }
}

/// The message for a port field as typed: not a number, or out of AWS's range.
pub fn number_error(text: &str, what: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<u32>() {
        Ok(n) => rules::port(n, what).err(),
        Err(_) => Some(format!("{what}: {t:?} is not a valid number.")),
    }
}
