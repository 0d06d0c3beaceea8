//! The edit core: every change of a gateway's desired topology — a new gateway, a form's
//! edit of one entity, a whole file or an old generation put back — validated, checked
//! against what was saved meanwhile, stored as the next generation and audited, in one write
//! transaction.

use super::{load_in, refuse_deleting, Desired};
use crate::error::{encode, OnUnique};
use crate::sql::{self, Connection};
use crate::{audit, now_unix, Store, StoreError, StoreResult, Tx};
use portico_core::model::diff::{diff, entities, summary, Change, ChangeKind};
use portico_core::model::keys::format_timestamp;
use portico_core::model::topology::Topology;
use portico_core::model::validate::{validate, Problem};
use serde_json::json;

pub(super) fn invalid(problems: Vec<Problem>) -> StoreError {
    StoreError::Invalid(
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// A new gateway from a topology, as generation 1 (with `dry_run`, only what it would add).
pub async fn create(
    db: &Store,
    actor: &str,
    topology: Topology,
    dry_run: bool,
) -> StoreResult<Vec<Change>> {
    let mut topology = topology.normalised();
    // Only `portico adopt` records adopted resources (`gateways::adopt`).
    topology.gateway.adopted = None;
    validate(&topology).map_err(invalid)?;
    let empty = Topology::new(topology.gateway.clone());
    let mut changes = diff(&empty, &topology);
    changes.insert(
        0,
        Change {
            entity: "gateway".into(),
            kind: ChangeKind::Added,
            fields: vec![],
        },
    );
    if dry_run {
        return Ok(changes);
    }
    let mut tx = db.write().await?;
    insert_gateway(&mut tx, actor, &topology, &changes).await?;
    let after = json!({ "generation": 1, "topology": topology });
    let name = &topology.gateway.name;
    audit::record(&mut tx, actor, "gateway.create", name, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(changes)
}

/// A gateway row and its generation 1.
pub(super) async fn insert_gateway(
    conn: &mut impl Connection,
    actor: &str,
    topology: &Topology,
    changes: &[Change],
) -> StoreResult<i64> {
    let name = topology.gateway.name.clone();
    let id: i64 = sql::query_scalar(
        "INSERT INTO gateways (name, generation, created_at, created_by) VALUES (?, 1, ?, ?) \
         RETURNING id",
    )
    .bind(&name)
    .bind(now_unix())
    .bind(actor)
    .fetch_one(&mut *conn)
    .await
    .on_unique(|| format!("A gateway named {name:?} already exists."))?;
    insert_generation(conn, id, 1, topology, actor, changes).await?;
    Ok(id)
}

async fn insert_generation(
    conn: &mut impl Connection,
    id: i64,
    generation: i64,
    topology: &Topology,
    actor: &str,
    changes: &[Change],
) -> StoreResult<()> {
    sql::query(
        "INSERT INTO generations (gateway_id, generation, topology, actor, at, summary, changes) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(generation)
    .bind(encode("topology", topology)?)
    .bind(actor)
    .bind(now_unix())
    .bind(summary(changes))
    .bind(encode("changes", &changes)?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Refuses an edit of `entity` made from generation `from` when a later generation changed
/// that same entity; edits of other entities since then are merged, not refused. `None`
/// stands for the whole topology: any later generation refuses it.
async fn refuse_stale(
    conn: &mut impl Connection,
    id: i64,
    from: i64,
    current: i64,
    entity: Option<&str>,
) -> StoreResult<()> {
    if from == current {
        return Ok(());
    }
    if from > current || from < 1 {
        return Err(StoreError::Invalid(format!(
            "Generation {from} is not one this gateway has had."
        )));
    }
    let later: Vec<(i64, String, i64, String)> = sql::query_as(
        "SELECT generation, actor, at, changes \
         FROM generations WHERE gateway_id = ? AND generation > ? ORDER BY generation",
    )
    .bind(id)
    .bind(from)
    .fetch_all(&mut *conn)
    .await?;
    for (generation, actor, at, changes) in later {
        // A diff an older Portico stored in another shape names no entity: it refuses only
        // whole-topology edits, as any later generation does.
        let changes: Vec<Change> = serde_json::from_str(&changes).unwrap_or_default();
        let touched = match entity {
            Some(entity) => changes.iter().any(|c| c.entity == entity),
            None => true,
        };
        if touched {
            let what = entity.unwrap_or("the topology");
            return Err(StoreError::Conflict(format!(
                "{what} was changed by {actor} at {} UTC (generation {generation}) after you opened \
                 this form. Nothing was saved: reload to see their change, then edit again.",
                format_timestamp(at)
            )));
        }
    }
    Ok(())
}

/// The edit core: one entity (`"port 8080"`, `"stage dev"` …, as the diff names them) changed
/// by `change` on top of the latest generation, from a form opened at generation `from`.
/// Returns the new generation (or the current one when nothing changed).
///
/// `change` runs inside the write transaction, on the topology as stored now, so its own checks
/// (a port still in use, a name taken) see what is saved; its error comes back unchanged,
/// which is why the error type is the caller's.
pub async fn edit<E: From<StoreError>>(
    db: &Store,
    actor: &str,
    gateway: &str,
    from: i64,
    entity: &str,
    action: &str,
    change: impl FnOnce(&mut Topology) -> Result<(), E>,
) -> Result<i64, E> {
    let mut tx = db.write().await?;
    let current = load_in(&mut tx, gateway).await?;
    refuse_stale(&mut tx, current.id, from, current.generation, Some(entity)).await?;
    let mut after = current.topology.clone();
    change(&mut after)?;
    let (after, changes) = prepare(&current.topology, after)?;
    refuse_moving(&mut tx, &current, &after).await?;
    Ok(commit(tx, actor, &current, &after, &changes, action, Some(entity)).await?)
}

/// Replaces the whole topology (upload, restore, `portico topology apply`) for someone who may
/// also change the gateway's settings (an admin, the CLI); `from`, when given, refuses it if
/// anything changed since. Returns what changes (with `dry_run`, what would).
pub async fn replace(
    db: &Store,
    actor: &str,
    gateway: &str,
    from: Option<i64>,
    topology: Topology,
    action: &str,
    dry_run: bool,
) -> StoreResult<Vec<Change>> {
    let settings = Settings::MayChange;
    replace_as(
        db, actor, gateway, from, topology, action, dry_run, settings,
    )
    .await
}

/// Who is replacing the topology, as far as the gateway's own settings go (region, VPC,
/// subnets, endpoint, role, apply and drift mode): an admin or the CLI may change them; an
/// editor's file or restored generation whose `gateway` section differs is refused, since
/// `save_settings` is an admin's too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settings {
    MayChange,
    Keep,
}

/// `replace`, with the settings rule of whoever asks.
#[expect(
    clippy::too_many_arguments,
    reason = "every argument is named at each call; a struct would only rename them"
)]
pub async fn replace_as(
    db: &Store,
    actor: &str,
    gateway: &str,
    from: Option<i64>,
    topology: Topology,
    action: &str,
    dry_run: bool,
    settings: Settings,
) -> StoreResult<Vec<Change>> {
    // A dry run only reads: a deferred transaction never upgrades to a write, so it cannot
    // fail the way a read-then-write one can, and it does not queue behind the worker.
    let mut tx: Tx = if dry_run {
        db.pool.begin_read().await?
    } else {
        db.write().await?
    };
    let current = load_in(&mut tx, gateway).await?;
    if let Some(from) = from {
        refuse_stale(&mut tx, current.id, from, current.generation, None).await?;
    }
    let (after, changes) = prepare(&current.topology, topology)?;
    if settings == Settings::Keep && after.gateway != current.topology.gateway {
        let fields: Vec<&str> = changes
            .iter()
            .filter(|c| c.entity == "gateway")
            .flat_map(|c| c.fields.iter().map(|f| f.field.as_str()))
            .collect();
        return Err(StoreError::Forbidden(format!(
            "Only an admin can change the gateway's settings ({}); your role can change ports, \
             stages, routes and usage plans. Nothing was saved.",
            if fields.is_empty() {
                "region, VPC, subnets, endpoint, role, apply and drift mode".to_owned()
            } else {
                fields.join(", ")
            }
        )));
    }
    refuse_moving(&mut tx, &current, &after).await?;
    if !dry_run {
        commit(tx, actor, &current, &after, &changes, action, None).await?;
    }
    Ok(changes)
}

/// The proposed topology, normalised and validated, and what it changes. What the gateway was
/// adopted with is a fact about AWS, not a setting: it is carried from the generation before,
/// whatever a form, a file or an old generation says.
fn prepare(before: &Topology, after: Topology) -> StoreResult<(Topology, Vec<Change>)> {
    let mut after = after.normalised();
    after.gateway.adopted = before.gateway.adopted.clone();
    validate(&after).map_err(invalid)?;
    let changes = diff(before, &after);
    Ok((after, changes))
}

/// Stores `after` as the next generation and audits it, unless nothing changed. The audit
/// entry of a one-entity edit holds that entity before and after; a whole-topology one, the
/// summary of its changes.
/// A gateway's region and account (its role) stay what they were once Portico may have built
/// something there: moving would leave the old NLB billing, the old API serving and its keys
/// beyond revoking. Deleting the gateway removes what it built; create it again elsewhere.
async fn refuse_moving(
    conn: &mut impl Connection,
    current: &Desired,
    after: &Topology,
) -> StoreResult<()> {
    let (before, now) = (&current.topology.gateway, &after.gateway);
    if before.region == now.region && before.role_arn == now.role_arn {
        return Ok(());
    }
    let built: bool = sql::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM plans WHERE gateway_id = ? AND started_at IS NOT NULL)",
    )
    .bind(current.id)
    .fetch_one(&mut *conn)
    .await?;
    if !built {
        return Ok(());
    }
    let account = |role: &Option<String>| match role {
        Some(r) => format!("the account of {r}"),
        None => "Portico's own account".into(),
    };
    Err(StoreError::Conflict(format!(
        "Gateway {} may already have resources in {} in {}: moving it to {} in {} would leave \
         them running and billing. Delete the gateway (Portico removes what it built), then \
         create it again there. Nothing was saved.",
        current.name,
        before.region,
        account(&before.role_arn),
        now.region,
        account(&now.role_arn)
    )))
}

async fn commit(
    mut tx: Tx,
    actor: &str,
    current: &Desired,
    after: &Topology,
    changes: &[Change],
    action: &str,
    entity: Option<&str>,
) -> StoreResult<i64> {
    refuse_deleting(&mut tx, current.id, &current.name).await?;
    if changes.is_empty() {
        return Ok(current.generation);
    }
    let next = current.generation + 1;
    // The guard against a concurrent writer that read the same generation.
    let moved = sql::query("UPDATE gateways SET generation = ? WHERE id = ? AND generation = ?")
        .bind(next)
        .bind(current.id)
        .bind(current.generation)
        .execute(&mut tx)
        .await?;
    if moved.rows_affected() != 1 {
        return Err(StoreError::Conflict(
            "Someone saved this gateway at the same moment; nothing was saved, please retry."
                .into(),
        ));
    }
    insert_generation(&mut tx, current.id, next, after, actor, changes).await?;
    let (before_json, after_json) = match entity {
        Some(e) => (
            entities(&current.topology).get(e).cloned(),
            entities(after).get(e).cloned(),
        ),
        None => (None, Some(json!({ "changes": summary(changes) }))),
    };
    let target = format!("{}: {}", current.name, entity.unwrap_or("topology"));
    audit::record(
        &mut tx,
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
