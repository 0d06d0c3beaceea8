//! For the planner's properties only: what each step does to the observed state, with AWS's
//! dependency rules checked (a step that AWS would refuse panics). Not used by the worker,
//! which talks to AWS (or the sandbox) through the SDK.
//!
//! Split by resource kind like the planner: `elb`, `link`, `rest`, `stages`, `usage`, `keys`.

mod elb;
mod keys;
mod link;
mod rest;
mod stages;
mod usage;

use super::actual::{Actual, RestApi};
use super::{Field, Op, Plan, Val};
use crate::model::topology::Throttle;
use std::collections::BTreeMap;

static NEXT_ID: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

/// What earlier steps made, by step and field.
#[derive(Default)]
struct Outputs {
    values: BTreeMap<(usize, u8), String>,
    counter: usize,
}

impl Outputs {
    fn get(&self, v: &Val) -> String {
        match v {
            Val::Known(s) => s.clone(),
            Val::Output { step, field } => self
                .values
                .get(&(*step, *field as u8))
                .unwrap_or_else(|| panic!("step {step} made no {field:?} before it was read"))
                .clone(),
        }
    }

    fn make(&mut self, step: usize, field: Field, prefix: &str) -> String {
        // Unique across runs, as AWS's ids are.
        self.counter = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let v = format!("{prefix}{}", self.counter);
        self.values.insert((step, field as u8), v.clone());
        v
    }
}

fn api<'a>(a: &'a mut Actual, id: &str) -> &'a mut RestApi {
    a.rest_apis
        .get_mut(id)
        .unwrap_or_else(|| panic!("no REST API {id}"))
}

fn resource_path(api: &RestApi, id: &str) -> String {
    api.resources
        .iter()
        .find(|(_, r)| r.id == id)
        .map(|(p, _)| p.clone())
        .unwrap_or_else(|| panic!("no resource {id}"))
}

/// A stage's or usage plan's throttle, made (all zero) by the first patch that sets a part.
fn throttle(t: &mut Option<Throttle>) -> &mut Throttle {
    t.get_or_insert(Throttle {
        rate: 0.0,
        burst: 0,
    })
}

/// The state after `plan` ran against `before`.
pub fn run(plan: &Plan, before: &Actual) -> Actual {
    run_in_order(plan, before, &(0..plan.steps.len()).collect::<Vec<_>>())
}

/// The state after `plan`'s steps ran against `before` in `order` (the worker runs steps whose
/// dependencies are done side by side, so they may finish in any order those allow).
pub fn run_in_order(plan: &Plan, before: &Actual, order: &[usize]) -> Actual {
    let result = std::panic::catch_unwind(|| run_steps(plan, before, order));
    match result {
        Ok(a) => a,
        Err(e) => {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{why} in plan:\n{}", plan.lines().join("\n"))
        }
    }
}

/// Hands each step to its resource kind's module; every op is listed here, so a new one does
/// not compile until it is simulated.
fn run_steps(plan: &Plan, before: &Actual, order: &[usize]) -> Actual {
    let mut a = before.clone();
    let mut out = Outputs::default();
    for &i in order {
        let op = &plan.steps[i].op;
        match op {
            Op::CreateTargetGroup { .. }
            | Op::ModifyTargetGroup { .. }
            | Op::SetDeregistrationDelay { .. }
            | Op::RegisterTargets { .. }
            | Op::DeregisterTargets { .. }
            | Op::CreateLoadBalancer { .. }
            | Op::WaitLoadBalancer { .. }
            | Op::CreateListener { .. }
            | Op::ModifyListener { .. }
            | Op::DeleteListener { .. }
            | Op::DeleteLoadBalancer { .. }
            | Op::DeleteTargetGroup { .. } => elb::run(&mut a, &mut out, i, op),
            Op::CreateVpcLink { .. } | Op::WaitVpcLink { .. } | Op::DeleteVpcLink { .. } => {
                link::run(&mut a, &mut out, i, op)
            }
            Op::CreateRestApi { .. }
            | Op::UpdateRestApi { .. }
            | Op::CreateResource { .. }
            | Op::PutMethod { .. }
            | Op::UpdateMethod { .. }
            | Op::PutIntegration { .. }
            | Op::CreateDeployment { .. }
            | Op::DeleteDeployment { .. }
            | Op::DeleteMethod { .. }
            | Op::DeleteResource { .. }
            | Op::DeleteRestApi { .. } => rest::run(&mut a, &mut out, i, op),
            Op::CreateStage { .. } | Op::UpdateStage { .. } | Op::DeleteStage { .. } => {
                stages::run(&mut a, &out, op)
            }
            Op::CreateUsagePlan { .. }
            | Op::UpdateUsagePlan { .. }
            | Op::DeleteUsagePlan { .. } => usage::run(&mut a, &mut out, i, op),
            Op::CreateApiKey { .. }
            | Op::UpdateApiKey { .. }
            | Op::CreateUsagePlanKey { .. }
            | Op::DeleteUsagePlanKey { .. }
            | Op::DeleteApiKey { .. } => keys::run(&mut a, &mut out, i, op),
        }
    }
    a
}
