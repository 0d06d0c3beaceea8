//! Usage plans: made after the stages they cover; a plan that goes first stops covering its
//! stages, then is deleted.

use super::actual::{Actual, UsagePlan as ActualPlan};
use super::rest::Api;
use super::stages::Stages;
use super::{change, names, Action, Builder, Kind, Op, Patch, Val};
use crate::model::topology::{Quota, QuotaPeriod, Throttle, Topology};
use std::collections::BTreeMap;

fn show_throttle(t: &Option<Throttle>) -> Option<String> {
    t.as_ref()
        .map(|t| format!("{}/s burst {}", t.rate, t.burst))
}

fn period(p: QuotaPeriod) -> &'static str {
    match p {
        QuotaPeriod::Day => "DAY",
        QuotaPeriod::Week => "WEEK",
        QuotaPeriod::Month => "MONTH",
    }
}

fn show_quota(q: &Option<Quota>) -> Option<String> {
    q.as_ref()
        .map(|q| format!("{} per {} (offset {})", q.limit, period(q.period), q.offset))
}

/// Returns each desired plan's id (or the step that makes it), for the API keys.
pub(super) fn plan(
    b: &mut Builder,
    desired: &Topology,
    actual: &Actual,
    api: &Api,
    stages: &Stages,
) -> BTreeMap<String, Val> {
    let mut ids = BTreeMap::new();
    for plan in &desired.usage_plans {
        let name = names::usage_plan(&desired.gateway, &plan.name);
        let label = format!("usage plan {}", plan.name);
        let want: Vec<String> = plan
            .stages
            .iter()
            .filter(|s| stages.kept.contains(*s))
            .cloned()
            .collect();
        match actual.usage_plans.get(&name) {
            None => {
                let i = b.push(
                    Kind::UsagePlan,
                    Action::Create,
                    label,
                    vec![
                        change("stages", None, Some(want.join(", "))),
                        change("throttle", None, show_throttle(&plan.throttle)),
                        change("quota", None, show_quota(&plan.quota)),
                    ],
                    Op::CreateUsagePlan {
                        name,
                        rest_api: api.id.clone(),
                        stages: want,
                        throttle: plan.throttle.clone(),
                        quota: plan.quota.clone(),
                    },
                );
                ids.insert(plan.name.clone(), Val::id(i));
            }
            Some(current) => {
                ids.insert(plan.name.clone(), Val::known(&current.id));
                let mut changes = vec![];
                let mut patches = vec![];
                let api_id = api.id.as_known();
                let covered: Vec<&String> = current
                    .api_stages
                    .iter()
                    .filter(|(a, _)| Some(a.as_str()) == api_id)
                    .map(|(_, s)| s)
                    .collect();
                let add: Vec<String> = want
                    .iter()
                    .filter(|s| !covered.contains(s))
                    .cloned()
                    .collect();
                let remove: Vec<(String, String)> = current
                    .api_stages
                    .iter()
                    .filter(|(a, s)| Some(a.as_str()) != api_id || !want.contains(s))
                    .cloned()
                    .collect();
                for s in &add {
                    changes.push(change("stage", None, Some(s.clone())));
                }
                for (_, s) in &remove {
                    changes.push(change("stage", Some(s.clone()), None));
                }
                if current.throttle != plan.throttle {
                    changes.push(change(
                        "throttle",
                        show_throttle(&current.throttle),
                        show_throttle(&plan.throttle),
                    ));
                    match &plan.throttle {
                        Some(t) => {
                            patches.push(Patch::replace("/throttle/rateLimit", t.rate.to_string()));
                            patches
                                .push(Patch::replace("/throttle/burstLimit", t.burst.to_string()));
                        }
                        None => patches.push(Patch::remove("/throttle")),
                    }
                }
                if current.quota != plan.quota {
                    changes.push(change(
                        "quota",
                        show_quota(&current.quota),
                        show_quota(&plan.quota),
                    ));
                    match &plan.quota {
                        Some(q) => {
                            patches.push(Patch::replace("/quota/limit", q.limit.to_string()));
                            patches.push(Patch::replace("/quota/period", period(q.period)));
                            patches.push(Patch::replace("/quota/offset", q.offset.to_string()));
                        }
                        None => patches.push(Patch::remove("/quota")),
                    }
                }
                if !changes.is_empty() {
                    b.push(
                        Kind::UsagePlan,
                        Action::Update,
                        label,
                        changes,
                        Op::UpdateUsagePlan {
                            usage_plan: current.id.clone(),
                            rest_api: api.id.clone(),
                            add_stages: add,
                            remove_stages: remove,
                            patches,
                        },
                    );
                }
            }
        }
    }
    ids
}

/// Owned usage plans the topology no longer has, and every duplicate of one it has.
pub(super) fn delete(b: &mut Builder, desired: &Topology, actual: &Actual) {
    for (name, plan) in &actual.usage_plans {
        let wanted = desired
            .usage_plans
            .iter()
            .any(|p| names::usage_plan(&desired.gateway, &p.name) == *name);
        if !wanted {
            delete_one(b, name, plan);
        }
    }
    for (name, plan) in &actual.extra_usage_plans {
        delete_one(b, &format!("{name} (a duplicate, id {})", plan.id), plan);
    }
}

pub(super) fn delete_one(b: &mut Builder, name: &str, plan: &ActualPlan) {
    if !plan.api_stages.is_empty() {
        b.later(
            Kind::UsagePlan,
            Action::Update,
            format!("usage plan {name}"),
            plan.api_stages
                .iter()
                .map(|(_, s)| change("stage", Some(s.clone()), None))
                .collect(),
            Op::UpdateUsagePlan {
                usage_plan: plan.id.clone(),
                rest_api: Val::known(""),
                add_stages: vec![],
                remove_stages: plan.api_stages.clone(),
                patches: vec![],
            },
        );
    }
    b.delete(
        Kind::UsagePlan,
        format!("usage plan {name}"),
        Op::DeleteUsagePlan {
            usage_plan: plan.id.clone(),
        },
    );
}
