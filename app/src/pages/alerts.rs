//! The admin page's alerts: webhooks for one gateway or all, which events each hears, and the
//! log of deliveries with the receiver's last answer. Adding and removing work without
//! JavaScript; the secret Portico makes is shown once, by the hydrated page (without
//! JavaScript, give your own).

use crate::api::alerts::{
    event_field, list_webhooks, AlertsView, CreateWebhook, DeleteWebhook, DeliveryRow, WebhookRow,
};
use crate::components::error::{ActionError, LoadError};
use leptos::prelude::*;
use portico_core::alerts::{Format, Kind, SECRET_MIN, URL_MAX};

#[component]
pub fn Alerts() -> impl IntoView {
    let create = ServerAction::<CreateWebhook>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let data = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| list_webhooks(),
    );
    view! {
        <section id="alerts" aria-labelledby="alerts-title">
            <h2 id="alerts-title">"Alerts"</h2>
            <p class="muted">
                "Webhooks hear about drift, plans waiting for approval, failed applies, health changes and API keys: "
                "one message per event, signed with HMAC-SHA256 in the " <code>"X-Portico-Signature"</code>
                " header (" <code>"sha256="</code> " and the hex HMAC of the " <code>"X-Portico-Timestamp"</code>
                ", a dot and the body), tried again with backoff for about three hours when the receiver fails."
            </p>
            {move || create.value().get().and_then(Result::ok).flatten().map(|secret| view! {
                <p class="alert info" role="status" id="webhook-secret">
                    "The webhook's signing secret: " <code class="secret">{secret}</code>
                    " — shown this once. Store it with the receiver, which checks each message's signature with it."
                </p>
            })}
            <ActionError value=delete.value()/>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(err) => view! { <LoadError err/> }.into_any(),
                        Ok(v) => {
                            let gateways = v.gateways.clone();
                            view! { <Webhooks v delete/> <AddWebhook gateways create/> }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Webhooks(v: AlertsView, delete: ServerAction<DeleteWebhook>) -> impl IntoView {
    if v.webhooks.is_empty() {
        return view! { <p class="empty">"No webhooks yet: add one below, for every gateway or for one."</p> }
            .into_any();
    }
    let hooks = v
        .webhooks
        .into_iter()
        .map(|w| view! { <WebhookLine w delete/> })
        .collect_view();
    let log = v
        .deliveries
        .into_iter()
        .map(|d| view! { <DeliveryLine d/> })
        .collect_view();
    view! {
        <table class="table" id="webhooks">
            <thead>
                <tr>
                    <th scope="col">"Webhook"</th>
                    <th scope="col">"Gateways"</th>
                    <th scope="col">"Events"</th>
                    <th scope="col">"Format"</th>
                    <th scope="col">"Added (UTC)"</th>
                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{hooks}</tbody>
        </table>
        <h3>"Delivery log"</h3>
        <table class="table" id="deliveries">
            <thead>
                <tr>
                    <th scope="col">"When (UTC)"</th>
                    <th scope="col">"Webhook"</th>
                    <th scope="col">"Event"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Last answer"</th>
                </tr>
            </thead>
            <tbody>{log}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn WebhookLine(w: WebhookRow, delete: ServerAction<DeleteWebhook>) -> impl IntoView {
    let label = format!("Remove webhook {}", w.id);
    view! {
        <tr data-webhook=w.id>
            <td class="mono small">{format!("#{} {}", w.id, w.url)}</td>
            <td>{w.gateway.unwrap_or_else(|| "every gateway".into())}</td>
            <td class="small">{w.events.join(", ")}</td>
            <td class="small">{w.format}</td>
            <td class="mono small">{format!("{} by {}", w.created, w.created_by)}</td>
            <td>
                <ActionForm action=delete attr:class="inline">
                    <input type="hidden" name="id" value=w.id/>
                    <button type="submit" class="small danger" aria-label=label>"Remove"</button>
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
fn DeliveryLine(d: DeliveryRow) -> impl IntoView {
    let tone = match d.status.as_str() {
        "delivered" => "ok",
        "failed" => "bad",
        _ => "busy",
    };
    let tries = if d.attempts == 1 {
        "1 try".to_owned()
    } else {
        format!("{} tries", d.attempts)
    };
    view! {
        <tr data-delivery=d.id>
            <td class="mono small">{d.at}</td>
            <td class="mono small">{format!("#{}", d.webhook)}</td>
            <td><strong>{d.event}</strong>{format!(" · {} · ", d.gateway)}<span class="small">{d.text}</span></td>
            <td><span class=format!("pill {tone}")>{d.status}</span>{format!(" {tries}")}</td>
            <td class="small">{d.answer}</td>
        </tr>
    }
}

#[component]
fn AddWebhook(gateways: Vec<String>, create: ServerAction<CreateWebhook>) -> impl IntoView {
    // "1" once hydrated: only then can the answer show a secret Portico makes.
    let js = RwSignal::new("");
    Effect::new(move |_| js.set("1"));
    view! {
        <ActionForm action=create attr:class="card form-grid" attr:id="add-webhook">
            <h3>"Add a webhook"</h3>
            <input type="hidden" name="js" value=move || js.get()/>
            <label class="wide">"URL (a Slack incoming webhook, or your own receiver)"
                <input name="url" type="url" required maxlength=URL_MAX.to_string()
                    placeholder="https://hooks.slack.com/services/…"/>
            </label>
            <label>"For"
                <select name="scope">
                    <option value="" selected>"every gateway"</option>
                    {gateways.into_iter().map(|g| view! { <option value=g.clone()>{format!("gateway {g}")}</option> }).collect_view()}
                </select>
            </label>
            <label>"Format"
                <select name="format">
                    {Format::ALL.into_iter().map(|f| view! { <option value=f.as_str()>{f.label()}</option> }).collect_view()}
                </select>
            </label>
            <fieldset class="wide">
                <legend>"Events"</legend>
                {Kind::ALL.into_iter().map(|k| view! {
                    <label class="check"><input type="checkbox" name=event_field(k) checked/>{k.label()}</label>
                }).collect_view()}
            </fieldset>
            <label class="wide">{format!("Signing secret (empty: Portico makes one and shows it once; your own: at least {SECRET_MIN} characters)")}
                <input name="secret" type="password" autocomplete="off" minlength=SECRET_MIN.to_string()/>
            </label>
            <div class="actions">
                <button type="submit" class="primary">"Add webhook"</button>
            </div>
            <ActionError value=create.value()/>
        </ActionForm>
    }
}
