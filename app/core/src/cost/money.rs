//! Money without floating point: whole pico-dollars (10⁻¹² USD) in an i128, so a price like
//! Lambda's $0.0000166667 per GB-second is exact and sums never drift.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Money(pub i128);

pub const PICO_PER_DOLLAR: i128 = 1_000_000_000_000;

impl Money {
    pub const ZERO: Money = Money(0);

    /// From a decimal string of dollars: "0.0225", "3.50", "0.0000166667".
    pub const fn dollars(text: &str) -> Money {
        let bytes = text.as_bytes();
        let mut whole: i128 = 0;
        let mut frac: i128 = 0;
        let mut frac_digits = 0;
        let mut seen_dot = false;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'.' {
                seen_dot = true;
            } else {
                let d = (b - b'0') as i128;
                if seen_dot {
                    frac = frac * 10 + d;
                    frac_digits += 1;
                } else {
                    whole = whole * 10 + d;
                }
            }
            i += 1;
        }
        let mut scale: i128 = PICO_PER_DOLLAR;
        let mut k = 0;
        while k < frac_digits {
            scale /= 10;
            k += 1;
        }
        Money(whole * PICO_PER_DOLLAR + frac * scale)
    }

    /// `self` × `qty` / `per` (a quantity as a fraction), rounded half away from zero to a pico-dollar.
    pub fn times(self, qty: i128, per: i128) -> Money {
        let n = self.0 * qty;
        let q = n / per;
        let r = n % per;
        Money(if 2 * r.abs() >= per.abs() {
            q + n.signum()
        } else {
            q
        })
    }

    /// Rounded to cents, for display: "$16.43". Exact figures keep more digits (`exact`).
    pub fn cents(self) -> String {
        let cents = Money(self.0).times(1, PICO_PER_DOLLAR / 100).0;
        let sign = if cents < 0 { "-" } else { "" };
        let c = cents.abs();
        format!("{sign}${}.{:02}", group(c / 100), c % 100)
    }

    /// Every significant digit: "$16.425".
    pub fn exact(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let v = self.0.abs();
        let whole = v / PICO_PER_DOLLAR;
        let frac = v % PICO_PER_DOLLAR;
        if frac == 0 {
            return format!("{sign}${}", group(whole));
        }
        let digits = format!("{frac:012}");
        format!("{sign}${}.{}", group(whole), digits.trim_end_matches('0'))
    }
}

fn group(n: i128) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0 + o.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 += o.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, o: Money) -> Money {
        Money(self.0 - o.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cents())
    }
}
