//! Gateways and their desired topology: list, read, create, and the edit core every form
//! goes through (stale-edit refusal, validation, a new generation, audit, worker wake-up).

use crate::error::AppError;
use crate::model::topology::Topology;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GatewaySummary {
    pub name: String,
    pub region: String,
    pub generation: i64,
    pub ports: usize,
    pub stages: usize,
    pub routes: usize,
    pub updated_by: String,
    pub updated_at: String,
    /// The worker's word: in_sync, applying, awaiting_approval, drift, error, deleting, unknown.
    pub state: String,
    pub state_message: String,
    /// None until the worker has read it.
    pub health: Option<crate::health::Level>,
    pub health_reason: String,
    /// The monthly estimate, in cents: "$65.23".
    pub monthly: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub generation: i64,
    pub actor: String,
    pub at: String,
    pub summary: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GatewayView {
    pub topology: Topology,
    pub generation: i64,
    pub history: Vec<HistoryRow>,
    /// The prices for the gateway's region (refreshed ones first, then the embedded table).
    pub prices: crate::cost::prices::Prices,
    /// False when the region is not in the table and us-east-1's prices stand in.
    pub prices_exact: bool,
}

#[server(prefix = "/api", endpoint = "list_gateways")]
pub async fn list_gateways() -> Result<Vec<GatewaySummary>, AppError> {
    crate::auth::ssr::require(crate::model::Role::Viewer, "read gateways").await?;
    ssr::list(&crate::state::state()?.pool).await
}

#[server(prefix = "/api", endpoint = "get_gateway")]
pub async fn get_gateway(name: String) -> Result<GatewayView, AppError> {
    let state = crate::state::state()?;
    crate::auth::ssr::require(crate::model::Role::Viewer, "read gateways").await?;
    ssr::view(&state.pool, &name).await
}

/// Creates a gateway with no ports, stages or routes yet (admins only: it will cost money).
#[server(prefix = "/api", endpoint = "create_gateway")]
pub async fn create_gateway(
    name: String,
    region: String,
    vpc_id: String,
    subnet_ids: String,
) -> Result<(), AppError> {
    use crate::model::topology::{ApplyMode, DriftMode, EndpointType, Gateway};
    let me = crate::auth::ssr::require(crate::model::Role::Admin, "create gateways").await?;
    let state = crate::state::state()?;
    let gateway = Gateway {
        name: name.trim().to_owned(),
        region: region.trim().to_owned(),
        vpc_id: vpc_id.trim().to_owned(),
        subnet_ids: crate::api::forms::list(&subnet_ids),
        endpoint_type: EndpointType::Regional,
        role_arn: None,
        apply_mode: ApplyMode::Auto,
        drift_mode: DriftMode::Correct,
    };
    let name = gateway.name.clone();
    ssr::create(&state.pool, &me.name, Topology::new(gateway), false).await?;
    state.wake_worker();
    leptos_axum::redirect(&format!("/gateways/{name}"));
    Ok(())
}

/// Deletes a gateway and its history (admins only; `confirm` must repeat its name).
/// Nothing is in AWS before the worker applies a plan, so the rows are all there is yet; the
/// worker's finalizer takes over this path when it removes resources.
#[server(prefix = "/api", endpoint = "delete_gateway")]
pub async fn delete_gateway(name: String, confirm: String) -> Result<(), AppError> {
    let me = crate::auth::ssr::require(crate::model::Role::Admin, "delete gateways").await?;
    if confirm.trim() != name {
        return Err(AppError::Invalid(format!(
            "Type the gateway's name, {name}, to confirm."
        )));
    }
    let state = crate::state::state()?;
    ssr::delete(&state.pool, &me.name, &name).await?;
    state.wake_worker();
    leptos_axum::redirect("/");
    Ok(())
}

/// Replaces the whole desired topology with an earlier generation's, as a new edit.
#[server(prefix = "/api", endpoint = "restore_generation")]
pub async fn restore_generation(
    gateway: String,
    from: i64,
    generation: i64,
) -> Result<(), AppError> {
    let me = crate::auth::ssr::require(crate::model::Role::Editor, "edit the topology").await?;
    let state = crate::state::state()?;
    let id = ssr::load(&state.pool, &gateway).await?.0;
    let old = ssr::snapshot(&state.pool, id, generation).await?;
    let action = format!("restore generation {generation}");
    ssr::replace(
        &state.pool,
        &me.name,
        &gateway,
        Some(from),
        old,
        &action,
        false,
    )
    .await?;
    state.wake_worker();
    Ok(())
}

/// Uploads a topology file (YAML) as the gateway's desired state, all or nothing; with
/// `dry_run`, only says what would change. Returns the changes, one line each.
#[server(prefix = "/api", endpoint = "upload_topology")]
pub async fn upload_topology(
    gateway: String,
    yaml: String,
    dry_run: Option<String>,
) -> Result<Vec<String>, AppError> {
    let me = crate::auth::ssr::require(crate::model::Role::Editor, "edit the topology").await?;
    let state = crate::state::state()?;
    let topology = ssr::parse_yaml(&yaml)?;
    if topology.gateway.name != gateway {
        return Err(AppError::Invalid(format!(
            "The file describes gateway {:?}, not {gateway:?}.",
            topology.gateway.name
        )));
    }
    let dry_run = dry_run.is_some();
    let changes = ssr::replace(
        &state.pool,
        &me.name,
        &gateway,
        None,
        topology,
        "upload",
        dry_run,
    )
    .await?;
    if !dry_run {
        state.wake_worker();
    }
    Ok(changes.iter().map(ToString::to_string).collect())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::{GatewaySummary, GatewayView, HistoryRow};
    use crate::api::audit::ssr::record;
    use crate::error::{AppError, OnUnique};
    use crate::model::diff::{diff, entities, summary, Change};
    use crate::model::topology::Topology;
    use crate::model::validate::validate;
    use crate::state::now_unix;
    use serde_json::json;
    use sqlx::{SqliteConnection, SqlitePool};

    fn invalid(problems: Vec<crate::model::validate::Problem>) -> AppError {
        AppError::Invalid(
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }

    pub fn parse_yaml(yaml: &str) -> Result<Topology, AppError> {
        serde_yaml_ng::from_str::<Topology>(yaml)
            .map(Topology::normalised)
            .map_err(|e| AppError::Invalid(format!("The topology file is not valid: {e}")))
    }

    pub fn to_yaml(t: &Topology) -> Result<String, AppError> {
        serde_yaml_ng::to_string(t).map_err(|e| AppError::internal("yaml", e))
    }

    fn decode(json: &str) -> Result<Topology, AppError> {
        serde_json::from_str(json).map_err(|e| AppError::internal("stored topology unreadable", e))
    }

    /// (id, latest generation, topology) of a gateway by name.
    pub async fn load(pool: &SqlitePool, name: &str) -> Result<(i64, i64, Topology), AppError> {
        let mut conn = pool.acquire().await?;
        load_in(&mut conn, name).await
    }

    async fn load_in(
        conn: &mut SqliteConnection,
        name: &str,
    ) -> Result<(i64, i64, Topology), AppError> {
        let row: Option<(i64, i64, String)> = sqlx::query_as(
            "SELECT g.id, g.generation, v.topology FROM gateways g \
             JOIN generations v ON v.gateway_id = g.id AND v.generation = g.generation WHERE g.name = ?",
        )
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
        let (id, generation, json) =
            row.ok_or_else(|| AppError::NotFound(format!("No gateway named {name:?}.")))?;
        Ok((id, generation, decode(&json)?))
    }

    pub async fn snapshot(
        pool: &SqlitePool,
        id: i64,
        generation: i64,
    ) -> Result<Topology, AppError> {
        let json: Option<String> = sqlx::query_scalar(
            "SELECT topology FROM generations WHERE gateway_id = ? AND generation = ?",
        )
        .bind(id)
        .bind(generation)
        .fetch_optional(pool)
        .await?;
        decode(&json.ok_or_else(|| {
            AppError::NotFound(format!("No generation {generation} of this gateway."))
        })?)
    }

    pub async fn list(pool: &SqlitePool) -> Result<Vec<GatewaySummary>, AppError> {
        #[allow(clippy::type_complexity)]
        let rows: Vec<(String, i64, String, String, String, Option<String>, Option<String>, Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT g.name, g.generation, v.topology, v.actor, strftime('%Y-%m-%d %H:%M', v.at, 'unixepoch'), \
             s.state, s.message, g.deleting_at, s.health \
             FROM gateways g JOIN generations v ON v.gateway_id = g.id AND v.generation = g.generation \
             LEFT JOIN gateway_status s ON s.gateway_id = g.id ORDER BY g.name",
        )
        .fetch_all(pool)
        .await?;
        let mut out = vec![];
        for (name, generation, json, updated_by, updated_at, state, message, deleting, health) in
            rows
        {
            let t = decode(&json)?;
            let (prices, exact) = prices_for(pool, &t.gateway.region).await?;
            let monthly = crate::cost::estimate(&t, &prices, exact).total.cents();
            let health: Option<crate::health::Health> =
                health.and_then(|h| serde_json::from_str(&h).ok());
            out.push(GatewaySummary {
                name,
                region: t.gateway.region.clone(),
                generation,
                ports: t.ports.len(),
                stages: t.stages.len(),
                routes: t.routes.len(),
                updated_by,
                updated_at,
                state: match (&state, deleting) {
                    (_, Some(_)) => "deleting".into(),
                    (Some(s), None) => s.clone(),
                    (None, None) => "unknown".into(),
                },
                state_message: match (message, deleting) {
                    (_, Some(_)) => "Removing its AWS resources, then the gateway.".into(),
                    (Some(m), None) => m,
                    (None, None) => "The worker has not looked at this gateway yet.".into(),
                },
                health: health.as_ref().map(|h| h.level),
                health_reason: health
                    .map(|h| h.reason)
                    .unwrap_or_else(|| "not read yet".into()),
                monthly,
            });
        }
        // Worst health first, so what needs a look is on top.
        out.sort_by(|a, b| b.health.cmp(&a.health).then_with(|| a.name.cmp(&b.name)));
        Ok(out)
    }

    pub async fn view(pool: &SqlitePool, name: &str) -> Result<GatewayView, AppError> {
        let (id, generation, topology) = load(pool, name).await?;
        let history = sqlx::query_as::<_, (i64, String, String, String)>(
            "SELECT generation, actor, strftime('%Y-%m-%d %H:%M:%S', at, 'unixepoch'), summary \
             FROM generations WHERE gateway_id = ? ORDER BY generation DESC LIMIT 100",
        )
        .bind(id)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|(generation, actor, at, summary)| HistoryRow {
            generation,
            actor,
            at,
            summary,
        })
        .collect();
        let (prices, prices_exact) = prices_for(pool, &topology.gateway.region).await?;
        Ok(GatewayView {
            topology,
            generation,
            history,
            prices,
            prices_exact,
        })
    }

    /// Prices refreshed from the Price List API override the embedded table.
    pub async fn prices_for(
        pool: &SqlitePool,
        region: &str,
    ) -> Result<(crate::cost::prices::Prices, bool), AppError> {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT prices FROM prices WHERE region = ?")
                .bind(region)
                .fetch_optional(pool)
                .await?;
        let refreshed: Vec<crate::cost::prices::Prices> = stored
            .and_then(|s| serde_json::from_str(&s).ok())
            .into_iter()
            .collect();
        Ok(crate::cost::prices::for_region(region, &refreshed))
    }

    pub async fn delete(pool: &SqlitePool, actor: &str, name: &str) -> Result<(), AppError> {
        let mut tx = pool.begin().await?;
        let (id, generation, topology) = load_in(&mut tx, name).await?;
        refuse_deleting(&mut tx, id, name).await?;
        // The worker removes what the gateway owns in AWS (in reverse order), then the rows.
        sqlx::query("UPDATE gateways SET deleting_at = ?, deleting_by = ? WHERE id = ?")
            .bind(crate::state::now_unix())
            .bind(actor)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let before = json!({ "generation": generation, "topology": topology });
        record(&mut *tx, actor, "gateway.delete", name, Some(&before), None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A gateway being deleted takes no more edits.
    pub async fn refuse_deleting(
        conn: &mut SqliteConnection,
        id: i64,
        name: &str,
    ) -> Result<(), AppError> {
        let by: Option<Option<String>> = sqlx::query_scalar(
            "SELECT deleting_by FROM gateways WHERE id = ? AND deleting_at IS NOT NULL",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        match by {
            Some(by) => Err(AppError::Conflict(format!(
                "Gateway {name} is being deleted (by {}): Portico is removing its AWS resources. \
                 Nothing was saved.",
                by.unwrap_or_else(|| "an admin".into())
            ))),
            None => Ok(()),
        }
    }

    /// A new gateway from a topology (with `dry_run`, only what it would add).
    pub async fn create(
        pool: &SqlitePool,
        actor: &str,
        topology: Topology,
        dry_run: bool,
    ) -> Result<Vec<Change>, AppError> {
        let topology = topology.normalised();
        validate(&topology).map_err(invalid)?;
        let empty = Topology::new(topology.gateway.clone());
        let mut changes = diff(&empty, &topology);
        changes.insert(
            0,
            Change {
                entity: "gateway".into(),
                kind: crate::model::diff::ChangeKind::Added,
                fields: vec![],
            },
        );
        if dry_run {
            return Ok(changes);
        }
        let name = topology.gateway.name.clone();
        let mut tx = pool.begin().await?;
        let id = sqlx::query(
            "INSERT INTO gateways (name, generation, created_at, created_by) VALUES (?, 1, ?, ?)",
        )
        .bind(&name)
        .bind(now_unix())
        .bind(actor)
        .execute(&mut *tx)
        .await
        .on_unique(|| format!("A gateway named {name:?} already exists."))?
        .last_insert_rowid();
        insert_generation(&mut tx, id, 1, &topology, actor, &changes).await?;
        let after = json!({ "generation": 1, "topology": topology });
        record(&mut *tx, actor, "gateway.create", &name, None, Some(&after)).await?;
        tx.commit().await?;
        Ok(changes)
    }

    async fn insert_generation(
        conn: &mut SqliteConnection,
        id: i64,
        generation: i64,
        topology: &Topology,
        actor: &str,
        changes: &[Change],
    ) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO generations (gateway_id, generation, topology, actor, at, summary, changes) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(generation)
        .bind(serde_json::to_string(topology).map_err(|e| AppError::internal("encode topology", e))?)
        .bind(actor)
        .bind(now_unix())
        .bind(summary(changes))
        .bind(serde_json::to_string(changes).map_err(|e| AppError::internal("encode changes", e))?)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Refuses an edit of `entity` made from generation `from` when a later generation changed
    /// that same entity; edits of other entities since then are merged, not refused.
    async fn refuse_stale(
        conn: &mut SqliteConnection,
        id: i64,
        from: i64,
        current: i64,
        entity: Option<&str>,
    ) -> Result<(), AppError> {
        if from == current {
            return Ok(());
        }
        if from > current || from < 1 {
            return Err(AppError::Invalid(format!(
                "Generation {from} is not one this gateway has had."
            )));
        }
        let later: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT generation, actor, strftime('%Y-%m-%d %H:%M:%S', at, 'unixepoch'), changes \
             FROM generations WHERE gateway_id = ? AND generation > ? ORDER BY generation",
        )
        .bind(id)
        .bind(from)
        .fetch_all(&mut *conn)
        .await?;
        for (generation, actor, at, changes) in later {
            let changes: Vec<Change> = serde_json::from_str(&changes).unwrap_or_default();
            let touched = match entity {
                Some(entity) => changes.iter().any(|c| c.entity == entity),
                None => true,
            };
            if touched {
                let what = entity.unwrap_or("the topology");
                return Err(AppError::Conflict(format!(
                    "{what} was changed by {actor} at {at} UTC (generation {generation}) after you opened \
                     this form. Nothing was saved: reload to see their change, then edit again."
                )));
            }
        }
        Ok(())
    }

    /// The edit core: one entity changed by `edit` on top of the latest generation.
    /// Returns the new generation (or the current one when nothing changed).
    pub async fn edit(
        pool: &SqlitePool,
        actor: &str,
        gateway: &str,
        from: i64,
        entity: &str,
        action: &str,
        edit: impl FnOnce(&mut Topology) -> Result<(), AppError>,
    ) -> Result<i64, AppError> {
        let mut tx = pool.begin().await?;
        let (id, current, before) = load_in(&mut tx, gateway).await?;
        refuse_stale(&mut tx, id, from, current, Some(entity)).await?;
        let mut after = before.clone();
        edit(&mut after)?;
        let (after, changes) = prepare(&before, after)?;
        commit(
            tx,
            actor,
            gateway,
            id,
            current,
            &before,
            &after,
            &changes,
            action,
            Some(entity),
        )
        .await
    }

    /// Replaces the whole topology (upload, restore, `portico topology apply`).
    pub async fn replace(
        pool: &SqlitePool,
        actor: &str,
        gateway: &str,
        from: Option<i64>,
        topology: Topology,
        action: &str,
        dry_run: bool,
    ) -> Result<Vec<Change>, AppError> {
        let mut tx = pool.begin().await?;
        let (id, current, before) = load_in(&mut tx, gateway).await?;
        if let Some(from) = from {
            refuse_stale(&mut tx, id, from, current, None).await?;
        }
        let (after, changes) = prepare(&before, topology)?;
        if !dry_run {
            commit(
                tx, actor, gateway, id, current, &before, &after, &changes, action, None,
            )
            .await?;
        }
        Ok(changes)
    }

    /// The proposed topology, normalised and validated, and what it changes.
    fn prepare(before: &Topology, after: Topology) -> Result<(Topology, Vec<Change>), AppError> {
        let after = after.normalised();
        validate(&after).map_err(invalid)?;
        let changes = diff(before, &after);
        Ok((after, changes))
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one call site per kind of edit, all named"
    )]
    async fn commit(
        mut tx: sqlx::Transaction<'_, sqlx::Sqlite>,
        actor: &str,
        gateway: &str,
        id: i64,
        current: i64,
        before: &Topology,
        after: &Topology,
        changes: &[Change],
        action: &str,
        entity: Option<&str>,
    ) -> Result<i64, AppError> {
        refuse_deleting(&mut tx, id, gateway).await?;
        if changes.is_empty() {
            return Ok(current);
        }
        let next = current + 1;
        // The guard against a concurrent writer that read the same generation.
        let moved =
            sqlx::query("UPDATE gateways SET generation = ? WHERE id = ? AND generation = ?")
                .bind(next)
                .bind(id)
                .bind(current)
                .execute(&mut *tx)
                .await?;
        if moved.rows_affected() != 1 {
            return Err(AppError::Conflict(
                "Someone saved this gateway at the same moment; nothing was saved, please retry."
                    .into(),
            ));
        }
        insert_generation(&mut tx, id, next, after, actor, changes).await?;
        let (b, a) = (entities(before), entities(after));
        let pick = |m: &std::collections::BTreeMap<String, serde_json::Value>| match entity {
            Some(e) => m.get(e).cloned(),
            None => None,
        };
        let (before_json, after_json) = match entity {
            Some(_) => (pick(&b), pick(&a)),
            None => (None, Some(json!({ "changes": summary(changes) }))),
        };
        let target = format!("{gateway}: {}", entity.unwrap_or("topology"));
        record(
            &mut *tx,
            actor,
            action,
            &target,
            before_json.as_ref(),
            after_json.as_ref(),
        )
        .await?;
        tx.commit().await?;
        Ok(next)
    }
}
