//! Gateways and their generations: the desired topology, one immutable generation per saved
//! edit. The edit core lives here because its checks and its writes must share one transaction:
//! refuse a stale edit of the same entity, refuse edits of a gateway being deleted, validate,
//! store the next generation with its diff, and audit it — all or nothing. The worker's reads
//! and marks on the `gateways` table are here too.

use crate::error::{decode, word};
use crate::sql::{self, Connection};
use crate::{audit, now_unix, Store, StoreError, StoreResult};
use portico_core::health::Health;
use portico_core::model::keys::{format_time, format_timestamp};
use portico_core::model::topology::Topology;
use portico_core::plan::lifecycle::GatewayState;
use serde_json::json;

/// A gateway's latest desired state, as the edit core and the worker read it.
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    pub id: i64,
    pub name: String,
    pub generation: i64,
    pub topology: Topology,
    /// An admin asked to delete it: the worker removes its AWS resources, then the rows.
    pub deleting: bool,
    /// … or to release it: the worker removes Portico's tags from its AWS resources, leaving
    /// them running, then the rows.
    pub releasing: bool,
    /// The latest generation AWS was seen to match.
    pub converged_generation: i64,
    /// Made before installations had ids: resources tagged with its name but no installation
    /// are still its own (and gain the installation's tag).
    pub legacy_tags: bool,
}

#[derive(sqlx::FromRow)]
struct DesiredRecord {
    id: i64,
    name: String,
    generation: i64,
    topology: String,
    deleting_at: Option<i64>,
    converged_generation: i64,
    legacy_tags: bool,
    releasing: bool,
}

impl DesiredRecord {
    /// The gateway, its topology decoded through `db`'s kept values when given one (a page's
    /// read), else afresh (a read inside a write's transaction).
    fn into_desired(self, db: Option<&Store>) -> StoreResult<Desired> {
        Ok(Desired {
            topology: match db {
                Some(db) => db.decoded("topology", &self.topology)?,
                None => decode("topology", &self.topology)?,
            },
            id: self.id,
            name: self.name,
            generation: self.generation,
            deleting: self.deleting_at.is_some(),
            releasing: self.releasing,
            converged_generation: self.converged_generation,
            legacy_tags: self.legacy_tags,
        })
    }
}

/// The latest generation of a gateway, selected by `$filter`.
macro_rules! desired {
    ($filter:literal) => {
        concat!(
            "SELECT g.id, g.name, g.generation, v.topology, g.deleting_at, g.converged_generation, \
             g.legacy_tags, g.releasing \
             FROM gateways g JOIN generations v ON v.gateway_id = g.id AND v.generation = g.generation ",
            $filter
        )
    };
}

/// A gateway by name; `NotFound` when there is none.
pub async fn load(db: &Store, name: &str) -> StoreResult<Desired> {
    let read = || async {
        let mut conn = db.pool.acquire().await?;
        named(&mut conn, name, Some(db)).await
    };
    match &db.memo {
        Some(memo) => memo.gateways.get_or_read(name, read).await,
        None => read().await,
    }
}

/// `load` inside a caller's transaction (`&mut tx`), so what is checked is what is written.
pub(crate) async fn load_in(conn: &mut impl Connection, name: &str) -> StoreResult<Desired> {
    named(conn, name, None).await
}

/// The gateway named `name` on `conn`, decoded through `db`'s kept values when given.
async fn named(conn: &mut impl Connection, name: &str, db: Option<&Store>) -> StoreResult<Desired> {
    let row: Option<DesiredRecord> = sql::query_as(desired!("WHERE g.name = ?"))
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    row.ok_or_else(|| StoreError::NotFound(format!("No gateway named {name:?}.")))?
        .into_desired(db)
}

/// A gateway by id, `None` once it is gone (the worker's tasks outlive a deleted gateway).
pub async fn by_id(db: &Store, id: i64) -> StoreResult<Option<Desired>> {
    let row: Option<DesiredRecord> = sql::query_as(desired!("WHERE g.id = ?"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| r.into_desired(Some(db))).transpose()
}

/// The topology of one generation of a gateway (a plan is drawn and costed over the
/// generation it was made from).
pub async fn snapshot(db: &Store, id: i64, generation: i64) -> StoreResult<Topology> {
    let json: Option<String> = sql::query_scalar(
        "SELECT topology FROM generations WHERE gateway_id = ? AND generation = ?",
    )
    .bind(id)
    .bind(generation)
    .fetch_optional(&db.pool)
    .await?;
    let json = json.ok_or_else(|| {
        StoreError::NotFound(format!("No generation {generation} of this gateway."))
    })?;
    db.decoded("topology", &json)
}

/// A gateway as the overview lists it: its latest generation and what the worker last said.
#[derive(Clone, Debug, PartialEq)]
pub struct Listed {
    pub id: i64,
    pub name: String,
    pub generation: i64,
    pub topology: Topology,
    /// Who saved the latest generation, and when: "2026-11-25 19:40" (UTC).
    pub updated_by: String,
    pub updated_at: String,
    pub deleting: bool,
    /// The worker's word and message; `None` until the worker has looked at the gateway.
    pub state: Option<(GatewayState, String)>,
    /// `None` until the worker has read it.
    pub health: Option<Health>,
}

#[derive(sqlx::FromRow)]
struct ListRecord {
    id: i64,
    name: String,
    generation: i64,
    topology: String,
    actor: String,
    at: i64,
    state: Option<String>,
    message: Option<String>,
    deleting_at: Option<i64>,
    health: Option<String>,
}

/// Every gateway, by name.
pub async fn list(db: &Store) -> StoreResult<Vec<Listed>> {
    listed(db, "ORDER BY g.name", 0, i64::MAX).await
}

/// Worst health first: a gateway's health level as an order, the worst first (`Level`'s own
/// order reversed; not read yet last), ties by name.
const WORST_FIRST: &str =
    "ORDER BY CASE s.health_level WHEN 'Unhealthy' THEN 0 WHEN 'Unknown' THEN 1 \
     WHEN 'Degraded' THEN 2 WHEN 'Pending' THEN 3 WHEN 'Healthy' THEN 4 ELSE 5 END, g.name";

/// One page of the overview: `limit` gateways from `offset` in the worst-first order, and how
/// many there are in all.
pub async fn list_worst_first(
    db: &Store,
    offset: i64,
    limit: i64,
) -> StoreResult<(Vec<Listed>, i64)> {
    let total: i64 = sql::query_scalar("SELECT COUNT(*) FROM gateways")
        .fetch_one(&db.pool)
        .await?;
    Ok((listed(db, WORST_FIRST, offset, limit).await?, total))
}

async fn listed(db: &Store, order: &str, offset: i64, limit: i64) -> StoreResult<Vec<Listed>> {
    let rows: Vec<ListRecord> = sql::query_as(&format!(
        "SELECT g.id, g.name, g.generation, v.topology, v.actor, v.at, s.state, s.message, g.deleting_at, s.health \
         FROM gateways g JOIN generations v ON v.gateway_id = g.id AND v.generation = g.generation \
         LEFT JOIN gateway_status s ON s.gateway_id = g.id {order} LIMIT ? OFFSET ?"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|r| -> StoreResult<Listed> {
            let state = match (r.state, r.message) {
                (Some(state), message) => Some((
                    word::<GatewayState>("gateway state", &state)?,
                    message.unwrap_or_default(),
                )),
                (None, _) => None,
            };
            Ok(Listed {
                id: r.id,
                name: r.name,
                generation: r.generation,
                topology: db.decoded("topology", &r.topology)?,
                updated_by: r.actor,
                updated_at: format_time(r.at),
                deleting: r.deleting_at.is_some(),
                state,
                health: r.health.map(|h| decode("health", &h)).transpose()?,
            })
        })
        .collect()
}

/// One saved generation, as the history lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generation {
    pub generation: i64,
    pub actor: String,
    /// "2026-11-25 19:40:12" (UTC).
    pub at: String,
    /// "~ stage dev: backend_port 8080 → 8081; + route /x".
    pub summary: String,
}

/// The latest 100 generations of a gateway, newest first.
pub async fn history(db: &Store, id: i64) -> StoreResult<Vec<Generation>> {
    let rows: Vec<(i64, String, i64, String)> = sql::query_as(
        "SELECT generation, actor, at, summary \
         FROM generations WHERE gateway_id = ? ORDER BY generation DESC LIMIT 100",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(generation, actor, at, summary)| Generation {
            generation,
            actor,
            at: format_timestamp(at),
            summary,
        })
        .collect())
}

/// Every gateway's name, sorted (to switch between diagrams).
pub async fn names(db: &Store) -> StoreResult<Vec<String>> {
    Ok(sql::query_scalar("SELECT name FROM gateways ORDER BY name")
        .fetch_all(&db.pool)
        .await?)
}

/// The gateway in the worst health (ties by name), leaving out those being deleted: where a
/// viewer lands after signing in. `None` when there is none.
pub async fn worst_health(db: &Store) -> StoreResult<Option<String>> {
    Ok(sql::query_scalar(&format!(
        "SELECT g.name FROM gateways g LEFT JOIN gateway_status s ON s.gateway_id = g.id \
             WHERE g.deleting_at IS NULL {WORST_FIRST} LIMIT 1"
    ))
    .fetch_optional(&db.pool)
    .await?)
}

/// Asks the worker to observe and reconcile a gateway now: the bump moves its change mark.
pub async fn nudge(db: &Store, name: &str) -> StoreResult<()> {
    let done = sql::query("UPDATE gateways SET nudged_at = nudged_at + 1 WHERE name = ?")
        .bind(name)
        .execute(&db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("No gateway named {name:?}.")));
    }
    Ok(())
}

/// One mark per gateway that moves whenever something the worker must act on changes: an
/// edit, a delete, an approval, a nudge, a key issued, rotated or revoked. The worker compares
/// them between polls and wakes the task of each gateway whose mark moved.
pub async fn change_marks(db: &Store) -> StoreResult<Vec<(i64, String)>> {
    Ok(sql::query_as(
        "SELECT g.id, CAST(g.generation AS TEXT) || '/' || COALESCE(CAST(g.deleting_at AS TEXT), '') \
         || '/' || CAST(g.nudged_at AS TEXT) || '/' || \
         COALESCE(CAST((SELECT MAX(approved_at) FROM plans p WHERE p.gateway_id = g.id) AS TEXT), '') \
         || '/' || \
         COALESCE((SELECT CAST(MAX(id) AS TEXT) || '-' || CAST(COUNT(revoked_at) AS TEXT) || '-' \
                   || CAST(COUNT(replaced_at) AS TEXT) \
                   FROM api_keys k WHERE k.gateway_id = g.id), '') FROM gateways g",
    )
    .fetch_all(&db.pool)
    .await?)
}

/// AWS matched `generation`; a mark never moves backwards (a slow run finishing late).
pub async fn mark_converged(db: &Store, id: i64, generation: i64) -> StoreResult<()> {
    sql::query(
        "UPDATE gateways SET converged_generation = ? WHERE id = ? AND converged_generation < ?",
    )
    .bind(generation)
    .bind(id)
    .bind(generation)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Everything the gateway owns carries this installation's tag: it stops claiming resources
/// tagged with its name alone.
pub async fn tags_current(db: &Store, id: i64) -> StoreResult<()> {
    sql::query("UPDATE gateways SET legacy_tags = FALSE WHERE id = ?")
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The finalizer's last step, once AWS holds nothing of the gateway: its rows go (generations,
/// plans, status and keys cascade). Only a gateway an admin asked to delete is removed.
pub async fn remove(db: &Store, id: i64) -> StoreResult<()> {
    sql::query("DELETE FROM gateways WHERE id = ? AND deleting_at IS NOT NULL")
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// What becomes of a gateway's AWS resources when it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    /// Deleted from AWS.
    FromAws,
    /// Left running in AWS without Portico's tags ("release").
    Release,
}

/// Marks a gateway for deletion or release (admins only; the caller checked). Nothing is in AWS
/// before the worker applies a plan, so the rows are all there is at first; the worker's
/// finalizer removes what the gateway owns in AWS (in reverse order) or only its tags, then
/// the rows.
pub async fn delete(db: &Store, actor: &str, name: &str, removal: Removal) -> StoreResult<()> {
    let mut tx = db.write().await?;
    let g = load_in(&mut tx, name).await?;
    refuse_deleting(&mut tx, g.id, name).await?;
    let release = removal == Removal::Release;
    sql::query("UPDATE gateways SET deleting_at = ?, deleting_by = ?, releasing = ? WHERE id = ?")
        .bind(now_unix())
        .bind(actor)
        .bind(release)
        .bind(g.id)
        .execute(&mut tx)
        .await?;
    let before = json!({ "generation": g.generation, "topology": g.topology });
    let action = if release {
        "gateway.release"
    } else {
        "gateway.delete"
    };
    audit::record(&mut tx, actor, action, name, Some(&before), None).await?;
    tx.commit().await?;
    Ok(())
}

/// A gateway being deleted takes no more edits (nor new keys): `Conflict` naming who deletes it.
pub(crate) async fn refuse_deleting(
    conn: &mut impl Connection,
    id: i64,
    name: &str,
) -> StoreResult<()> {
    let by: Option<Option<String>> = sql::query_scalar(
        "SELECT deleting_by FROM gateways WHERE id = ? AND deleting_at IS NOT NULL",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    match by {
        Some(by) => Err(StoreError::Conflict(format!(
            "Gateway {name} is being deleted (by {}): Portico is removing its AWS resources. \
             Nothing was saved.",
            by.unwrap_or_else(|| "an admin".into())
        ))),
        None => Ok(()),
    }
}

mod adopt;
mod edit;
pub use adopt::{adopt, AdoptedKey, ADOPTED_OWNER};
pub use edit::{create, edit, replace, replace_as, Settings};

#[cfg(test)]
mod tests;
