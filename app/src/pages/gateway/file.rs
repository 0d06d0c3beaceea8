//! The topology as a file: download it, or upload one (with a dry run first).

use super::{Ctx, FileActions};
use crate::components::error::ActionError;
use leptos::prelude::*;

#[component]
pub fn TopologyFile(ctx: Ctx<FileActions>) -> impl IntoView {
    let upload = ctx.actions.upload;
    let href = format!("{}/topology.yaml", ctx.base());
    let outcome = move || {
        upload.value().get().and_then(Result::ok).map(|changes| {
            let dry = upload.input().get().is_some_and(|i| i.dry_run.is_some());
            let head = match (changes.is_empty(), dry) {
                (true, _) => "Nothing to change.".to_string(),
                (false, true) => format!("Dry run: {} change(s) would be made.", changes.len()),
                (false, false) => format!("Applied {} change(s).", changes.len()),
            };
            view! {
                <div class="alert info" role="status">
                    <p>{head}</p>
                    <ul class="mono small">{changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
                </div>
            }
        })
    };
    view! {
        <section class="card" id="file" aria-labelledby="file-title">
            <h2 id="file-title">"Topology file"</h2>
            <p>
                <a class="button" href=href download=format!("{}.yaml", ctx.gateway) rel="external">"Download YAML"</a>
                " The same file works with " <code>"portico topology apply -f FILE"</code> "."
            </p>
            {ctx.can_edit.then(|| view! {
                <ActionForm action=upload attr:class="stack">
                    <input type="hidden" name="gateway" value=ctx.gateway.clone()/>
                    <label>
                        "Paste a topology file (YAML)"
                        <textarea name="yaml" rows="8" required></textarea>
                    </label>
                    <label class="check"><input type="checkbox" name="dry_run" value="on" checked/>"Dry run: only show what would change"</label>
                    <button type="submit">"Upload"</button>
                    <ActionError value=upload.value()/>
                </ActionForm>
            })}
            {outcome}
        </section>
    }
}
