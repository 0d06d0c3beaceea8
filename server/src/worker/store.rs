//! The worker's SQL: plans, the step journal, each gateway's observed state.

use app::error::AppError;
use app::model::topology::Topology;
use app::plan::actual::Actual;
use app::plan::keys::DesiredKey;
use app::plan::Plan;
use app::state::now_unix;
use sqlx::SqlitePool;

pub struct GatewayRow {
    pub id: i64,
    pub name: String,
    pub generation: i64,
    pub deleting: bool,
    pub converged_generation: i64,
    pub topology: Topology,
}

pub async fn gateway(pool: &SqlitePool, id: i64) -> Result<Option<GatewayRow>, AppError> {
    let row: Option<(String, i64, Option<i64>, i64, String)> = sqlx::query_as(
        "SELECT g.name, g.generation, g.deleting_at, g.converged_generation, v.topology \
         FROM gateways g JOIN generations v ON v.gateway_id = g.id AND v.generation = g.generation \
         WHERE g.id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(|(name, generation, deleting, converged_generation, json)| {
        Ok(GatewayRow {
            id,
            name,
            generation,
            deleting: deleting.is_some(),
            converged_generation,
            topology: serde_json::from_str(&json)
                .map_err(|e| AppError::internal("stored topology unreadable", e))?,
        })
    })
    .transpose()
}

/// What wakes a gateway's task when it changes: an edit, a delete, an approval, a nudge, a key
/// issued, rotated or revoked.
pub async fn wake_keys(pool: &SqlitePool) -> Result<Vec<(i64, String)>, AppError> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.generation || '/' || COALESCE(g.deleting_at, '') || '/' || g.nudged_at || '/' || \
         COALESCE((SELECT MAX(approved_at) FROM plans p WHERE p.gateway_id = g.id), '') || '/' || \
         COALESCE((SELECT MAX(id) || '-' || COUNT(revoked_at) || '-' || COUNT(replaced_at) \
                   FROM api_keys k WHERE k.gateway_id = g.id), '') FROM gateways g",
    )
    .fetch_all(pool)
    .await?)
}

pub async fn set_status(
    pool: &SqlitePool,
    id: i64,
    state: &str,
    message: &str,
    actual: Option<&Actual>,
    failures: i64,
) -> Result<(), AppError> {
    let json = actual.map(|a| serde_json::to_string(a).unwrap_or_default());
    sqlx::query(
        "INSERT INTO gateway_status (gateway_id, observed_at, actual, state, message, failures) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (gateway_id) DO UPDATE SET \
         observed_at = COALESCE(excluded.observed_at, observed_at), actual = COALESCE(excluded.actual, actual), \
         state = excluded.state, message = excluded.message, failures = excluded.failures",
    )
    .bind(id)
    .bind(actual.map(|_| now_unix()))
    .bind(json)
    .bind(state)
    .bind(message)
    .bind(failures)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn failures(pool: &SqlitePool, id: i64) -> Result<i64, AppError> {
    Ok(
        sqlx::query_scalar("SELECT failures FROM gateway_status WHERE gateway_id = ?")
            .bind(id)
            .fetch_optional(pool)
            .await?
            .unwrap_or(0),
    )
}

pub struct PlanRow {
    pub id: i64,
    pub generation: i64,
    pub status: String,
    pub plan: Plan,
}

/// The latest plan still open: awaiting approval, approved, or reported drift.
pub async fn open_plan(pool: &SqlitePool, gateway: i64) -> Result<Option<PlanRow>, AppError> {
    let row: Option<(i64, i64, String, String)> = sqlx::query_as(
        "SELECT id, generation, status, plan FROM plans WHERE gateway_id = ? \
         AND status IN ('awaiting_approval', 'approved', 'reported') ORDER BY id DESC LIMIT 1",
    )
    .bind(gateway)
    .fetch_optional(pool)
    .await?;
    row.map(|(id, generation, status, json)| {
        Ok(PlanRow {
            id,
            generation,
            status,
            plan: serde_json::from_str(&json)
                .map_err(|e| AppError::internal("stored plan unreadable", e))?,
        })
    })
    .transpose()
}

/// Open plans other than `keep` will never run.
pub async fn supersede(pool: &SqlitePool, gateway: i64, keep: Option<i64>) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE plans SET status = 'superseded', finished_at = ? WHERE gateway_id = ? \
         AND status IN ('awaiting_approval', 'approved', 'reported') AND id IS NOT ?",
    )
    .bind(now_unix())
    .bind(gateway)
    .bind(keep)
    .execute(pool)
    .await?;
    Ok(())
}

/// Supersedes every open plan and stores `plan` in their place, in one transaction.
pub async fn replace_open_plan(
    pool: &SqlitePool,
    gateway: i64,
    generation: i64,
    reason: &str,
    plan: &Plan,
    needs_approval: bool,
    status: &str,
) -> Result<i64, AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE plans SET status = 'superseded', finished_at = ? WHERE gateway_id = ? \
         AND status IN ('awaiting_approval', 'approved', 'reported')",
    )
    .bind(now_unix())
    .bind(gateway)
    .execute(&mut *tx)
    .await?;
    let id = insert_plan_in(
        &mut tx,
        gateway,
        generation,
        reason,
        plan,
        needs_approval,
        status,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Stores a plan and a pending journal row per step.
pub async fn insert_plan(
    pool: &SqlitePool,
    gateway: i64,
    generation: i64,
    reason: &str,
    plan: &Plan,
    needs_approval: bool,
    status: &str,
) -> Result<i64, AppError> {
    let mut tx = pool.begin().await?;
    let id = insert_plan_in(
        &mut tx,
        gateway,
        generation,
        reason,
        plan,
        needs_approval,
        status,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert_plan_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    gateway: i64,
    generation: i64,
    reason: &str,
    plan: &Plan,
    needs_approval: bool,
    status: &str,
) -> Result<i64, AppError> {
    let json = serde_json::to_string(plan).map_err(|e| AppError::internal("plan", e))?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO plans (gateway_id, generation, created_at, reason, plan, needs_approval, status) \
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(gateway)
    .bind(generation)
    .bind(now_unix())
    .bind(reason)
    .bind(json)
    .bind(needs_approval)
    .bind(status)
    .fetch_one(&mut **tx)
    .await?;
    for (i, step) in plan.steps.iter().enumerate() {
        sqlx::query(
            "INSERT INTO plan_steps (plan_id, idx, operation, status) VALUES (?, ?, ?, 'pending')",
        )
        .bind(id)
        .bind(i as i64)
        .bind(step.op.operation())
        .execute(&mut **tx)
        .await?;
    }
    Ok(id)
}

pub async fn start_plan(pool: &SqlitePool, plan: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE plans SET status = 'running', started_at = ? WHERE id = ?")
        .bind(now_unix())
        .bind(plan)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn finish_plan(
    pool: &SqlitePool,
    plan: i64,
    status: &str,
    error: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query("UPDATE plans SET status = ?, finished_at = ?, error = ? WHERE id = ?")
        .bind(status)
        .bind(now_unix())
        .bind(error)
        .bind(plan)
        .execute(pool)
        .await?;
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Journal: the step is about to call AWS.
pub async fn step_started(pool: &SqlitePool, plan: i64, idx: usize) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE plan_steps SET status = 'running', started_ms = ?, attempts = attempts + 1 \
         WHERE plan_id = ? AND idx = ?",
    )
    .bind(now_ms())
    .bind(plan)
    .bind(idx as i64)
    .execute(pool)
    .await?;
    Ok(())
}

/// Journal: AWS answered.
#[allow(clippy::too_many_arguments)]
pub async fn step_finished(
    pool: &SqlitePool,
    plan: i64,
    idx: usize,
    ok: bool,
    request_id: Option<&str>,
    error_code: Option<&str>,
    error_message: Option<&str>,
    output: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE plan_steps SET status = ?, finished_ms = ?, request_id = ?, error_code = ?, \
         error_message = ?, output = ? WHERE plan_id = ? AND idx = ?",
    )
    .bind(if ok { "done" } else { "failed" })
    .bind(now_ms())
    .bind(request_id)
    .bind(error_code)
    .bind(error_message)
    .bind(output)
    .bind(plan)
    .bind(idx as i64)
    .execute(pool)
    .await?;
    Ok(())
}

/// After a restart: whatever was running was cut off. The next run re-observes AWS and plans
/// again; nothing is re-run from the journal blindly.
pub async fn interrupt_running(pool: &SqlitePool) -> Result<u64, AppError> {
    sqlx::query("UPDATE plan_steps SET status = 'interrupted' WHERE status = 'running'")
        .execute(pool)
        .await?;
    let n = sqlx::query(
        "UPDATE plans SET status = 'interrupted', finished_at = ?, \
         error = 'Portico stopped while this plan ran; the next run observed AWS again and planned what was left.' \
         WHERE status = 'running'",
    )
    .bind(now_unix())
    .execute(pool)
    .await?
    .rows_affected();
    Ok(n)
}

pub async fn mark_converged(pool: &SqlitePool, id: i64, generation: i64) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE gateways SET converged_generation = ? WHERE id = ? AND converged_generation < ?",
    )
    .bind(generation)
    .bind(id)
    .bind(generation)
    .execute(pool)
    .await?;
    Ok(())
}

/// The finalizer's last step: AWS holds nothing of the gateway any more.
pub async fn remove_gateway(pool: &SqlitePool, id: i64) -> Result<(), AppError> {
    sqlx::query("DELETE FROM gateways WHERE id = ? AND deleting_at IS NOT NULL")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct KeyRecord {
    id: i64,
    name: String,
    description: String,
    plans: String,
    enabled: bool,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    delete_after: Option<i64>,
    disable_at: Option<i64>,
}

/// The keys as the worker wants them `now`: the admin's switch, revocation, expiry and a
/// rotation's grace period applied (the planner has no clock).
pub async fn desired_keys(
    pool: &SqlitePool,
    gateway: i64,
    now: i64,
) -> Result<Vec<DesiredKey>, AppError> {
    let rows: Vec<KeyRecord> = sqlx::query_as(
        "SELECT id, name, description, plans, enabled, expires_at, revoked_at, delete_after, disable_at \
         FROM api_keys WHERE gateway_id = ? AND deleted_at IS NULL ORDER BY id",
    )
    .bind(gateway)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|k| !(k.revoked_at.is_some() && k.delete_after.is_some_and(|d| now >= d)))
        .map(|k| DesiredKey {
            id: k.id,
            name: k.name,
            description: k.description,
            enabled: k.enabled
                && k.revoked_at.is_none()
                && k.expires_at.is_none_or(|e| now < e)
                && k.disable_at.is_none_or(|d| now < d),
            plans: serde_json::from_str(&k.plans).unwrap_or_default(),
        })
        .collect())
}

/// The next moment a key changes by the clock (expiry, end of a grace period, deletion of a
/// revoked key), so the worker looks again then.
pub async fn next_key_deadline(
    pool: &SqlitePool,
    gateway: i64,
    now: i64,
) -> Result<Option<i64>, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT MIN(t) FROM (SELECT expires_at AS t FROM api_keys WHERE gateway_id = ?1 AND deleted_at IS NULL \
         UNION ALL SELECT disable_at FROM api_keys WHERE gateway_id = ?1 AND deleted_at IS NULL \
         UNION ALL SELECT delete_after FROM api_keys WHERE gateway_id = ?1 AND deleted_at IS NULL) WHERE t > ?2",
    )
    .bind(gateway)
    .bind(now)
    .fetch_one(pool)
    .await?)
}

/// A key the worker made: AWS's id and the value's last four characters.
pub async fn key_created(
    pool: &SqlitePool,
    key: i64,
    aws_id: &str,
    hint: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query("UPDATE api_keys SET aws_id = ?, hint = COALESCE(?, hint) WHERE id = ?")
        .bind(aws_id)
        .bind(hint)
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}

/// After observing: ids of keys made by a run cut off before it recorded them, and revoked keys
/// AWS no longer holds marked deleted.
pub async fn sync_keys(
    pool: &SqlitePool,
    gateway: i64,
    actual: &Actual,
    now: i64,
) -> Result<(), AppError> {
    for (key, k) in &actual.api_keys {
        sqlx::query(
            "UPDATE api_keys SET aws_id = ? WHERE id = ? AND gateway_id = ? AND aws_id IS NULL",
        )
        .bind(&k.id)
        .bind(key)
        .bind(gateway)
        .execute(pool)
        .await?;
    }
    let gone: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM api_keys WHERE gateway_id = ? AND deleted_at IS NULL AND revoked_at IS NOT NULL \
         AND delete_after <= ?",
    )
    .bind(gateway)
    .bind(now)
    .fetch_all(pool)
    .await?;
    for id in gone {
        if !actual.api_keys.contains_key(&id) {
            sqlx::query("UPDATE api_keys SET deleted_at = ? WHERE id = ?")
                .bind(now)
                .bind(id)
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}

/// How long health history is kept.
pub const HEALTH_KEPT_SECONDS: i64 = 7 * 24 * 3600;

/// Stores the latest assessment, a history row for each resource whose level or reason
/// changed, and prunes history past a week.
pub async fn record_health(
    pool: &SqlitePool,
    gateway: i64,
    health: &app::health::Health,
    now: i64,
) -> Result<(), AppError> {
    let json = serde_json::to_string(health).map_err(|e| AppError::internal("health", e))?;
    sqlx::query(
        "INSERT INTO gateway_status (gateway_id, state, message, health, health_level, health_at) \
         VALUES (?, 'unknown', 'The worker has not planned for this gateway yet.', ?, ?, ?) \
         ON CONFLICT (gateway_id) DO UPDATE SET health = excluded.health, \
         health_level = excluded.health_level, health_at = excluded.health_at",
    )
    .bind(gateway)
    .bind(&json)
    .bind(format!("{:?}", health.level))
    .bind(now)
    .execute(pool)
    .await?;
    for part in &health.parts {
        let last: Option<(String, String)> = sqlx::query_as(
            "SELECT level, reason FROM health_events WHERE gateway_id = ? AND resource = ? ORDER BY at DESC, rowid DESC LIMIT 1",
        )
        .bind(gateway)
        .bind(&part.resource)
        .fetch_optional(pool)
        .await?;
        let level = format!("{:?}", part.level);
        if last.as_ref() != Some(&(level.clone(), part.reason.clone())) {
            sqlx::query("INSERT INTO health_events (gateway_id, resource, at, level, reason) VALUES (?, ?, ?, ?, ?)")
                .bind(gateway)
                .bind(&part.resource)
                .bind(now)
                .bind(level)
                .bind(&part.reason)
                .execute(pool)
                .await?;
        }
    }
    sqlx::query("DELETE FROM health_events WHERE gateway_id = ? AND at < ?")
        .bind(gateway)
        .bind(now - HEALTH_KEPT_SECONDS)
        .execute(pool)
        .await?;
    Ok(())
}
