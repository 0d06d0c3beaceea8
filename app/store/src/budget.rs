//! The part of AWS's request buckets kept for the calls pages make, on any server (table
//! `aws_budget`; the arithmetic is `portico::aws::pace`'s). Taking is one write transaction,
//! so two servers never both spend a bucket's last token.

use crate::lease::db_now_ms;
use crate::sql;
use crate::{Store, StoreResult};

/// A bucket's tokens as last counted, and when (unix ms, the database's clock).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Counted {
    pub tokens: f64,
    pub at_ms: i64,
}

/// Takes from the buckets `keys` of (`account`, `region`), all or none. `decide` gets each
/// bucket as last counted (None: never used, so full) and the time now, and answers the
/// buckets to store after the call's tokens are taken, or how long to wait (ms) with nothing
/// taken.
pub async fn take(
    db: &Store,
    account: &str,
    region: &str,
    keys: &[String],
    decide: impl FnOnce(&[Option<Counted>], i64) -> Result<Vec<Counted>, i64>,
) -> StoreResult<Result<(), i64>> {
    let now = db_now_ms(db).await?;
    let mut tx = db.write().await?;
    let mut counted = Vec::with_capacity(keys.len());
    for key in keys {
        let row: Option<(f64, i64)> = sql::query_as(
            "SELECT tokens, at_ms FROM aws_budget WHERE account = ? AND region = ? AND bucket = ?",
        )
        .bind(account)
        .bind(region)
        .bind(key.as_str())
        .fetch_optional(&mut tx)
        .await?;
        counted.push(row.map(|(tokens, at_ms)| Counted { tokens, at_ms }));
    }
    let after = match decide(&counted, now) {
        Ok(after) => after,
        Err(wait_ms) => return Ok(Err(wait_ms)),
    };
    for (key, c) in keys.iter().zip(after) {
        sql::query(
            "INSERT INTO aws_budget (account, region, bucket, tokens, at_ms) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (account, region, bucket) DO UPDATE SET \
             tokens = excluded.tokens, at_ms = excluded.at_ms",
        )
        .bind(account)
        .bind(region)
        .bind(key.as_str())
        .bind(c.tokens)
        .bind(c.at_ms)
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One token a call from a bucket of two that never refills.
    fn one_of_two(counted: &[Option<Counted>], now: i64) -> Result<Vec<Counted>, i64> {
        let tokens = counted[0].map_or(2.0, |c| c.tokens);
        if tokens < 1.0 {
            return Err(1_000);
        }
        Ok(vec![Counted {
            tokens: tokens - 1.0,
            at_ms: now,
        }])
    }

    #[tokio::test]
    async fn servers_on_one_database_take_from_the_same_buckets() {
        let (_held, db) = crate::testing::store().await;
        let keys = ["apigateway:all".to_string()];
        let mut tasks = vec![];
        for _ in 0..5 {
            let (db, keys) = (db.clone(), keys.clone());
            tasks.push(tokio::spawn(async move {
                take(&db, "default", "eu-west-1", &keys, one_of_two)
                    .await
                    .unwrap()
            }));
        }
        let mut granted = 0;
        for t in tasks {
            granted += usize::from(t.await.unwrap().is_ok());
        }
        assert_eq!(granted, 2, "two tokens, however many take at once");
        // Another region's bucket is its own.
        assert!(take(&db, "default", "us-east-1", &keys, one_of_two)
            .await
            .unwrap()
            .is_ok());
        assert_eq!(
            take(&db, "default", "eu-west-1", &keys, one_of_two)
                .await
                .unwrap(),
            Err(1_000)
        );
    }
}
