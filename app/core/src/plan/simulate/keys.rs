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
            a.api_keys
                .values_mut()
                .find(|k| k.id == *api_key)
                .expect("key")
                .enabled = *enabled;
        }
        Op::CreateUsagePlanKey {
            usage_plan,
            api_key,
        } => {
            let plan = out.get(usage_plan);
            let key = out.get(api_key);
            assert!(
                a.usage_plans.values().any(|p| p.id == plan),
                "key joins a missing plan"
            );
            let k = a.api_keys.values_mut().find(|k| k.id == key).expect("key");
            assert!(!k.usage_plans.contains(&plan), "key already in plan");
            k.usage_plans.push(plan);
            k.usage_plans.sort();
        }
        Op::DeleteUsagePlanKey {
            usage_plan,
            api_key,
        } => {
            let k = a
                .api_keys
                .values_mut()
                .find(|k| k.id == *api_key)
                .expect("key");
            assert!(k.usage_plans.contains(usage_plan));
            k.usage_plans.retain(|p| p != usage_plan);
        }
        Op::DeleteApiKey { api_key } => {
            let before = a.api_keys.len();
            a.api_keys.retain(|_, k| k.id != *api_key);
            assert_eq!(a.api_keys.len() + 1, before, "no key {api_key}");
        }
        other => unreachable!("{} is not an API key call", other.operation()),
    }
}
