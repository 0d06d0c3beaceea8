//! The overview: every gateway with its size and last change, or, for a new installation,
//! what to do next. Admins create gateways here.

use crate::api::gateways::{list_gateways, CreateGateway, GatewayPage};
use crate::components::error::{ActionError, LoadError};
use leptos::prelude::*;
use leptos_meta::Title;
use portico_core::model::user::CurrentUser;
use portico_core::model::{rules, Role};

#[component]
pub fn OverviewPage() -> impl IntoView {
    let user = expect_context::<CurrentUser>();
    let create = ServerAction::<CreateGateway>::new();
    let query = leptos_router::hooks::use_query_map();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(1)
    };
    let gateways = Resource::new(
        move || (create.version().get(), page()),
        |(_, page)| list_gateways(page),
    );
    let is_admin = user.role == Role::Admin;
    view! {
        <Title text="Overview"/>
        <h1>"Overview"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match gateways.await {
                    Err(err) => view! { <LoadError err/> }.into_any(),
                    Ok(list) if list.total == 0 => view! { <EmptyState is_admin/> }.into_any(),
                    Ok(list) => view! {
                        <Pager list=list.clone()/>
                        <table class="table" id="gateways">
                            <thead>
                                <tr>
                                    <th scope="col">"Gateway"</th>
                                    <th scope="col">"Health"</th>
                                    <th scope="col">"Requests, last 24 hours"</th>
                                    <th scope="col">"Per month"</th>
                                    <th scope="col">"AWS"</th>
                                    <th scope="col">"Region"</th>
                                    <th scope="col">"Ports"</th>
                                    <th scope="col">"Stages"</th>
                                    <th scope="col">"Routes"</th>
                                    <th scope="col">"Last change (UTC)"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {list.rows.into_iter().map(|g| view! {
                                    <tr>
                                        <td>
                                            <a href=format!("/gateways/{}", g.name)>{g.name.clone()}</a>
                                            <div class="small"><a href=format!("/gateways/{}/diagram", g.name) aria-label=format!("Diagram of {}", g.name)>"diagram"</a></div>
                                        </td>
                                        <td>
                                            {match g.health {
                                                Some(h) => { let (w, t) = h.words(); view! { <span class=format!("pill {t}") title=g.health_reason.clone()>{w}</span> }.into_any() }
                                                None => view! { <span class="pill muted">"not read yet"</span> }.into_any(),
                                            }}
                                            <div class="muted small">{g.health_reason.clone()}</div>
                                        </td>
                                        <td class="spark" inner_html=g.traffic.clone()></td>
                                        <td class="mono">{g.monthly.clone()}</td>
                                        <td><span class=format!("pill {}", g.state.badge().1) title=g.state_message.clone()>{g.state.badge().0}</span></td>
                                        <td>{g.region}</td>
                                        <td>{g.ports}</td>
                                        <td>{g.stages}</td>
                                        <td>{g.routes}</td>
                                        <td class="small">{format!("{} by {} (generation {})", g.updated_at, g.updated_by, g.generation)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }
                    .into_any(),
                }
            })}
        </Transition>
        {is_admin.then(|| view! {
            <CreateForm create/>
            <p class="aside">"Built a REST API by hand already? "<a href="/adopt">"Adopt an existing API"</a>" — Portico takes it over without replacing anything."</p>
        })}
    }
}

/// Which gateways this page shows, and links to the pages before and after it (plain links:
/// they work without JavaScript). Nothing while every gateway fits on one page.
#[component]
fn Pager(list: GatewayPage) -> impl IntoView {
    let pages = list.pages();
    if list.rows.is_empty() {
        return view! {
            <p class="pager">{format!("Page {} is past the last page ({pages}). ", list.page)}<a href="/">"First page"</a></p>
        }
        .into_any();
    }
    let (first, last) = list.shown();
    (pages > 1).then(|| {
        let link = |page: u32, label: &'static str, rel: &'static str| {
            view! { <a href=format!("/?page={page}") rel=rel>{label}</a> }
        };
        view! {
            <nav class="pager" aria-label="Pages of gateways">
                <span>{format!("Gateways {first}–{last} of {}, worst health first · page {} of {pages}", list.total, list.page)}</span>
                {(list.page > 1).then(|| link(list.page - 1, "← Previous", "prev"))}
                {(list.page < pages).then(|| link(list.page + 1, "Next →", "next"))}
            </nav>
        }
    })
    .into_any()
}

#[component]
fn EmptyState(is_admin: bool) -> impl IntoView {
    view! {
        <section class="empty-state" aria-labelledby="empty-title">
            <h2 id="empty-title">"No gateways yet"</h2>
            <p>
                "Portico keeps an API Gateway REST API, its VPC link and one shared internal \
                 Network Load Balancer in the shape your team describes: stages, backend ports, \
                 routes, usage plans and API keys."
            </p>
            <ol class="next-steps">
                {is_admin.then(|| view! {
                    <li>
                        "Invite your team on the " <a href="/admin">"Admin"</a> " page: editors \
                         change the topology, viewers review it."
                    </li>
                })}
                <li>
                    "Point Portico at your AWS account: it uses the standard credential chain \
                     (environment, profile, SSO or an assumed role), see the README."
                </li>
                <li>
                    {if is_admin { "Create your first gateway below: its region, VPC and subnets. " } else { "Ask an admin to create a gateway. " }}
                    "Or load a whole topology from a file: " <code>"portico topology apply -f examples/seed-topology.yaml"</code>
                </li>
            </ol>
        </section>
    }
}

#[component]
fn CreateForm(create: ServerAction<CreateGateway>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let name_error = move || {
        let n = name.get();
        (!n.is_empty())
            .then(|| rules::gateway_name(n.trim()).err())
            .flatten()
    };
    let region = RwSignal::new(String::new());
    let region_error = move || {
        let r = region.get();
        (!r.is_empty())
            .then(|| rules::region(r.trim()).err())
            .flatten()
    };
    let vpc = RwSignal::new(String::new());
    let subnets = RwSignal::new(String::new());
    let network = crate::components::network::network_of(None, move || region.get());
    view! {
        <ActionForm action=create attr:class="card form-grid" attr:id="create-gateway">
            <h2>"New gateway"</h2>
            <label>"Name"
                <input name="name" required maxlength="24" placeholder="shop"
                    on:input=move |ev| name.set(event_target_value(&ev)) aria-invalid=move || name_error().is_some().to_string()/>
                <span class="field-error" aria-live="polite">{name_error}</span>
            </label>
            <label>"Region"
                <input name="region" required placeholder="ap-northeast-2"
                    on:input=move |ev| region.set(event_target_value(&ev)) aria-invalid=move || region_error().is_some().to_string()/>
                <span class="field-error" aria-live="polite">{region_error}</span>
            </label>
            <label>"VPC id"<input name="vpc_id" required placeholder="vpc-0123456789abcdef0" list="vpc-choices"
                prop:value=vpc on:input=move |ev| vpc.set(event_target_value(&ev))/></label>
            <label class="wide">"NLB subnet ids (one per zone, two zones recommended)"<input name="subnet_ids" required placeholder="subnet-…, subnet-…"
                prop:value=subnets on:input=move |ev| subnets.set(event_target_value(&ev))/></label>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    use crate::components::network::{subnet_choices, Picker, VpcChoices};
                    let n = network.await;
                    let v = vpc.get();
                    let picker = n.as_ref().filter(|n| n.vpc(&v).is_some()).map(|n| view! {
                        <Picker title=format!("Subnets of {v}") choices=subnet_choices(n, &v) value=subnets/>
                    });
                    view! { <VpcChoices network=n.clone()/> {picker} }
                })}
            </Suspense>
            <div class="actions"><button type="submit" class="primary">"Create gateway"</button></div>
            <ActionError value=create.value()/>
        </ActionForm>
    }
}
