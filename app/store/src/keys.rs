//! API keys' metadata, never their values: AWS generates a key's value, the issuing admin sees
//! it once (read from AWS straight into that response), and Portico keeps AWS's id and the
//! value's last four characters. Admins issue, rotate and revoke here; the worker reads what
//! it should make and records what it made.

use crate::error::{decode, encode};
use crate::sql;
use crate::{audit, Store, StoreError, StoreResult};
use portico_core::alerts::Kind;
use portico_core::model::keys::{KeyDates, REVOKED_KEPT_SECONDS};
use portico_core::plan::actual::Actual;
use portico_core::plan::keys::DesiredKey;
use serde_json::json;

/// A key's row: who holds it, what it reaches, and the dates that decide whether it works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    pub id: i64,
    pub name: String,
    pub owner: String,
    pub description: String,
    /// Usage-plan names (of the gateway's topology).
    pub usage_plans: Vec<String>,
    /// The admin's switch.
    pub enabled: bool,
    pub expires_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    /// AWS's id, once the worker made the key.
    pub aws_id: Option<String>,
    /// The value's last four characters, once known.
    pub hint: Option<String>,
    /// When the value was shown to its issuer (it is shown once).
    pub revealed_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
    /// A revoked key is deleted from AWS from then.
    pub delete_after: Option<i64>,
    /// The key this one replaced by a rotation.
    pub rotated_from: Option<i64>,
    /// When a rotation replaced this key …
    pub replaced_at: Option<i64>,
    /// … and when it stops working (the end of the grace period).
    pub disable_at: Option<i64>,
    /// Gone from AWS; the row stays for the record.
    pub deleted_at: Option<i64>,
}

impl KeyRecord {
    /// The dates and switches that decide the key's status and whether it works.
    pub fn dates(&self) -> KeyDates {
        KeyDates {
            enabled: self.enabled,
            created_in_aws: self.aws_id.is_some(),
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            disable_at: self.disable_at,
            deleted_at: self.deleted_at,
        }
    }
}

/// A key to issue, already checked against the rules and the gateway's usage plans.
#[derive(Clone, Debug)]
pub struct NewKey {
    pub name: String,
    pub owner: String,
    pub description: String,
    pub usage_plans: Vec<String>,
    /// The expiry as the admin wrote it (`YYYY-MM-DD`), for the audit …
    pub expires: Option<String>,
    /// … and as the unix time it stands for.
    pub expires_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    owner: String,
    description: String,
    plans: String,
    enabled: bool,
    expires_at: Option<i64>,
    created_by: String,
    created_at: i64,
    aws_id: Option<String>,
    hint: Option<String>,
    revealed_at: Option<i64>,
    revoked_at: Option<i64>,
    revoked_by: Option<String>,
    delete_after: Option<i64>,
    rotated_from: Option<i64>,
    replaced_at: Option<i64>,
    disable_at: Option<i64>,
    deleted_at: Option<i64>,
}

impl Row {
    fn typed(self) -> StoreResult<KeyRecord> {
        Ok(KeyRecord {
            usage_plans: decode("key plans", &self.plans)?,
            id: self.id,
            name: self.name,
            owner: self.owner,
            description: self.description,
            enabled: self.enabled,
            expires_at: self.expires_at,
            created_by: self.created_by,
            created_at: self.created_at,
            aws_id: self.aws_id,
            hint: self.hint,
            revealed_at: self.revealed_at,
            revoked_at: self.revoked_at,
            revoked_by: self.revoked_by,
            delete_after: self.delete_after,
            rotated_from: self.rotated_from,
            replaced_at: self.replaced_at,
            disable_at: self.disable_at,
            deleted_at: self.deleted_at,
        })
    }
}

const COLUMNS: &str = "id, name, owner, description, plans, enabled, expires_at, created_by, created_at, \
    aws_id, hint, revealed_at, revoked_at, revoked_by, delete_after, rotated_from, replaced_at, disable_at, deleted_at";

async fn fetch<'e>(
    exec: impl crate::sql::Exec<'e>,
    gateway: i64,
    key: i64,
) -> StoreResult<KeyRecord> {
    let row: Option<Row> = sql::query_as(&format!(
        "SELECT {COLUMNS} FROM api_keys WHERE id = ? AND gateway_id = ?"
    ))
    .bind(key)
    .bind(gateway)
    .fetch_optional(exec)
    .await?;
    row.ok_or_else(|| StoreError::NotFound(format!("No API key {key} in this gateway.")))?
        .typed()
}

/// One key of a gateway (by the gateway's id).
pub async fn get(db: &Store, gateway: i64, key: i64) -> StoreResult<KeyRecord> {
    fetch(&db.pool, gateway, key).await
}

/// A gateway's keys, newest first, deleted ones included (the page keeps the record).
pub async fn list(db: &Store, gateway: i64) -> StoreResult<Vec<KeyRecord>> {
    let rows: Vec<Row> = sql::query_as(&format!(
        "SELECT {COLUMNS} FROM api_keys WHERE gateway_id = ? ORDER BY id DESC"
    ))
    .bind(gateway)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(Row::typed).collect()
}

/// Keys that still hold a place in AWS: neither revoked nor deleted (the diagram counts them).
pub async fn live_count(db: &Store, gateway: i64) -> StoreResult<i64> {
    Ok(sql::query_scalar(
        "SELECT COUNT(*) FROM api_keys WHERE gateway_id = ? AND revoked_at IS NULL AND deleted_at IS NULL",
    )
    .bind(gateway)
    .fetch_one(&db.pool)
    .await?)
}

/// Whether the gateway ever had a key (revoked and deleted ones count): one that never had
/// any can own no key in AWS, so observing it skips the account's key listing.
pub async fn any(db: &Store, gateway: i64) -> StoreResult<bool> {
    Ok(
        sql::query_scalar("SELECT EXISTS (SELECT 1 FROM api_keys WHERE gateway_id = ?)")
            .bind(gateway)
            .fetch_one(&db.pool)
            .await?,
    )
}

/// The AWS keys the gateway's key rows recorded (`(Portico's id, AWS's id)`), not yet deleted:
/// the gateway's own even before they carry its tags (an adopted key).
pub async fn recorded(db: &Store, gateway: i64) -> StoreResult<Vec<(i64, String)>> {
    Ok(sql::query_as(
        "SELECT id, aws_id FROM api_keys \
         WHERE gateway_id = ? AND aws_id IS NOT NULL AND deleted_at IS NULL ORDER BY id",
    )
    .bind(gateway)
    .fetch_all(&db.pool)
    .await?)
}

/// Stores a new key for the worker to make, and audits it. Writes take the gateway's name:
/// the audit and the "being deleted" refusal say it.
pub async fn issue(
    db: &Store,
    actor: &str,
    gateway: &str,
    key: &NewKey,
    now: i64,
) -> StoreResult<i64> {
    let gateway_id = crate::gateways::load(db, gateway).await?.id;
    let mut tx = db.write().await?;
    crate::gateways::refuse_deleting(&mut tx, gateway_id, gateway).await?;
    let id: i64 = sql::query_scalar(
        "INSERT INTO api_keys (gateway_id, name, owner, description, plans, enabled, expires_at, created_by, created_at) \
         VALUES (?, ?, ?, ?, ?, TRUE, ?, ?, ?) RETURNING id",
    )
    .bind(gateway_id)
    .bind(&key.name)
    .bind(&key.owner)
    .bind(&key.description)
    .bind(encode("key plans", &key.usage_plans)?)
    .bind(key.expires_at)
    .bind(actor)
    .bind(now)
    .fetch_one(&mut tx)
    .await?;
    let after =
        json!({ "owner": key.owner, "usage_plans": key.usage_plans, "expires": key.expires });
    audit::record(
        &mut tx,
        actor,
        "key.issue",
        &format!("{gateway}: key {} ({id})", key.name),
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A revoked key, or one a rotation already replaced, takes no more rotations.
fn refuse_if_ended(k: &KeyRecord, what: &str) -> StoreResult<()> {
    if k.revoked_at.is_some() {
        return Err(StoreError::Conflict(format!(
            "Key {} is revoked; it can't be {what}.",
            k.name
        )));
    }
    if k.replaced_at.is_some() {
        return Err(StoreError::Conflict(format!(
            "Key {} was already replaced by a rotation; act on its new key.",
            k.name
        )));
    }
    Ok(())
}

/// Replaces `key` by a new key with the same name, owner, plans and expiry; the old one keeps
/// working for `grace_seconds`. Returns the new key's id.
pub async fn rotate(
    db: &Store,
    actor: &str,
    gateway: &str,
    key: i64,
    grace_seconds: i64,
    now: i64,
) -> StoreResult<i64> {
    let gateway_id = crate::gateways::load(db, gateway).await?.id;
    let mut tx = db.write().await?;
    let old = fetch(&mut tx, gateway_id, key).await?;
    refuse_if_ended(&old, "rotated")?;
    crate::gateways::refuse_deleting(&mut tx, gateway_id, gateway).await?;
    let moved = sql::query(
        "UPDATE api_keys SET replaced_at = ?, disable_at = ? WHERE id = ? AND replaced_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(now + grace_seconds)
    .bind(key)
    .execute(&mut tx)
    .await?;
    if moved.rows_affected() != 1 {
        return Err(StoreError::Conflict(format!(
            "Key {} changed meanwhile; reload and try again.",
            old.name
        )));
    }
    let id: i64 = sql::query_scalar(
        "INSERT INTO api_keys (gateway_id, name, owner, description, plans, enabled, expires_at, created_by, created_at, rotated_from) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(gateway_id)
    .bind(&old.name)
    .bind(&old.owner)
    .bind(&old.description)
    .bind(encode("key plans", &old.usage_plans)?)
    .bind(old.enabled)
    .bind(old.expires_at)
    .bind(actor)
    .bind(now)
    .bind(key)
    .fetch_one(&mut tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "key.rotate",
        &format!("{gateway}: key {} ({key} → {id})", old.name),
        None,
        Some(&json!({ "grace_hours": grace_seconds / 3600 })),
    )
    .await?;
    let text = format!(
        "API key {} of gateway {gateway} was rotated by {actor}: the old value works for {} more hour(s).",
        old.name,
        grace_seconds / 3600
    );
    let event = format!("key:{key}:rotated");
    crate::alerts::emit(&mut tx, gateway_id, Kind::KeyChanged, &event, &text).await?;
    tx.commit().await?;
    Ok(id)
}

/// Disables the key at once; the worker deletes it from AWS `REVOKED_KEPT_SECONDS` later.
pub async fn revoke(db: &Store, actor: &str, gateway: &str, key: i64, now: i64) -> StoreResult<()> {
    let gateway_id = crate::gateways::load(db, gateway).await?.id;
    let mut tx = db.write().await?;
    let old = fetch(&mut tx, gateway_id, key).await?;
    if old.revoked_at.is_some() {
        return Err(StoreError::Conflict(format!(
            "Key {} is already revoked.",
            old.name
        )));
    }
    sql::query(
        "UPDATE api_keys SET revoked_at = ?, revoked_by = ?, delete_after = ? WHERE id = ? AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(actor)
    .bind(now + REVOKED_KEPT_SECONDS)
    .bind(key)
    .execute(&mut tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "key.revoke",
        &format!("{gateway}: key {} ({key})", old.name),
        None,
        None,
    )
    .await?;
    let text = format!(
        "API key {} of gateway {gateway} was revoked by {actor}: it stops working now.",
        old.name
    );
    let event = format!("key:{key}:revoked");
    crate::alerts::emit(&mut tx, gateway_id, Kind::KeyChanged, &event, &text).await?;
    tx.commit().await?;
    Ok(())
}

/// Claims the one showing of a key's value; false when it was claimed before (another tab).
pub async fn claim_reveal(db: &Store, key: i64, now: i64) -> StoreResult<bool> {
    let claimed =
        sql::query("UPDATE api_keys SET revealed_at = ? WHERE id = ? AND revealed_at IS NULL")
            .bind(now)
            .bind(key)
            .execute(&db.pool)
            .await?;
    Ok(claimed.rows_affected() == 1)
}

/// The value could not be read after all: the key stays showable.
pub async fn release_reveal(db: &Store, key: i64) -> StoreResult<()> {
    sql::query("UPDATE api_keys SET revealed_at = NULL WHERE id = ?")
        .bind(key)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The value was shown: keep its last four characters, and audit the showing (not the value).
pub async fn record_reveal(
    db: &Store,
    actor: &str,
    gateway: &str,
    key: &KeyRecord,
    hint: &str,
) -> StoreResult<()> {
    let mut tx = db.write().await?;
    sql::query("UPDATE api_keys SET hint = ? WHERE id = ?")
        .bind(hint)
        .bind(key.id)
        .execute(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "key.reveal",
        &format!("{gateway}: key {} ({})", key.name, key.id),
        None,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The keys as the worker wants them `now`: the admin's switch, revocation, expiry and a
/// rotation's grace period applied (the planner has no clock). A revoked key past its
/// deletion time is not wanted at all, so the planner deletes it from AWS.
pub async fn desired_keys(db: &Store, gateway: i64, now: i64) -> StoreResult<Vec<DesiredKey>> {
    let rows: Vec<Row> = sql::query_as(&format!(
        "SELECT {COLUMNS} FROM api_keys WHERE gateway_id = ? AND deleted_at IS NULL ORDER BY id"
    ))
    .bind(gateway)
    .fetch_all(&db.pool)
    .await?;
    let mut keys = vec![];
    for row in rows {
        let k = row.typed()?;
        if k.revoked_at.is_some() && k.delete_after.is_some_and(|d| now >= d) {
            continue;
        }
        keys.push(DesiredKey {
            enabled: k.dates().enabled_at(now),
            id: k.id,
            name: k.name,
            description: k.description,
            usage_plans: k.usage_plans,
            aws_id: k.aws_id,
        });
    }
    Ok(keys)
}

/// The next moment a key changes by the clock (expiry, end of a grace period, deletion of a
/// revoked key), so the worker looks again then.
pub async fn next_key_deadline(db: &Store, gateway: i64, now: i64) -> StoreResult<Option<i64>> {
    Ok(sql::query_scalar(
        "SELECT MIN(t) FROM (SELECT expires_at AS t FROM api_keys WHERE gateway_id = ?1 AND deleted_at IS NULL \
         UNION ALL SELECT disable_at FROM api_keys WHERE gateway_id = ?1 AND deleted_at IS NULL \
         UNION ALL SELECT delete_after FROM api_keys WHERE gateway_id = ?1 AND deleted_at IS NULL) AS deadlines \
         WHERE t > ?2",
    )
    .bind(gateway)
    .bind(now)
    .fetch_one(&db.pool)
    .await?)
}

/// A key the worker made: AWS's id and the value's last four characters.
pub async fn key_created(
    db: &Store,
    key: i64,
    aws_id: &str,
    hint: Option<&str>,
) -> StoreResult<()> {
    sql::query("UPDATE api_keys SET aws_id = ?, hint = COALESCE(?, hint) WHERE id = ?")
        .bind(aws_id)
        .bind(hint)
        .bind(key)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// After observing: ids of keys made by a run cut off before it recorded them, and revoked keys
/// AWS no longer holds marked deleted.
pub async fn sync_keys(db: &Store, gateway: i64, actual: &Actual, now: i64) -> StoreResult<()> {
    let mut tx = db.write().await?;
    for (key, k) in &actual.api_keys {
        sql::query(
            "UPDATE api_keys SET aws_id = ? WHERE id = ? AND gateway_id = ? AND aws_id IS NULL",
        )
        .bind(&k.id)
        .bind(key)
        .bind(gateway)
        .execute(&mut tx)
        .await?;
    }
    let gone: Vec<i64> = sql::query_scalar(
        "SELECT id FROM api_keys WHERE gateway_id = ? AND deleted_at IS NULL AND revoked_at IS NOT NULL \
         AND delete_after <= ?",
    )
    .bind(gateway)
    .bind(now)
    .fetch_all(&mut tx)
    .await?;
    for id in gone {
        if !actual.api_keys.contains_key(&id) {
            sql::query("UPDATE api_keys SET deleted_at = ? WHERE id = ?")
                .bind(now)
                .bind(id)
                .execute(&mut tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use portico_core::plan::actual::ApiKey;

    /// A gateway row and keys in every state, written directly (the issue path needs a
    /// topology; these functions only read the key rows).
    async fn seeded() -> (crate::testing::Held, Store) {
        let (dir, db) = crate::testing::store().await;
        sql::query(
            "INSERT INTO gateways (id, name, generation, created_at, created_by) VALUES (1, 'g', 1, 0, 't')",
        )
        .execute(&db.pool)
        .await
        .unwrap();
        /// id, expires_at, revoked_at, delete_after, disable_at
        type Row = (i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
        let keys: [Row; 5] = [
            (1, None, None, None, None),
            (2, Some(100), None, None, None),
            (3, None, Some(50), Some(150), None),
            (4, None, Some(50), Some(90), None),
            (5, None, None, None, Some(120)),
        ];
        for (id, expires_at, revoked_at, delete_after, disable_at) in keys {
            sql::query(
                "INSERT INTO api_keys (id, gateway_id, name, owner, plans, enabled, expires_at, created_by, \
                 created_at, revoked_at, delete_after, disable_at) VALUES (?, 1, 'k', 'o', '[\"p\"]', TRUE, ?, 't', 0, ?, ?, ?)",
            )
            .bind(id)
            .bind(expires_at)
            .bind(revoked_at)
            .bind(delete_after)
            .bind(disable_at)
            .execute(&db.pool)
            .await
            .unwrap();
        }
        (dir, db)
    }

    #[tokio::test]
    async fn the_worker_wants_each_key_as_the_clock_says() {
        let (_dir, db) = seeded().await;
        let wanted: Vec<(i64, bool)> = desired_keys(&db, 1, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|k| (k.id, k.enabled))
            .collect();
        // 2 expired at 100; 3 revoked, kept until 150; 4 past its deletion time; 5 in grace.
        assert_eq!(wanted, vec![(1, true), (2, false), (3, false), (5, true)]);
        assert_eq!(next_key_deadline(&db, 1, 100).await.unwrap(), Some(120));
        assert_eq!(live_count(&db, 1).await.unwrap(), 3);
    }

    #[tokio::test]
    async fn sync_records_ids_and_deletions() {
        let (_dir, db) = seeded().await;
        let mut actual = Actual::default();
        actual.api_keys.insert(
            1,
            ApiKey {
                id: "aws-1".into(),
                name: "k".into(),
                enabled: true,
                usage_plans: vec![],
            },
        );
        sync_keys(&db, 1, &actual, 100).await.unwrap();
        let keys = list(&db, 1).await.unwrap();
        let by_id = |id: i64| keys.iter().find(|k| k.id == id).unwrap();
        assert_eq!(by_id(1).aws_id.as_deref(), Some("aws-1"));
        assert_eq!(
            by_id(4).deleted_at,
            Some(100),
            "gone from AWS after its time"
        );
        assert_eq!(by_id(3).deleted_at, None, "still within its week");
        assert_eq!(by_id(1).usage_plans, vec!["p".to_string()]);
        key_created(&db, 2, "aws-2", Some("Ab3x")).await.unwrap();
        let two = get(&db, 1, 2).await.unwrap();
        assert_eq!(
            (two.aws_id.as_deref(), two.hint.as_deref()),
            (Some("aws-2"), Some("Ab3x"))
        );
        assert!(matches!(
            get(&db, 1, 99).await,
            Err(StoreError::NotFound(_))
        ));
    }
}
