//! Which steps of a plan may run at the same time. The plan's order is one valid order; the
//! worker runs each step as soon as the steps it depends on are done, so independent work
//! overlaps: the load balancer's chain (create, wait, listeners, VPC link) beside the REST
//! API's resources and methods, target groups and their targets side by side. A step depends on
//! an earlier one when:
//!
//! - it reads that step's output, or a value an earlier wait readies (a listener waits for its
//!   load balancer to be active, an integration for its VPC link), whether the value is made
//!   by this plan or already known (a load balancer still provisioning after a crash);
//! - it moves traffic (a deployment, a stage's creation or change): it waits for every earlier
//!   ELB and VPC link step that serving depends on, so a stage never serves what has no
//!   listener or targets yet (a target group's deregistration delay is not one: it only says
//!   how long a target drains when it leaves, so it is set beside the traffic, not before it);
//! - both are API Gateway steps on the REST API, its stages, usage plans or keys: API Gateway
//!   refuses concurrent changes to one API (ConflictException), and a usage plan names stages
//!   made before it, so these run one at a time in plan order;
//! - both are VPC link steps;
//! - both are ELB steps on one resource (they name the same target group, load balancer or
//!   listener; a deregistration delay follows its target group's earlier steps, and nothing
//!   waits for it), or either is a listener change (traffic moves there: it waits for every
//!   earlier ELB step, and every later one waits for it);
//! - either is a delete: deletes run one at a time, after everything before them, in the
//!   planner's reverse order of creation.
//!
//! Beyond what a step depends on, the worker also picks among ready steps: an ELB step off the
//! request's path (a deregistration delay) waits until every ELB step on the path has started
//! ([`yields_to_traffic`], [`Ready`]). ELB's change bucket holds ten calls; spent on delays first, it would
//! leave the listeners to wait for its refill, and the stages behind them.

use super::{Action, Op, Plan, Val};
use std::collections::{BTreeMap, BTreeSet};

/// The lane a step runs in, where steps keep the plan's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lane {
    Elb,
    Link,
    Api,
}

fn lane(op: &Op) -> Lane {
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
        | Op::DeleteTargetGroup { .. } => Lane::Elb,
        Op::CreateVpcLink { .. } | Op::WaitVpcLink { .. } | Op::DeleteVpcLink { .. } => Lane::Link,
        _ => Lane::Api,
    }
}

/// A deployment, or a stage made or changed: what clients are served moves there.
fn moves_traffic(op: &Op) -> bool {
    matches!(
        op,
        Op::CreateDeployment { .. } | Op::CreateStage { .. } | Op::UpdateStage { .. }
    )
}

/// An ELB or link step a deployment or stage must wait for: everything on the path a request
/// takes (load balancer, listeners, target groups, targets, the link). A deregistration delay
/// matters only when a target leaves.
fn serves_traffic(op: &Op) -> bool {
    !matches!(op, Op::SetDeregistrationDelay { .. })
}

/// An ELB step that, given the choice, starts after the ELB steps on the request's path: it
/// uses the same quota, and nothing waits for it (see [`serves_traffic`]).
pub fn yields_to_traffic(op: &Op) -> bool {
    lane(op) == Lane::Elb && !serves_traffic(op)
}

/// The ELB steps on the request's path that [`yields_to_traffic`] steps let go first, given
/// the dependencies of the plan's steps: those that depend on no yielding step, even through
/// others (a listener change after a delay waits for it, so the delay cannot wait for the
/// change). Nothing in the set ever waits for a step held back for it.
fn goes_first(plan: &Plan, deps: &[Vec<usize>]) -> Vec<bool> {
    let mut after_yielding = vec![false; deps.len()];
    let mut first = vec![false; deps.len()];
    for (j, step) in plan.steps.iter().enumerate() {
        after_yielding[j] =
            yields_to_traffic(&step.op) || deps[j].iter().any(|&i| after_yielding[i]);
        first[j] = !after_yielding[j] && lane(&step.op) == Lane::Elb && serves_traffic(&step.op);
    }
    first
}

/// The steps ready to start, lowest index first (the plan's own order where it has a choice).
/// Those that yield ELB's quota to the request's path (`yields_to_traffic`) are held back until
/// every step that goes first has started, or nothing else is left to run: a failed step may
/// keep some of those from ever starting.
pub struct Ready<'p> {
    plan: &'p Plan,
    first: Vec<bool>,
    first_left: usize,
    now: BTreeSet<usize>,
    held: BTreeSet<usize>,
}

impl<'p> Ready<'p> {
    pub fn new(plan: &'p Plan, deps: &[Vec<usize>]) -> Self {
        let first = goes_first(plan, deps);
        let first_left = first.iter().filter(|f| **f).count();
        Self {
            plan,
            first,
            first_left,
            now: BTreeSet::new(),
            held: BTreeSet::new(),
        }
    }

    /// Step `j` waits for nothing any more.
    pub fn add(&mut self, j: usize) {
        if yields_to_traffic(&self.plan.steps[j].op) {
            self.held.insert(j);
        } else {
            self.now.insert(j);
        }
    }

    /// The step to start next, if any; `idle`: no step is running.
    pub fn next(&mut self, idle: bool) -> Option<usize> {
        if self.first_left == 0 || (self.now.is_empty() && idle) {
            self.now.append(&mut self.held);
        }
        let i = self.now.pop_first()?;
        if self.first[i] {
            self.first_left -= 1;
        }
        Some(i)
    }
}

/// What an ELB step acts on, as a key: a known ARN, or the step whose output it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Subject {
    Known(String),
    Made(usize),
}

fn subject(v: &Val) -> Subject {
    match v {
        Val::Known(s) => Subject::Known(s.clone()),
        Val::Output { step, .. } => Subject::Made(*step),
    }
}

/// The ELB resources a step acts on: what it names, and for a create, what it makes.
fn elb_subjects(j: usize, op: &Op) -> Vec<Subject> {
    let mut v: Vec<Subject> = op.inputs().into_iter().map(subject).collect();
    match op {
        Op::ModifyListener { listener, .. } | Op::DeleteListener { listener } => {
            v.push(Subject::Known(listener.clone()))
        }
        Op::DeleteLoadBalancer { load_balancer } => v.push(Subject::Known(load_balancer.clone())),
        Op::DeleteTargetGroup { target_group } => v.push(Subject::Known(target_group.clone())),
        Op::CreateTargetGroup { .. } | Op::CreateLoadBalancer { .. } => v.push(Subject::Made(j)),
        _ => {}
    }
    v
}

/// For each step, the earlier steps it waits for (ascending, without repeats). Dependencies that
/// follow from others are left out (a step in a lane names only the lane's previous step), so
/// the lists stay short however long the plan.
pub fn dependencies(plan: &Plan) -> Vec<Vec<usize>> {
    let steps = &plan.steps;
    // The waits that ready each value (made by a step, or known).
    let mut readied_by: BTreeMap<Subject, Vec<usize>> = BTreeMap::new();
    for (w, step) in steps.iter().enumerate() {
        if step.action == Action::Wait {
            for v in step.op.inputs() {
                readied_by.entry(subject(v)).or_default().push(w);
            }
        }
    }
    let mut deps: Vec<Vec<usize>> = Vec::with_capacity(steps.len());
    let mut last_delete: Option<usize> = None;
    // Steps since the last delete: the next delete waits for each of them.
    let mut since_delete: Vec<usize> = Vec::new();
    let mut last_in_lane: BTreeMap<u8, usize> = BTreeMap::new();
    // ELB: the last step on each resource, the last listener change, and the ELB steps since.
    let mut last_on: BTreeMap<Subject, usize> = BTreeMap::new();
    let mut last_barrier: Option<usize> = None;
    let mut since_barrier: Vec<usize> = Vec::new();
    // ELB and VPC link steps since the last step that moves traffic.
    let mut since_traffic: Vec<usize> = Vec::new();
    for (j, step) in steps.iter().enumerate() {
        let op = &step.op;
        let mut d: Vec<usize> = Vec::new();
        d.extend(last_delete);
        if step.action == Action::Delete {
            d.append(&mut since_delete);
        }
        for v in op.inputs() {
            d.extend(v.step());
            if let Some(waits) = readied_by.get(&subject(v)) {
                d.extend(waits.iter().copied().filter(|&w| w < j));
            }
        }
        let mine = lane(op);
        if moves_traffic(op) {
            d.append(&mut since_traffic);
        }
        match mine {
            Lane::Api => {
                d.extend(last_in_lane.insert(mine as u8, j));
            }
            Lane::Link => {
                d.extend(last_in_lane.insert(mine as u8, j));
                since_traffic.push(j);
            }
            Lane::Elb => {
                d.extend(last_barrier);
                let subjects = elb_subjects(j, op);
                for s in &subjects {
                    d.extend(last_on.get(s).copied());
                }
                // A deregistration delay follows what it names but holds nothing back: the
                // target group's other steps need not wait for it, nor do stages.
                if serves_traffic(op) {
                    for s in subjects {
                        last_on.insert(s, j);
                    }
                    since_traffic.push(j);
                }
                if matches!(op, Op::ModifyListener { .. }) {
                    d.append(&mut since_barrier);
                    last_barrier = Some(j);
                } else {
                    since_barrier.push(j);
                }
            }
        }
        d.sort_unstable();
        d.dedup();
        if step.action == Action::Delete {
            last_delete = Some(j);
        } else {
            since_delete.push(j);
        }
        deps.push(d);
    }
    deps
}

/// The most steps one after another any run must make (the plan's critical path), counting each
/// step once: with every call taking the same time, no schedule finishes sooner than this many
/// calls' time.
pub fn critical_path(plan: &Plan) -> usize {
    let deps = dependencies(plan);
    let mut depth = vec![0usize; deps.len()];
    for (j, d) in deps.iter().enumerate() {
        depth[j] = 1 + d.iter().map(|&i| depth[i]).max().unwrap_or(0);
    }
    depth.into_iter().max().unwrap_or(0)
}

#[cfg(test)]
mod tests;
