//! The command line's own rules: what `portico status` says of the lease, when the session
//! cookie is Secure, and the thresholds' ranges.

use super::*;
use crate::web::proxy::Origin;

#[test]
fn status_says_whether_the_lease_is_held_given_up_or_run_out() {
    let now = portico_store::now_ms();
    let lease = |renewed_ms, expires_ms| {
        Some(portico_store::lease::Lease {
            holder: "server-a".into(),
            acquired_ms: now - 60_000,
            renewed_ms,
            expires_ms,
        })
    };
    assert!(lease_words(None).contains("no server has run the worker"));
    let held = lease_words(lease(now - 1_000, now + 29_000));
    assert!(held.contains("server-a writes to AWS"), "{held}");
    let given_up = lease_words(lease(now - 3_000, now - 3_000));
    assert!(given_up.contains("was given up 3 s ago"), "{given_up}");
    let ran_out = lease_words(lease(now - 40_000, now - 10_000));
    assert!(ran_out.contains("expired 10 s ago"), "{ran_out}");
}

#[test]
fn the_cookie_is_secure_wherever_a_browser_can_only_reach_it_over_the_network() {
    let on = |addr: &str, public: Option<&str>, secure: bool, insecure: bool| {
        ServeArgs {
            addr: addr.parse().unwrap(),
            public_url: public.map(|p| Origin::parse_public_url(p).unwrap()),
            secure_cookies: secure,
            insecure_cookies: insecure,
            ..ServeArgs::default()
        }
        .secure_cookies()
    };
    assert!(
        !on("127.0.0.1:3000", None, false, false),
        "loopback: plain http"
    );
    assert!(!on("[::1]:3000", None, false, false));
    assert!(
        on("0.0.0.0:3000", None, false, false),
        "beyond loopback: Secure"
    );
    assert!(on(
        "127.0.0.1:3000",
        Some("https://p.example"),
        false,
        false
    ));
    assert!(!on(
        "0.0.0.0:3000",
        Some("http://p.example:3000"),
        false,
        false
    ));
    assert!(on("127.0.0.1:3000", None, true, false), "said so");
    assert!(!on("0.0.0.0:3000", None, false, true), "said otherwise");
}

#[test]
fn the_error_rate_threshold_is_a_percentage_and_a_count() {
    assert_eq!(parse_percent("5"), Ok(5.0));
    assert_eq!(parse_percent(" 0.5 "), Ok(0.5));
    for bad in ["150", "-1", "NaN", "five", "inf"] {
        assert!(parse_percent(bad).is_err(), "{bad}");
    }
    assert_eq!(parse_count("20"), Ok(20.0));
    for bad in ["-3", "NaN", "inf", ""] {
        assert!(parse_count(bad).is_err(), "{bad}");
    }
}
