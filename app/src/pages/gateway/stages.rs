//! Stages: each serves a backend port by default, with throttling, cache, variables and an
//! access log.

use super::{open_form, Ctx, TopologyActions};
use crate::api::forms;
use crate::components::error::ActionError;
use leptos::prelude::*;
use portico_core::model::rules;
use portico_core::model::topology::{AccessLogging, Stage};

#[component]
pub fn Stages(ctx: Ctx<TopologyActions>) -> impl IntoView {
    let open = open_form("stage");
    let c = ctx.clone();
    view! {
        <section class="card" id="stages" aria-labelledby="stages-title">
            <div class="section-head">
                <h2 id="stages-title">"Stages"</h2>
                {ctx.can_edit.then(|| view! { <a class="button" href=format!("{}?edit=stage:new#stages", ctx.here())>"Add stage"</a> })}
            </div>
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Stage"</th>
                        <th scope="col">"Backend port"</th>
                        <th scope="col">"Throttle (rate / burst)"</th>
                        <th scope="col">"Cache"</th>
                        <th scope="col">"Variables"</th>
                        <th scope="col">"Access log"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {ctx.topology.stages.iter().map(|s| {
                        let throttle = s.throttle.as_ref().map(|t| format!("{} / {}", t.rate, t.burst)).unwrap_or_else(|| "account default".into());
                        let vars = s.variables.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
                        view! {
                            <tr data-stage=s.name.clone()>
                                <td>{s.name.clone()}</td>
                                <td>{s.backend_port}</td>
                                <td>{throttle}</td>
                                <td>{s.cache_gb.clone().map(|c| format!("{c} GB")).unwrap_or_else(|| "off".into())}</td>
                                <td class="mono small">{vars}</td>
                                {match &s.access_log {
                                    None => view! { <td>"as set in AWS"</td> }.into_any(),
                                    Some(AccessLogging::Off) => view! { <td>"off"</td> }.into_any(),
                                    Some(AccessLogging::To(log)) => view! { <td class="mono small" title=log.arn().to_owned()>{log.name().to_owned()}</td> }.into_any(),
                                }}
                                <td>{ctx.can_edit.then(|| view! {
                                    <a href=format!("{}?edit=stage:{}#stages", ctx.here(), s.name)>"Edit"</a>
                                    " "
                                    <a href=format!("{}?delete=stage:{}#stages", ctx.here(), s.name)>"Delete"</a>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {ctx.topology.stages.is_empty().then(|| view! { <p class="empty">"No stages yet: add dev, say, serving one of the ports above."</p> })}
            {move || {
                let c = c.clone();
                open.get().filter(|_| c.can_edit).map(|(mode, key)| {
                    let existing = c.topology.stage(&key).cloned();
                    if mode == "delete" {
                        let delete = c.actions.delete_stage;
                        view! {
                            <div class="confirm" role="alertdialog">
                                <p>{format!("Delete stage {key}? Its URL stops answering once the change is applied.")}</p>
                                <ActionForm action=delete attr:class="inline">
                                    <input type="hidden" name="gateway" value=c.gateway.clone()/>
                                    <input type="hidden" name="from" value=c.generation/>
                                    <input type="hidden" name="name" value=key.clone()/>
                                    <button type="submit" class="danger">"Delete stage"</button>
                                    <a href=c.here()>"Cancel"</a>
                                </ActionForm>
                            </div>
                        }
                        .into_any()
                    } else {
                        view! { <StageForm ctx=c existing/> }.into_any()
                    }
                })
            }}
            <ActionError value=ctx.actions.delete_stage.value()/>
        </section>
    }
}

#[component]
fn StageForm(ctx: Ctx<TopologyActions>, existing: Option<Stage>) -> impl IntoView {
    let name = RwSignal::new(
        existing
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_default(),
    );
    let name_error = move || {
        let n = name.get();
        (!n.is_empty())
            .then(|| rules::stage_name(n.trim()).err())
            .flatten()
    };
    let s = existing.clone();
    let throttle = s.as_ref().and_then(|s| s.throttle.clone());
    let variables = s
        .as_ref()
        .map(|s| {
            s.variables
                .iter()
                .map(|(k, v)| format!("{k}={v}\n"))
                .collect::<String>()
        })
        .unwrap_or_default();
    let current_port = s.as_ref().map(|s| s.backend_port);
    let current_cache = s.as_ref().and_then(|s| s.cache_gb.clone());
    let log = s.as_ref().and_then(|s| s.access_log.clone());
    let log_mode = forms::access_log_mode(log.as_ref());
    let region = &ctx.topology.gateway.region;
    let placeholder = format!(
        "arn:{}:logs:{region}:ACCOUNT:log-group:NAME",
        rules::partition(region)
    );
    let (log_destination, log_format) = match log {
        Some(AccessLogging::To(l)) => (l.destination, l.format.unwrap_or_default()),
        _ => Default::default(),
    };
    let title = existing
        .as_ref()
        .map(|s| format!("Edit stage {}", s.name))
        .unwrap_or_else(|| "Add a stage".into());
    view! {
        <ActionForm action=ctx.actions.save_stage attr:class="card form-grid" attr:id="stage-form">
            <h3>{title}</h3>
            <input type="hidden" name="gateway" value=ctx.gateway.clone()/>
            <input type="hidden" name="from" value=ctx.generation/>
            <input type="hidden" name="original" value=existing.as_ref().map(|s| s.name.clone()).unwrap_or_default()/>
            <label>"Name"
                <input name="name" required maxlength="128" value=name.get_untracked()
                    on:input=move |ev| name.set(event_target_value(&ev)) aria-invalid=move || name_error().is_some().to_string()/>
                <span class="field-error" aria-live="polite">{name_error}</span>
            </label>
            <label>"Backend port"
                <select name="backend_port" required>
                    {ctx.topology.ports.iter().map(|p| view! {
                        <option value=p.port selected={Some(p.port) == current_port}>{p.port}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Throttle rate (req/s, empty: account default)"
                <input name="throttle_rate" inputmode="decimal" value=throttle.as_ref().map(|t| t.rate.to_string()).unwrap_or_default()/>
            </label>
            <label>"Throttle burst"
                <input name="throttle_burst" inputmode="numeric" value=throttle.as_ref().map(|t| t.burst.to_string()).unwrap_or_default()/>
            </label>
            <label>"Cache"
                <select name="cache_gb">
                    <option value="" selected=current_cache.is_none()>"off"</option>
                    {rules::CACHE_SIZES_GB.iter().map(|size| view! {
                        <option value=*size selected={current_cache.as_deref() == Some(*size)}>{format!("{size} GB")}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="wide">"Stage variables (name=value, one per line)"
                <textarea name="variables" rows="3">{variables}</textarea>
            </label>
            <label>"Access log"
                <select name="access_log">
                    {forms::ACCESS_LOG_MODES.into_iter().map(|(value, text)| view! {
                        <option value=value selected={log_mode == value}>{text}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Access log destination (log group or Firehose stream ARN)"
                <input name="access_log_destination" class="mono" value=log_destination
                    placeholder=placeholder/>
            </label>
            <label class="wide">"Access log format (one line; empty: JSON with the request id)"
                <input name="access_log_format" class="mono" value=log_format/>
            </label>
            <div class="actions">
                <button type="submit" class="primary">"Save stage"</button>
                <a href=ctx.here()>"Cancel"</a>
            </div>
            <ActionError value=ctx.actions.save_stage.value()/>
        </ActionForm>
    }
}
