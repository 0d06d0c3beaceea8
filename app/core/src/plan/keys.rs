//! API keys: made after the usage plans they join, enabled or disabled as the admin, the expiry
//! date and a rotation's grace period say, deleted once revoked long enough. The value is
//! AWS's and never part of a plan.

use super::actual::{Actual, ApiKey};
use super::{change, names, Action, Builder, Kind, Op, Val};
use crate::model::topology::Topology;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A key as the worker wants it at this moment (dates already applied: the planner has no
/// clock).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredKey {
    /// Portico's id.
    pub id: i64,
    pub name: String,
    pub description: String,
    /// Enabled, not revoked, not expired, not past a rotation's grace period.
    pub enabled: bool,
    /// Usage-plan names (of the topology).
    pub usage_plans: Vec<String>,
    /// AWS's id of the key Portico recorded making (its value is the one an admin may have
    /// been shown): the copy kept when AWS holds several for this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_id: Option<String>,
}

/// The AWS key that is `key`: the one Portico recorded, else the first copy.
fn kept<'a>(key: &DesiredKey, actual: &'a Actual) -> Option<&'a ApiKey> {
    let mut copies = actual.key_copies(key.id).peekable();
    let first = copies.peek().copied();
    copies
        .find(|c| key.aws_id.as_deref() == Some(c.id.as_str()))
        .or(first)
}

pub(super) fn plan(
    b: &mut Builder,
    desired: &Topology,
    keys: &[DesiredKey],
    actual: &Actual,
    plans: &BTreeMap<String, Val>,
) {
    for key in keys {
        let label = format!("API key {}", key.name);
        let want: Vec<&Val> = key
            .usage_plans
            .iter()
            .filter_map(|p| plans.get(p))
            .collect();
        match kept(key, actual) {
            None => {
                let i = b.push(
                    Kind::ApiKey,
                    Action::Create,
                    label.clone(),
                    vec![
                        change("enabled", None, Some(key.enabled.to_string())),
                        change("usage plans", None, Some(key.usage_plans.join(", "))),
                    ],
                    Op::CreateApiKey {
                        key: key.id,
                        name: names::api_key(&desired.gateway, &key.name, key.id),
                        description: key.description.clone(),
                        enabled: key.enabled,
                    },
                );
                for plan in want {
                    b.push(
                        Kind::ApiKey,
                        Action::Update,
                        label.clone(),
                        vec![],
                        Op::CreateUsagePlanKey {
                            usage_plan: plan.clone(),
                            api_key: Val::id(i),
                        },
                    );
                }
            }
            Some(current) => {
                if current.enabled != key.enabled {
                    b.push(
                        Kind::ApiKey,
                        Action::Update,
                        label.clone(),
                        vec![change(
                            "enabled",
                            Some(current.enabled.to_string()),
                            Some(key.enabled.to_string()),
                        )],
                        Op::UpdateApiKey {
                            api_key: current.id.clone(),
                            enabled: key.enabled,
                        },
                    );
                }
                // Leaving a plan comes before joining one: AWS refuses a key in two usage
                // plans over the same stage (as when it moves off a duplicate).
                for plan in &current.usage_plans {
                    if !want.iter().any(|w| w.as_known() == Some(plan.as_str())) {
                        b.push(
                            Kind::ApiKey,
                            Action::Update,
                            label.clone(),
                            vec![],
                            Op::DeleteUsagePlanKey {
                                usage_plan: plan.clone(),
                                api_key: current.id.clone(),
                            },
                        );
                    }
                }
                for plan in &want {
                    let known = plan.as_known().map(str::to_owned);
                    if known.is_none() || !current.usage_plans.contains(known.as_ref().unwrap()) {
                        b.push(
                            Kind::ApiKey,
                            Action::Update,
                            label.clone(),
                            vec![],
                            Op::CreateUsagePlanKey {
                                usage_plan: (*plan).clone(),
                                api_key: Val::known(&current.id),
                            },
                        );
                    }
                }
            }
        }
    }
}

/// Keys no longer wanted (revoked long enough, or their record is gone), and every copy of a
/// wanted key but the one kept: deleted first among the deletes, before the usage plans they
/// are in.
pub(super) fn delete(b: &mut Builder, keys: &[DesiredKey], actual: &Actual) {
    for (id, copy) in actual.all_api_keys() {
        let wanted = keys.iter().find(|k| k.id == id);
        let resource = match wanted {
            None => format!("API key {}", copy.name),
            Some(k) if kept(k, actual).is_some_and(|c| c.id != copy.id) => {
                format!("API key {} (a duplicate, AWS id {})", copy.name, copy.id)
            }
            Some(_) => continue,
        };
        b.delete(
            Kind::ApiKey,
            resource,
            Op::DeleteApiKey {
                api_key: copy.id.clone(),
            },
        );
    }
}
