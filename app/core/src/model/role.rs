//! Roles and what each may do. The server checks these in every server function; the UI only
//! uses them to hide controls a user could not use anyway.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Ordered from least to most privileged, so `role >= Role::Editor` reads as "at least editor".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reviewers: read everything but key values.
    Viewer,
    /// Team members: edit the topology.
    Editor,
    /// Everything, plus users, API keys, gateways and risky approvals.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Editor, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// What this role may do, in the words the admin page uses.
    pub fn summary(self) -> &'static str {
        match self {
            Role::Viewer => "reads everything except key values",
            Role::Editor => "edits stages, ports, routes and usage plans",
            Role::Admin => "everything, plus users, API keys and approvals",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}: use admin, editor or viewer"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_reads_as_privilege() {
        assert!(Role::Admin > Role::Editor && Role::Editor > Role::Viewer);
    }

    #[test]
    fn parses_what_it_prints() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!(" Admin ".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().unwrap_err().contains("unknown role"));
    }
}
