//! API keys as people see them: the rules for issuing one, and a key's status in words. Pure,
//! so the forms check as you type and the server checks the same way.

use serde::{Deserialize, Serialize};

/// Seven days: a revoked key is disabled at once and deleted from AWS after this.
pub const REVOKED_KEPT_SECONDS: i64 = 7 * 24 * 3600;
/// A key "expires soon" within this.
pub const EXPIRING_SOON_SECONDS: i64 = 7 * 24 * 3600;

/// The last four characters of a key's value: enough to recognise it, useless to an attacker.
pub fn hint(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

pub fn key_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err("Key name must be 1 to 64 characters.".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "Key name may only hold letters, digits, '-', '_' and '.' (found {c:?})."
        ));
    }
    Ok(())
}

pub fn owner(owner: &str) -> Result<(), String> {
    if owner.trim().is_empty() || owner.len() > 128 {
        return Err(
            "Owner must be 1 to 128 characters: who uses the key (a team, a service, an email)."
                .into(),
        );
    }
    Ok(())
}

pub fn description(text: &str) -> Result<(), String> {
    if text.len() > 256 {
        return Err("Description must be at most 256 characters.".into());
    }
    Ok(())
}

/// `YYYY-MM-DD` → the unix time of that day's start, UTC.
pub fn parse_date(text: &str) -> Result<i64, String> {
    let bad = || format!("Expiry {text:?} is not a date like 2027-01-31.");
    let mut parts = text.trim().split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let (y, m, d): (i64, u32, u32) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1970..=9999).contains(&y)
        || !(1..=12).contains(&m)
        || d == 0
        || d > days_in_month[m as usize - 1]
    {
        return Err(bad());
    }
    Ok(days_from_civil(y, m, d) * 86_400)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD HH:MM` UTC of a unix time.
pub fn format_time(t: i64) -> String {
    let (day, h, m, _) = civil(t);
    format!("{day} {h:02}:{m:02}")
}

/// `YYYY-MM-DD HH:MM:SS` UTC of a unix time.
pub fn format_timestamp(t: i64) -> String {
    let (day, h, m, s) = civil(t);
    format!("{day} {h:02}:{m:02}:{s:02}")
}

/// The day (`YYYY-MM-DD`), hour, minute and second, UTC, of a unix time (Howard Hinnant's
/// civil_from_days).
fn civil(t: i64) -> (String, i64, i64, i64) {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        format!("{y:04}-{m:02}-{d:02}"),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
    )
}

/// What a key's dates and switches amount to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    /// The worker has not made it in AWS yet.
    Creating,
    Active,
    /// Active, and expires within a week.
    Expiring,
    Expired,
    Disabled,
    /// Replaced by a rotation; still works until its grace period ends.
    Rotating,
    /// Replaced by a rotation, grace period over.
    Replaced,
    Revoked,
    /// Revoked and deleted from AWS.
    Deleted,
}

impl KeyStatus {
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            KeyStatus::Creating => ("creating", "busy"),
            KeyStatus::Active => ("active", "ok"),
            KeyStatus::Expiring => ("expiring", "warn"),
            KeyStatus::Expired => ("expired", "bad"),
            KeyStatus::Disabled => ("disabled", "muted"),
            KeyStatus::Rotating => ("rotating", "warn"),
            KeyStatus::Replaced => ("replaced", "muted"),
            KeyStatus::Revoked => ("revoked", "bad"),
            KeyStatus::Deleted => ("deleted", "muted"),
        }
    }
}

/// The dates and switches of a key that decide its status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDates {
    pub enabled: bool,
    pub created_in_aws: bool,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub disable_at: Option<i64>,
    pub deleted_at: Option<i64>,
}

impl KeyDates {
    /// Whether the key accepts calls at `now`: the admin's switch is on, it is neither revoked
    /// nor deleted, and neither its expiry nor the end of a rotation's grace period has come.
    /// The one rule: the worker sets the key's `enabled` flag in AWS from it, and the keys page
    /// words the status from it, so the page never says a key works that AWS refuses.
    pub fn enabled_at(&self, now: i64) -> bool {
        self.enabled
            && self.revoked_at.is_none()
            && self.deleted_at.is_none()
            && self.expires_at.is_none_or(|e| now < e)
            && self.disable_at.is_none_or(|d| now < d)
    }
}

pub fn status(k: &KeyDates, now: i64) -> KeyStatus {
    if k.deleted_at.is_some() {
        KeyStatus::Deleted
    } else if k.revoked_at.is_some() {
        KeyStatus::Revoked
    } else if !k.enabled_at(now) {
        // Why it does not work, the most lasting reason first.
        if k.disable_at.is_some_and(|d| now >= d) {
            KeyStatus::Replaced
        } else if k.expires_at.is_some_and(|e| now >= e) {
            KeyStatus::Expired
        } else {
            KeyStatus::Disabled
        }
    } else if k.disable_at.is_some() {
        KeyStatus::Rotating
    } else if !k.created_in_aws {
        KeyStatus::Creating
    } else if k
        .expires_at
        .is_some_and(|e| e - now < EXPIRING_SOON_SECONDS)
    {
        KeyStatus::Expiring
    } else {
        KeyStatus::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dates_parse_and_print() {
        assert_eq!(parse_date("1970-01-01"), Ok(0));
        assert_eq!(parse_date("2000-03-01"), Ok(951_868_800));
        assert_eq!(
            parse_date("2024-02-29").map(format_time),
            Ok("2024-02-29 00:00".into())
        );
        assert_eq!(format_timestamp(951_868_800 + 3_723), "2000-03-01 01:02:03");
        assert_eq!(format_timestamp(-1), "1969-12-31 23:59:59");
        assert!(parse_date("2023-02-29").unwrap_err().contains("not a date"));
        assert!(parse_date("2027-13-01").is_err());
        assert!(parse_date("tomorrow").is_err());
        assert!(parse_date("2027-01-01-01").is_err());
    }

    proptest! {
        #[test]
        fn format_then_parse_is_the_day(t in 0i64..253_402_300_799) {
            let day = &format_time(t)[..10];
            prop_assert_eq!(parse_date(day), Ok(t - t.rem_euclid(86_400)));
        }
    }

    #[test]
    fn status_follows_the_dates() {
        let now = 1_000_000;
        let live = KeyDates {
            enabled: true,
            created_in_aws: true,
            ..Default::default()
        };
        assert_eq!(status(&live, now), KeyStatus::Active);
        assert_eq!(
            status(
                &KeyDates {
                    created_in_aws: false,
                    ..live.clone()
                },
                now
            ),
            KeyStatus::Creating
        );
        assert_eq!(
            status(
                &KeyDates {
                    expires_at: Some(now + 3600),
                    ..live.clone()
                },
                now
            ),
            KeyStatus::Expiring
        );
        assert_eq!(
            status(
                &KeyDates {
                    expires_at: Some(now),
                    ..live.clone()
                },
                now
            ),
            KeyStatus::Expired
        );
        assert_eq!(
            status(
                &KeyDates {
                    disable_at: Some(now + 1),
                    ..live.clone()
                },
                now
            ),
            KeyStatus::Rotating
        );
        assert_eq!(
            status(
                &KeyDates {
                    disable_at: Some(now),
                    ..live.clone()
                },
                now
            ),
            KeyStatus::Replaced
        );
        assert_eq!(
            status(
                &KeyDates {
                    revoked_at: Some(now),
                    ..live.clone()
                },
                now
            ),
            KeyStatus::Revoked
        );
        assert_eq!(
            status(
                &KeyDates {
                    enabled: false,
                    ..live
                },
                now
            ),
            KeyStatus::Disabled
        );
    }

    #[test]
    fn enabled_follows_switch_revocation_expiry_and_grace() {
        const NOW: i64 = 1_000_000;
        let live = KeyDates {
            enabled: true,
            ..Default::default()
        };
        assert!(
            live.enabled_at(NOW),
            "not made in AWS yet, but wanted enabled"
        );
        type Change = fn(&mut KeyDates);
        let cases: [(Change, bool); 7] = [
            (|k| k.enabled = false, false),
            (|k| k.revoked_at = Some(NOW), false),
            (|k| k.deleted_at = Some(NOW), false),
            (|k| k.expires_at = Some(NOW), false),
            (|k| k.expires_at = Some(NOW + 1), true),
            (|k| k.disable_at = Some(NOW), false),
            (|k| k.disable_at = Some(NOW + 1), true),
        ];
        for (change, works) in cases {
            let mut k = live.clone();
            change(&mut k);
            assert_eq!(k.enabled_at(NOW), works, "{k:?}");
        }
    }

    proptest! {
        /// The page's status and the worker's switch come from the same rule.
        #[test]
        fn status_says_working_exactly_when_enabled(
            enabled in any::<bool>(),
            created_in_aws in any::<bool>(),
            expires in proptest::option::of(-3i64..3),
            revoked in proptest::option::of(-3i64..3),
            disable in proptest::option::of(-3i64..3),
            deleted in proptest::option::of(-3i64..3),
        ) {
            let now = 1_000_000;
            let k = KeyDates {
                enabled,
                created_in_aws,
                expires_at: expires.map(|d| now + d),
                revoked_at: revoked.map(|d| now + d),
                disable_at: disable.map(|d| now + d),
                deleted_at: deleted.map(|d| now + d),
            };
            let working = matches!(
                status(&k, now),
                KeyStatus::Creating | KeyStatus::Active | KeyStatus::Expiring | KeyStatus::Rotating
            );
            prop_assert_eq!(working, k.enabled_at(now));
        }
    }

    #[test]
    fn names_and_owners_are_checked() {
        assert!(key_name("partner-acme_1.0").is_ok());
        assert!(key_name("").is_err());
        assert!(key_name("has space").unwrap_err().contains("' '"));
        assert!(key_name(&"a".repeat(65)).is_err());
        assert!(owner(" ").is_err());
        assert!(description(&"x".repeat(257)).is_err());
    }
}
