//! Alerts: the webhooks admins register (for one gateway or all) and the log of what was sent
//! to them. The sending is the server's (`portico::alerts`); the events are queued by the store
//! with the changes they are about.

#![expect(
    clippy::too_many_arguments,
    reason = "a server function takes one argument per form field"
)]

use crate::error::AppError;
use leptos::prelude::*;
use portico_core::alerts::Kind;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRow {
    pub id: i64,
    /// `None`: every gateway.
    pub gateway: Option<String>,
    /// Masked: the scheme, the host and the last four characters.
    pub url: String,
    pub events: Vec<String>,
    pub format: String,
    pub created_by: String,
    /// "2026-11-25 19:40" (UTC)
    pub created: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook: i64,
    pub event: String,
    pub gateway: String,
    pub text: String,
    pub at: String,
    /// pending | delivered | failed
    pub status: String,
    pub attempts: i64,
    /// The receiver's last HTTP status, or why nothing came back.
    pub answer: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertsView {
    pub webhooks: Vec<WebhookRow>,
    pub deliveries: Vec<DeliveryRow>,
    /// The gateways a webhook may be for.
    pub gateways: Vec<String>,
}

/// How many deliveries the log shows.
pub const LOG_SIZE: i64 = 30;

#[server(prefix = "/api", endpoint = "list_webhooks")]
pub async fn list_webhooks() -> Result<AlertsView, AppError> {
    use portico_core::alerts::masked_url;
    use portico_core::model::keys::format_time;
    let (_, state) =
        crate::api::context::require(portico_core::model::Role::Admin, "manage alerts").await?;
    let db = &state.store;
    let webhooks = portico_store::alerts::list(db)
        .await?
        .into_iter()
        .map(|w| WebhookRow {
            id: w.id,
            gateway: w.gateway,
            url: masked_url(&w.url),
            events: w.events.iter().map(|k| k.label().to_owned()).collect(),
            format: w.format.label().to_owned(),
            created_by: w.created_by,
            created: format_time(w.created_at),
        })
        .collect();
    let deliveries = portico_store::alerts::deliveries(db, LOG_SIZE)
        .await?
        .into_iter()
        .map(|d| DeliveryRow {
            id: d.id,
            webhook: d.webhook_id,
            event: Kind::parse(&d.kind).map_or(d.kind.clone(), |k| k.label().to_owned()),
            gateway: d.gateway,
            text: d.text,
            at: format_time(d.at),
            answer: match (d.last_code, d.last_error) {
                (Some(code), _) => format!("HTTP {code}"),
                (None, Some(error)) => error,
                (None, None) => "not sent yet".into(),
            },
            status: d.status,
            attempts: d.attempts,
        })
        .collect();
    let gateways = portico_store::gateways::list(db)
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect();
    Ok(AlertsView {
        webhooks,
        deliveries,
        gateways,
    })
}

/// The form's checkbox for an event kind: `ev_` and its word.
pub fn event_field(kind: Kind) -> String {
    format!("ev_{}", kind.as_str())
}

/// Registers a webhook. `scope` is a gateway's name, or empty for every gateway; one checkbox
/// per event kind (`event_field`). Returns the signing secret when Portico made it (shown
/// this once), nothing when the admin gave their own. `js` is "1" from the hydrated page:
/// without JavaScript the answer is a redirect that cannot carry a secret, so such a form
/// must give its own.
#[server(prefix = "/api", endpoint = "create_webhook")]
pub async fn create_webhook(
    url: String,
    scope: String,
    format: String,
    secret: Option<String>,
    js: Option<String>,
    ev_drift: Option<String>,
    ev_approval: Option<String>,
    ev_apply_failed: Option<String>,
    ev_health: Option<String>,
    ev_key_expiring: Option<String>,
    ev_key_changed: Option<String>,
) -> Result<Option<String>, AppError> {
    use portico_core::alerts::Format;
    let (me, state) =
        crate::api::context::require(portico_core::model::Role::Admin, "manage alerts").await?;
    let format = Format::parse(format.trim())
        .ok_or_else(|| AppError::Invalid(format!("Format {format:?} is not slack or json.")))?;
    // One argument per kind: a new kind fails to compile here until it has its checkbox.
    let ticked = |kind: Kind| match kind {
        Kind::Drift => ev_drift.is_some(),
        Kind::Approval => ev_approval.is_some(),
        Kind::ApplyFailed => ev_apply_failed.is_some(),
        Kind::Health => ev_health.is_some(),
        Kind::KeyExpiring => ev_key_expiring.is_some(),
        Kind::KeyChanged => ev_key_changed.is_some(),
    };
    let events: Vec<Kind> = Kind::ALL.into_iter().filter(|k| ticked(*k)).collect();
    let own = secret
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if own.is_none() && js.as_deref() != Some("1") {
        return Err(AppError::Invalid(format!(
            "Without JavaScript, give a signing secret of your own (at least {} characters): the one Portico makes is shown by the page's script. Nothing was saved.",
            portico_core::alerts::SECRET_MIN
        )));
    }
    let made = own.is_none().then(crate::passwords::secret);
    let scope = scope.trim();
    portico_store::alerts::create(
        &state.store,
        &me.name,
        &portico_store::alerts::NewWebhook {
            gateway: (!scope.is_empty()).then_some(scope),
            url: url.trim(),
            events: &events,
            format,
            secret: own.as_deref().or(made.as_deref()).unwrap_or_default(),
        },
    )
    .await?;
    // Without JavaScript the form's answer is a redirect back to the page, which cannot carry
    // the secret: such a form gives its own.
    Ok(made)
}

#[server(prefix = "/api", endpoint = "delete_webhook")]
pub async fn delete_webhook(id: i64) -> Result<(), AppError> {
    let (me, state) =
        crate::api::context::require(portico_core::model::Role::Admin, "manage alerts").await?;
    Ok(portico_store::alerts::delete(&state.store, &me.name, id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_kind_has_its_checkbox_argument() {
        // `create_webhook` names one argument per kind: the same words as `event_field`.
        let names: Vec<String> = Kind::ALL.into_iter().map(event_field).collect();
        assert_eq!(
            names,
            [
                "ev_drift",
                "ev_approval",
                "ev_apply_failed",
                "ev_health",
                "ev_key_expiring",
                "ev_key_changed"
            ]
        );
    }
}
