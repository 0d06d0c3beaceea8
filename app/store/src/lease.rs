//! The worker lease (table `worker_lease`): which `portico serve` process may write to AWS.
//! Claiming is one compare-and-set statement, so two processes racing for it can never both
//! win: it succeeds for the holder (a renewal) or for anyone once the lease has expired.

use crate::sql;
use crate::{now_ms, Store, StoreResult};
use std::time::Duration;

/// Who holds the lease, since when, until when (unix milliseconds).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Lease {
    pub holder: String,
    pub acquired_ms: i64,
    pub renewed_ms: i64,
    pub expires_ms: i64,
}

impl Lease {
    /// Its holder gave it up (`release`: renewed and ended at the same instant) rather than
    /// let it run out.
    pub fn given_up(&self) -> bool {
        self.expires_ms == self.renewed_ms
    }

    /// The latest its holder can have called AWS, for a holder that renews every `tick` (and
    /// before every write): when it gave the lease up, or before the renewal it never made.
    pub fn last_call(&self, tick: Duration, now: i64) -> i64 {
        self.expires_ms
            .min(self.renewed_ms + tick.as_millis() as i64)
            .min(now)
    }
}

/// The clock leases are judged by (unix ms). On PostgreSQL, the database server's: servers
/// whose own clocks disagree still agree on when a lease ends. A SQLite file lives on one
/// machine, whose clock all its processes share.
pub async fn db_now_ms(db: &Store) -> StoreResult<i64> {
    if !db.is_postgres() {
        return Ok(now_ms());
    }
    Ok(
        sql::query_scalar("SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)")
            .fetch_one(&db.pool)
            .await?,
    )
}

/// Takes or renews the lease for `holder` until `ttl` from now (`db_now_ms`). True when
/// `holder` holds it afterwards; false when another holder's lease is still running.
pub async fn claim(db: &Store, holder: &str, ttl: Duration) -> StoreResult<bool> {
    let now = db_now_ms(db).await?;
    let until = now + ttl.as_millis() as i64;
    let done = sql::query(
        "INSERT INTO worker_lease (id, holder, acquired_ms, renewed_ms, expires_ms) \
         VALUES (1, ?1, ?2, ?2, ?3) \
         ON CONFLICT (id) DO UPDATE SET \
           acquired_ms = CASE WHEN worker_lease.holder = excluded.holder \
                              THEN worker_lease.acquired_ms ELSE excluded.acquired_ms END, \
           holder = excluded.holder, renewed_ms = excluded.renewed_ms, \
           expires_ms = excluded.expires_ms \
         WHERE worker_lease.holder = excluded.holder OR worker_lease.expires_ms <= ?2",
    )
    .bind(holder)
    .bind(now)
    .bind(until)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the lease up (a clean stop): it ends now, so another process takes over at once,
/// and the next holder knows when this one stopped (`current`). A lease that already ran out
/// is left as it ended.
pub async fn release(db: &Store, holder: &str) -> StoreResult<()> {
    // Renewed and ended at the same instant: what `Lease::given_up` tells apart.
    sql::query(
        "UPDATE worker_lease SET expires_ms = ?1, renewed_ms = ?1 \
         WHERE holder = ?2 AND expires_ms > ?1",
    )
    .bind(db_now_ms(db).await?)
    .bind(holder)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The lease as it stands (expired or not), for `portico status`.
pub async fn current(db: &Store) -> StoreResult<Option<Lease>> {
    Ok(sql::query_as(
        "SELECT holder, acquired_ms, renewed_ms, expires_ms FROM worker_lease WHERE id = 1",
    )
    .fetch_optional(&db.pool)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (crate::testing::Held, Store) {
        let (dir, db) = crate::testing::store().await;
        (dir, db)
    }

    #[tokio::test]
    async fn one_holder_at_a_time_until_it_expires_or_lets_go() {
        let (_dir, db) = store().await;
        let long = Duration::from_secs(60);
        assert!(claim(&db, "a", long).await.unwrap());
        assert!(!claim(&db, "b", long).await.unwrap(), "a holds it");
        assert!(claim(&db, "a", long).await.unwrap(), "a renews");
        let held = current(&db).await.unwrap().unwrap();
        assert_eq!(held.holder, "a");
        release(&db, "b").await.unwrap();
        assert_eq!(
            current(&db).await.unwrap().unwrap().holder,
            "a",
            "b can't release a's"
        );
        release(&db, "a").await.unwrap();
        let released = current(&db).await.unwrap().unwrap();
        assert!(
            released.expires_ms <= db_now_ms(&db).await.unwrap(),
            "released: ended, not forgotten"
        );
        assert!(released.given_up(), "and told apart");
        assert!(!held.given_up());
        assert!(claim(&db, "b", long).await.unwrap(), "free once released");
        // An expired lease goes to whoever claims next.
        assert!(claim(&db, "b", Duration::ZERO).await.unwrap());
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(claim(&db, "c", long).await.unwrap());
        assert_eq!(current(&db).await.unwrap().unwrap().holder, "c");
    }

    #[test]
    fn the_last_call_of_a_holder_is_when_it_let_go_or_before_its_missed_renewal() {
        let tick = Duration::from_secs(10);
        let lease = |renewed_ms, expires_ms| Lease {
            holder: "a".into(),
            acquired_ms: 0,
            renewed_ms,
            expires_ms,
        };
        // Died after renewing at 1 s: it would have renewed by 11 s.
        assert_eq!(lease(1_000, 31_000).last_call(tick, 50_000), 11_000);
        // Gave it up at 5 s.
        assert_eq!(lease(5_000, 5_000).last_call(tick, 6_000), 5_000);
        // Still running: now at the latest.
        assert_eq!(lease(1_000, 31_000).last_call(tick, 3_000), 3_000);
    }

    #[tokio::test]
    async fn racing_claims_elect_exactly_one() {
        let (_dir, db) = store().await;
        let mut tasks = vec![];
        for i in 0..16 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                claim(&db, &format!("p{i}"), Duration::from_secs(60))
                    .await
                    .unwrap()
            }));
        }
        let mut winners = 0;
        for t in tasks {
            winners += usize::from(t.await.unwrap());
        }
        assert_eq!(winners, 1);
    }
}
