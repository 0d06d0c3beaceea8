//! The words the worker and the pages share about a reconcile plan's life and a gateway's
//! state, each defined once: stored in the database as `as_str()`, read back with `parse()`,
//! shown to people with `label()`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Declares a closed set of stored words: the enum, `as_str`, `FromStr`, `Display`, `ALL`.
macro_rules! words {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word stored in the database and sent to the browser.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownWord;
            fn from_str(s: &str) -> Result<Self, UnknownWord> {
                match s {
                    $($word => Ok($name::$variant),)+
                    other => Err(UnknownWord { kind: stringify!($name), word: other.to_owned() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A stored word that is not one of its kind's (a database written by a newer Portico).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{word:?} is not a known {kind}")]
pub struct UnknownWord {
    pub kind: &'static str,
    pub word: String,
}

words! {
    /// Where a reconcile plan is in its life.
    PlanStatus {
        AwaitingApproval = "awaiting_approval",
        Approved = "approved",
        Running = "running",
        Done = "done",
        Failed = "failed",
        Interrupted = "interrupted",
        Superseded = "superseded",
        /// Drift found under `drift_mode: report`: shown, never run.
        Reported = "reported",
    }
}

impl PlanStatus {
    /// Still in play: waiting for an admin, about to run, or reported drift. The worker may
    /// reuse, run or supersede it; the pages lay it over the diagram.
    pub const OPEN: &'static [PlanStatus] = &[
        PlanStatus::AwaitingApproval,
        PlanStatus::Approved,
        PlanStatus::Reported,
    ];

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }

    /// What people see: open plans and the one running are "the open plan" of a gateway.
    pub fn is_current(self) -> bool {
        self.is_open() || self == PlanStatus::Running
    }

    pub fn label(self) -> &'static str {
        match self {
            PlanStatus::AwaitingApproval => "awaiting approval",
            PlanStatus::Approved => "approved, about to run",
            PlanStatus::Running => "running",
            PlanStatus::Done => "done",
            PlanStatus::Failed => "failed",
            PlanStatus::Interrupted => "interrupted",
            PlanStatus::Superseded => "superseded (never ran)",
            PlanStatus::Reported => "drift, reported only",
        }
    }
}

words! {
    /// Why the worker made a plan.
    PlanReason {
        /// The desired topology changed (a new generation).
        Edit = "edit",
        /// AWS no longer matches a generation it once matched.
        Drift = "drift",
        /// The gateway is being deleted: remove what it owns.
        Delete = "delete",
        /// API keys issued, rotated, revoked or expired: applied on their own and first.
        Keys = "keys",
    }
}

impl PlanReason {
    pub fn label(self) -> &'static str {
        match self {
            PlanReason::Edit => "edit",
            PlanReason::Drift => "drift",
            PlanReason::Delete => "deleting the gateway",
            PlanReason::Keys => "API keys, applied first",
        }
    }
}

words! {
    /// A journal row's state: one per plan step.
    StepStatus {
        Pending = "pending",
        Running = "running",
        Done = "done",
        Failed = "failed",
        Interrupted = "interrupted",
    }
}

words! {
    /// The worker's word for a gateway, kept in its status row.
    GatewayState {
        InSync = "in_sync",
        Applying = "applying",
        AwaitingApproval = "awaiting_approval",
        Drift = "drift",
        Waiting = "waiting",
        Error = "error",
        Deleting = "deleting",
        /// Not looked at by the worker yet.
        Unknown = "unknown",
    }
}

impl GatewayState {
    /// The badge's words and its tone (a CSS class: ok, busy, warn, bad, muted).
    pub fn badge(self) -> (&'static str, &'static str) {
        match self {
            GatewayState::InSync => ("In sync", "ok"),
            GatewayState::Applying => ("Applying", "busy"),
            GatewayState::Deleting => ("Deleting", "busy"),
            GatewayState::AwaitingApproval => ("Awaiting approval", "warn"),
            GatewayState::Drift => ("Drift", "warn"),
            GatewayState::Waiting => ("Waiting", "busy"),
            GatewayState::Error => ("Error", "bad"),
            GatewayState::Unknown => ("Not observed yet", "muted"),
        }
    }

    /// The worker is changing AWS for this gateway right now.
    pub fn is_busy(self) -> bool {
        matches!(self, GatewayState::Applying | GatewayState::Deleting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_reads_back() {
        for s in PlanStatus::ALL {
            assert_eq!(s.as_str().parse::<PlanStatus>(), Ok(*s));
            assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{s}\""));
        }
        for r in PlanReason::ALL {
            assert_eq!(r.as_str().parse::<PlanReason>(), Ok(*r));
        }
        for s in StepStatus::ALL {
            assert_eq!(s.as_str().parse::<StepStatus>(), Ok(*s));
        }
        for s in GatewayState::ALL {
            assert_eq!(s.as_str().parse::<GatewayState>(), Ok(*s));
            assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{s}\""));
        }
        assert!("nonsense".parse::<PlanStatus>().is_err());
    }

    #[test]
    fn the_open_plan_is_defined_once() {
        let open: Vec<_> = PlanStatus::ALL.iter().filter(|s| s.is_open()).collect();
        assert_eq!(open.len(), 3);
        assert!(PlanStatus::Running.is_current() && !PlanStatus::Running.is_open());
        assert!(!PlanStatus::Done.is_current());
    }
}
