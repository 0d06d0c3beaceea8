//! What pages work out from rows that change far less often than pages are read (a gateway's
//! traffic charts: tens of thousands of points drawn into SVG), kept across requests in this
//! process. A value is kept under a key made of everything it was worked out from, read from
//! the database on each request (cursors, generations, times of the last write), so a change
//! by this process, the worker or another server on the same database makes a new key: nothing
//! is ever invalidated by hand, and a value is never served once what it came from changed
//! (it stays in memory until it is the least used). What is kept is bounded by its weight
//! (about its size in bytes); the least used goes first.

use std::any::{Any, TypeId};
use std::future::Future;
use std::sync::Arc;

/// About 64 MB of kept values: the 30-day charts of a gateway of the seed's shape weigh about
/// half a megabyte.
const CAPACITY_BYTES: u64 = 64 << 20;

/// A value's type and the caller's key.
type Key = (TypeId, String);
type Value = (Arc<dyn Any + Send + Sync>, u64);

#[derive(Clone)]
struct ByWeight;

impl quick_cache::Weighter<Key, Value> for ByWeight {
    /// The value's weight and its key's: a key naming a page of gateways can outweigh what it
    /// keeps.
    fn weight(&self, key: &Key, value: &Value) -> u64 {
        value.1.saturating_add(key.1.len() as u64).max(1)
    }
}

/// The values, and the hasher that names decoded text (`Store::decoded`): keyed at random for
/// this process, so no one can write a row whose name collides with another's on purpose.
pub(crate) struct Kept(
    quick_cache::sync::Cache<Key, Value, ByWeight>,
    std::hash::RandomState,
);

impl Default for Kept {
    fn default() -> Self {
        let options = quick_cache::OptionsBuilder::new()
            .estimated_items_capacity(1_024)
            .weight_capacity(CAPACITY_BYTES)
            // Few shards, so that each holds large values: a value over its shard's share of
            // the capacity is not kept at all (the default, four a core, leaves 2 MB a shard
            // on eight cores, less than a large gateway's month of charts) …
            .shards(SHARDS)
            // … and half of each for what is new: a key is new with every stored read and is
            // asked for again soon after (the default, 3 %, makes a value that weighs more
            // than that wait for a second miss).
            .hot_allocation(0.5)
            .build()
            .expect("the options are in range");
        Self(
            quick_cache::sync::Cache::with_options(
                options,
                ByWeight,
                Default::default(),
                Default::default(),
            ),
            std::hash::RandomState::new(),
        )
    }
}

const SHARDS: usize = 4;

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kept")
            .field("values", &self.0.len())
            .field("weight", &self.0.weight())
            .finish()
    }
}

impl crate::Store {
    /// The value kept under `key`, or else the one `work` works out, then kept with the
    /// weight it gives (about its size in bytes). Callers asking for a key meanwhile wait for
    /// that work instead of doing it again; an error is not kept. The key must name
    /// everything the value was worked out from (see the module's comment); its type is part
    /// of it.
    pub async fn kept_or<V, E, Fut>(
        &self,
        key: &str,
        work: impl FnOnce() -> Fut,
    ) -> Result<Arc<V>, E>
    where
        V: Any + Send + Sync,
        Fut: Future<Output = Result<(V, u64), E>>,
    {
        let key = (TypeId::of::<V>(), key.to_owned());
        let (value, _) = self
            .kept
            .0
            .get_or_insert_async(&key, async {
                let (value, weight) = work().await?;
                Ok::<Value, E>((Arc::new(value), weight))
            })
            .await?;
        Ok(value
            .downcast::<V>()
            .expect("a key holds the type of its value"))
    }
}

impl crate::Store {
    /// `json` (a stored row's column) decoded as a `T`: kept, and cloned from what was kept
    /// when the same text was decoded before. For columns written once and read by every page
    /// (a plan's steps, a generation's topology), where decoding was a page's largest cost. The
    /// text itself is the key (its type, its length and a 64-bit hash keyed at random per
    /// process), so nothing is invalidated by hand and an edited row is simply other text.
    pub(crate) fn decoded<T>(&self, what: &str, json: &str) -> crate::StoreResult<T>
    where
        T: serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
    {
        use std::hash::BuildHasher;
        let name = format!(
            "decoded {what}: {} bytes, {:016x}",
            json.len(),
            self.kept.1.hash_one(json)
        );
        let (value, _) = self
            .kept
            .0
            .get_or_insert_with(&(TypeId::of::<T>(), name), || {
                let value: T = crate::error::decode(what, json)?;
                // A decoded value of many short strings takes several times the memory of
                // its text (each string's header and allocation).
                let weight = 4 * json.len() as u64;
                Ok::<Value, crate::StoreError>((Arc::new(value), weight))
            })?;
        Ok(value
            .downcast_ref::<T>()
            .expect("a key holds the type of its value")
            .clone())
    }
}

/// A short name for a key, for a URL that changes whenever what it answers does: a browser may
/// keep what such a URL answered for as long as it likes (a traffic chart's `?v=`). The same on
/// every server and version, since it names the key, not this process's cache.
pub fn key_version(key: &str) -> String {
    crate::short_digest(key, 8)
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn works_once_per_key_and_forgets_past_its_capacity() {
        let (_held, store) = crate::testing::store().await;
        let worked = AtomicUsize::new(0);
        let work = |value: &'static str| {
            let worked = &worked;
            move || async move {
                worked.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Infallible>((value.to_owned(), 3))
            }
        };
        let one = store.kept_or("a", work("one")).await.unwrap();
        assert_eq!(*one, "one");
        // Kept: asked again (through a render's handle too), nothing is worked out.
        let again = store
            .for_one_render()
            .kept_or("a", work("other"))
            .await
            .unwrap();
        assert_eq!(*again, "one");
        assert_eq!(worked.load(Ordering::SeqCst), 1);
        // Decoded text: the same text gives the same value, other text another, and text
        // that does not decode is an error, not kept.
        let a: Vec<u32> = store.decoded("numbers", "[1,2]").unwrap();
        assert_eq!(a, vec![1, 2]);
        assert_eq!(store.decoded::<Vec<u32>>("numbers", "[1,2]").unwrap(), a);
        assert_eq!(
            store.decoded::<Vec<u32>>("numbers", "[3]").unwrap(),
            vec![3]
        );
        assert!(store.decoded::<Vec<u32>>("numbers", "[-1]").is_err());
        assert!(store.decoded::<Vec<i64>>("numbers", "[-1]").is_ok());
        // A key's version: short, the same for the same key, another for another.
        assert_eq!(super::key_version("a"), super::key_version("a"));
        assert_eq!(super::key_version("a").len(), 16);
        assert_ne!(super::key_version("a"), super::key_version("b"));
        // The same key for another type is another value.
        let number = store
            .kept_or("a", || async { Ok::<_, Infallible>((7_u64, 8)) })
            .await
            .unwrap();
        assert_eq!(*number, 7);
        // An error is not kept.
        let failed = store
            .kept_or::<String, _, _>("b", || async { Err("no") })
            .await;
        assert_eq!(failed.unwrap_err(), "no");
        assert_eq!(*store.kept_or("b", work("two")).await.unwrap(), "two");
        // Far past the capacity, some go.
        for i in 0..100_u64 {
            let weight = super::CAPACITY_BYTES / 50;
            store
                .kept_or(&format!("big {i}"), || async move {
                    Ok::<_, Infallible>((i, weight))
                })
                .await
                .unwrap();
        }
        assert!(store.kept.0.weight() <= super::CAPACITY_BYTES);
        assert!(store.kept.0.len() < 100, "{}", store.kept.0.len());
        // A value of a third of a shard's share (5 MB: ten times a month of the seed's charts)
        // is kept from its first time, in a cache already full.
        let large = super::CAPACITY_BYTES / super::SHARDS as u64 / 3;
        for _ in 0..2 {
            store
                .kept_or("large", || async {
                    worked.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, Infallible>(((), large))
                })
                .await
                .unwrap();
        }
        assert_eq!(worked.load(Ordering::SeqCst), 3);
    }
}
