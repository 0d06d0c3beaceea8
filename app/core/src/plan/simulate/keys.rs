//! API keys and their usage-plan memberships.

use super::Outputs;
use crate::plan::actual::{Actual, ApiKey};
use crate::plan::{Field, Op};

pub(super) fn run(a: &mut Actual, out: &mut Outputs, i: usize, op: &Op) {
    match op {
        Op::CreateApiKey {
            key, name, enabled, ..
        } => {
            let id = out.make(i, Field::Id, "key-");
            assert!(!a.api_keys.contains_key(key), "duplicate key {key}");
            a.api_keys.insert(
                *key,
                ApiKey {
                    id,
                    name: name.clone(),
                    enabled: *enabled,
                    usage_plans: vec![],
                },
            );
        }
        Op::UpdateApiKey { api_key, enabled } => {
            copy(a, api_key).enabled = *enabled;
        }
        Op::CreateUsagePlanKey {
            usage_plan,
            api_key,
        } => {
            let plan = out.get(usage_plan);
            let key = out.get(api_key);
            assert!(
                a.all_usage_plans().any(|(_, p)| p.id == plan),
                "key joins a missing plan"
            );
            // AWS refuses a key in two usage plans over one stage.
            let stages = |id: &str| -> Vec<(String, String)> {
                a.all_usage_plans()
                    .find(|(_, p)| p.id == id)
                    .map(|(_, p)| p.api_stages.clone())
                    .unwrap_or_default()
            };
            let joining = stages(&plan);
            let member_of: Vec<String> = a
                .all_api_keys()
                .find(|(_, k)| k.id == key)
                .map(|(_, k)| k.usage_plans.clone())
                .unwrap_or_default();
            for other in member_of {
                assert!(
                    stages(&other).iter().all(|s| !joining.contains(s)),
                    "key {key} would be in two usage plans over one stage"
                );
            }
            let k = copy(a, &key);
            assert!(!k.usage_plans.contains(&plan), "key already in plan");
            k.usage_plans.push(plan);
            k.usage_plans.sort();
        }
        Op::DeleteUsagePlanKey {
            usage_plan,
            api_key,
        } => {
            let k = copy(a, api_key);
            assert!(k.usage_plans.contains(usage_plan));
            k.usage_plans.retain(|p| p != usage_plan);
        }
        Op::DeleteApiKey { api_key } => {
            let before = a.api_keys.len() + a.extra_api_keys.len();
            a.api_keys.retain(|_, k| k.id != *api_key);
            a.extra_api_keys.retain(|(_, k)| k.id != *api_key);
            let after = a.api_keys.len() + a.extra_api_keys.len();
            assert_eq!(after + 1, before, "no key {api_key}");
            // Like observing again: a duplicate left alone takes the map's place.
            let orphans: Vec<i64> = a
                .extra_api_keys
                .iter()
                .map(|(k, _)| *k)
                .filter(|k| !a.api_keys.contains_key(k))
                .collect();
            for key in orphans {
                let i = a
                    .extra_api_keys
                    .iter()
                    .position(|(k, _)| *k == key)
                    .expect("copy");
                let (_, c) = a.extra_api_keys.remove(i);
                a.api_keys.insert(key, c);
            }
        }
        other => unreachable!("{} is not an API key call", other.operation()),
    }
}

/// The AWS key with this id, duplicates included.
fn copy<'a>(a: &'a mut Actual, id: &str) -> &'a mut ApiKey {
    a.api_keys
        .values_mut()
        .chain(a.extra_api_keys.iter_mut().map(|(_, k)| k))
        .find(|k| k.id == id)
        .expect("key")
}
