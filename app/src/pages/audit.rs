//! The audit log: who did what and when, newest first.

use crate::api::audit::{list_audit, AuditEntry};
use crate::components::error::LoadError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let before = move || {
        query
            .read()
            .get("before")
            .and_then(|b| b.parse::<i64>().ok())
    };
    let page = Resource::new(before, list_audit);
    view! {
        <Title text="Audit"/>
        <h1>"Audit log"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => view! { <LoadError err/> }.into_any(),
                    Ok(page) if page.entries.is_empty() => {
                        view! { <p class="empty">"Nothing has happened yet."</p> }.into_any()
                    }
                    Ok(page) => view! {
                        <table class="table">
                            <thead>
                                <tr>
                                    <th scope="col">"When (UTC)"</th>
                                    <th scope="col">"Who"</th>
                                    <th scope="col">"What"</th>
                                    <th scope="col">"On"</th>
                                    <th scope="col">"Change"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {page.entries.into_iter().map(|e| view! { <Row e/> }).collect_view()}
                            </tbody>
                        </table>
                        {page.older.map(|id| view! {
                            <a class="button" href=format!("/audit?before={id}")>"Older entries"</a>
                        })}
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Row(e: AuditEntry) -> impl IntoView {
    let change = match (e.before, e.after) {
        (Some(b), Some(a)) => format!("{b} → {a}"),
        (None, Some(a)) => a,
        (Some(b), None) => format!("{b} → removed"),
        (None, None) => String::new(),
    };
    view! {
        <tr>
            <td class="mono">{e.at}</td>
            <td>{e.actor}</td>
            <td><code>{e.action}</code></td>
            <td>{e.target}</td>
            <td class="mono small">
                {if change.chars().count() > 160 {
                    let preview: String = change.chars().take(160).collect();
                    view! {
                        <details>
                            <summary>{format!("{preview}…")}</summary>
                            <div class="wrap">{change}</div>
                        </details>
                    }
                    .into_any()
                } else {
                    view! { <span>{change}</span> }.into_any()
                }}
            </td>
        </tr>
    }
}
