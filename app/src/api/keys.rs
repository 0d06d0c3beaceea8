//! API keys: admins issue, rotate and revoke them; everyone signed in reads their metadata. The
//! worker makes each key in AWS (AWS generates the value); the issuing admin sees the value
//! once, read from AWS straight into that response. Portico keeps AWS's id and the last four
//! characters, never the value: not in SQLite, the audit, logs or any later page.

use crate::error::AppError;
use leptos::prelude::*;
use portico_core::model::keys::KeyStatus;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyRow {
    pub id: i64,
    pub name: String,
    pub owner: String,
    pub description: String,
    pub usage_plans: Vec<String>,
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
    pub usage_plans: Vec<String>,
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
    let (_, state) =
        crate::api::context::require(portico_core::model::Role::Viewer, "read API keys").await?;
    ssr::list(&state.store, &gateway, portico_store::now_unix()).await
}

#[server(prefix = "/api", endpoint = "issue_api_key")]
pub async fn issue_api_key(
    gateway: String,
    name: String,
    owner: String,
    description: Option<String>,
    usage_plans: String,
    expires: Option<String>,
) -> Result<(), AppError> {
    let (me, state) =
        crate::api::context::require(portico_core::model::Role::Admin, "issue API keys").await?;
    let issue = ssr::Issue {
        name: name.trim().to_owned(),
        owner: owner.trim().to_owned(),
        description: description.unwrap_or_default().trim().to_owned(),
        usage_plans: crate::api::forms::list(&usage_plans),
        expires: expires.filter(|e| !e.trim().is_empty()),
    };
    let id = ssr::issue(
        &state.store,
        &me.name,
        &gateway,
        issue,
        portico_store::now_unix(),
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
    let (me, state) =
        crate::api::context::require(portico_core::model::Role::Admin, "rotate API keys").await?;
    let grace: i64 = crate::api::forms::number("Grace period (hours)", &grace_hours)?;
    if !(0..=720).contains(&grace) {
        return Err(AppError::Invalid(
            "Grace period must be 0 to 720 hours (30 days).".into(),
        ));
    }
    let id = portico_store::keys::rotate(
        &state.store,
        &me.name,
        &gateway,
        key,
        grace * 3600,
        portico_store::now_unix(),
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
    let (me, state) =
        crate::api::context::require(portico_core::model::Role::Admin, "revoke API keys").await?;
    if confirm.as_deref() != Some("yes") {
        return Err(AppError::Invalid(
            "Tick the box to confirm: callers using this key will be refused at once.".into(),
        ));
    }
    portico_store::keys::revoke(
        &state.store,
        &me.name,
        &gateway,
        key,
        portico_store::now_unix(),
    )
    .await?;
    state.wake_worker();
    Ok(())
}

#[server(prefix = "/api", endpoint = "reveal_api_key")]
pub async fn reveal_api_key(gateway: String, key: i64) -> Result<Reveal, AppError> {
    let (me, state) =
        crate::api::context::require(portico_core::model::Role::Admin, "see a new API key").await?;
    // The answer may hold a secret: no cache keeps it.
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.insert_header(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
    }
    ssr::reveal(&state, &me.name, &gateway, key).await
}

/// What the server functions (and tests) share: the checks and the views around the store.
#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use portico_core::model::keys::{self, format_time, status};
    use portico_core::model::topology::Topology;
    use portico_store::keys::{KeyRecord, NewKey};
    use portico_store::{now_unix, Store};
    use std::collections::HashMap;

    pub struct Issue {
        pub name: String,
        pub owner: String,
        pub description: String,
        pub usage_plans: Vec<String>,
        pub expires: Option<String>,
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

    /// Checks a new key against the rules and the gateway's usage plans, then stores it for
    /// the worker to make.
    pub async fn issue(
        db: &Store,
        actor: &str,
        gateway: &str,
        k: Issue,
        now: i64,
    ) -> Result<i64, AppError> {
        let topology = portico_store::gateways::load(db, gateway).await?.topology;
        keys::key_name(&k.name).map_err(AppError::Invalid)?;
        keys::owner(&k.owner).map_err(AppError::Invalid)?;
        keys::description(&k.description).map_err(AppError::Invalid)?;
        if k.usage_plans.is_empty() {
            return Err(AppError::Invalid(
                "Choose at least one usage plan: a key only works on the stages its plans cover."
                    .into(),
            ));
        }
        let most = portico_core::model::rules::quotas::USAGE_PLANS_PER_KEY;
        if k.usage_plans.len() > most {
            return Err(AppError::Invalid(format!(
                "A key can be in at most {most} usage plans (AWS's default quota); {} chosen.",
                k.usage_plans.len()
            )));
        }
        for p in &k.usage_plans {
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
                let t = keys::parse_date(text).map_err(AppError::Invalid)?;
                if t <= now {
                    return Err(AppError::Invalid(format!(
                        "Expiry {text} is not in the future."
                    )));
                }
                Some(t)
            }
            None => None,
        };
        let new = NewKey {
            name: k.name,
            owner: k.owner,
            description: k.description,
            usage_plans: k.usage_plans,
            expires: k.expires,
            expires_at,
        };
        Ok(portico_store::keys::issue(db, actor, gateway, &new, now).await?)
    }

    /// "rotated from key 3 on …" / "replaced by key 5 on …".
    fn rotation(k: &KeyRecord, replaced_by: &HashMap<i64, i64>) -> Option<String> {
        match (k.rotated_from, replaced_by.get(&k.id), k.replaced_at) {
            (_, Some(new), Some(at)) => {
                Some(format!("replaced by key {new} on {} UTC", format_time(at)))
            }
            (Some(old), _, _) => Some(format!(
                "rotated from key {old} on {} UTC",
                format_time(k.created_at)
            )),
            _ => None,
        }
    }

    /// Until when a revoked or rotated key lives.
    fn until(k: &KeyRecord) -> Option<String> {
        match (k.revoked_at, k.delete_after, k.disable_at) {
            (Some(at), Some(del), _) => Some(format!(
                "revoked by {} on {} UTC; deleted from AWS from {} UTC",
                k.revoked_by.clone().unwrap_or_default(),
                format_time(at),
                format_time(del)
            )),
            (None, _, Some(d)) => Some(format!("works until {} UTC", format_time(d))),
            _ => None,
        }
    }

    pub async fn list(db: &Store, gateway: &str, now: i64) -> Result<KeysView, AppError> {
        let g = portico_store::gateways::load(db, gateway).await?;
        let records = portico_store::keys::list(db, g.id).await?;
        let replaced_by: HashMap<i64, i64> = records
            .iter()
            .filter_map(|k| k.rotated_from.map(|from| (from, k.id)))
            .collect();
        let keys = records
            .iter()
            .map(|k| KeyRow {
                rotation: rotation(k, &replaced_by),
                until: until(k),
                status: status(&k.dates(), now),
                stages: stages_of(&g.topology, &k.usage_plans),
                id: k.id,
                name: k.name.clone(),
                owner: k.owner.clone(),
                description: k.description.clone(),
                usage_plans: k.usage_plans.clone(),
                hint: k.hint.clone(),
                created_by: k.created_by.clone(),
                created_at: format_time(k.created_at),
                expires_at: k.expires_at.map(format_time),
            })
            .collect();
        Ok(KeysView {
            gateway: gateway.to_owned(),
            keys,
            usage_plans: g
                .topology
                .usage_plans
                .iter()
                .map(|p| p.name.clone())
                .collect(),
        })
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

    /// The show-once screen: the value to its issuer, exactly once, read from AWS straight
    /// into this answer.
    pub async fn reveal(
        state: &crate::state::AppState,
        actor: &str,
        gateway: &str,
        key: i64,
    ) -> Result<Reveal, AppError> {
        let db = &state.store;
        let g = portico_store::gateways::load(db, gateway).await?;
        let k = portico_store::keys::get(db, g.id, key).await?;
        if k.created_by != actor {
            return Ok(Reveal::NotYours {
                name: k.name,
                by: k.created_by,
            });
        }
        if let Some(at) = k.revealed_at {
            return Ok(Reveal::AlreadyShown {
                name: k.name,
                at: format_time(at),
                hint: k.hint,
            });
        }
        let Some(aws_id) = k.aws_id.clone() else {
            return Ok(Reveal::Creating { name: k.name });
        };
        let source = state.key_values.clone().ok_or_else(|| {
            AppError::Unavailable(
                "This server has no AWS access (--no-worker); the key can't be shown.".into(),
            )
        })?;
        // Read what the answer needs before the claim: a failure after it would use up the
        // one showing.
        let api_id = portico_store::status::observed(db, g.id)
            .await?
            .and_then(|seen| seen.actual)
            .and_then(|actual| actual.rest_apis.keys().next().cloned());
        // Claim the one showing first, so two tabs can't both see it.
        if !portico_store::keys::claim_reveal(db, key, now_unix()).await? {
            return Ok(Reveal::AlreadyShown {
                name: k.name,
                at: "just now".into(),
                hint: k.hint,
            });
        }
        let value = match source
            .value(
                g.topology.gateway.region.clone(),
                g.topology.gateway.role_arn.clone(),
                aws_id,
            )
            .await
        {
            Ok(v) => v,
            Err(e) => {
                // Not shown after all: leave it showable.
                portico_store::keys::release_reveal(db, key).await?;
                return Err(AppError::Unavailable(format!(
                    "Could not read the key from AWS: {e}"
                )));
            }
        };
        portico_store::keys::record_reveal(db, actor, gateway, &k, &keys::hint(&value)).await?;
        Ok(Reveal::Shown {
            curls: curls(&g.topology, api_id.as_deref(), &k.usage_plans, &value),
            name: k.name,
            value,
        })
    }
}
