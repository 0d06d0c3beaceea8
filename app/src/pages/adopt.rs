//! Adopt an existing API (admins): pick a region (and a role for another account), see its
//! REST APIs that no Portico gateway owns, inspect one — what would be stored, tagged and left
//! out — and adopt it. Links and forms work without JavaScript.

use crate::api::adopt::{adoptable, inspect_adoption, AdoptApi, Candidate, Inspection};
use crate::components::error::{ActionError, LoadError};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// A REST API's name as a gateway name: lowercase letters, digits and '-'.
fn gateway_name_for(api_name: &str) -> String {
    let mut out = String::new();
    for c in api_name.to_ascii_lowercase().chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) {
            out.push(c);
        }
    }
    let trimmed = out
        .trim_start_matches(|c: char| !c.is_ascii_lowercase())
        .chars()
        .take(portico_core::model::rules::GATEWAY_NAME_MAX)
        .collect::<String>();
    trimmed.trim_end_matches('-').to_owned()
}

fn link(region: &str, role: &str, api: &str, name: &str) -> String {
    use crate::api::forms::urlencode as e;
    format!(
        "/adopt?region={}&role={}&api={}&name={}",
        e(region),
        e(role),
        e(api),
        e(name)
    )
}

#[component]
pub fn AdoptPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &str| query.read().get(k).unwrap_or_default();
    let (region, role) = (get("region"), get("role"));
    view! {
        <Title text="Adopt an existing API"/>
        <h1>"Adopt an existing API"</h1>
        <p class="lede">
            "Take over a REST API built by hand — its VPC link, load balancer, target groups, stages, \
             usage plans and keys — without replacing anything: same API id, same URLs, same keys. \
             Portico adds its ownership tags and nothing else."
        </p>
        <form method="get" action="/adopt" class="card form-grid">
            <label>"Region"<input name="region" required placeholder="ap-northeast-2" value=region.clone()/></label>
            <label class="wide">"IAM role to assume (another account; optional)"<input name="role" value=role.clone()/></label>
            <div class="actions"><button type="submit" class="primary">"List REST APIs"</button></div>
        </form>
        // Reactive: a link on this page changes only the query, and the router keeps the page.
        {move || {
            let (region, role, api) = (get("region"), get("role"), get("api"));
            if region.is_empty() {
                ().into_any()
            } else if api.is_empty() {
                view! { <Candidates region role/> }.into_any()
            } else {
                view! { <Inspect region role api name=get("name")/> }.into_any()
            }
        }}
    }
}

#[component]
fn Candidates(region: String, role: String) -> impl IntoView {
    let (r, o) = (region.clone(), role.clone());
    let list = Resource::new(|| (), move |_| adoptable(r.clone(), Some(o.clone())));
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Reading the region…"</p> }>
            {move || {
                let (region, role) = (region.clone(), role.clone());
                Suspend::new(async move {
                    match list.await {
                        Err(err) => view! { <LoadError err/> }.into_any(),
                        Ok(l) if l.is_empty() => view! {
                            <p class="empty">{format!("{region} has no REST API that Portico does not manage already.")}</p>
                        }.into_any(),
                        Ok(l) => view! { <CandidateTable list=l region role/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn CandidateTable(list: Vec<Candidate>, region: String, role: String) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="candidates-title">
            <h2 id="candidates-title">{format!("REST APIs in {region} that Portico does not manage")}</h2>
            <table class="table">
                <thead><tr>
                    <th scope="col">"Name"</th><th scope="col">"Id"</th><th scope="col">"Description"</th>
                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    {list.into_iter().map(|c| {
                        let href = link(&region, &role, &c.id, &gateway_name_for(&c.name));
                        view! {
                            <tr data-api=c.id.clone()>
                                <td>{c.name.clone()}</td>
                                <td class="mono">{c.id.clone()}</td>
                                <td>{c.description.clone()}</td>
                                <td><a href=href>{format!("Inspect {}", c.name)}</a></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn Inspect(region: String, role: String, api: String, name: String) -> impl IntoView {
    let args = (region.clone(), role.clone(), api.clone(), name.clone());
    let found = Resource::new(
        || (),
        move |_| {
            let (r, o, a, n) = args.clone();
            inspect_adoption(r, Some(o), a, n)
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Reading the API and everything it uses…"</p> }>
            {move || {
                let (region, role, api, name) = (region.clone(), role.clone(), api.clone(), name.clone());
                Suspend::new(async move {
                    match found.await {
                        Err(err) => view! { <LoadError err/> }.into_any(),
                        Ok(i) => view! { <Inspected i region role api name/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn Inspected(
    i: Inspection,
    region: String,
    role: String,
    api: String,
    name: String,
) -> impl IntoView {
    let adopt = ServerAction::<AdoptApi>::new();
    let fits = i.misfits.is_empty();
    let back = format!(
        "/adopt?region={}&role={}",
        crate::api::forms::urlencode(&region),
        crate::api::forms::urlencode(&role)
    );
    let list = |items: Vec<String>| {
        view! { <ul>{items.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}</ul> }
    };
    view! {
        <section class="card" id="inspection" aria-labelledby="inspection-title">
            <h2 id="inspection-title">{format!("REST API {api}")}</h2>
            <p>{i.summary.clone()}</p>
            {if fits {
                view! { <p class="ok">"It fits: adopting stores this topology as the gateway's first generation. The first plan after it creates, replaces and deletes nothing."</p> }.into_any()
            } else {
                view! {
                    <div class="problem" role="alert">
                        <p>"It does not fit the shape Portico manages; nothing would be stored or tagged:"</p>
                        {list(i.misfits.clone())}
                    </div>
                }.into_any()
            }}
            <h3>"Portico's ownership tags would be added to (and nothing else changed)"</h3>
            {list(i.tags.clone())}
            {(!i.keys.is_empty()).then(|| view! {
                <h3>"API keys clients already use, adopted as they are (values never read)"</h3>
                {list(i.keys.clone())}
            })}
            <details>
                <summary>"The topology file it would store"</summary>
                <pre class="mono small">{i.file.clone()}</pre>
            </details>
            {fits.then(|| view! {
                <ActionForm action=adopt attr:class="form-grid" attr:id="adopt-form">
                    <input type="hidden" name="region" value=region.clone()/>
                    <input type="hidden" name="role_arn" value=role.clone()/>
                    <input type="hidden" name="rest_api" value=api.clone()/>
                    <label>"Gateway name in Portico"<input name="name" required maxlength="24" value=name.clone()/></label>
                    <div class="actions"><button type="submit" class="primary">"Adopt"</button></div>
                    <ActionError value=adopt.value()/>
                </ActionForm>
            })}
            <p><a href=back>"Back to the region's APIs"</a></p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::gateway_name_for;

    #[test]
    fn api_names_become_gateway_names() {
        assert_eq!(gateway_name_for("orders-api"), "orders-api");
        assert_eq!(gateway_name_for("Orders API (prod)"), "orders-api-prod");
        assert_eq!(gateway_name_for("2024 shop"), "shop");
        for n in ["orders-api", "Orders API (prod)", "2024 shop", "a_b"] {
            assert!(portico_core::model::rules::gateway_name(&gateway_name_for(n)).is_ok());
        }
    }
}
