//! A gateway's pages: a shared header and tabs (`GatewayFrame`), and one URL per tab, so a
//! request renders only its own sections: status (health, plans, cost), the desired topology
//! section by section with forms to add, edit and delete (with confirmation), cost, API keys,
//! history with restore, and the topology as a file. Which form is open lives in the query
//! string (`?edit=stage:dev`, `?delete=port:8081`), so every step works without JavaScript.

mod cost;
mod file;
mod health;
mod history;
mod keys;
mod ports;
mod routes;
mod runs;
mod settings;
mod stages;
mod usage_plans;

use crate::api::forms::urlencode;
use crate::api::gateways::{
    gateway_history, get_gateway, GatewayView, RestoreGeneration, UploadTopology,
};
use crate::api::keys::{IssueApiKey, RevokeApiKey, RotateApiKey};
use crate::api::runs::{ApprovePlan, ReconcileNow};
use crate::api::topology::*;
use crate::components::error::LoadError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::{use_params_map, use_query_map};
use portico_core::model::topology::Topology;
use portico_core::model::user::CurrentUser;
use portico_core::model::Role;

/// A tab's forms: each tab makes the actions of its own forms, once (so the code that sends
/// them is in that tab's lazy module, not in the frame every tab loads), and the frame reads
/// the gateway again after any of them changed it (`tab_view`).
pub trait TabActions: Clone + Send + Sync + 'static {
    /// How many answers have come back to the forms that change the gateway (its topology,
    /// its generation): it grows after each such edit (0 for a tab that has none).
    fn edits(&self) -> usize;
}

/// The status tab's: approving a plan, asking the worker to look now.
#[derive(Clone, Copy)]
pub struct StatusActions {
    pub approve: ServerAction<ApprovePlan>,
    pub reconcile: ServerAction<ReconcileNow>,
}

impl TabActions for StatusActions {
    /// None: approving a plan or asking for a reconcile changes nothing the frame shows (the
    /// runs' list follows them on its own).
    fn edits(&self) -> usize {
        0
    }
}

/// The topology tab's forms.
#[derive(Clone, Copy)]
pub struct TopologyActions {
    pub save_port: ServerAction<SavePort>,
    pub delete_port: ServerAction<DeletePort>,
    pub save_stage: ServerAction<SaveStage>,
    pub delete_stage: ServerAction<DeleteStage>,
    pub save_route: ServerAction<SaveRoute>,
    pub delete_route: ServerAction<DeleteRoute>,
    pub save_usage_plan: ServerAction<SaveUsagePlan>,
    pub delete_usage_plan: ServerAction<DeleteUsagePlan>,
    pub save_settings: ServerAction<SaveSettings>,
}

impl TabActions for TopologyActions {
    fn edits(&self) -> usize {
        [
            self.save_port.version().get(),
            self.delete_port.version().get(),
            self.save_stage.version().get(),
            self.delete_stage.version().get(),
            self.save_route.version().get(),
            self.delete_route.version().get(),
            self.save_usage_plan.version().get(),
            self.delete_usage_plan.version().get(),
            self.save_settings.version().get(),
        ]
        .iter()
        .sum()
    }
}

/// The cost tab's: the usage assumptions.
#[derive(Clone, Copy)]
pub struct CostActions {
    pub save_usage: ServerAction<SaveUsage>,
}

impl TabActions for CostActions {
    fn edits(&self) -> usize {
        self.save_usage.version().get()
    }
}

/// The API keys tab's (keys are not part of the topology's generations).
#[derive(Clone, Copy)]
pub struct KeyActions {
    pub issue_key: ServerAction<IssueApiKey>,
    pub rotate_key: ServerAction<RotateApiKey>,
    pub revoke_key: ServerAction<RevokeApiKey>,
}

impl TabActions for KeyActions {
    fn edits(&self) -> usize {
        0
    }
}

/// The history tab's: restoring an earlier generation.
#[derive(Clone, Copy)]
pub struct HistoryActions {
    pub restore: ServerAction<RestoreGeneration>,
}

impl TabActions for HistoryActions {
    fn edits(&self) -> usize {
        self.restore.version().get()
    }
}

/// The file tab's: uploading a topology.
#[derive(Clone, Copy)]
pub struct FileActions {
    pub upload: ServerAction<UploadTopology>,
}

impl TabActions for FileActions {
    fn edits(&self) -> usize {
        self.upload.version().get()
    }
}

/// The worker's runs of the gateway, and a tick bumped to look at its progress again.
#[derive(Clone, Copy)]
pub struct RunsSource {
    pub data: Resource<Result<crate::api::runs::RunsView, crate::error::AppError>>,
    pub tick: RwSignal<u64>,
}

impl RunsSource {
    fn new(name: Memo<String>, actions: StatusActions) -> Self {
        let tick = RwSignal::new(0u64);
        let data = Resource::new(
            move || {
                (
                    name.get(),
                    actions.approve.version().get(),
                    actions.reconcile.version().get(),
                    tick.get(),
                )
            },
            |(name, ..)| crate::api::runs::gateway_runs(name),
        );
        Self { data, tick }
    }
}

/// What the gateway's tabs share, provided by the frame: the name from the route and the
/// loaded gateway (read again after every edit).
#[derive(Clone, Copy)]
struct Shared {
    name: Memo<String>,
    data: Resource<Result<GatewayView, crate::error::AppError>>,
}

/// What every section needs: the loaded topology, its generation (sent back with each edit),
/// what the user may do, and its tab's forms' actions.
#[derive(Clone)]
pub struct Ctx<A> {
    pub gateway: String,
    pub generation: i64,
    pub topology: Topology,
    pub can_edit: bool,
    pub is_admin: bool,
    pub actions: A,
    /// The month's estimate in a line (the cost tab reads the prices and works it out itself).
    pub cost: crate::api::gateways::CostHeadline,
    /// The tab the sections are shown on (its URL is where their forms open and close).
    pub tab: Tab,
}

impl<A> Ctx<A> {
    pub fn base(&self) -> String {
        Tab::Status.href(&self.gateway)
    }

    /// This tab's URL: where a section's "Edit" links open their form and "Cancel" closes it.
    pub fn here(&self) -> String {
        self.tab.href(&self.gateway)
    }
}

/// The open form or confirmation, from the query string: (`edit` | `delete`, kind, key).
pub fn open_form(kind: &'static str) -> Memo<Option<(String, String)>> {
    let query = use_query_map();
    Memo::new(move |_| {
        let q = query.read();
        for mode in ["edit", "delete"] {
            if let Some((k, key)) = q
                .get(mode)
                .and_then(|v| v.split_once(':').map(|(a, b)| (a.to_owned(), b.to_owned())))
            {
                if k == kind {
                    return Some((mode.to_owned(), key));
                }
            }
        }
        None
    })
}

/// The gateway's tabs: each renders its own sections on its own URL under the shared header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// What matters first: health, what is pending, the cost.
    Status,
    Topology,
    Cost,
    Keys,
    History,
    File,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Tab::Status,
        Tab::Topology,
        Tab::Cost,
        Tab::Keys,
        Tab::History,
        Tab::File,
    ];

    /// The URL segment after `/gateways/NAME` (empty for the status tab).
    pub fn segment(self) -> &'static str {
        match self {
            Tab::Status => "",
            Tab::Topology => "topology",
            Tab::Cost => "cost",
            Tab::Keys => "keys",
            Tab::History => "history",
            Tab::File => "file",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tab::Status => "Status",
            Tab::Topology => "Topology",
            Tab::Cost => "Cost",
            Tab::Keys => "API keys",
            Tab::History => "History",
            Tab::File => "File",
        }
    }

    pub fn href(self, gateway: &str) -> String {
        match self.segment() {
            "" => format!("/gateways/{}", urlencode(gateway)),
            s => format!("/gateways/{}/{s}", urlencode(gateway)),
        }
    }
}

/// The frame of a gateway's tabs: it reads the gateway once (again after each edit), shows the
/// header and the tabs, and leaves the rest to the tab the URL names.
#[component]
pub fn GatewayFrame() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    // Read again after every edit: each tab says when (`tab_view`).
    let data = Resource::new(move || name.get(), get_gateway);
    provide_context(Shared { name, data });
    view! {
        // The title is a plain string, set once the gateway is loaded: a title that reads the
        // route's params is read by the server after the page's reactive values are disposed,
        // which panicked under concurrent requests.
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(err) => view! { <LoadError err/> }.into_any(),
                    Ok(view) => {
                        let gateway = view.topology.gateway.name.clone();
                        view! {
                            <Title text=gateway.clone()/>
                            <header class="page-head">
                                <h1>{gateway.clone()}</h1>
                                <p class="muted">
                                    {format!("{} · {} · generation {}", view.topology.gateway.region, view.topology.gateway.vpc_id, view.generation)}
                                </p>
                            </header>
                            <nav class="tabs" aria-label="Gateway">
                                {Tab::ALL.into_iter().map(|tab| view! {
                                    <A href=tab.href(&gateway) exact=true>{tab.label()}</A>
                                }).collect_view()}
                                <a href=format!("{}/diagram", Tab::Status.href(&gateway))>"Diagram"</a>
                            </nav>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
        <Outlet/>
    }
}

/// A tab's sections, drawn once the frame's gateway is loaded (the frame shows a failure),
/// with the tab's actions; the frame reads the gateway again after each edit they send.
fn tab_view<A: TabActions, V: IntoView + 'static>(
    tab: Tab,
    actions: A,
    sections: impl Fn(Ctx<A>) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let shared = expect_context::<Shared>();
    let me = expect_context::<CurrentUser>();
    let edits = actions.clone();
    // Only in the browser (effects don't run on the server), and not for the first reading.
    Effect::watch(
        move || edits.edits(),
        move |_, _, _| shared.data.refetch(),
        false,
    );
    let (can_edit, is_admin) = (me.role >= Role::Editor, me.role == Role::Admin);
    view! {
        <Transition fallback=|| ()>
            {move || {
                let (sections, actions) = (sections.clone(), actions.clone());
                Suspend::new(async move {
                    match shared.data.await {
                        Err(_) => ().into_any(),
                        Ok(view) => sections(Ctx {
                            gateway: view.topology.gateway.name.clone(),
                            generation: view.generation,
                            topology: view.topology,
                            can_edit,
                            is_admin,
                            actions,
                            cost: view.cost,
                            tab,
                        })
                        .into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// Health, the worker's plans (the finished ones folded) and the month's cost.
#[component]
pub fn StatusTab() -> impl IntoView {
    let shared = expect_context::<Shared>();
    let actions = StatusActions {
        approve: ServerAction::new(),
        reconcile: ServerAction::new(),
    };
    // The tab's own data, made here, outside the suspended view that draws it.
    let query = use_query_map();
    let window = Memo::new(move |_| {
        crate::api::health::TrafficWindow::from_param(query.read().get_str("traffic"))
    });
    let health = Resource::new_with_options(
        move || (shared.name.get(), window.get()),
        |(name, window)| crate::api::health::gateway_health(name, Some(window)),
        false,
    );
    let runs = RunsSource::new(shared.name, actions);
    tab_view(Tab::Status, actions, move |ctx| {
        let here = ctx.here();
        view! {
            <health::HealthSection data=health here/>
            <runs::Runs ctx=ctx.clone() runs/>
            <cost::CostSummary ctx/>
        }
    })
}

/// The desired topology, section by section, with its forms.
#[component]
pub fn TopologyTab() -> impl IntoView {
    let actions = TopologyActions {
        save_port: ServerAction::new(),
        delete_port: ServerAction::new(),
        save_stage: ServerAction::new(),
        delete_stage: ServerAction::new(),
        save_route: ServerAction::new(),
        delete_route: ServerAction::new(),
        save_usage_plan: ServerAction::new(),
        delete_usage_plan: ServerAction::new(),
        save_settings: ServerAction::new(),
    };
    tab_view(Tab::Topology, actions, |ctx| {
        view! {
            <settings::Settings ctx=ctx.clone()/>
            <ports::Ports ctx=ctx.clone()/>
            <stages::Stages ctx=ctx.clone()/>
            <routes::Routes ctx=ctx.clone()/>
            <usage_plans::UsagePlans ctx/>
        }
    })
}

/// The estimate line by line, the alternatives and the usage they assume: worked out in the
/// browser too, from the region's prices, so they follow the usage fields as they are typed.
#[component]
pub fn CostTab() -> impl IntoView {
    let shared = expect_context::<Shared>();
    let actions = CostActions {
        save_usage: ServerAction::new(),
    };
    let prices = Resource::new(
        move || shared.name.get(),
        crate::api::gateways::gateway_prices,
    );
    let measured = Resource::new(
        move || shared.name.get(),
        crate::api::cost::gateway_measured_cost,
    );
    tab_view(Tab::Cost, actions, move |ctx| {
        view! {
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let ctx = ctx.clone();
                    Suspend::new(async move {
                        // The measured side failing (a busy database, say) leaves the rest.
                        let measured = match measured.await {
                            Ok(m) => view! { <cost::MeasuredCost ctx=ctx.clone() measured=m/> }.into_any(),
                            Err(err) => view! { <LoadError err/> }.into_any(),
                        };
                        match prices.await {
                            Err(err) => view! { <LoadError err/> }.into_any(),
                            Ok(p) => view! {
                                <cost::CostSection ctx=ctx.clone() prices=p.clone()/>
                                {measured}
                                <usage_plans::Usage ctx prices=p/>
                            }
                            .into_any(),
                        }
                    })
                }}
            </Transition>
        }
    })
}

#[component]
pub fn KeysTab() -> impl IntoView {
    let shared = expect_context::<Shared>();
    let actions = KeyActions {
        issue_key: ServerAction::new(),
        rotate_key: ServerAction::new(),
        revoke_key: ServerAction::new(),
    };
    let keys = Resource::new(
        move || {
            (
                shared.name.get(),
                actions.issue_key.version().get(),
                actions.rotate_key.version().get(),
                actions.revoke_key.version().get(),
            )
        },
        |(name, ..)| crate::api::keys::list_api_keys(name),
    );
    tab_view(
        Tab::Keys,
        actions,
        move |ctx| view! { <keys::Keys ctx keys/> },
    )
}

#[component]
pub fn HistoryTab() -> impl IntoView {
    let shared = expect_context::<Shared>();
    let actions = HistoryActions {
        restore: ServerAction::new(),
    };
    // Read again after a restore.
    let rows = Resource::new(
        move || (shared.name.get(), actions.edits()),
        |(name, _)| gateway_history(name),
    );
    tab_view(
        Tab::History,
        actions,
        move |ctx| view! { <history::History ctx rows/> },
    )
}

#[component]
pub fn FileTab() -> impl IntoView {
    let actions = FileActions {
        upload: ServerAction::new(),
    };
    tab_view(
        Tab::File,
        actions,
        |ctx| view! { <file::TopologyFile ctx/> },
    )
}
