//! The one screen that shows a new API key's value: to the admin who issued it, once. It waits
//! (refreshing itself, with or without JavaScript) until the worker has made the key in AWS,
//! then shows the value with a copy button and a ready-to-paste call for each stage it
//! reaches. A reload shows only that it was shown.

use crate::api::keys::{reveal_api_key, Reveal};
use crate::components::error::LoadError;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

#[component]
pub fn KeyOncePage() -> impl IntoView {
    let params = use_params_map();
    let gateway = move || params.read().get("name").unwrap_or_default();
    let key = move || {
        params
            .read()
            .get("key")
            .and_then(|k| k.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let reveal = Resource::new(move || (gateway(), key()), |(g, k)| reveal_api_key(g, k));
    view! {
        <Title text="New API key"/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let back = format!("/gateways/{}#keys", gateway());
                match reveal.await {
                    Err(err) => view! { <LoadError err/> }.into_any(),
                    Ok(Reveal::Creating { name }) => view! {
                        // Works without JavaScript: the page reloads itself until AWS has the key.
                        <Meta http_equiv="refresh" content="1"/>
                        <section class="card" id="key-once" data-state="creating">
                            <h1>{format!("API key {name}")}</h1>
                            <p><span class="pill busy">"creating"</span>" Portico's worker is making the key in AWS; this page refreshes by itself."</p>
                        </section>
                    }.into_any(),
                    Ok(Reveal::Shown { name, value, curls }) => view! {
                        <section class="card" id="key-once" data-state="shown">
                            <h1>{format!("API key {name}")}</h1>
                            <p class="alert info">
                                "Copy the value now. This is the only time it is shown: Portico does not keep it \
                                 (it keeps AWS's key id and the last four characters). If it is lost, rotate the key."
                            </p>
                            <div class="secret">
                                <code id="key-value" class="mono">{value}</code>
                                // Plain JavaScript, so the button works before (or without) the wasm.
                                <button type="button" class="small" id="copy-key"
                                    onclick="navigator.clipboard.writeText(document.getElementById('key-value').textContent).then(() => { this.textContent = 'Copied'; })">
                                    "Copy"
                                </button>
                            </div>
                            <h2>"Try it"</h2>
                            <ul class="curls">
                                {curls.into_iter().map(|c| view! { <li><code class="mono small">{c}</code></li> }).collect_view()}
                            </ul>
                            <p><a href=back>"Back to the gateway"</a></p>
                        </section>
                    }.into_any(),
                    Ok(Reveal::AlreadyShown { name, at, hint }) => view! {
                        <section class="card" id="key-once" data-state="already-shown">
                            <h1>{format!("API key {name}")}</h1>
                            <p>{format!("Its value was shown once ({at} UTC). Portico does not keep it{}. If it is lost, rotate the key.",
                                hint.map(|h| format!("; it ends in …{h}")).unwrap_or_default())}</p>
                            <p><a href=back>"Back to the gateway"</a></p>
                        </section>
                    }.into_any(),
                    Ok(Reveal::NotYours { name, by }) => view! {
                        <section class="card" id="key-once" data-state="not-yours">
                            <h1>{format!("API key {name}")}</h1>
                            <p>{format!("Only {by}, who issued it, sees its value (once).")}</p>
                            <p><a href=back>"Back to the gateway"</a></p>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
