//! Storing an adoption (`portico adopt`): a hand-built setup taken over as a gateway's first
//! generation — the topology that says what AWS holds, with the adopted resources' ids and
//! names — and the API keys clients already use, by AWS id (their values are never read),
//! all in one write transaction.

use super::edit::{insert_gateway, invalid};
use crate::error::encode;
use crate::sql::{self, Connection};
use crate::{audit, now_unix, Store, StoreError, StoreResult};
use portico_core::model::diff::{diff, Change, ChangeKind};
use portico_core::model::topology::Topology;
use portico_core::model::validate::validate;
use serde_json::json;

/// An API key found in the adopted usage plans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdoptedKey {
    pub aws_id: String,
    pub name: String,
    pub enabled: bool,
    /// The topology's usage plan names it is in.
    pub usage_plans: Vec<String>,
}

/// The owner recorded for adopted keys: they were issued before Portico, by someone it does
/// not know.
pub const ADOPTED_OWNER: &str = "adopted";

/// A resource or key another gateway adopted (or a key another gateway recorded) is not
/// adopted again: two gateways owning one resource by id would each plan around the other.
async fn refuse_adopted_twice(
    conn: &mut impl Connection,
    topology: &Topology,
    keys: &[AdoptedKey],
) -> StoreResult<()> {
    let ids: std::collections::BTreeSet<&str> = topology
        .gateway
        .adopted
        .iter()
        .flat_map(|a| a.ids())
        .collect();
    let others: Vec<(String, String)> = sql::query_as(
        "SELECT g.name, v.topology FROM gateways g \
         JOIN generations v ON v.gateway_id = g.id AND v.generation = g.generation",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (name, text) in others {
        let other: Topology = crate::error::decode("topology", &text)?;
        let taken = other
            .gateway
            .adopted
            .iter()
            .flat_map(|a| a.ids())
            .find(|id| ids.contains(id))
            .map(str::to_owned);
        if let Some(id) = taken {
            return Err(StoreError::Conflict(format!(
                "{id} was already adopted by gateway {name}. Nothing was stored."
            )));
        }
    }
    for k in keys {
        let holder: Option<String> = sql::query_scalar(
            "SELECT g.name FROM api_keys k JOIN gateways g ON g.id = k.gateway_id \
             WHERE k.aws_id = ? AND k.deleted_at IS NULL",
        )
        .bind(&k.aws_id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(name) = holder {
            return Err(StoreError::Conflict(format!(
                "API key {} ({}) is already gateway {name}'s. Nothing was stored.",
                k.name, k.aws_id
            )));
        }
    }
    Ok(())
}

/// Stores gateway `topology` (which records what it adopts) with its keys. Returns the
/// gateway's id.
pub async fn adopt(
    db: &Store,
    actor: &str,
    topology: Topology,
    keys: &[AdoptedKey],
) -> StoreResult<i64> {
    let topology = topology.normalised();
    if topology.gateway.adopted.is_none() {
        return Err(StoreError::Invalid(
            "An adoption records the resources it adopts.".into(),
        ));
    }
    validate(&topology).map_err(invalid)?;
    for k in keys {
        if let Some(p) = k
            .usage_plans
            .iter()
            .find(|p| !topology.usage_plans.iter().any(|u| u.name == **p))
        {
            return Err(StoreError::Invalid(format!(
                "Key {} is in usage plan {p}, which the topology does not have.",
                k.name
            )));
        }
    }
    let mut changes = diff(&Topology::new(topology.gateway.clone()), &topology);
    changes.insert(
        0,
        Change {
            entity: "gateway".into(),
            kind: ChangeKind::Added,
            fields: vec![],
        },
    );
    let now = now_unix();
    let mut tx = db.write().await?;
    refuse_adopted_twice(&mut tx, &topology, keys).await?;
    let id = insert_gateway(&mut tx, actor, &topology, &changes).await?;
    for k in keys {
        // Marked as shown: the value is AWS's and the team's, never Portico's to reveal.
        sql::query(
            "INSERT INTO api_keys (gateway_id, name, owner, description, plans, enabled, \
             created_by, created_at, aws_id, revealed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(&k.name)
        .bind(ADOPTED_OWNER)
        .bind(format!(
            "Made before Portico (AWS id {}), adopted with the gateway; its value is never read.",
            k.aws_id
        ))
        .bind(encode("key plans", &k.usage_plans)?)
        .bind(k.enabled)
        .bind(actor)
        .bind(now)
        .bind(&k.aws_id)
        .bind(now)
        .execute(&mut tx)
        .await?;
    }
    let after = json!({
        "generation": 1,
        "topology": topology,
        "keys": keys.iter().map(|k| json!({ "name": k.name, "aws_id": k.aws_id })).collect::<Vec<_>>(),
    });
    let name = &topology.gateway.name;
    audit::record(&mut tx, actor, "gateway.adopt", name, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(id)
}
