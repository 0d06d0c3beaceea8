//! The worker's terms as lease holder: of all the `portico serve` processes on one database,
//! only the one holding the worker lease (`portico_store::lease`) observes, plans and writes to
//! AWS. It waits for the lease, settles, runs one task per gateway while it renews the lease,
//! and stops them all when it loses it; every AWS write first checks it still holds it.

use super::Worker;
use portico_store::{gateways, lease, plans};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The worker lease as the caller's write guard: a change is tried again only while this
/// worker still holds (and so renews) the lease.
pub(super) struct LeaseGuard {
    pub(super) store: portico_store::Store,
    pub(super) holder: String,
    pub(super) ttl: Duration,
}

impl std::fmt::Debug for LeaseGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LeaseGuard({})", self.holder)
    }
}

impl crate::aws::call::WriteGuard for LeaseGuard {
    fn may_write(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + '_>> {
        Box::pin(async move {
            claim_in_time(&self.store, &self.holder, self.ttl)
                .await
                .unwrap_or(false)
        })
    }
}

/// How often the lease is renewed, and a standby looks whether it is free.
fn tick(ttl: Duration) -> Duration {
    (ttl / 3).max(Duration::from_millis(50))
}

/// Takes or renews the lease, trusting a yes only when it came while at least a renewal's
/// worth of the lease was left: an answer that came later (a paused process, a database slow
/// to answer, a connection that hung) may come after the lease ran out and another server
/// took it. No answer by then counts as not holding it, so a leader stops writing.
async fn claim_in_time(
    store: &portico_store::Store,
    holder: &str,
    ttl: Duration,
) -> Result<bool, portico_store::StoreError> {
    let trusted = ttl.saturating_sub(tick(ttl));
    tokio::time::timeout(trusted, lease::claim(store, holder, ttl))
        .await
        .unwrap_or(Ok(false))
}

/// A gateway's task, stopped when its handle is dropped: when the lead ends — the lease lost,
/// or `serve` stopping and dropping the supervisor — no task of it keeps writing.
struct GatewayTask(tokio::task::JoinHandle<()>);

impl Drop for GatewayTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Worker {
    /// Takes or renews the worker lease (compare-and-set): true while this worker is the one
    /// that may write to AWS.
    pub async fn claim_lease(&self) -> Result<bool, portico_store::StoreError> {
        claim_in_time(&self.store, &self.holder, self.config.lease_ttl).await
    }

    /// The clock leases are judged by (`lease::db_now_ms`), or this server's when the database
    /// does not answer.
    async fn db_now_ms(&self) -> i64 {
        lease::db_now_ms(&self.store)
            .await
            .unwrap_or_else(|_| portico_store::now_ms())
    }

    /// Gives the lease up at a clean stop, so another server takes over at once.
    pub async fn release_lease(&self) {
        if let Err(e) = lease::release(&self.store, &self.holder).await {
            tracing::warn!("could not release the worker lease: {e}");
        }
    }

    /// How often the lease is renewed, and a standby looks whether it is free.
    fn lease_tick(&self) -> Duration {
        tick(self.config.lease_ttl)
    }

    /// Runs forever: one task per gateway, woken by `wake` or a change seen in the database.
    pub fn spawn(self: Arc<Self>, wake: Arc<Notify>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move { self.supervise(wake).await })
    }

    /// Waits to hold the worker lease, then runs every gateway's task until the lease is lost
    /// (then stops them all and waits again). Only the holder writes to AWS or to the plans.
    async fn supervise(self: Arc<Self>, wake: Arc<Notify>) {
        loop {
            let other_called = self.wait_for_lease().await;
            self.lead(&wake, other_called).await;
            tracing::warn!(
                holder = %self.holder,
                "lost the worker lease: this server stopped writing to AWS and waits as a standby"
            );
        }
    }

    /// Waits to hold the worker lease. Returns when the holder before, if another, last called
    /// AWS at the latest (unix milliseconds).
    async fn wait_for_lease(&self) -> Option<i64> {
        let mut said = false;
        loop {
            let before = lease::current(&self.store).await.ok().flatten();
            match self.claim_lease().await {
                Ok(true) => {
                    tracing::info!(holder = %self.holder, "this server holds the worker lease: it alone writes to AWS");
                    let now = self.db_now_ms().await;
                    return before
                        .filter(|l| l.holder != self.holder)
                        .map(|l| l.last_call(self.lease_tick(), now));
                }
                Ok(false) if !said => {
                    said = true;
                    tracing::info!("another server holds the worker lease: this one serves pages and stands by");
                }
                Ok(false) => {}
                Err(e) => tracing::error!("worker lease: {e}"),
            }
            tokio::time::sleep(self.lease_tick()).await;
        }
    }

    /// Waits `d` while holding the lease (renewed every tick): false if it was lost meanwhile.
    async fn hold_for(&self, d: Duration) -> bool {
        let until = tokio::time::Instant::now() + d;
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return true;
            }
            tokio::time::sleep(left.min(self.lease_tick())).await;
            if !matches!(self.claim_lease().await, Ok(true)) {
                return false;
            }
        }
    }

    /// One term as the lease holder: returns when the lease is lost. `other_called`: when the
    /// holder before, if another, last called AWS at the latest (unix milliseconds).
    async fn lead(self: &Arc<Self>, wake: &Notify, other_called: Option<i64>) {
        // Whatever ran when the last holder stopped was cut off; it is re-observed, not re-run.
        let settle = match plans::interrupt_running(&self.store).await {
            Ok(n) if n > 0 => {
                tracing::warn!(
                    "{n} plan(s) were cut off by a stop; observing AWS again in {} s",
                    self.config.settle.as_secs()
                );
                self.config.settle
            }
            // Another holder called AWS just now (a restart): the share of AWS's request
            // buckets it spent refills first, or this term's first reads would meet buckets
            // that this process's pacers start full but AWS's are not.
            Ok(_) => match other_called {
                Some(at) => {
                    let ago = Duration::from_millis((self.db_now_ms().await - at).max(0) as u64);
                    self.config.settle.saturating_sub(ago)
                }
                None => Duration::ZERO,
            },
            Err(e) => {
                tracing::error!("worker: {e}");
                Duration::ZERO
            }
        };
        if !self.hold_for(settle).await {
            return;
        }
        // Another server may have written while this one stood by, and a create cut off above
        // may have landed while it settled: nothing read before now is planned from.
        self.forget_all_read();
        let mut tasks: HashMap<i64, (Arc<Notify>, String, GatewayTask)> = HashMap::new();
        let mut renewed = tokio::time::Instant::now();
        loop {
            if renewed.elapsed() >= self.lease_tick() {
                match self.claim_lease().await {
                    Ok(true) => renewed = tokio::time::Instant::now(),
                    Ok(false) => break,
                    // The database did not answer: the lease still runs for a while, but
                    // another server may take it once it ends, so stop writing before then.
                    Err(e) => {
                        tracing::error!("worker lease: {e}");
                        if renewed.elapsed() + self.lease_tick() >= self.config.lease_ttl {
                            break;
                        }
                    }
                }
            }
            let looked = tokio::time::Instant::now();
            match gateways::change_marks(&self.store).await {
                Ok(marks) => {
                    let live: std::collections::HashSet<i64> =
                        marks.iter().map(|(id, _)| *id).collect();
                    // Dropping a task's handle stops it.
                    tasks.retain(|id, (_, _, task)| {
                        let keep = live.contains(id) && !task.0.is_finished();
                        if !live.contains(id) {
                            self.listings.forget_gateway(*id);
                        }
                        keep
                    });
                    for (id, mark) in marks {
                        match tasks.get_mut(&id) {
                            Some((notify, last, _)) => {
                                if *last != mark {
                                    *last = mark;
                                    self.listings.changed_at(id, looked);
                                    notify.notify_one();
                                }
                            }
                            None => {
                                self.listings.changed_at(id, looked);
                                let notify = Arc::new(Notify::new());
                                let me = self.clone();
                                let n = notify.clone();
                                let handle =
                                    tokio::spawn(async move { me.run_gateway(id, n).await });
                                tasks.insert(id, (notify, mark, GatewayTask(handle)));
                            }
                        }
                    }
                }
                Err(e) => tracing::error!("worker: {e}"),
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(self.config.poll.min(self.lease_tick())) => {}
            }
        }
        // Dropping `tasks` stops every gateway's task.
    }
}
