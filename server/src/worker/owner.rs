//! Whose AWS resources are a gateway's: the tags every resource Portico makes carries (the
//! gateway's name and this installation's id), and the one reading of them that `observe`
//! applies to everything it lists. Written once, so what `apply` tags is what `observe` finds.

use portico_core::plan::names::{TAG_GATEWAY, TAG_INSTALLATION};
use std::collections::HashMap;

/// A gateway as the owner of AWS resources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// This installation's id (`portico_store::installation::id`).
    pub installation: String,
    pub gateway: String,
    /// The gateway predates installation ids: resources tagged with its name alone are its
    /// own too (they gain the installation's tag on the next run).
    pub legacy: bool,
}

/// What a resource's tags say about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The gateway's, tagged with this installation.
    Mine,
    /// The gateway's, from before installation ids: it still needs the installation's tag.
    MineUntagged,
    /// Named for this gateway by another Portico installation (or by one from before
    /// installation ids, for a gateway made since): never touched.
    Foreign,
    /// Anything else in the account.
    Other,
}

impl Owner {
    pub fn judge(&self, tags: Option<&HashMap<String, String>>) -> Verdict {
        let Some(tags) = tags else {
            return Verdict::Other;
        };
        if tags.get(TAG_GATEWAY) != Some(&self.gateway) {
            return Verdict::Other;
        }
        match tags.get(TAG_INSTALLATION) {
            Some(i) if *i == self.installation => Verdict::Mine,
            None if self.legacy => Verdict::MineUntagged,
            _ => Verdict::Foreign,
        }
    }

    /// Mine, tagged or not.
    pub fn owns(&self, tags: Option<&HashMap<String, String>>) -> bool {
        matches!(self.judge(tags), Verdict::Mine | Verdict::MineUntagged)
    }

    /// The tags every resource made for this gateway carries.
    pub fn tags(&self) -> HashMap<String, String> {
        HashMap::from([
            (TAG_GATEWAY.to_owned(), self.gateway.clone()),
            (TAG_INSTALLATION.to_owned(), self.installation.clone()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn only_this_installations_resources_are_mine() {
        let new = Owner {
            installation: "aaaa".into(),
            gateway: "shop".into(),
            legacy: false,
        };
        let old = Owner {
            legacy: true,
            ..new.clone()
        };
        let mine = new.tags();
        let theirs = tags(&[(TAG_GATEWAY, "shop"), (TAG_INSTALLATION, "bbbb")]);
        let untagged = tags(&[(TAG_GATEWAY, "shop")]);
        let other_gateway = tags(&[(TAG_GATEWAY, "cart"), (TAG_INSTALLATION, "aaaa")]);
        assert_eq!(new.judge(Some(&mine)), Verdict::Mine);
        assert_eq!(new.judge(Some(&theirs)), Verdict::Foreign);
        assert_eq!(old.judge(Some(&theirs)), Verdict::Foreign);
        assert_eq!(new.judge(Some(&untagged)), Verdict::Foreign);
        assert_eq!(old.judge(Some(&untagged)), Verdict::MineUntagged);
        assert_eq!(new.judge(Some(&other_gateway)), Verdict::Other);
        assert_eq!(new.judge(None), Verdict::Other);
        assert!(old.owns(Some(&untagged)) && !new.owns(Some(&untagged)));
    }
}
