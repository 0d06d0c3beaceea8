//! Prices refreshed from the AWS Price List API (`portico prices refresh`), one row per region.
//! They override the table embedded in the core; a region never refreshed uses the embedded one.

use crate::sql;
use crate::{now_unix, Store, StoreResult};
use portico_core::cost::prices::Prices;
use portico_core::model::topology::Topology;

/// The prices for `region` and whether they are the region's own (false: us-east-1's stand in).
pub async fn for_region(db: &Store, region: &str) -> StoreResult<(Prices, bool)> {
    match &db.memo {
        Some(memo) => memo.prices.get_or_read(region, || read(db, region)).await,
        None => read(db, region).await,
    }
}

async fn read(db: &Store, region: &str) -> StoreResult<(Prices, bool)> {
    let stored: Option<String> = sql::query_scalar("SELECT prices FROM prices WHERE region = ?")
        .bind(region)
        .fetch_optional(&db.pool)
        .await?;
    // A row an older Portico wrote in another shape is skipped, not an error: the embedded
    // table still gives an estimate, and the next refresh rewrites the row.
    let refreshed: Vec<Prices> = stored
        .and_then(|s| serde_json::from_str(&s).ok())
        .into_iter()
        .collect();
    Ok(portico_core::cost::prices::for_region(region, &refreshed))
}

/// Stores `prices` as the region's, replacing what an earlier refresh stored.
pub async fn save(db: &Store, region: &str, prices: &Prices) -> StoreResult<()> {
    sql::query(
        "INSERT INTO prices (region, prices, refreshed_at) VALUES (?, ?, ?) \
         ON CONFLICT (region) DO UPDATE SET prices = excluded.prices, refreshed_at = excluded.refreshed_at",
    )
    .bind(region)
    .bind(crate::error::encode("prices", prices)?)
    .bind(now_unix())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The regions of every gateway's latest generation, sorted, each once: what a refresh reads
/// when no region is named.
pub async fn regions_in_use(db: &Store) -> StoreResult<Vec<String>> {
    let topologies: Vec<String> = sql::query_scalar(
        "SELECT v.topology FROM gateways g \
         JOIN generations v ON v.gateway_id = g.id AND v.generation = g.generation",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut regions: Vec<String> = topologies
        .iter()
        .filter_map(|t| serde_json::from_str::<Topology>(t).ok())
        .map(|t| t.gateway.region)
        .collect();
    regions.sort();
    regions.dedup();
    Ok(regions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refreshed_prices_override_the_embedded_table() {
        let (_held, db) = crate::testing::store().await;
        let (embedded, _) = portico_core::cost::prices::for_region("ap-northeast-2", &[]);
        assert_eq!(for_region(&db, "ap-northeast-2").await.unwrap().0, embedded);

        let mut refreshed = embedded.clone();
        refreshed.region = "ap-northeast-2".into();
        refreshed.date = "2031-01-02".into();
        save(&db, "ap-northeast-2", &refreshed).await.unwrap();
        save(&db, "ap-northeast-2", &refreshed).await.unwrap();
        assert_eq!(
            for_region(&db, "ap-northeast-2").await.unwrap(),
            (refreshed, true)
        );
        assert!(regions_in_use(&db).await.unwrap().is_empty());
        let seed = Topology::from_yaml(include_str!("../../../examples/seed-topology.yaml"));
        crate::gateways::create(&db, "ann", seed.unwrap(), false)
            .await
            .unwrap();
        assert_eq!(regions_in_use(&db).await.unwrap(), ["ap-northeast-2"]);
    }
}
