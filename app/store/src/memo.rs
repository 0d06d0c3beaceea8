//! What one page render reads more than once. A gateway page's server functions each read the
//! gateway by name (the frame, health, the plans) and its region's prices; rendered on the
//! server in one request, they share one read of each through the store handle the render is
//! given (`Store::for_one_render`). Nothing is kept beyond the render.

use crate::gateways::Desired;
use crate::StoreResult;
use portico_core::cost::prices::Prices;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

#[derive(Debug, Default)]
pub(crate) struct Memo {
    /// Gateways by name.
    pub(crate) gateways: Cells<Desired>,
    /// Prices by region, and whether they are the region's own.
    pub(crate) prices: Cells<(Prices, bool)>,
}

/// One read per key: the first caller reads, callers meanwhile wait for its answer. A failed
/// read is not kept (the next caller reads again).
#[derive(Debug)]
pub(crate) struct Cells<V>(Mutex<HashMap<String, Arc<OnceCell<V>>>>);

impl<V> Default for Cells<V> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

impl<V: Clone> Cells<V> {
    pub(crate) async fn get_or_read<Fut>(
        &self,
        key: &str,
        read: impl FnOnce() -> Fut,
    ) -> StoreResult<V>
    where
        Fut: Future<Output = StoreResult<V>>,
    {
        let cell = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_owned())
            .or_default()
            .clone();
        cell.get_or_try_init(read).await.cloned()
    }
}
