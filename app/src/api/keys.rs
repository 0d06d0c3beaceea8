//! API keys: admins issue, rotate and revoke them; everyone signed in reads their metadata. The
//! worker makes each key in AWS (AWS generates the value); the issuing admin sees the value
//! once, read from AWS straight into that response. Portico keeps AWS's id and the last four
//! characters, never the value: not in SQLite, the audit, logs or any later page.

use crate::error::AppError;
use crate::model::keys::KeyStatus;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyRow {
    pub id: i64,
    pub name: String,
    pub owner: String,
    pub description: String,
    pub plans: Vec<String>,
    /// Stages the key reaches through its plans.
    pub stages: Vec<String>,
    pub status: KeyStatus,
    /// "…Ab3x": the value's last four characters, once known.
    pub hint: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    /// "rotated from key 3 on 2026-11-25 10:00" / "replaced by key 5 on …".
    pub rotation: Option<String>,
    pub until: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeysView {
    pub gateway: String,
    pub keys: Vec<KeyRow>,
    /// The topology's usage plans, for the issue form.
    pub plans: Vec<String>,
}

/// The show-once screen's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Reveal {
    /// The worker has not made the key in AWS yet: look again in a moment.
    Creating { name: String },
    /// The value, this once, with ready-to-paste calls for each stage it reaches.
    Shown {
        name: String,
        value: String,
        curls: Vec<String>,
    },
    /// Shown before; Portico does not keep it.
    AlreadyShown {
        name: String,
        at: String,
        hint: Option<String>,
    },
    /// Only the admin who issued it sees the value.
    NotYours { name: String, by: String },
}

/// On to the screen that shows the new key's value once.
#[cfg(feature = "ssr")]
fn to_key_screen(gateway: &str, id: i64) {
    leptos_axum::redirect(&format!(
        "/gateways/{}/keys/{id}",
        crate::api::forms::urlencode(gateway)
    ));
}

#[server(prefix = "/api", endpoint = "list_api_keys")]
pub async fn list_api_keys(gateway: String) -> Result<KeysView, AppError> {
    // The state is taken before the first await: during server rendering a page's resource
    // can lose its reactive owner (and with it the context) while the session is read.
    let state = crate::state::state()?;
    crate::auth::ssr::require(crate::model::Role::Viewer, "read API keys").await?;
    ssr::list(&state.pool, &gateway, crate::state::now_unix()).await
}

#[server(prefix = "/api", endpoint = "issue_api_key")]
pub async fn issue_api_key(
    gateway: String,
    name: String,
    owner: String,
    description: Option<String>,
    plans: String,
    expires: Option<String>,
) -> Result<(), AppError> {
    let me = crate::auth::ssr::require(crate::model::Role::Admin, "issue API keys").await?;
    let state = crate::state::state()?;
    let issue = ssr::Issue {
        name: name.trim().to_owned(),
        owner: owner.trim().to_owned(),
        description: description.unwrap_or_default().trim().to_owned(),
        plans: crate::api::forms::list(&plans),
        expires: expires.filter(|e| !e.trim().is_empty()),
    };
    let id = ssr::issue(
        &state.pool,
        &me.name,
        &gateway,
        issue,
        crate::state::now_unix(),
    )
    .await?;
    state.wake_worker();
    to_key_screen(&gateway, id);
    Ok(())
}

/// A new key with the same name, owner and plans; the old one keeps working for `grace_hours`.
#[server(prefix = "/api", endpoint = "rotate_api_key")]
pub async fn rotate_api_key(
    gateway: String,
    key: i64,
    grace_hours: String,
) -> Result<(), AppError> {
    let me = crate::auth::ssr::require(crate::model::Role::Admin, "rotate API keys").await?;
    let grace: i64 = crate::api::forms::number("Grace period (hours)", &grace_hours)?;
    if !(0..=720).contains(&grace) {
        return Err(AppError::Invalid(
            "Grace period must be 0 to 720 hours (30 days).".into(),
        ));
    }
    let state = crate::state::state()?;
    let id = ssr::rotate(
        &state.pool,
        &me.name,
        &gateway,
        key,
        grace * 3600,
        crate::state::now_unix(),
    )
    .await?;
    state.wake_worker();
    to_key_screen(&gateway, id);
    Ok(())
}

/// Disabled at once, deleted from AWS a week later.
#[server(prefix = "/api", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(
    gateway: String,
    key: i64,
    confirm: Option<String>,
) -> Result<(), AppError> {
    let me = crate::auth::ssr::require(crate::model::Role::Admin, "revoke API keys").await?;
    if confirm.as_deref() != Some("yes") {
        return Err(AppError::Invalid(
            "Tick the box to confirm: callers using this key will be refused at once.".into(),
        ));
    }
    let state = crate::state::state()?;
    ssr::revoke(
        &state.pool,
        &me.name,
        &gateway,
        key,
        crate::state::now_unix(),
    )
    .await?;
    state.wake_worker();
    Ok(())
}

#[server(prefix = "/api", endpoint = "reveal_api_key")]
pub async fn reveal_api_key(gateway: String, key: i64) -> Result<Reveal, AppError> {
    let me = crate::auth::ssr::require(crate::model::Role::Admin, "see a new API key").await?;
    let state = crate::state::state()?;
    // The answer may hold a secret: no cache keeps it.
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.insert_header(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
    }
    ssr::reveal(&state, &me.name, &gateway, key).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::api::audit::ssr::record;
    use crate::model::keys::{self, format_time, status, KeyDates};
    use crate::model::topology::Topology;
    use crate::state::now_unix;
    use serde_json::json;
    use sqlx::SqlitePool;

    pub struct Issue {
        pub name: String,
        pub owner: String,
        pub description: String,
        pub plans: Vec<String>,
        pub expires: Option<String>,
    }

    fn invalid(e: String) -> AppError {
        AppError::Invalid(e)
    }

    fn stages_of(t: &Topology, plans: &[String]) -> Vec<String> {
        let mut stages: Vec<String> = t
            .usage_plans
            .iter()
            .filter(|p| plans.contains(&p.name))
            .flat_map(|p| p.stages.clone())
            .collect();
        stages.sort();
        stages.dedup();
        stages
    }

    pub async fn issue(
        pool: &SqlitePool,
        actor: &str,
        gateway: &str,
        k: Issue,
        now: i64,
    ) -> Result<i64, AppError> {
        let (gateway_id, _, topology) = crate::api::gateways::ssr::load(pool, gateway).await?;
        keys::key_name(&k.name).map_err(invalid)?;
        keys::owner(&k.owner).map_err(invalid)?;
        keys::description(&k.description).map_err(invalid)?;
        if k.plans.is_empty() {
            return Err(AppError::Invalid(
                "Choose at least one usage plan: a key only works on the stages its plans cover."
                    .into(),
            ));
        }
        for p in &k.plans {
            if !topology.usage_plans.iter().any(|u| u.name == *p) {
                let known: Vec<&str> = topology
                    .usage_plans
                    .iter()
                    .map(|u| u.name.as_str())
                    .collect();
                return Err(AppError::Invalid(format!(
                    "No usage plan named {p:?} in gateway {gateway} (it has: {}).",
                    if known.is_empty() {
                        "none yet".into()
                    } else {
                        known.join(", ")
                    }
                )));
            }
        }
        let expires_at = match &k.expires {
            Some(text) => {
                let t = keys::parse_date(text).map_err(invalid)?;
                if t <= now {
                    return Err(AppError::Invalid(format!(
                        "Expiry {text} is not in the future."
                    )));
                }
                Some(t)
            }
            None => None,
        };
        let mut tx = pool.begin().await?;
        crate::api::gateways::ssr::refuse_deleting(&mut tx, gateway_id, gateway).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_keys (gateway_id, name, owner, description, plans, enabled, expires_at, created_by, created_at) \
             VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING id",
        )
        .bind(gateway_id)
        .bind(&k.name)
        .bind(&k.owner)
        .bind(&k.description)
        .bind(json!(k.plans).to_string())
        .bind(expires_at)
        .bind(actor)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        record(
            &mut *tx,
            actor,
            "key.issue",
            &format!("{gateway}: key {} ({id})", k.name),
            None,
            Some(&json!({ "owner": k.owner, "plans": k.plans, "expires": k.expires })),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
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

    const COLUMNS: &str = "id, name, owner, description, plans, enabled, expires_at, created_by, created_at, \
        aws_id, hint, revealed_at, revoked_at, revoked_by, delete_after, rotated_from, replaced_at, disable_at, deleted_at";

    async fn row(pool: &SqlitePool, gateway_id: i64, key: i64) -> Result<Row, AppError> {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM api_keys WHERE id = ? AND gateway_id = ?"
        ))
        .bind(key)
        .bind(gateway_id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("No API key {key} in this gateway.")))
    }

    pub async fn list(pool: &SqlitePool, gateway: &str, now: i64) -> Result<KeysView, AppError> {
        let (gateway_id, _, topology) = crate::api::gateways::ssr::load(pool, gateway).await?;
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM api_keys WHERE gateway_id = ? ORDER BY id DESC"
        ))
        .bind(gateway_id)
        .fetch_all(pool)
        .await?;
        let replaced_by: std::collections::HashMap<i64, i64> = rows
            .iter()
            .filter_map(|r| r.rotated_from.map(|from| (from, r.id)))
            .collect();
        let keys = rows
            .iter()
            .map(|r| {
                let plans: Vec<String> = serde_json::from_str(&r.plans).unwrap_or_default();
                let dates = KeyDates {
                    enabled: r.enabled,
                    created_in_aws: r.aws_id.is_some(),
                    expires_at: r.expires_at,
                    revoked_at: r.revoked_at,
                    disable_at: r.disable_at,
                    deleted_at: r.deleted_at,
                };
                let rotation = match (r.rotated_from, replaced_by.get(&r.id), r.replaced_at) {
                    (_, Some(new), Some(at)) => {
                        Some(format!("replaced by key {new} on {} UTC", format_time(at)))
                    }
                    (Some(old), _, _) => Some(format!(
                        "rotated from key {old} on {} UTC",
                        format_time(r.created_at)
                    )),
                    _ => None,
                };
                let until = match (r.revoked_at, r.delete_after, r.disable_at) {
                    (Some(at), Some(del), _) => Some(format!(
                        "revoked by {} on {} UTC; deleted from AWS from {} UTC",
                        r.revoked_by.clone().unwrap_or_default(),
                        format_time(at),
                        format_time(del)
                    )),
                    (None, _, Some(d)) => Some(format!("works until {} UTC", format_time(d))),
                    _ => None,
                };
                KeyRow {
                    id: r.id,
                    name: r.name.clone(),
                    owner: r.owner.clone(),
                    description: r.description.clone(),
                    stages: stages_of(&topology, &plans),
                    plans,
                    status: status(&dates, now),
                    hint: r.hint.clone(),
                    created_by: r.created_by.clone(),
                    created_at: format_time(r.created_at),
                    expires_at: r.expires_at.map(format_time),
                    rotation,
                    until,
                }
            })
            .collect();
        Ok(KeysView {
            gateway: gateway.to_owned(),
            keys,
            plans: topology
                .usage_plans
                .iter()
                .map(|p| p.name.clone())
                .collect(),
        })
    }

    fn refuse_if_ended(r: &Row, what: &str) -> Result<(), AppError> {
        if r.revoked_at.is_some() {
            return Err(AppError::Conflict(format!(
                "Key {} is revoked; it can't be {what}.",
                r.name
            )));
        }
        if r.replaced_at.is_some() {
            return Err(AppError::Conflict(format!(
                "Key {} was already replaced by a rotation; act on its new key.",
                r.name
            )));
        }
        Ok(())
    }

    pub async fn rotate(
        pool: &SqlitePool,
        actor: &str,
        gateway: &str,
        key: i64,
        grace_seconds: i64,
        now: i64,
    ) -> Result<i64, AppError> {
        let (gateway_id, _, _) = crate::api::gateways::ssr::load(pool, gateway).await?;
        let old = row(pool, gateway_id, key).await?;
        refuse_if_ended(&old, "rotated")?;
        let mut tx = pool.begin().await?;
        crate::api::gateways::ssr::refuse_deleting(&mut tx, gateway_id, gateway).await?;
        let moved = sqlx::query(
            "UPDATE api_keys SET replaced_at = ?, disable_at = ? WHERE id = ? AND replaced_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(now + grace_seconds)
        .bind(key)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Err(AppError::Conflict(format!(
                "Key {} changed meanwhile; reload and try again.",
                old.name
            )));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_keys (gateway_id, name, owner, description, plans, enabled, expires_at, created_by, created_at, rotated_from) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(gateway_id)
        .bind(&old.name)
        .bind(&old.owner)
        .bind(&old.description)
        .bind(&old.plans)
        .bind(old.enabled)
        .bind(old.expires_at)
        .bind(actor)
        .bind(now)
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        record(
            &mut *tx,
            actor,
            "key.rotate",
            &format!("{gateway}: key {} ({key} → {id})", old.name),
            None,
            Some(&json!({ "grace_hours": grace_seconds / 3600 })),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn revoke(
        pool: &SqlitePool,
        actor: &str,
        gateway: &str,
        key: i64,
        now: i64,
    ) -> Result<(), AppError> {
        let (gateway_id, _, _) = crate::api::gateways::ssr::load(pool, gateway).await?;
        let old = row(pool, gateway_id, key).await?;
        if old.revoked_at.is_some() {
            return Err(AppError::Conflict(format!(
                "Key {} is already revoked.",
                old.name
            )));
        }
        let mut tx = pool.begin().await?;
        sqlx::query(
            "UPDATE api_keys SET revoked_at = ?, revoked_by = ?, delete_after = ? WHERE id = ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(actor)
        .bind(now + keys::REVOKED_KEPT_SECONDS)
        .bind(key)
        .execute(&mut *tx)
        .await?;
        record(
            &mut *tx,
            actor,
            "key.revoke",
            &format!("{gateway}: key {} ({key})", old.name),
            None,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `curl` lines for each stage the key reaches: a route of the stage's port (or the first).
    fn curls(t: &Topology, api_id: Option<&str>, plans: &[String], value: &str) -> Vec<String> {
        let api = api_id.unwrap_or("<api id>");
        stages_of(t, plans)
            .iter()
            .map(|stage| {
                let port = t.stage(stage).map(|s| s.backend_port);
                let route = t
                    .routes
                    .iter()
                    .find(|r| r.port.is_some() && r.port == port)
                    .or_else(|| t.routes.first());
                let path: String = route
                    .map(|r| {
                        r.path
                            .split('/')
                            .map(|seg| if seg.ends_with("+}") { "" } else if seg.starts_with('{') { "1" } else { seg })
                            .collect::<Vec<_>>()
                            .join("/")
                    })
                    .unwrap_or_default();
                format!(
                    "curl -H 'x-api-key: {value}' https://{api}.execute-api.{}.amazonaws.com/{stage}{path}",
                    t.gateway.region
                )
            })
            .collect()
    }

    pub async fn reveal(
        state: &crate::state::AppState,
        actor: &str,
        gateway: &str,
        key: i64,
    ) -> Result<Reveal, AppError> {
        let pool = &state.pool;
        let (gateway_id, _, topology) = crate::api::gateways::ssr::load(pool, gateway).await?;
        let r = row(pool, gateway_id, key).await?;
        if r.created_by != actor {
            return Ok(Reveal::NotYours {
                name: r.name,
                by: r.created_by,
            });
        }
        if let Some(at) = r.revealed_at {
            return Ok(Reveal::AlreadyShown {
                name: r.name,
                at: format_time(at),
                hint: r.hint,
            });
        }
        let Some(aws_id) = r.aws_id.clone() else {
            return Ok(Reveal::Creating { name: r.name });
        };
        let source = state.key_values.clone().ok_or_else(|| {
            AppError::Unavailable(
                "This server has no AWS access (--no-worker); the key can't be shown.".into(),
            )
        })?;
        // Claim the one showing first, so two tabs can't both see it.
        let claimed =
            sqlx::query("UPDATE api_keys SET revealed_at = ? WHERE id = ? AND revealed_at IS NULL")
                .bind(now_unix())
                .bind(key)
                .execute(pool)
                .await?;
        if claimed.rows_affected() != 1 {
            return Ok(Reveal::AlreadyShown {
                name: r.name,
                at: "just now".into(),
                hint: r.hint,
            });
        }
        let value = match source
            .value(
                topology.gateway.region.clone(),
                topology.gateway.role_arn.clone(),
                aws_id,
            )
            .await
        {
            Ok(v) => v,
            Err(e) => {
                // Not shown after all: leave it showable.
                sqlx::query("UPDATE api_keys SET revealed_at = NULL WHERE id = ?")
                    .bind(key)
                    .execute(pool)
                    .await?;
                return Err(AppError::Unavailable(format!(
                    "Could not read the key from AWS: {e}"
                )));
            }
        };
        let hint = crate::model::keys::hint(&value);
        sqlx::query("UPDATE api_keys SET hint = ? WHERE id = ?")
            .bind(&hint)
            .bind(key)
            .execute(pool)
            .await?;
        record(
            pool,
            actor,
            "key.reveal",
            &format!("{gateway}: key {} ({key})", r.name),
            None,
            None,
        )
        .await?;
        let api_id: Option<String> =
            sqlx::query_scalar("SELECT actual FROM gateway_status WHERE gateway_id = ?")
                .bind(gateway_id)
                .fetch_optional(pool)
                .await?
                .flatten()
                .and_then(|a: String| serde_json::from_str::<crate::plan::actual::Actual>(&a).ok())
                .and_then(|a| a.rest_apis.keys().next().cloned());
        let plans: Vec<String> = serde_json::from_str(&r.plans).unwrap_or_default();
        Ok(Reveal::Shown {
            curls: curls(&topology, api_id.as_deref(), &plans, &value),
            name: r.name,
            value,
        })
    }
}
