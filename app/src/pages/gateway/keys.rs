//! API keys: everyone signed in sees who holds which key, what it reaches and its status;
//! admins issue (then see the value once), rotate with a grace period, and revoke.

use super::{Ctx, KeyActions};
use crate::api::keys::{IssueApiKey, KeyRow, KeysView, RevokeApiKey, RotateApiKey};
use crate::components::error::{ActionError, LoadError};
use crate::error::AppError;
use leptos::prelude::*;
use portico_core::model::keys as rules;

#[component]
pub fn Keys(ctx: Ctx<KeyActions>, keys: Resource<Result<KeysView, AppError>>) -> impl IntoView {
    let issue = ctx.actions.issue_key;
    let rotate = ctx.actions.rotate_key;
    let revoke = ctx.actions.revoke_key;
    let is_admin = ctx.is_admin;
    let gateway = ctx.gateway.clone();
    view! {
        <section class="card" id="keys" aria-labelledby="keys-title">
            <div class="section-head"><h2 id="keys-title">"API keys"</h2></div>
            <ActionError value=rotate.value()/>
            <ActionError value=revoke.value()/>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let gateway = gateway.clone();
                    Suspend::new(async move {
                        match keys.await {
                            Err(err) => view! { <LoadError err/> }.into_any(),
                            Ok(view) => {
                                let plans = view.usage_plans.join(", ");
                                view! {
                                    <KeyTable rows=view.keys gateway=gateway.clone() is_admin rotate revoke/>
                                    {is_admin.then(|| view! { <IssueForm gateway=gateway.clone() plans issue/> })}
                                }
                                .into_any()
                            }
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn KeyTable(
    rows: Vec<KeyRow>,
    gateway: String,
    is_admin: bool,
    rotate: ServerAction<RotateApiKey>,
    revoke: ServerAction<RevokeApiKey>,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty">"No API keys yet."</p> }.into_any();
    }
    view! {
        <table class="table">
            <thead><tr>
                <th scope="col">"Key"</th><th scope="col">"Owner"</th><th scope="col">"Reaches"</th>
                <th scope="col">"Status"</th><th scope="col">"Issued"</th>
                {is_admin.then(|| view! { <th scope="col"><span class="sr-only">"Actions"</span></th> })}
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|k| {
                    let (words, tone) = k.status.words();
                    let live = !matches!(k.status, rules::KeyStatus::Revoked | rules::KeyStatus::Deleted | rules::KeyStatus::Replaced | rules::KeyStatus::Rotating);
                    let gateway = gateway.clone();
                    view! {
                        <tr data-key=k.id data-status=words>
                            <td>
                                <strong>{k.name.clone()}</strong>
                                {k.hint.clone().map(|h| view! { <span class="mono muted small">{format!(" …{h}")}</span> })}
                                <div class="muted small">{k.description.clone()}</div>
                            </td>
                            <td>{k.owner.clone()}</td>
                            <td class="small">
                                {format!("plans {}", k.usage_plans.join(", "))}
                                <div class="muted">{if k.stages.is_empty() { "no stage".to_string() } else { format!("stages {}", k.stages.join(", ")) }}</div>
                            </td>
                            <td class="small">
                                <span class=format!("pill {tone}")>{words}</span>
                                {k.expires_at.clone().map(|e| view! { <div class="muted">{format!("expires {e} UTC")}</div> })}
                                {k.until.clone().map(|u| view! { <div class="muted">{u}</div> })}
                                {k.rotation.clone().map(|r| view! { <div class="muted">{r}</div> })}
                            </td>
                            <td class="small">{format!("{} UTC by {}", k.created_at, k.created_by)}</td>
                            {is_admin.then(|| view! {
                                <td>
                                    {live.then(|| {
                                        let g2 = gateway.clone();
                                        view! {
                                            <ActionForm action=rotate attr:class="inline">
                                                <input type="hidden" name="gateway" value=gateway.clone()/>
                                                <input type="hidden" name="key" value=k.id/>
                                                <label class="sr-only" for=format!("grace-{}", k.id)>"Old key keeps working for"</label>
                                                <select name="grace_hours" id=format!("grace-{}", k.id) title="How long the old key keeps working">
                                                    <option value="0">"old key stops now"</option>
                                                    <option value="1">"old key works 1 hour"</option>
                                                    <option value="24" selected>"old key works 24 hours"</option>
                                                    <option value="168">"old key works 7 days"</option>
                                                </select>
                                                <button type="submit" class="small">"Rotate"</button>
                                            </ActionForm>
                                            <ActionForm action=revoke attr:class="inline">
                                                <input type="hidden" name="gateway" value=g2/>
                                                <input type="hidden" name="key" value=k.id/>
                                                <label class="check small"><input type="checkbox" name="confirm" value="yes"/>"refuse callers now"</label>
                                                <button type="submit" class="small danger">"Revoke"</button>
                                            </ActionForm>
                                        }
                                    })}
                                </td>
                            })}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn IssueForm(gateway: String, plans: String, issue: ServerAction<IssueApiKey>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let name_error = move || {
        let n = name.get();
        (!n.is_empty())
            .then(|| rules::key_name(n.trim()).err())
            .flatten()
    };
    let hint = if plans.is_empty() {
        "This gateway has no usage plan yet: add one first.".to_string()
    } else {
        format!("Usage plans (of: {plans})")
    };
    view! {
        <details class="issue-key">
            <summary>"Issue a key"</summary>
            <ActionForm action=issue attr:class="form-grid" attr:id="issue-key">
                <input type="hidden" name="gateway" value=gateway/>
                <label>"Name"
                    <input name="name" required maxlength="64" placeholder="partner-acme"
                        on:input=move |ev| name.set(event_target_value(&ev)) aria-invalid=move || name_error().is_some().to_string()/>
                    <span class="field-error" aria-live="polite">{name_error}</span>
                </label>
                <label>"Owner"<input name="owner" required maxlength="128" placeholder="team or email"/></label>
                <label>{hint}<input name="usage_plans" required value=plans.clone()/></label>
                <label>"Expires (UTC date, optional)"<input name="expires" type="date"/></label>
                <label class="wide">"Description"<input name="description" maxlength="256"/></label>
                <div class="actions">
                    <button type="submit" class="primary">"Issue key"</button>
                    <span class="muted small">"AWS makes the value; you see it once, on the next screen."</span>
                </div>
                <ActionError value=issue.value()/>
            </ActionForm>
        </details>
    }
}
