//! Sign-in under attack. Every attempt is counted, atomically, before its password is checked,
//! so N parallel requests are N attempts, not N free guesses. An account that keeps failing
//! from an address gets, from that address, a delay that doubles with each failure past the
//! limit — never a hard lock, and never one an attacker elsewhere can impose on the account's
//! owner; an address (IPv6 grouped by /64, which one host usually holds whole) that keeps
//! failing across accounts is refused for the rest of the window. The attempts are counted in
//! the database (`portico_store::sign_in`), so every server on it counts them alike: guesses
//! spread over the servers behind a load balancer are as many guesses. Password checks
//! (Argon2, 19 MiB each) run a few at a time on each server; the rest wait in a bounded queue
//! or get 429, so a flood of sign-ins cannot exhaust memory.

use portico_store::Store;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Longer names are refused before they are counted or logged (the same cap as user names).
pub const NAME_MAX: usize = portico_core::model::user::NAME_MAX;

pub struct LoginThrottle {
    window: Duration,
    per_account: usize,
    per_address: usize,
    max_delay: Duration,
    hashing: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// An attempt counted by `begin`: `succeeded` takes it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt(i64);

/// Why an attempt was not even tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// This account failed too often lately: it may try again after the delay.
    Account(Duration),
    /// This address (or IPv6 /64) failed too often across accounts.
    Address(Duration),
    /// Too many password checks at once: try again shortly.
    Busy,
}

impl Refusal {
    /// The answer a refused attempt gets (429, with when to try again).
    pub fn into_error(self) -> crate::error::AppError {
        crate::error::AppError::TooManyAttempts(match self {
            Refusal::Account(wait) => format!(
                "Too many failed sign-ins for this account. Try again in {}.",
                wait_in_words(wait)
            ),
            Refusal::Address(wait) => format!(
                "Too many failed sign-ins from your network. Try again in {}.",
                wait_in_words(wait)
            ),
            Refusal::Busy => "Too many sign-ins at once. Try again in a moment.".into(),
        })
    }
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(Duration::from_secs(15 * 60), 5, 50)
    }
}

impl LoginThrottle {
    pub fn new(window: Duration, per_account: usize, per_address: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            window,
            per_account,
            per_address,
            max_delay: Duration::from_secs(60),
            hashing: Semaphore::new(cores),
            waiting: AtomicUsize::new(0),
            max_waiting: cores * 8,
        }
    }

    /// The account as tried from one address: its delay binds that address only.
    fn account_key(name: &str, addr: IpAddr) -> String {
        format!("{}|{}", name.trim().to_lowercase(), Self::address_key(addr))
    }

    /// IPv4 as it is; IPv6 by its /64 (a host usually holds a whole /64 and picks from it).
    fn address_key(addr: IpAddr) -> String {
        match addr {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
        }
    }

    /// Whether one more attempt may be made at `now_ms`, given the times (unix ms, oldest
    /// first) of the account's attempts from this address and of the address's, within the
    /// window.
    fn judge(&self, account: &[i64], address: &[i64], now_ms: i64) -> Result<(), Refusal> {
        let window = self.window.as_millis() as i64;
        let since = |t: i64| Duration::from_millis(now_ms.saturating_sub(t).max(0) as u64);
        if address.len() >= self.per_address {
            let oldest = address.first().copied().unwrap_or(now_ms);
            return Err(Refusal::Address(
                Duration::from_millis(window as u64).saturating_sub(since(oldest)),
            ));
        }
        if account.len() >= self.per_account {
            let over = (account.len() - self.per_account).min(16) as u32;
            let delay = Duration::from_secs(1 << over).min(self.max_delay);
            let since = since(account.last().copied().unwrap_or(now_ms));
            if since < delay {
                return Err(Refusal::Account(delay - since));
            }
        }
        Ok(())
    }

    /// Counts an attempt before its password is checked: it stands as a failure unless
    /// `succeeded` takes it back. Refused when the account is within its delay or the
    /// address is over its limit.
    pub async fn begin(
        &self,
        store: &Store,
        name: &str,
        addr: IpAddr,
        now_ms: i64,
    ) -> Result<Result<Attempt, Refusal>, portico_store::StoreError> {
        let counted = portico_store::sign_in::attempt(
            store,
            &Self::account_key(name, addr),
            &Self::address_key(addr),
            now_ms,
            self.window.as_millis() as i64,
            |account, address| self.judge(account, address, now_ms),
        )
        .await?;
        Ok(counted.map(Attempt))
    }

    /// A right password forgives the account's failures from this address, and its own
    /// attempt at the address.
    pub async fn succeeded(
        &self,
        store: &Store,
        name: &str,
        addr: IpAddr,
        attempt: Attempt,
    ) -> Result<(), portico_store::StoreError> {
        portico_store::sign_in::forgive(store, &Self::account_key(name, addr), attempt.0).await
    }

    /// A turn at checking a password: a few run at once, a bounded number wait, the rest are
    /// refused at once.
    pub async fn hashing(&self) -> Result<SemaphorePermit<'_>, Refusal> {
        if let Ok(permit) = self.hashing.try_acquire() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Refusal::Busy);
        }
        let permit = self.hashing.acquire().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        permit.map_err(|_| Refusal::Busy)
    }
}

/// "3 minutes" or "20 seconds", rounded up so the user never retries too early.
pub fn wait_in_words(wait: Duration) -> String {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    match secs {
        0 | 1 => "1 second".into(),
        2..=59 => format!("{secs} seconds"),
        _ => match secs.div_ceil(60) {
            1 => "1 minute".into(),
            m => format!("{m} minutes"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The judge over attempt times: `n` attempts at `at` (ms).
    fn times(n: usize, at: i64) -> Vec<i64> {
        vec![at; n]
    }

    #[test]
    fn an_account_past_its_limit_waits_a_delay_that_doubles_but_is_never_locked() {
        let t = LoginThrottle::new(Duration::from_secs(600), 3, 100);
        let none: &[i64] = &[];
        assert!(t.judge(&times(2, 0), none, 0).is_ok());
        assert_eq!(
            t.judge(&times(3, 0), none, 0),
            Err(Refusal::Account(Duration::from_secs(1)))
        );
        assert!(
            t.judge(&times(3, 0), none, 1_000).is_ok(),
            "after the delay, one more try"
        );
        assert_eq!(
            t.judge(&times(4, 1_000), none, 1_000),
            Err(Refusal::Account(Duration::from_secs(2))),
            "the delay doubles"
        );
        assert_eq!(
            t.judge(&times(4, 1_000), none, 2_500),
            Err(Refusal::Account(Duration::from_millis(500)))
        );
    }

    #[test]
    fn the_delay_stops_growing_at_its_cap() {
        let t = LoginThrottle::new(Duration::from_secs(3600), 1, 10_000);
        for n in 1..200 {
            match t.judge(&times(n, 0), &[], 0) {
                Err(Refusal::Account(wait)) => {
                    assert!(wait <= Duration::from_secs(60), "{wait:?}")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn an_address_over_its_limit_waits_for_its_oldest_attempt_to_leave_the_window() {
        let t = LoginThrottle::new(Duration::from_secs(60), 100, 4);
        assert!(t.judge(&[], &times(3, 0), 0).is_ok());
        assert_eq!(
            t.judge(&[], &[0, 10_000, 20_000, 30_000], 30_000),
            Err(Refusal::Address(Duration::from_secs(30)))
        );
    }

    #[test]
    fn ipv6_counts_by_64_and_mapped_ipv4_as_ipv4() {
        let key = |a: &str| LoginThrottle::address_key(a.parse().unwrap());
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:10.0.0.1"), key("10.0.0.1"));
        assert_eq!(
            LoginThrottle::account_key(" Alice ", "10.0.0.1".parse().unwrap()),
            "alice|10.0.0.1"
        );
    }

    #[tokio::test]
    async fn password_checks_run_a_few_at_a_time_and_the_queue_is_bounded() {
        let t = LoginThrottle::new(Duration::from_secs(60), 5, 50);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let held: Vec<_> = (0..cores)
            .map(|_| t.hashing.try_acquire().unwrap())
            .collect();
        t.waiting.store(t.max_waiting, Ordering::SeqCst);
        assert_eq!(t.hashing().await.err(), Some(Refusal::Busy));
        t.waiting.store(0, Ordering::SeqCst);
        drop(held);
        assert!(t.hashing().await.is_ok());
    }

    #[test]
    fn wait_rounds_up() {
        assert_eq!(wait_in_words(Duration::from_millis(300)), "1 second");
        assert_eq!(wait_in_words(Duration::from_millis(2500)), "3 seconds");
        assert_eq!(wait_in_words(Duration::from_secs(61)), "2 minutes");
    }
}
