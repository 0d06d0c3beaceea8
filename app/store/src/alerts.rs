//! Webhooks and their deliveries (`portico_core::alerts`). Admins register webhooks; a change
//! that is an event queues one delivery per matching webhook in the change's own transaction
//! (`emit`: a rolled-back change alerts no one), and the sender (`portico::alerts`) claims due
//! deliveries, sends them and records each answer. The pair (webhook, event key) is unique, so
//! an event seen by many reconciles is one message.

use crate::plans::NewPlan;
use crate::sql;
use crate::{audit, now_ms, now_unix, Store, StoreError, StoreResult, Tx};
use portico_core::alerts::{self, Event, Format, Kind};
use portico_core::plan::lifecycle::{PlanReason, PlanStatus};
use serde_json::json;

/// A webhook as the admin page lists it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    pub id: i64,
    /// `None`: every gateway.
    pub gateway: Option<String>,
    pub url: String,
    pub events: Vec<Kind>,
    pub format: Format,
    pub created_by: String,
    pub created_at: i64,
}

pub struct NewWebhook<'a> {
    pub gateway: Option<&'a str>,
    pub url: &'a str,
    pub events: &'a [Kind],
    pub format: Format,
    pub secret: &'a str,
}

/// One delivery, as the page's log shows it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub kind: String,
    pub gateway: String,
    pub text: String,
    pub at: i64,
    /// pending | delivered | failed
    pub status: String,
    pub attempts: i64,
    pub last_code: Option<i64>,
    pub last_error: Option<String>,
    pub finished_at: Option<i64>,
}

/// Registers a webhook (after checking its fields); its id.
pub async fn create(db: &Store, actor: &str, new: &NewWebhook<'_>) -> StoreResult<i64> {
    alerts::webhook_url(new.url).map_err(StoreError::Invalid)?;
    alerts::webhook_secret(new.secret).map_err(StoreError::Invalid)?;
    let events = alerts::events(new.events).map_err(StoreError::Invalid)?;
    let mut tx = db.write().await?;
    let gateway_id = match new.gateway {
        None => None,
        Some(name) => Some(
            sql::query_scalar::<i64>("SELECT id FROM gateways WHERE name = ?")
                .bind(name)
                .fetch_optional(&mut tx)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("Gateway {name} does not exist.")))?,
        ),
    };
    let id: i64 = sql::query_scalar(
        "INSERT INTO webhooks (gateway_id, url, events, format, secret, created_by, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(gateway_id)
    .bind(new.url)
    .bind(&events)
    .bind(new.format.as_str())
    .bind(new.secret)
    .bind(actor)
    .bind(now_unix())
    .fetch_one(&mut tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "webhook.create",
        &format!("webhook {id}"),
        None,
        Some(&json!({
            "url": alerts::masked_url(new.url),
            "gateway": new.gateway.unwrap_or("every gateway"),
            "events": events,
            "format": new.format.as_str(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Removes a webhook and its delivery log.
pub async fn delete(db: &Store, actor: &str, id: i64) -> StoreResult<()> {
    let mut tx = db.write().await?;
    let url: Option<String> = sql::query_scalar("DELETE FROM webhooks WHERE id = ? RETURNING url")
        .bind(id)
        .fetch_optional(&mut tx)
        .await?;
    let Some(url) = url else {
        return Err(StoreError::NotFound(format!(
            "Webhook {id} does not exist (any more)."
        )));
    };
    audit::record(
        &mut tx,
        actor,
        "webhook.delete",
        &format!("webhook {id}"),
        Some(&json!({ "url": alerts::masked_url(&url) })),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

type WebhookRow = (i64, Option<String>, String, String, String, String, i64);

/// Every webhook, oldest first.
pub async fn list(db: &Store) -> StoreResult<Vec<Webhook>> {
    let rows: Vec<WebhookRow> = sql::query_as(
        "SELECT w.id, g.name, w.url, w.events, w.format, w.created_by, w.created_at \
         FROM webhooks w LEFT JOIN gateways g ON g.id = w.gateway_id ORDER BY w.id",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, gateway, url, events, format, created_by, created_at)| Webhook {
                id,
                gateway,
                url,
                events: alerts::parse_events(&events),
                format: Format::parse(&format).unwrap_or(Format::Json),
                created_by,
                created_at,
            },
        )
        .collect())
}

const DELIVERY_COLUMNS: &str = "id, webhook_id, kind, gateway, text, at, status, attempts, \
     last_code, last_error, finished_at";

/// The newest `limit` deliveries of every webhook.
pub async fn deliveries(db: &Store, limit: i64) -> StoreResult<Vec<Delivery>> {
    Ok(sql::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries ORDER BY id DESC LIMIT ?"
    ))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?)
}

/// Queues `kind` about gateway `gateway_id` for every webhook that hears it, once per `event`
/// key. `exec` is the transaction of the change that is the event.
pub(crate) async fn emit<'e>(
    exec: impl crate::sql::Exec<'e>,
    gateway_id: i64,
    kind: Kind,
    event: &str,
    text: &str,
) -> StoreResult<()> {
    sql::query(
        "INSERT INTO webhook_deliveries (webhook_id, event_key, kind, gateway, text, at, status, next_at_ms) \
         SELECT w.id, ?1, ?2, g.name, ?3, ?4, 'pending', ?5 FROM webhooks w JOIN gateways g ON g.id = ?6 \
         WHERE (w.gateway_id IS NULL OR w.gateway_id = g.id) \
         AND (',' || w.events || ',') LIKE ('%,' || REPLACE(?2, '_', '\\_') || ',%') ESCAPE '\\' \
         ON CONFLICT (webhook_id, kind, event_key) DO NOTHING",
    )
    .bind(event)
    .bind(kind.as_str())
    .bind(text)
    .bind(now_unix())
    .bind(now_ms())
    .bind(gateway_id)
    .execute(exec)
    .await?;
    Ok(())
}

/// The event a plan's alert is about, as its key: the same steps (`lines`) from the same
/// generation since the gateway's last finished run are one event, however many plans say it.
/// The worker makes a new plan for each try after a failure and for each look that finds the
/// same drift; a team hears of a failure or a drift once, and again only once a run has
/// finished between, or the steps or the topology changed.
pub(crate) async fn plan_event(
    tx: &mut Tx,
    what: &str,
    gateway: i64,
    generation: i64,
    lines: &[String],
) -> StoreResult<String> {
    let last_done: i64 = sql::query_scalar(
        "SELECT COALESCE(MAX(id), 0) FROM plans WHERE gateway_id = ? AND status = ?",
    )
    .bind(gateway)
    .bind(PlanStatus::Done.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let steps = crate::short_digest(&lines.join("\n"), 12);
    Ok(format!(
        "{what}: generation {generation}, after plan {last_done}, steps {steps}"
    ))
}

/// A plan made for drift, and one that waits for an admin, are events (once per event, see
/// `plan_event`: the same drift found again alerts once).
pub(crate) async fn new_plan(tx: &mut Tx, new: &NewPlan<'_>, _id: i64) -> StoreResult<()> {
    let steps = new.plan.steps.len();
    let first = new.plan.lines().into_iter().next().unwrap_or_default();
    let event = plan_event(tx, "plan", new.gateway, new.generation, &new.plan.lines()).await?;
    if new.reason == PlanReason::Drift {
        let then = if new.status == PlanStatus::Reported {
            "drift mode is report, so nothing is changed"
        } else if new.needs_approval {
            "correcting it waits for an admin's approval"
        } else {
            "Portico is correcting it"
        };
        let text =
            format!("AWS differs from the topology in {steps} place(s), first: {first}; {then}.");
        emit(&mut *tx, new.gateway, Kind::Drift, &event, &text).await?;
    }
    if new.status == PlanStatus::AwaitingApproval {
        let text = new.plan.approval_message();
        emit(&mut *tx, new.gateway, Kind::Approval, &event, &text).await?;
    }
    Ok(())
}

/// Queues a notice for every key that expires within `EXPIRY_NOTICE_DAYS` of `now` and is
/// still in use (once per key and expiry: a new expiry is a new notice).
pub async fn emit_expiring_keys(db: &Store, now: i64) -> StoreResult<()> {
    let soon: Vec<(i64, i64, String, String, i64)> = sql::query_as(
        "SELECT k.id, k.gateway_id, g.name, k.name, k.expires_at FROM api_keys k \
         JOIN gateways g ON g.id = k.gateway_id \
         WHERE k.expires_at > ? AND k.expires_at <= ? AND k.revoked_at IS NULL \
         AND k.replaced_at IS NULL AND k.deleted_at IS NULL \
         AND EXISTS (SELECT 1 FROM webhooks w WHERE w.gateway_id IS NULL OR w.gateway_id = k.gateway_id)",
    )
    .bind(now)
    .bind(now + alerts::EXPIRY_NOTICE_DAYS * 86_400)
    .fetch_all(&db.pool)
    .await?;
    for (key, gateway_id, gateway, name, expires_at) in soon {
        let text = format!(
            "API key {name} of gateway {gateway} expires {} UTC; Portico disables it then. Rotate it, or change its expiry, before that.",
            portico_core::model::keys::format_time(expires_at)
        );
        let event = format!("key:{key}:expires:{expires_at}");
        emit(&db.pool, gateway_id, Kind::KeyExpiring, &event, &text).await?;
    }
    Ok(())
}

/// A delivery the sender is to make now (no `Debug`: it holds the secret).
#[derive(Clone)]
pub struct Due {
    pub url: String,
    pub secret: String,
    pub format: Format,
    pub attempts: i64,
    pub event: Event,
}

type DueRow = (
    i64,
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    i64,
);

/// Claims up to `limit` pending deliveries due at `now_ms`, the oldest of each webhook that
/// has none in flight, each for `hold_ms`: one receiver that does not answer holds up its own
/// deliveries and no other webhook's, and a webhook's messages go out in order. A sender that
/// dies mid-send leaves its claim to run out; the delivery is then sent again (receivers drop
/// a repeated `X-Portico-Delivery`).
pub async fn claim_due(db: &Store, now_ms: i64, hold_ms: i64, limit: i64) -> StoreResult<Vec<Due>> {
    let rows: Vec<DueRow> = sql::query_as(
        "UPDATE webhook_deliveries SET sending_until_ms = ?1 + ?2 WHERE id IN \
         (SELECT MIN(id) FROM webhook_deliveries WHERE status = 'pending' AND next_at_ms <= ?1 \
          AND webhook_id NOT IN (SELECT webhook_id FROM webhook_deliveries \
            WHERE status = 'pending' AND sending_until_ms > ?1) \
          GROUP BY webhook_id ORDER BY MIN(next_at_ms) LIMIT ?3) \
         AND status = 'pending' AND (sending_until_ms IS NULL OR sending_until_ms <= ?1) \
         RETURNING id, \
         (SELECT url FROM webhooks WHERE webhooks.id = webhook_deliveries.webhook_id), \
         (SELECT secret FROM webhooks WHERE webhooks.id = webhook_deliveries.webhook_id), \
         (SELECT format FROM webhooks WHERE webhooks.id = webhook_deliveries.webhook_id), \
         attempts, kind, gateway, text, at",
    )
    .bind(now_ms)
    .bind(hold_ms)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(
            |(id, url, secret, format, attempts, kind, gateway, text, at)| {
                Some(Due {
                    url,
                    secret,
                    format: Format::parse(&format)?,
                    attempts,
                    event: Event {
                        kind: Kind::parse(&kind)?,
                        gateway,
                        text,
                        at,
                        delivery: id,
                    },
                })
            },
        )
        .collect())
}

/// How an attempt ended.
pub enum Attempt<'a> {
    Delivered {
        code: u16,
    },
    /// No 2xx: `code` when the receiver answered, `error` in words; tried again at
    /// `retry_at_ms`, or failed for good when `None`.
    Failed {
        code: Option<u16>,
        error: &'a str,
        retry_at_ms: Option<i64>,
    },
}

/// Forgets deliveries that ended before `before` (unix seconds): the log keeps a month.
pub async fn prune(db: &Store, before: i64) -> StoreResult<()> {
    sql::query("DELETE FROM webhook_deliveries WHERE status != 'pending' AND finished_at < ?")
        .bind(before)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// How long the delivery log keeps an ended delivery.
pub const KEPT_SECONDS: i64 = 30 * 86_400;

/// Records an attempt at delivery `id`.
pub async fn record_attempt(db: &Store, id: i64, attempt: Attempt<'_>) -> StoreResult<()> {
    let now = now_unix();
    let (status, code, error, next, finished) = match attempt {
        Attempt::Delivered { code } => ("delivered", Some(code), None, 0, Some(now)),
        Attempt::Failed {
            code,
            error,
            retry_at_ms: Some(at),
        } => ("pending", code, Some(error), at, None),
        Attempt::Failed {
            code,
            error,
            retry_at_ms: None,
        } => ("failed", code, Some(error), 0, Some(now)),
    };
    sql::query(
        "UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, last_code = ?, \
         last_error = ?, next_at_ms = ?, finished_at = ?, sending_until_ms = NULL WHERE id = ?",
    )
    .bind(status)
    .bind(code.map(i64::from))
    .bind(error)
    .bind(next)
    .bind(finished)
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests;
