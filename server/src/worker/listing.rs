//! One listing of an account and region shared by every gateway there. Listing a region
//! (every load balancer, target group and tag, every REST API, VPC link, usage plan and key)
//! costs the same whichever gateway asks, and at a few hundred gateways a listing per look
//! would take ELB's whole `Describe*` quota. So the gateways of an account and region share
//! one:
//!
//! - a look (a reconcile or a health read) takes a listing younger than the age it asks for
//!   (a health read its interval, a reconcile `WorkerConfig::listing_age`), counted from when
//!   the listing *started*; so a change made by hand is seen up to that much later;
//! - a reconcile takes only a listing that started after the worker saw the gateway appear
//!   or change (`changed_at`), or, after a run that failed or was cut off, after its next
//!   reconcile began (`relist_next`): a setup built by hand just before it was adopted, or a
//!   create that timed out after AWS did it, is then in the listing the plan is made from;
//! - the worker's own writes in a region, and a read there that failed, forget the region's
//!   listings, of every account and role (`forget_region`): the next reconcile of the writer
//!   lists again. A new lease term forgets them all (`forget_all`);
//! - the looks that wait for a listing in progress get its answer, a failure included, so a
//!   region that does not answer is not asked once per gateway in turn. A look put off by the
//!   quota kept for changes (`Deferred`) is not passed on.
//!
//! Of the worker's writes, only a gateway's own can make a listing wrong about that gateway
//! (it reads its own resources from it, found by their tags): so the looks already waiting
//! for a read in progress when another gateway writes may keep its answer.

use super::observe::{self, Inventory};
use crate::aws::call::{AwsError, Caller, ErrorKind};
use crate::aws::Clients;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Default)]
pub(super) struct Listings {
    /// The last listing of each (account, region).
    slots: Mutex<HashMap<(String, String), Arc<Slot>>>,
    /// Per gateway: since when a listing must have started for its reconcile to use it.
    since: Mutex<HashMap<i64, Since>>,
}

/// The last listing read; the lock makes the gateways that want one at once wait for one read.
type Slot = tokio::sync::Mutex<Option<Read>>;

struct Read {
    started: Instant,
    ended: Instant,
    result: Result<Arc<Inventory>, AwsError>,
}

#[derive(Clone, Copy)]
enum Since {
    At(Instant),
    /// From the start of the gateway's next reconcile.
    NextLook,
}

impl Listings {
    /// Whether a look asking with `max_age` and `keys` gets the account's API keys listed: a
    /// shared listing always includes them, a look's own (`max_age` zero) only if `keys`.
    pub(super) fn lists_keys(max_age: Duration, keys: bool) -> bool {
        keys || !max_age.is_zero()
    }

    /// A listing of the caller's account and region that started after `since` (if any) and
    /// is younger than `max_age`, else a new one (kept for the others); with the API keys as
    /// `lists_keys` says.
    pub(super) async fn get(
        &self,
        clients: &Clients,
        caller: &Caller,
        max_age: Duration,
        since: Option<Instant>,
        keys: bool,
    ) -> Result<Arc<Inventory>, AwsError> {
        let keys = Self::lists_keys(max_age, keys);
        if max_age.is_zero() {
            return Ok(Arc::new(
                observe::inventory_of(clients, caller, keys).await?,
            ));
        }
        let arrived = Instant::now();
        let slot = self.slot(caller);
        let mut held = slot.lock().await;
        if let Some(read) = held.as_ref() {
            match &read.result {
                Ok(inventory)
                    if read.started.elapsed() < max_age
                        && since.is_none_or(|s| read.started >= s) =>
                {
                    return Ok(inventory.clone());
                }
                // It failed while this look waited for it.
                Err(e) if read.ended >= arrived => return Err(e.clone()),
                _ => {}
            }
        }
        let started = Instant::now();
        let result = observe::inventory_of(clients, caller, keys)
            .await
            .map(Arc::new);
        *held = match &result {
            Err(e) if e.kind == ErrorKind::Deferred => None,
            _ => Some(Read {
                started,
                ended: Instant::now(),
                result: result.clone(),
            }),
        };
        result
    }

    fn slot(&self, caller: &Caller) -> Arc<Slot> {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((caller.account.clone(), caller.region.clone()))
            .or_default()
            .clone()
    }

    /// Forgets every listing of `region` (of every account and role): Portico just changed
    /// what AWS holds there. A read in progress fills a slot no longer kept; the looks
    /// already waiting for it get its answer, which is right about every gateway but the
    /// writer's, and the writer's next look comes after this.
    pub(super) fn forget_region(&self, region: &str) {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(_, r), _| r != region);
    }

    /// Forgets every listing (a new lease term: another server may have written meanwhile).
    pub(super) fn forget_all(&self) {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The worker saw gateway `gateway` appear or change at `at` (its change mark, read at
    /// `at`): its reconciles take no listing that started before.
    pub(super) fn changed_at(&self, gateway: i64, at: Instant) {
        self.since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(gateway, Since::At(at));
    }

    /// A run of `gateway` failed or was cut off: its next reconcile takes no listing that
    /// started before that reconcile began.
    pub(super) fn relist_next(&self, gateway: i64) {
        self.since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(gateway, Since::NextLook);
    }

    /// A reconcile of `gateway` begins: the earliest start of a listing it may plan from
    /// (after `relist_next`, now). Called once per reconcile.
    pub(super) fn begin_reconcile(&self, gateway: i64) -> Option<Instant> {
        let mut since = self.since.lock().unwrap_or_else(|e| e.into_inner());
        match since.get(&gateway).copied() {
            Some(Since::At(at)) => Some(at),
            Some(Since::NextLook) => {
                let now = Instant::now();
                since.insert(gateway, Since::At(now));
                Some(now)
            }
            None => None,
        }
    }

    /// `gateway` is gone from the worker.
    pub(super) fn forget_gateway(&self, gateway: i64) {
        self.since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&gateway);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a reconcile may plan from: nothing asked of a gateway never seen; after a change,
    /// listings started since; after a failed run, listings started since the next reconcile
    /// began, and that stays the bound until something else moves it.
    #[tokio::test]
    async fn a_reconcile_plans_from_listings_started_after_what_it_must_see() {
        let l = Listings::default();
        assert_eq!(l.begin_reconcile(1), None);
        let changed = Instant::now();
        l.changed_at(1, changed);
        assert_eq!(l.begin_reconcile(1), Some(changed));
        assert_eq!(l.begin_reconcile(2), None, "each gateway its own");
        l.relist_next(1);
        tokio::time::sleep(Duration::from_millis(5)).await;
        let before = Instant::now();
        let next = l.begin_reconcile(1).expect("a bound");
        assert!(next >= before, "from the next reconcile's start");
        assert_eq!(l.begin_reconcile(1), Some(next));
        l.forget_gateway(1);
        assert_eq!(l.begin_reconcile(1), None);
    }
}
