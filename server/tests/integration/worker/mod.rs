//! The worker against the local AWS sandbox, through the real SDK: convergence from nothing,
//! no-op runs, edits with only the writes they need, faults, crashes at every step, waits,
//! foreign resources, drift, access logs, approvals and deleting a gateway.

use crate::common::rig::seed_inventory;
use crate::common::sandbox::Turn;
use crate::common::{fast, TestApp, REGION};
use portico::worker::apply::Waits;
use portico::worker::{Outcome, Worker, WorkerConfig};
use portico_core::model::topology::{ApplyMode, DriftMode, Topology};
use portico_store::gateways;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// How many calls the sandbox refused for AWS's request quotas, from its call log.
fn quota_answers(log: &serde_json::Value) -> u64 {
    log["injected"]
        .as_object()
        .into_iter()
        .flat_map(|s| s.values())
        .flat_map(|ops| ops.as_object().into_iter().flat_map(|o| o.values()))
        .filter_map(|kinds| kinds["quota"].as_u64())
        .sum()
}

/// The seed in the sandbox's demo account, stored as gateway `seed` (not yet in AWS).
struct Rig {
    app: TestApp,
    id: i64,
    seed: Topology,
}

async fn rig_with(edit: impl FnOnce(&mut Topology)) -> Rig {
    let app = TestApp::builder().with_sandbox(REGION).build().await;
    let (id, seed) = app.seed_in_sandbox(edit).await;
    Rig { app, id, seed }
}

async fn rig() -> Rig {
    rig_with(|_| {}).await
}

impl Rig {
    fn turn(&self) -> &Turn {
        self.app.turn()
    }

    async fn worker(&self, config: WorkerConfig) -> Worker {
        self.app.worker(config).await
    }

    async fn converge(&self, worker: &Worker, runs: usize) -> Vec<Outcome> {
        self.app.converge(worker, self.id, runs).await
    }

    async fn calls(&self) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
        self.app.aws_calls().await
    }

    async fn reset_calls(&self) {
        self.app.reset_aws_calls().await
    }

    async fn edit(&self, edit: impl FnOnce(&mut Topology)) {
        self.app.edit_gateway("seed", edit).await
    }

    async fn inventory(&self) -> BTreeMap<&'static str, usize> {
        self.app.inventory().await
    }
}

fn total(m: &BTreeMap<String, u64>) -> u64 {
    m.values().sum()
}

mod access_log;
mod alerts;
mod bench;
mod converge;
mod lease;
mod lifecycle;
mod listing;
mod pages_quota;
mod scale;
mod traffic;
