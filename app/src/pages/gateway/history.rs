//! The gateway's generations: who changed what and when, and restoring an earlier one.

use super::{Ctx, HistoryActions};
use crate::api::gateways::HistoryRow;
use crate::components::error::{ActionError, LoadError};
use crate::error::AppError;
use leptos::prelude::*;

#[component]
pub fn History(
    ctx: Ctx<HistoryActions>,
    rows: Resource<Result<Vec<HistoryRow>, AppError>>,
) -> impl IntoView {
    let restore = ctx.actions.restore;
    view! {
        <section class="card" id="history" aria-labelledby="history-title">
            <h2 id="history-title">"History"</h2>
            <ActionError value=restore.value()/>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let ctx = ctx.clone();
                    Suspend::new(async move {
                        match rows.await {
                            Err(err) => view! { <LoadError err/> }.into_any(),
                            Ok(history) => view! { <HistoryTable ctx history/> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn HistoryTable(ctx: Ctx<HistoryActions>, history: Vec<HistoryRow>) -> impl IntoView {
    let restore = ctx.actions.restore;
    let current = ctx.generation;
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"Generation"</th>
                    <th scope="col">"When (UTC)"</th>
                    <th scope="col">"Who"</th>
                    <th scope="col">"What changed"</th>
                    <th scope="col"><span class="sr-only">"Restore"</span></th>
                </tr>
            </thead>
            <tbody>
                {history.into_iter().map(|row| {
                    let gateway = ctx.gateway.clone();
                    let restorable = ctx.can_edit && row.generation != current;
                    view! {
                        <tr data-generation=row.generation>
                            <td>{row.generation}</td>
                            <td class="mono">{row.at}</td>
                            <td>{row.actor}</td>
                            <td class="mono small">{row.summary}</td>
                            <td>
                                {restorable.then(|| view! {
                                    <ActionForm action=restore attr:class="inline">
                                        <input type="hidden" name="gateway" value=gateway/>
                                        <input type="hidden" name="from" value=current/>
                                        <input type="hidden" name="generation" value=row.generation/>
                                        <button type="submit" class="small">"Restore"</button>
                                    </ActionForm>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
