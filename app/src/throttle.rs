//! Login throttling: failed sign-ins counted per (account, address) and per address in a
//! sliding window, so guessing one account's password or spraying many accounts from one
//! address both slow to a crawl. Kept in memory: a restart forgives, which is acceptable for a
//! window of minutes.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginThrottle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
    window: Duration,
    per_account: usize,
    per_address: usize,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(Duration::from_secs(15 * 60), 5, 50)
    }
}

impl LoginThrottle {
    pub fn new(window: Duration, per_account: usize, per_address: usize) -> Self {
        Self {
            failures: Mutex::new(HashMap::new()),
            window,
            per_account,
            per_address,
        }
    }

    fn keys(name: &str, addr: IpAddr) -> [String; 2] {
        [
            format!("acct:{}|{addr}", name.trim().to_lowercase()),
            format!("addr:{addr}"),
        ]
    }

    /// `Err(wait)` when a limit is reached: how long until the oldest counted failure expires.
    pub fn check(&self, name: &str, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let [acct, by_addr] = Self::keys(name, addr);
        for (key, limit) in [(acct, self.per_account), (by_addr, self.per_address)] {
            if let Some(times) = map.get_mut(&key) {
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    times.pop_front();
                }
                if times.len() >= limit {
                    let oldest = times.front().copied().unwrap_or(now);
                    return Err(self.window.saturating_sub(now.duration_since(oldest)));
                }
            }
        }
        Ok(())
    }

    pub fn record_failure(&self, name: &str, addr: IpAddr, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for key in Self::keys(name, addr) {
            map.entry(key).or_default().push_back(now);
        }
        // Bound memory under a spray of distinct names: forget entries whose window passed.
        if map.len() > 10_000 {
            map.retain(|_, t| {
                t.back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
    }

    /// A success forgives that account's failures from this address (not the address's total).
    pub fn record_success(&self, name: &str, addr: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let [acct, _] = Self::keys(name, addr);
        map.remove(&acct);
    }
}

/// "3 minutes", rounded up so the user never retries too early.
pub fn wait_in_words(wait: Duration) -> String {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    if minutes == 1 {
        "1 minute".into()
    } else {
        format!("{minutes} minutes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn locks_an_account_from_one_address_after_the_limit() {
        let t = LoginThrottle::new(Duration::from_secs(60), 3, 100);
        let now = Instant::now();
        for _ in 0..3 {
            assert!(t.check("alice", A, now).is_ok());
            t.record_failure("alice", A, now);
        }
        let wait = t.check("Alice", A, now).unwrap_err();
        assert_eq!(wait, Duration::from_secs(60));
        // Another address, or another account, is not locked by it.
        assert!(t.check("alice", B, now).is_ok());
        assert!(t.check("bob", A, now).is_ok());
        // The window slides.
        assert!(t.check("alice", A, now + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn locks_an_address_spraying_accounts() {
        let t = LoginThrottle::new(Duration::from_secs(60), 100, 4);
        let now = Instant::now();
        for i in 0..4 {
            t.record_failure(&format!("user{i}"), A, now);
        }
        assert!(t.check("someone-else", A, now).is_err());
        assert!(t.check("someone-else", B, now).is_ok());
    }

    #[test]
    fn success_clears_the_account_counter() {
        let t = LoginThrottle::new(Duration::from_secs(60), 2, 100);
        let now = Instant::now();
        t.record_failure("alice", A, now);
        t.record_success("alice", A);
        t.record_failure("alice", A, now);
        assert!(t.check("alice", A, now).is_ok());
    }

    #[test]
    fn wait_rounds_up() {
        assert_eq!(wait_in_words(Duration::from_secs(1)), "1 minute");
        assert_eq!(wait_in_words(Duration::from_secs(61)), "2 minutes");
    }
}
