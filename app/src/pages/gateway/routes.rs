//! Routes: resource paths with their methods, API-key requirement and backend port.

use super::{open_form, Ctx, TopologyActions};
use crate::components::error::ActionError;
use leptos::prelude::*;
use portico_core::model::rules;
use portico_core::model::topology::Route;

#[component]
pub fn Routes(ctx: Ctx<TopologyActions>) -> impl IntoView {
    let open = open_form("route");
    let c = ctx.clone();
    view! {
        <section class="card" id="routes" aria-labelledby="routes-title">
            <div class="section-head">
                <h2 id="routes-title">"Routes"</h2>
                {ctx.can_edit.then(|| view! { <a class="button" href=format!("{}?edit=route:new#routes", ctx.here())>"Add route"</a> })}
            </div>
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Path"</th>
                        <th scope="col">"Methods"</th>
                        <th scope="col">"API key"</th>
                        <th scope="col">"Backend port"</th>
                        <th scope="col">"Backend path"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {ctx.topology.routes.iter().map(|r| {
                        let key = crate::api::forms::urlencode(&r.path);
                        view! {
                            <tr data-route=r.path.clone()>
                                <td class="mono">{r.path.clone()}</td>
                                <td>{r.methods.join(", ")}</td>
                                <td>{if r.api_key_required { "required" } else { "not required" }}</td>
                                <td>{r.port.map(|p| p.to_string()).unwrap_or_else(|| "the stage's".into())}</td>
                                <td class="mono">{r.backend()}</td>
                                <td>{ctx.can_edit.then(|| view! {
                                    <a href=format!("{}?edit=route:{key}#routes", ctx.here())>"Edit"</a>
                                    " "
                                    <a href=format!("{}?delete=route:{key}#routes", ctx.here())>"Delete"</a>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {ctx.topology.routes.is_empty().then(|| view! { <p class="empty">"No routes yet: add /{proxy+} to send every path to the stage's port."</p> })}
            {move || {
                let c = c.clone();
                open.get().filter(|_| c.can_edit).map(|(mode, key)| {
                    let existing = c.topology.routes.iter().find(|r| r.path == key).cloned();
                    if mode == "delete" {
                        let delete = c.actions.delete_route;
                        view! {
                            <div class="confirm" role="alertdialog">
                                <p>{format!("Delete route {key}? Callers get 403 there once the change is deployed.")}</p>
                                <ActionForm action=delete attr:class="inline">
                                    <input type="hidden" name="gateway" value=c.gateway.clone()/>
                                    <input type="hidden" name="from" value=c.generation/>
                                    <input type="hidden" name="path" value=key.clone()/>
                                    <button type="submit" class="danger">"Delete route"</button>
                                    <a href=c.here()>"Cancel"</a>
                                </ActionForm>
                            </div>
                        }
                        .into_any()
                    } else {
                        view! { <RouteForm ctx=c existing/> }.into_any()
                    }
                })
            }}
            <ActionError value=ctx.actions.delete_route.value()/>
        </section>
    }
}

#[component]
fn RouteForm(ctx: Ctx<TopologyActions>, existing: Option<Route>) -> impl IntoView {
    let path = RwSignal::new(
        existing
            .as_ref()
            .map(|r| r.path.clone())
            .unwrap_or_default(),
    );
    let path_error = move || {
        let p = path.get();
        (!p.is_empty())
            .then(|| rules::resource_path(p.trim()).err())
            .flatten()
    };
    let methods = RwSignal::new(
        existing
            .as_ref()
            .map(|r| r.methods.join(", "))
            .unwrap_or_else(|| "ANY".into()),
    );
    let methods_error = move || {
        rules::methods(&crate::api::forms::list(
            &methods.get().to_ascii_uppercase(),
        ))
        .err()
    };
    let key_required = existing.as_ref().is_none_or(|r| r.api_key_required);
    let pinned = existing.as_ref().and_then(|r| r.port);
    let backend = existing.as_ref().and_then(|r| r.backend_path.clone());
    let title = existing
        .as_ref()
        .map(|r| format!("Edit route {}", r.path))
        .unwrap_or_else(|| "Add a route".into());
    view! {
        <ActionForm action=ctx.actions.save_route attr:class="card form-grid" attr:id="route-form">
            <h3>{title}</h3>
            <input type="hidden" name="gateway" value=ctx.gateway.clone()/>
            <input type="hidden" name="from" value=ctx.generation/>
            <input type="hidden" name="original" value=existing.as_ref().map(|r| r.path.clone()).unwrap_or_default()/>
            <label class="wide">"Resource path"
                <input name="path" required placeholder="/dev/{proxy+}" value=path.get_untracked()
                    on:input=move |ev| path.set(event_target_value(&ev)) aria-invalid=move || path_error().is_some().to_string()/>
                <span class="field-error" aria-live="polite">{path_error}</span>
            </label>
            <label>"Methods (ANY, or e.g. GET, POST)"
                <input name="methods" required value=methods.get_untracked()
                    on:input=move |ev| methods.set(event_target_value(&ev)) aria-invalid=move || methods_error().is_some().to_string()/>
                <span class="field-error" aria-live="polite">{methods_error}</span>
            </label>
            <label>"Backend port"
                <select name="port">
                    <option value="" selected=pinned.is_none()>"the stage's port"</option>
                    {ctx.topology.ports.iter().map(|p| view! {
                        <option value=p.port selected={pinned == Some(p.port)}>{p.port}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Backend path (blank: the route's own)"
                <input name="backend_path" placeholder="/{proxy}" value=backend/>
            </label>
            <label class="check"><input type="checkbox" name="api_key_required" value="on" checked=key_required/>"API key required"</label>
            <div class="actions">
                <button type="submit" class="primary">"Save route"</button>
                <a href=ctx.here()>"Cancel"</a>
            </div>
            <ActionError value=ctx.actions.save_route.value()/>
        </ActionForm>
    }
}
