//! Sign-in under attack. Every attempt is counted, atomically, before its password is checked,
//! so N parallel requests are N attempts, not N free guesses. An account that keeps failing
//! from an address gets, from that address, a delay that doubles with each failure past the
//! limit — never a hard lock, and never one an attacker elsewhere can impose on the account's
//! owner; an address (IPv6 grouped by /64, which one host usually holds whole) that keeps
//! failing across accounts is refused for the rest of the window. Password checks (Argon2, 19 MiB each) run a few at a time; the rest wait in a
//! bounded queue or get 429, so a flood of sign-ins cannot exhaust memory. Kept in memory: a
//! restart forgives, which is acceptable for a window of minutes.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Longer names are refused before they are counted or logged (the same cap as user names).
pub const NAME_MAX: usize = portico_core::model::user::NAME_MAX;

pub struct LoginThrottle {
    failures: Mutex<Failures>,
    window: Duration,
    per_account: usize,
    per_address: usize,
    max_delay: Duration,
    hashing: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

#[derive(Default)]
struct Failures {
    accounts: HashMap<String, VecDeque<Instant>>,
    addresses: HashMap<String, VecDeque<Instant>>,
}

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
            failures: Mutex::new(Failures::default()),
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

    /// Counts an attempt before its password is checked: it stands as a failure unless
    /// `succeeded` takes it back. Refused when the account is within its delay or the
    /// address is over its limit.
    pub fn begin(&self, name: &str, addr: IpAddr, now: Instant) -> Result<(), Refusal> {
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (account, address) = (Self::account_key(name, addr), Self::address_key(addr));
        let window = self.window;
        let prune = |times: &mut VecDeque<Instant>| {
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) >= window)
            {
                times.pop_front();
            }
        };
        let times = f.addresses.entry(address.clone()).or_default();
        prune(times);
        if times.len() >= self.per_address {
            let oldest = times.front().copied().unwrap_or(now);
            return Err(Refusal::Address(
                window.saturating_sub(now.duration_since(oldest)),
            ));
        }
        if let Some(times) = f.accounts.get_mut(&account) {
            prune(times);
            if times.len() >= self.per_account {
                let over = (times.len() - self.per_account).min(16) as u32;
                let delay = Duration::from_secs(1 << over).min(self.max_delay);
                let since = now.duration_since(times.back().copied().unwrap_or(now));
                if since < delay {
                    return Err(Refusal::Account(delay - since));
                }
            }
        }
        f.accounts.entry(account).or_default().push_back(now);
        f.addresses.entry(address).or_default().push_back(now);
        // Bound memory under a spray of names or addresses: forget what the window passed.
        if f.accounts.len() + f.addresses.len() > 20_000 {
            let keep = |t: &mut VecDeque<Instant>| {
                t.back().is_some_and(|t| now.duration_since(*t) < window)
            };
            f.accounts.retain(|_, t| keep(t));
            f.addresses.retain(|_, t| keep(t));
        }
        Ok(())
    }

    /// A right password forgives the account's failures from this address, and its own
    /// attempt at the address.
    pub fn succeeded(&self, name: &str, addr: IpAddr) {
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        f.accounts.remove(&Self::account_key(name, addr));
        if let Some(times) = f.addresses.get_mut(&Self::address_key(addr)) {
            times.pop_back();
        }
    }

    /// Takes back an attempt that was never tried (no turn at a password check).
    pub fn not_tried(&self, name: &str, addr: IpAddr) {
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(times) = f.accounts.get_mut(&Self::account_key(name, addr)) {
            times.pop_back();
        }
        if let Some(times) = f.addresses.get_mut(&Self::address_key(addr)) {
            times.pop_back();
        }
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

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn an_account_past_its_limit_waits_a_delay_that_doubles_but_is_never_locked() {
        let t = LoginThrottle::new(Duration::from_secs(600), 3, 100);
        let now = Instant::now();
        for _ in 0..3 {
            assert!(t.begin("alice", A, now).is_ok());
        }
        assert_eq!(
            t.begin("Alice", A, now),
            Err(Refusal::Account(Duration::from_secs(1)))
        );
        let later = now + Duration::from_secs(1);
        assert!(
            t.begin("alice", A, later).is_ok(),
            "after the delay, one more try"
        );
        assert_eq!(
            t.begin("alice", A, later),
            Err(Refusal::Account(Duration::from_secs(2))),
            "the delay doubles"
        );
        // The account's owner elsewhere is not slowed by it, nor is another account.
        assert!(t.begin("alice", B, now).is_ok());
        assert!(t.begin("bob", A, now).is_ok());
        // A success forgives the account at that address.
        t.succeeded("alice", A);
        assert!(t.begin("alice", A, later).is_ok());
    }

    #[test]
    fn the_delay_stops_growing_at_its_cap() {
        let t = LoginThrottle::new(Duration::from_secs(3600), 1, 10_000);
        let mut now = Instant::now();
        for _ in 0..40 {
            match t.begin("alice", A, now) {
                Ok(()) => {}
                Err(Refusal::Account(wait)) => {
                    assert!(wait <= Duration::from_secs(60), "{wait:?}");
                    now += wait;
                }
                Err(other) => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn an_address_spraying_accounts_is_refused_and_ipv6_counts_by_64() {
        let t = LoginThrottle::new(Duration::from_secs(60), 100, 4);
        let now = Instant::now();
        for i in 0..4 {
            let addr: IpAddr = format!("2001:db8:1:2::{i}").parse().unwrap();
            assert!(t.begin(&format!("user{i}"), addr, now).is_ok());
        }
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(matches!(
            t.begin("someone", same_64, now),
            Err(Refusal::Address(_))
        ));
        let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(t.begin("someone", other_64, now).is_ok());
        assert!(t.begin("someone-else", B, now).is_ok());
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
