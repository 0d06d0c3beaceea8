//! Usage plans: over existing stages, deleted only once they cover none.

use super::{throttle, Outputs};
use crate::model::topology::{Quota, QuotaPeriod};
use crate::plan::actual::{Actual, UsagePlan};
use crate::plan::{Field, Op};

pub(super) fn run(a: &mut Actual, out: &mut Outputs, i: usize, op: &Op) {
    match op {
        Op::CreateUsagePlan {
            name,
            rest_api,
            stages,
            throttle,
            quota,
        } => {
            let api_id = out.get(rest_api);
            for s in stages {
                assert!(
                    a.rest_apis[&api_id].stages.contains_key(s),
                    "usage plan before its stage {s}"
                );
            }
            let id = out.make(i, Field::Id, "plan-");
            a.usage_plans.insert(
                name.clone(),
                UsagePlan {
                    id,
                    throttle: throttle.clone(),
                    quota: quota.clone(),
                    api_stages: stages.iter().map(|s| (api_id.clone(), s.clone())).collect(),
                },
            );
        }
        Op::UpdateUsagePlan {
            usage_plan,
            rest_api,
            add_stages,
            remove_stages,
            patches,
        } => {
            let api_id = if add_stages.is_empty() {
                String::new()
            } else {
                out.get(rest_api)
            };
            for s in add_stages {
                assert!(
                    a.rest_apis[&api_id].stages.contains_key(s),
                    "usage plan before its stage {s}"
                );
            }
            let p = a
                .usage_plans
                .values_mut()
                .chain(a.extra_usage_plans.iter_mut().map(|(_, p)| p))
                .find(|p| p.id == *usage_plan)
                .expect("usage plan");
            p.api_stages.retain(|x| !remove_stages.contains(x));
            p.api_stages
                .extend(add_stages.iter().map(|s| (api_id.clone(), s.clone())));
            for patch in patches {
                let v = patch.value.clone().unwrap_or_default();
                match patch.path.as_str() {
                    "/throttle" => p.throttle = None,
                    "/quota" => p.quota = None,
                    "/throttle/rateLimit" => throttle(&mut p.throttle).rate = v.parse().unwrap(),
                    "/throttle/burstLimit" => throttle(&mut p.throttle).burst = v.parse().unwrap(),
                    "/quota/limit" => quota(p).limit = v.parse().unwrap(),
                    "/quota/offset" => quota(p).offset = v.parse().unwrap(),
                    "/quota/period" => {
                        quota(p).period =
                            serde_json::from_value(serde_json::Value::String(v)).unwrap()
                    }
                    other => panic!("unexpected patch {other}"),
                }
            }
        }
        Op::DeleteUsagePlan { usage_plan } => {
            // AWS takes the plan's keys out of it.
            for k in a
                .api_keys
                .values_mut()
                .chain(a.extra_api_keys.iter_mut().map(|(_, k)| k))
            {
                k.usage_plans.retain(|p| p != usage_plan);
            }
            let found = a
                .all_usage_plans()
                .find(|(_, p)| p.id == *usage_plan)
                .map(|(_, p)| p)
                .expect("usage plan");
            assert!(
                found.api_stages.is_empty(),
                "usage plan deleted with stages"
            );
            a.usage_plans.retain(|_, p| p.id != *usage_plan);
            a.extra_usage_plans.retain(|(_, p)| p.id != *usage_plan);
        }
        other => unreachable!("{} is not a usage plan call", other.operation()),
    }
}

fn quota(p: &mut UsagePlan) -> &mut Quota {
    p.quota.get_or_insert(Quota {
        limit: 0,
        period: QuotaPeriod::Month,
        offset: 0,
    })
}
