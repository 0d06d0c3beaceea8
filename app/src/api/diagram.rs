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
    let state = crate::state::state()?;
    crate::auth::ssr::require(crate::model::Role::Viewer, "read gateways").await?;
    let choice = ssr::Choice::parse(plan.as_deref())?;
    ssr::view(&state.pool, &name, choice).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::diagram::{build, svg, Column, Inputs};
    use crate::health::Health;
    use crate::plan::Plan;
    use sqlx::SqlitePool;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Choice {
        /// The plan still to run, if there is one.
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
        pub diagram: crate::diagram::Diagram,
        pub plan: Option<(i64, String)>,
        pub open_plan: Option<i64>,
    }

    pub async fn draw(pool: &SqlitePool, name: &str, choice: Choice) -> Result<Drawn, AppError> {
        let (id, generation, current) = crate::api::gateways::ssr::load(pool, name).await?;
        let health: Option<String> =
            sqlx::query_scalar("SELECT health FROM gateway_status WHERE gateway_id = ?")
                .bind(id)
                .fetch_optional(pool)
                .await?
                .flatten();
        let health: Option<Health> = health.and_then(|h| serde_json::from_str(&h).ok());
        let keys: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM api_keys WHERE gateway_id = ? AND revoked_at IS NULL AND deleted_at IS NULL",
        )
        .bind(id)
        .fetch_one(pool)
        .await?;
        let open_plan: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM plans WHERE gateway_id = ? \
             AND status IN ('awaiting_approval', 'approved', 'reported', 'running') ORDER BY id DESC LIMIT 1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?;
        let wanted = match choice {
            Choice::Open => open_plan,
            Choice::None => None,
            Choice::Plan(p) => Some(p),
        };
        let stored: Option<(i64, i64, String, String)> = match wanted {
            None => None,
            Some(p) => {
                let row = sqlx::query_as(
                    "SELECT id, generation, status, plan FROM plans WHERE id = ? AND gateway_id = ?",
                )
                .bind(p)
                .bind(id)
                .fetch_optional(pool)
                .await?;
                if row.is_none() {
                    return Err(AppError::NotFound(format!(
                        "Gateway {name} has no plan {p}."
                    )));
                }
                row
            }
        };
        // A plan is drawn over the topology it was made from.
        let (topology, drawn_generation, plan) = match stored {
            None => (current, generation, None),
            Some((pid, pgen, status, json)) => {
                let plan: Plan = serde_json::from_str(&json)
                    .map_err(|e| AppError::internal("stored plan unreadable", e))?;
                let topology = if pgen == generation {
                    current
                } else {
                    crate::api::gateways::ssr::snapshot(pool, id, pgen).await?
                };
                (topology, pgen, Some((pid, status, plan)))
            }
        };
        let (prices, exact) =
            crate::api::gateways::ssr::prices_for(pool, &topology.gateway.region).await?;
        let estimate = crate::cost::estimate(&topology, &prices, exact);
        let diagram = build(
            &topology,
            &Inputs {
                health: health.as_ref(),
                estimate: Some(&estimate),
                keys: keys as usize,
                plan: plan.as_ref().map(|(pid, _, p)| (*pid, p)),
                generation: drawn_generation,
            },
        );
        Ok(Drawn {
            diagram,
            plan: plan.map(|(pid, status, _)| (pid, status.replace('_', " "))),
            open_plan,
        })
    }

    pub async fn view(
        pool: &SqlitePool,
        name: &str,
        choice: Choice,
    ) -> Result<DiagramView, AppError> {
        let Drawn {
            diagram,
            plan,
            open_plan,
        } = draw(pool, name, choice).await?;
        let gateways: Vec<String> = sqlx::query_scalar("SELECT name FROM gateways ORDER BY name")
            .fetch_all(pool)
            .await?;
        let words = Column::ALL
            .iter()
            .map(|c| {
                (
                    c.heading().to_owned(),
                    diagram.column(*c).into_iter().map(svg::spoken).collect(),
                )
            })
            .collect();
        Ok(DiagramView {
            gateway: diagram.gateway.clone(),
            subtitle: diagram.subtitle.clone(),
            svg: svg::render(&diagram),
            plan,
            open_plan,
            gateways,
            words,
        })
    }

    /// Where a viewer lands after signing in: the diagram of the gateway in the worst health
    /// (the overview's first), or the overview when there is none.
    pub async fn landing(pool: &SqlitePool) -> Result<String, AppError> {
        let first: Option<String> = sqlx::query_scalar(
            "SELECT g.name FROM gateways g LEFT JOIN gateway_status s ON s.gateway_id = g.id \
             WHERE g.deleting_at IS NULL ORDER BY CASE s.health_level WHEN 'Unhealthy' THEN 0 \
             WHEN 'Degraded' THEN 1 WHEN 'Pending' THEN 2 WHEN 'Healthy' THEN 3 ELSE 4 END, g.name LIMIT 1",
        )
        .fetch_optional(pool)
        .await?;
        Ok(match first {
            Some(name) => format!("/gateways/{}/diagram", crate::api::forms::urlencode(&name)),
            None => "/".into(),
        })
    }
}
