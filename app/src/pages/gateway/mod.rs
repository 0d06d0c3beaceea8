//! The gateway page: its desired topology section by section, each with forms to add, edit
//! and delete (with confirmation), its history with restore, and the topology as a file.
//! Which form is open lives in the query string (`?edit=stage:dev`, `?delete=port:8081`), so
//! every step works without JavaScript.

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

use crate::api::gateways::{get_gateway, RestoreGeneration, UploadTopology};
use crate::api::keys::{IssueApiKey, RevokeApiKey, RotateApiKey};
use crate::api::runs::{ApprovePlan, ReconcileNow};
use crate::api::topology::*;
use crate::components::error::LoadError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use portico_core::model::topology::Topology;
use portico_core::model::user::CurrentUser;
use portico_core::model::Role;

/// Every form's action, created once per page so one resource can refresh after any of them.
#[derive(Clone, Copy)]
pub struct Actions {
    pub save_port: ServerAction<SavePort>,
    pub delete_port: ServerAction<DeletePort>,
    pub save_stage: ServerAction<SaveStage>,
    pub delete_stage: ServerAction<DeleteStage>,
    pub save_route: ServerAction<SaveRoute>,
    pub delete_route: ServerAction<DeleteRoute>,
    pub save_usage_plan: ServerAction<SaveUsagePlan>,
    pub delete_usage_plan: ServerAction<DeleteUsagePlan>,
    pub save_usage: ServerAction<SaveUsage>,
    pub save_settings: ServerAction<SaveSettings>,
    pub restore: ServerAction<RestoreGeneration>,
    pub upload: ServerAction<UploadTopology>,
    pub approve: ServerAction<ApprovePlan>,
    pub reconcile: ServerAction<ReconcileNow>,
    pub issue_key: ServerAction<IssueApiKey>,
    pub rotate_key: ServerAction<RotateApiKey>,
    pub revoke_key: ServerAction<RevokeApiKey>,
}

impl Actions {
    fn new() -> Self {
        Self {
            save_port: ServerAction::new(),
            delete_port: ServerAction::new(),
            save_stage: ServerAction::new(),
            delete_stage: ServerAction::new(),
            save_route: ServerAction::new(),
            delete_route: ServerAction::new(),
            save_usage_plan: ServerAction::new(),
            delete_usage_plan: ServerAction::new(),
            save_usage: ServerAction::new(),
            save_settings: ServerAction::new(),
            restore: ServerAction::new(),
            upload: ServerAction::new(),
            approve: ServerAction::new(),
            reconcile: ServerAction::new(),
            issue_key: ServerAction::new(),
            rotate_key: ServerAction::new(),
            revoke_key: ServerAction::new(),
        }
    }

    fn versions(&self) -> [usize; 12] {
        [
            self.save_port.version().get(),
            self.delete_port.version().get(),
            self.save_stage.version().get(),
            self.delete_stage.version().get(),
            self.save_route.version().get(),
            self.delete_route.version().get(),
            self.save_usage_plan.version().get(),
            self.delete_usage_plan.version().get(),
            self.save_usage.version().get(),
            self.save_settings.version().get(),
            self.restore.version().get(),
            self.upload.version().get(),
        ]
    }
}

/// The sections' own data. Made at the top of the page, outside its `Transition`: a resource
/// made inside a suspended view could run its server function during server rendering without
/// the request's context, and the page then failed to hydrate.
#[derive(Clone, Copy)]
pub struct Sources {
    pub health: Resource<Result<crate::api::health::HealthView, crate::error::AppError>>,
    pub runs: Resource<Result<crate::api::runs::RunsView, crate::error::AppError>>,
    /// Bumped to look at the worker's progress again.
    pub runs_tick: RwSignal<u64>,
    pub keys: Resource<Result<crate::api::keys::KeysView, crate::error::AppError>>,
}

impl Sources {
    fn new(name: impl Fn() -> String + Copy + Send + Sync + 'static, actions: Actions) -> Self {
        let runs_tick = RwSignal::new(0u64);
        Self {
            health: Resource::new(name, crate::api::health::gateway_health),
            runs: Resource::new(
                move || {
                    (
                        name(),
                        actions.approve.version().get(),
                        actions.reconcile.version().get(),
                        runs_tick.get(),
                    )
                },
                |(name, ..)| crate::api::runs::gateway_runs(name),
            ),
            runs_tick,
            keys: Resource::new(
                move || {
                    (
                        name(),
                        actions.issue_key.version().get(),
                        actions.rotate_key.version().get(),
                        actions.revoke_key.version().get(),
                    )
                },
                |(name, ..)| crate::api::keys::list_api_keys(name),
            ),
        }
    }
}

/// What every section needs: the loaded topology, its generation (sent back with each edit),
/// and what the user may do.
#[derive(Clone)]
pub struct Ctx {
    pub gateway: String,
    pub generation: i64,
    pub topology: Topology,
    pub can_edit: bool,
    pub is_admin: bool,
    pub actions: Actions,
    pub sources: Sources,
    /// For the cost estimate (it also runs in the browser as forms are typed).
    pub prices: portico_core::cost::prices::Prices,
    pub prices_exact: bool,
}

impl Ctx {
    pub fn base(&self) -> String {
        format!("/gateways/{}", self.gateway)
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

#[component]
pub fn GatewayPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let me = expect_context::<CurrentUser>();
    let actions = Actions::new();
    let data = Resource::new(
        move || (name(), actions.versions()),
        |(name, _)| get_gateway(name),
    );
    let sources = Sources::new(name, actions);
    let (can_edit, is_admin) = (me.role >= Role::Editor, me.role == Role::Admin);
    view! {
        // The title is a plain string, set once the gateway is loaded: a title that reads the
        // route's params is read by the server after the page's reactive values are disposed,
        // which panicked under concurrent requests.
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(err) => view! { <LoadError err/> }.into_any(),
                    Ok(view) => {
                        let ctx = Ctx {
                            gateway: view.topology.gateway.name.clone(),
                            generation: view.generation,
                            topology: view.topology,
                            can_edit,
                            is_admin,
                            actions,
                            sources,
                            prices: view.prices.clone(),
                            prices_exact: view.prices_exact,
                        };
                        view! {
                            <Title text=ctx.gateway.clone()/>
                            <header class="page-head">
                                <h1>{ctx.gateway.clone()}</h1>
                                <p class="muted">
                                    {format!("{} · {} · generation {}", ctx.topology.gateway.region, ctx.topology.gateway.vpc_id, ctx.generation)}
                                    " · "
                                    <a href=format!("{}/diagram", ctx.base())>"Topology diagram"</a>
                                </p>
                            </header>
                            <health::HealthSection ctx=ctx.clone()/>
                            <runs::Runs ctx=ctx.clone()/>
                            <cost::CostSection ctx=ctx.clone()/>
                            <settings::Settings ctx=ctx.clone()/>
                            <ports::Ports ctx=ctx.clone()/>
                            <stages::Stages ctx=ctx.clone()/>
                            <routes::Routes ctx=ctx.clone()/>
                            <usage_plans::UsagePlans ctx=ctx.clone()/>
                            <keys::Keys ctx=ctx.clone()/>
                            <usage_plans::Usage ctx=ctx.clone()/>
                            <file::TopologyFile ctx=ctx.clone()/>
                            <history::History ctx=ctx history=view.history/>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}
