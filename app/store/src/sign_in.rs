//! Sign-in attempts, counted for the throttle (`app::throttle` decides; this keeps the count).
//! In the database, so every server on it counts the same attempts: behind a load balancer a
//! guess sent to another server counts too.

use crate::sql;
use crate::{Store, StoreResult};

/// Counts an attempt at `account` from `address` at `now_ms`, unless `judge` refuses it. The
/// judge gets the times (unix ms, oldest first) of the attempts within the last `window_ms`:
/// the account's, then the address's. All in one write transaction, so parallel attempts,
/// on any server, are each counted. Attempts past the window are deleted on the way. Returns
/// the attempt, for `forgive`.
pub async fn attempt<R>(
    db: &Store,
    account: &str,
    address: &str,
    now_ms: i64,
    window_ms: i64,
    judge: impl FnOnce(&[i64], &[i64]) -> Result<(), R>,
) -> StoreResult<Result<i64, R>> {
    let mut tx = db.write().await?;
    sql::query("DELETE FROM sign_in_attempts WHERE at_ms <= ?")
        .bind(now_ms - window_ms)
        .execute(&mut tx)
        .await?;
    let by_account: Vec<i64> = sql::query_scalar(
        "SELECT at_ms FROM sign_in_attempts WHERE account = ? ORDER BY at_ms, id",
    )
    .bind(account)
    .fetch_all(&mut tx)
    .await?;
    let by_address: Vec<i64> = sql::query_scalar(
        "SELECT at_ms FROM sign_in_attempts WHERE address = ? ORDER BY at_ms, id",
    )
    .bind(address)
    .fetch_all(&mut tx)
    .await?;
    if let Err(refusal) = judge(&by_account, &by_address) {
        tx.commit().await?;
        return Ok(Err(refusal));
    }
    let id: i64 = sql::query_scalar(
        "INSERT INTO sign_in_attempts (account, address, at_ms) VALUES (?, ?, ?) RETURNING id",
    )
    .bind(account)
    .bind(address)
    .bind(now_ms)
    .fetch_one(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// A right password: the account's attempts from its address are forgiven, `attempt` with
/// them (so it no longer counts against the address either).
pub async fn forgive(db: &Store, account: &str, attempt: i64) -> StoreResult<()> {
    sql::query("DELETE FROM sign_in_attempts WHERE account = ? OR id = ?")
        .bind(account)
        .bind(attempt)
        .execute(&db.pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A judge that refuses from the third attempt of the account, or the fifth of the
    /// address.
    fn limits(account: &[i64], address: &[i64]) -> Result<(), &'static str> {
        if address.len() >= 5 {
            return Err("address");
        }
        if account.len() >= 2 {
            return Err("account");
        }
        Ok(())
    }

    #[tokio::test]
    async fn attempts_are_counted_forgiven_and_forgotten_past_the_window() {
        let (_held, db) = crate::testing::store().await;
        let try_at = |account: &'static str, now: i64| {
            let db = db.clone();
            async move {
                attempt(&db, account, "10.0.0.1", now, 1_000, limits)
                    .await
                    .unwrap()
            }
        };
        let first = try_at("ann|10.0.0.1", 0).await.unwrap();
        try_at("ann|10.0.0.1", 1).await.unwrap();
        assert_eq!(try_at("ann|10.0.0.1", 2).await, Err("account"));
        // Another account from the same address counts against the address only.
        try_at("bob|10.0.0.1", 3).await.unwrap();
        // A right password forgives the account.
        forgive(&db, "ann|10.0.0.1", first).await.unwrap();
        try_at("ann|10.0.0.1", 5).await.unwrap();
        try_at("cy|10.0.0.1", 6).await.unwrap();
        try_at("dee|10.0.0.1", 7).await.unwrap();
        // bob, ann, cy, dee, and ann's forgiven one gone: the address has had 4.
        try_at("eve|10.0.0.1", 8).await.unwrap();
        assert_eq!(try_at("fay|10.0.0.1", 9).await, Err("address"));
        // Past the window, all is forgotten.
        assert!(try_at("fay|10.0.0.1", 1_009).await.is_ok());
        let rows: i64 = sql::query_scalar("SELECT COUNT(*) FROM sign_in_attempts")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(rows, 1);
    }
}
