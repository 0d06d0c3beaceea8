//! This installation's id (table `installation`, made by its migration): the value of the
//! `portico:installation` tag on everything the worker creates in AWS.

use crate::{Store, StoreResult};

/// The installation's id: 16 hex digits, the same for every server on this database.
pub async fn id(db: &Store) -> StoreResult<String> {
    Ok(
        sqlx::query_scalar("SELECT name FROM installation WHERE id = 1")
            .fetch_one(&db.pool)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_id_per_database_kept_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let db = Store::open(&path).await.unwrap();
        let first = id(&db).await.unwrap();
        assert_eq!(first.len(), 16);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        db.close().await;
        let db = Store::open(&path).await.unwrap();
        assert_eq!(id(&db).await.unwrap(), first);
        let other = Store::open(&dir.path().join("q.db")).await.unwrap();
        assert_ne!(id(&other).await.unwrap(), first);
    }
}
