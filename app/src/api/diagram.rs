//! The topology diagram of a gateway, for any signed-in user: the SVG (drawn on the server),
//! the same picture in words, and which plan is laid over it.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiagramView {
    pub gateway: String,
    pub subtitle: String,
    pub svg: String,
    /// The overlaid plan: its id and status in words.
    pub plan: Option<(i64, String)>,
    /// The plan not finished yet (awaiting approval, approved, running, or drift reported).
    pub open_plan: Option<i64>,
    /// Every gateway, to switch between diagrams.
    pub gateways: Vec<String>,
    /// The diagram in words, column by column.
    pub words: Vec<(String, Vec<String>)>,
}

/// Which plan to lay over: `None` (the open plan, if any), `"none"`, or a plan's id.
#[server(prefix = "/api", endpoint = "gateway_diagram")]
pub async fn gateway_diagram(name: String, plan: Option<String>) -> Result<DiagramView, AppError> {
    let (_, state) =
        crate::api::context::require(portico_core::model::Role::Viewer, "read gateways").await?;
    let choice = ssr::Choice::parse(plan.as_deref())?;
    ssr::view(&state.store, &name, choice).await
}

/// Drawing from what the store holds; the HTTP layer's SVG download draws with the same code.
#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use portico_core::diagram::{build, svg, Column, Inputs};
    use portico_store::plans::PlanRow;
    use portico_store::{gateways, Store};

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Choice {
        /// The plan not finished yet, if there is one.
        Open,
        None,
        Plan(i64),
    }

    impl Choice {
        pub fn parse(text: Option<&str>) -> Result<Self, AppError> {
            match text.map(str::trim) {
                None | Some("") | Some("open") => Ok(Choice::Open),
                Some("none") => Ok(Choice::None),
                Some(n) => n.parse().map(Choice::Plan).map_err(|_| {
                    AppError::Invalid(format!(
                        "\"{n}\" is not a plan: give a plan's number, \"open\" or \"none\"."
                    ))
                }),
            }
        }
    }

    /// Everything drawn, from the database alone (the worker keeps health and plans there).
    pub struct Drawn {
        pub diagram: portico_core::diagram::Diagram,
        /// The drawn topology's size (`context::work_size`), for drawing it in place or not.
        pub size: usize,
        pub plan: Option<(i64, String)>,
        pub open_plan: Option<i64>,
    }

    pub async fn draw(store: &Store, name: &str, choice: Choice) -> Result<Drawn, AppError> {
        let g = gateways::load(store, name).await?;
        let health = portico_store::status::health(store, g.id).await?;
        let keys = portico_store::keys::live_count(store, g.id).await?;
        // "The open plan" of the diagram includes one running now (`PlanStatus::is_current`).
        let current = portico_store::plans::current_plan(store, g.id).await?;
        let open_plan = current.as_ref().map(|p| p.id);
        let chosen: Option<PlanRow> = match choice {
            Choice::Open => current,
            Choice::None => None,
            Choice::Plan(p) => Some(
                portico_store::plans::by_id(store, g.id, p)
                    .await?
                    .ok_or_else(|| {
                        AppError::NotFound(format!("Gateway {name} has no plan {p}."))
                    })?,
            ),
        };
        // A plan is drawn over the topology it was made from.
        let (topology, drawn_generation) = match &chosen {
            Some(p) if p.generation != g.generation => (
                gateways::snapshot(store, g.id, p.generation).await?,
                p.generation,
            ),
            _ => (g.topology, g.generation),
        };
        let (prices, exact) =
            portico_store::prices::for_region(store, &topology.gateway.region).await?;
        // The estimate and the layout are CPU work that grows with the topology: a large
        // diagram's goes off the async runtime, so it never holds up other requests.
        let laid_over = chosen.as_ref().map(|p| (p.id, p.plan.clone()));
        let size = crate::api::context::work_size(&topology);
        let diagram = crate::api::context::cpu_work(size, move || {
            let estimate = portico_core::cost::estimate(&topology, &prices, exact);
            build(
                &topology,
                &Inputs {
                    health: health.as_ref(),
                    estimate: Some(&estimate),
                    keys: keys as usize,
                    plan: laid_over.as_ref().map(|(id, plan)| (*id, plan)),
                    generation: drawn_generation,
                },
            )
        })
        .await?;
        Ok(Drawn {
            diagram,
            size,
            plan: chosen.map(|p| (p.id, p.status.as_str().replace('_', " "))),
            open_plan,
        })
    }

    pub async fn view(store: &Store, name: &str, choice: Choice) -> Result<DiagramView, AppError> {
        let Drawn {
            diagram,
            size,
            plan,
            open_plan,
        } = draw(store, name, choice).await?;
        let (diagram, words, svg) = crate::api::context::cpu_work(size, move || {
            let words = Column::ALL
                .iter()
                .map(|c| {
                    (
                        c.heading().to_owned(),
                        diagram.column(*c).into_iter().map(svg::spoken).collect(),
                    )
                })
                .collect();
            let svg = svg::render(&diagram);
            (diagram, words, svg)
        })
        .await?;
        Ok(DiagramView {
            gateway: diagram.gateway.clone(),
            subtitle: diagram.subtitle.clone(),
            svg,
            plan,
            open_plan,
            gateways: gateways::names(store).await?,
            words,
        })
    }

    /// Where a viewer lands after signing in: the diagram of the gateway in the worst health
    /// (the overview's first), or the overview when there is none.
    pub async fn landing(store: &Store) -> Result<String, AppError> {
        Ok(match gateways::worst_health(store).await? {
            Some(name) => format!("/gateways/{}/diagram", crate::api::forms::urlencode(&name)),
            None => "/".into(),
        })
    }
}
