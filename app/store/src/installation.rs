//! This installation's id (table `installation`, made by its migration): the value of the
//! `portico:installation` tag on everything the worker creates in AWS.

use crate::sql;
use crate::{Store, StoreResult};

/// The installation's id: 16 hex digits, the same for every server on this database.
pub async fn id(db: &Store) -> StoreResult<String> {
    Ok(
        sql::query_scalar("SELECT name FROM installation WHERE id = 1")
            .fetch_one(&db.pool)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_id_per_database_kept_across_opens() {
        let (held, db) = crate::testing::store().await;
        let first = id(&db).await.unwrap();
        assert_eq!(first.len(), 16);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        db.close().await;
        let db = held.open_again().await;
        assert_eq!(id(&db).await.unwrap(), first);
        let (_other_held, other) = crate::testing::store().await;
        assert_ne!(id(&other).await.unwrap(), first);
    }
}
