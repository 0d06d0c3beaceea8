//! The topology diagram page, read-only, for any signed-in user (viewers land here after
//! signing in). The SVG is drawn on the server and sits in the page as plain markup, so it
//! shows, prints and reads out without JavaScript; the same picture in words follows it. The
//! plan laid over it is chosen in the query string (`?plan=none`, `?plan=12`; the open plan by
//! default), so the page's address is the share link. Once hydrated, it looks again every ten
//! seconds and redraws only when the picture changed (a keyboard user's focus stays put).

use crate::api::diagram::{gateway_diagram, DiagramView};
use crate::api::forms::urlencode;
use crate::components::error::LoadError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use std::time::Duration;

#[component]
pub fn DiagramPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let plan = move || query.read().get("plan");
    let data = Resource::new(
        move || (name(), plan()),
        |(name, plan)| gateway_diagram(name, plan),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(err) => view! { <LoadError err/> }.into_any(),
                    Ok(view) => view! { <Diagram view plan=plan()/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Diagram(view: DiagramView, plan: Option<String>) -> impl IntoView {
    let plan_choice = plan.clone();
    let live = RwSignal::new(view.clone());
    let gateway = view.gateway.clone();
    // Effects run only in the browser.
    Effect::new(move |_| {
        let (gateway, plan) = (gateway.clone(), plan.clone());
        let handle = set_interval_with_handle(
            move || {
                let (gateway, plan) = (gateway.clone(), plan.clone());
                leptos::task::spawn_local(async move {
                    if let Ok(fresh) = gateway_diagram(gateway, plan).await {
                        if live.with_untracked(|now| *now != fresh) {
                            live.set(fresh);
                        }
                    }
                });
            },
            Duration::from_secs(10),
        );
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
    let base = format!("/gateways/{}", urlencode(&view.gateway));
    // The address of this view: a plan chosen by number (or none) stays chosen; by default
    // whoever opens the link sees the plan open at that moment.
    let plan_param = plan_choice
        .map(|p| format!("?plan={}", urlencode(&p)))
        .unwrap_or_default();
    let share = format!("{base}/diagram{plan_param}");
    let download = format!("{base}/diagram.svg{plan_param}");
    let file_name = format!("{}-topology.svg", view.gateway);
    let base_for_note = base.clone();
    let others: Vec<String> = view
        .gateways
        .iter()
        .filter(|g| **g != view.gateway)
        .cloned()
        .collect();
    view! {
        // A plain string: see the gateway page's title.
        <Title text=format!("Diagram of {}", view.gateway)/>
        <header class="page-head diagram-head">
            <h1>{format!("Topology of {}", view.gateway)}</h1>
            <p class="muted">{move || live.with(|v| v.subtitle.clone())}</p>
        </header>
        <nav class="diagram-tools no-print" aria-label="Diagram">
            <a href=base.clone()>"Gateway details"</a>
            <a href=download download=file_name>"Download SVG"</a>
            <button type="button" class="small" data-action="print">"Print"</button>
            <span class="share">
                "Share link (read-only, for anyone signed in): "
                <a href=share.clone() class="share-link">{share.clone()}</a>
                " "
                <button
                    type="button"
                    class="small"
                    data-action="copy"
                    data-copy=share.clone()
                >
                    "Copy link"
                </button>
            </span>
        </nav>
        {move || live.with(|v| overlay_note(&base_for_note, v))}
        <figure class="diagram" aria-label=format!("Topology diagram of gateway {}", view.gateway)>
            <input type="checkbox" id="diagram-zoom" class="zoom-toggle no-print"/>
            <label for="diagram-zoom" class="zoom-label no-print">"Full size"</label>
            <div class="diagram-scroll" inner_html=move || live.with(|v| v.svg.clone())></div>
        </figure>
        <details class="diagram-words">
            <summary>"The diagram in words"</summary>
            <dl>
                {move || live.with(words_view)}
            </dl>
        </details>
        {(!others.is_empty()).then(|| view! {
            <nav class="diagram-others no-print" aria-label="Other gateways">
                "Other gateways: "
                {others.into_iter().map(|g| {
                    let href = format!("/gateways/{}/diagram", urlencode(&g));
                    view! { <a href=href>{g}</a>" " }
                }).collect_view()}
            </nav>
        })}
    }
}

/// Which plan is laid over, with links to hide it or show the open one.
fn overlay_note(base: &str, view: &DiagramView) -> AnyView {
    match (&view.plan, view.open_plan) {
        (Some((id, status)), open) => {
            let others = if open.is_some_and(|o| o != *id) {
                Some(view! { " · " <a href=format!("{base}/diagram")>"Show the open plan"</a> })
            } else {
                None
            };
            view! {
                <p class="overlay-note" data-plan=id.to_string()>
                    {format!("Plan {id} ({status}) is laid over the diagram: ")}
                    <span class="chg added">"+ added"</span>", "
                    <span class="chg changed">"~ changed"</span>", "
                    <span class="chg removed">"− removed"</span>". "
                    <a href=format!("{base}/diagram?plan=none")>"Hide the plan"</a>
                    {others}
                </p>
            }
            .into_any()
        }
        (None, Some(open)) => view! {
            <p class="overlay-note">
                {format!("Plan {open} has not finished. ")}
                <a href=format!("{base}/diagram")>"Lay it over the diagram"</a>
            </p>
        }
        .into_any(),
        (None, None) => view! {
            <p class="overlay-note muted">"No plan is waiting or running."</p>
        }
        .into_any(),
    }
}

/// The picture in words: each column's boxes as sentences.
fn words_view(view: &DiagramView) -> impl IntoView {
    view.words.iter().map(|(heading, lines)| view! {
                    <dt>{heading.clone()}</dt>
                    <dd>
                        {if lines.is_empty() {
                            view! { <p class="muted">"None."</p> }.into_any()
                        } else {
                            view! { <ul>{lines.iter().map(|l| view! { <li>{l.clone()}</li> }).collect_view()}</ul> }.into_any()
                        }}
                    </dd>
                }).collect_view()
}
