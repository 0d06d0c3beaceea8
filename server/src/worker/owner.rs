//! Whose AWS resources are a gateway's: the tags every resource Portico makes carries (the
//! gateway's name and this installation's id), and the one reading of them that `observe`
//! applies to everything it lists. Written once, so what `apply` tags is what `observe` finds.
//!
//! An adopted gateway also owns, by id, the resources it was adopted with (and the AWS keys its
//! key rows record) before they carry its tags: `portico adopt` tags them, and should it stop
//! half way, the worker's next run tags the rest.

use portico_core::model::topology::Adopted;
use portico_core::plan::names::{TAG_GATEWAY, TAG_INSTALLATION, TAG_KEY, TAG_PORT};
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
    /// Ids and ARNs of adopted resources → the tags beyond `tags()` each carries
    /// (`portico:port` on a target group, `portico:key` on a key).
    pub adopted: HashMap<String, Vec<(String, String)>>,
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
    /// Gateway `g` of installation `installation`, with what it adopted.
    pub async fn of(
        store: &portico_store::Store,
        installation: &str,
        g: &portico_store::gateways::Desired,
    ) -> Result<Self, portico_store::StoreError> {
        let keys = portico_store::keys::recorded(store, g.id).await?;
        let owner = Owner {
            installation: installation.to_owned(),
            gateway: g.name.clone(),
            legacy: g.legacy_tags,
            adopted: HashMap::new(),
        };
        Ok(owner.with_adopted(g.topology.gateway.adopted.as_ref(), &keys))
    }

    /// Records what the gateway was adopted with, and the AWS keys its key rows name
    /// (`(Portico's key id, AWS's id)`).
    pub fn with_adopted(mut self, adopted: Option<&Adopted>, keys: &[(i64, String)]) -> Self {
        if let Some(a) = adopted {
            for id in a.ids() {
                self.adopted.insert(id.to_owned(), vec![]);
            }
            for (port, tg) in &a.target_groups {
                self.adopted
                    .insert(tg.id.clone(), vec![(TAG_PORT.into(), port.to_string())]);
            }
        }
        for (key, aws_id) in keys {
            self.adopted
                .insert(aws_id.clone(), vec![(TAG_KEY.into(), key.to_string())]);
        }
        self
    }

    /// What resource `id` (an id or an ARN) with these tags is to this gateway.
    pub fn judge(&self, id: &str, tags: Option<&HashMap<String, String>>) -> Verdict {
        let gateway = tags.and_then(|t| t.get(TAG_GATEWAY));
        if gateway != Some(&self.gateway) {
            // Adopted and not yet tagged: the gateway's (never one tagged for another).
            return if gateway.is_none() && self.adopted.contains_key(id) {
                Verdict::MineUntagged
            } else {
                Verdict::Other
            };
        }
        match tags.and_then(|t| t.get(TAG_INSTALLATION)) {
            Some(i) if *i == self.installation => Verdict::Mine,
            None if self.legacy || self.adopted.contains_key(id) => Verdict::MineUntagged,
            _ => Verdict::Foreign,
        }
    }

    /// Mine, tagged or not.
    pub fn owns(&self, id: &str, tags: Option<&HashMap<String, String>>) -> bool {
        matches!(self.judge(id, tags), Verdict::Mine | Verdict::MineUntagged)
    }

    /// Portico's key id of an owned AWS key: its `portico:key` tag, or what the key row that
    /// recorded it says (an adopted key before it is tagged).
    pub fn key_id(&self, id: &str, tags: Option<&HashMap<String, String>>) -> Option<i64> {
        let recorded = self.adopted.get(id).into_iter().flatten();
        tags.and_then(|t| t.get(TAG_KEY))
            .or_else(|| {
                recorded
                    .filter(|(k, _)| k == TAG_KEY)
                    .map(|(_, v)| v)
                    .next()
            })
            .and_then(|v| v.parse().ok())
    }

    /// The tags every resource made for this gateway carries.
    pub fn tags(&self) -> HashMap<String, String> {
        HashMap::from([
            (TAG_GATEWAY.to_owned(), self.gateway.clone()),
            (TAG_INSTALLATION.to_owned(), self.installation.clone()),
        ])
    }

    /// The tags resource `id` should carry: `tags()`, plus an adopted resource's own.
    pub fn tags_of(&self, id: &str) -> HashMap<String, String> {
        let mut tags = self.tags();
        tags.extend(self.adopted.get(id).into_iter().flatten().cloned());
        tags
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
            adopted: HashMap::new(),
        };
        let old = Owner {
            legacy: true,
            ..new.clone()
        };
        let mine = new.tags();
        let theirs = tags(&[(TAG_GATEWAY, "shop"), (TAG_INSTALLATION, "bbbb")]);
        let untagged = tags(&[(TAG_GATEWAY, "shop")]);
        let other_gateway = tags(&[(TAG_GATEWAY, "cart"), (TAG_INSTALLATION, "aaaa")]);
        assert_eq!(new.judge("x", Some(&mine)), Verdict::Mine);
        assert_eq!(new.judge("x", Some(&theirs)), Verdict::Foreign);
        assert_eq!(old.judge("x", Some(&theirs)), Verdict::Foreign);
        assert_eq!(new.judge("x", Some(&untagged)), Verdict::Foreign);
        assert_eq!(old.judge("x", Some(&untagged)), Verdict::MineUntagged);
        assert_eq!(new.judge("x", Some(&other_gateway)), Verdict::Other);
        assert_eq!(new.judge("x", None), Verdict::Other);
        assert!(old.owns("x", Some(&untagged)) && !new.owns("x", Some(&untagged)));
    }

    #[test]
    fn adopted_resources_are_mine_before_their_tags() {
        let owner = Owner {
            installation: "aaaa".into(),
            gateway: "shop".into(),
            legacy: false,
            adopted: HashMap::new(),
        }
        .with_adopted(None, &[(7, "k1".into())]);
        let bare = tags(&[("team", "payments")]);
        let theirs = tags(&[(TAG_GATEWAY, "cart"), (TAG_INSTALLATION, "aaaa")]);
        assert_eq!(owner.judge("k1", None), Verdict::MineUntagged);
        assert_eq!(owner.judge("k1", Some(&bare)), Verdict::MineUntagged);
        assert_eq!(
            owner.judge("k1", Some(&theirs)),
            Verdict::Other,
            "another gateway's"
        );
        assert_eq!(owner.judge("k2", Some(&bare)), Verdict::Other);
        assert_eq!(owner.key_id("k1", None), Some(7));
        assert_eq!(
            owner.tags_of("k1").get(TAG_KEY).map(String::as_str),
            Some("7")
        );
        let tagged = owner.tags_of("k1");
        assert_eq!(owner.judge("k1", Some(&tagged)), Verdict::Mine);
    }
}
