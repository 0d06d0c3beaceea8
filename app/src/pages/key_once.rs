//! The one screen that shows a new API key's value: to the admin who issued it, once. The
//! browser fetches it exactly once (from an effect: never during server rendering, never again
//! at hydration), waiting until the worker has made the key in AWS, then shows the value
//! with a copy button and a ready-to-paste call for each stage it reaches. A reload shows only
//! that it was shown. This one screen needs JavaScript.

use crate::api::keys::{reveal_api_key, Reveal};
use crate::components::error::LoadError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use std::time::Duration;

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
    // Fetched by the browser only: effects never run during server rendering, so the server
    // renders "loading" and the value exists only in this page's memory.
    let answer = RwSignal::new(None::<Result<Reveal, crate::error::AppError>>);
    let fetch = move || {
        let (g, k) = (gateway(), key());
        leptos::task::spawn_local(async move {
            answer.set(Some(reveal_api_key(g, k).await));
        });
    };
    Effect::new(move |_| fetch());
    // While AWS has no key yet, ask again every second.
    Effect::new(move |_| {
        if let Some(Ok(Reveal::Creating { .. })) = answer.get() {
            set_timeout(fetch, Duration::from_secs(1));
        }
    });
    view! {
        <Title text="New API key"/>
        <noscript>
            <p class="alert error">"Showing a new key's value needs JavaScript: the value is fetched once, into this page only."</p>
        </noscript>
        // A plain reactive view, not a Suspense: the server renders "loading" (the value is
        // only ever fetched by the browser), hydration keeps it, and the fetch fills it in.
        {move || {
                let back = format!("/gateways/{}/keys", crate::api::forms::urlencode(&gateway()));
                let Some(answer) = answer.get() else {
                    return view! { <p class="loading" id="key-once" data-state="loading">"Loading…"</p> }.into_any();
                };
                match answer {
                    Err(err) => view! { <LoadError err/> }.into_any(),
                    Ok(Reveal::Creating { name }) => view! {
                        <section class="card" id="key-once" data-state="creating">
                            <h1>{format!("API key {name}")}</h1>
                            <p><span class="pill busy">"creating"</span>" Portico's worker is making the key in AWS; the value appears here in a moment."</p>
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
                                    data-action="copy" data-copy-from="key-value">
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
        }}
    }
}
