//! The part of `TestApp` that reaches the local AWS sandbox: this test's turn at it, the seed
//! topology placed in its demo account, a worker with short waits, and the readings tests make
//! of AWS afterwards (calls per operation, what the account holds).

use super::sandbox::{Sandbox, Turn};
use super::TestApp;
use portico::aws::call::Retry;
use portico::worker::apply::Waits;
use portico::worker::{Outcome, Worker, WorkerConfig};
use portico_core::model::topology::Topology;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// The sandbox's demo account lives here (like `.ci/demo`'s).
pub const REGION: &str = "ap-northeast-2";

/// A worker that reacts at once and waits briefly: drift and health only when asked.
pub fn fast() -> WorkerConfig {
    WorkerConfig {
        drift_interval: Duration::from_secs(3600),
        poll: Duration::from_millis(50),
        health_interval: Duration::from_secs(3600),
        // Each reconcile lists the region itself: the tests change AWS by hand between two.
        listing_age: Duration::ZERO,
        // Health reads here follow reconciles back to back: they wait for quota instead.
        health_reserve: None,
        waits: Waits {
            timeout: Duration::from_secs(30),
            every: Duration::from_millis(50),
        },
        retry: Retry {
            attempts: 10,
            base: Duration::from_millis(5),
            cap: Duration::from_millis(100),
        },
        max_backoff: Duration::from_secs(1),
        settle: Duration::ZERO,
        crash_after_call: None,
        lease_ttl: Duration::from_secs(30),
        holder: None,
        // Tests that read traffic ask for it; the others' AWS call counts leave it out.
        metrics_interval: None,
        error_threshold: Default::default(),
    }
}

/// A test's turn at the sandbox, reset, with its demo account (VPC, subnets, instances).
pub struct SandboxUse {
    pub turn: Turn,
    pub region: &'static str,
    pub demo: Value,
}

impl SandboxUse {
    pub(super) async fn take(region: &'static str) -> SandboxUse {
        let turn = Sandbox::lock().await;
        // Short waits: a link is PENDING for 0.2 s, targets `initial` for 0.2 s.
        turn.control(
            "POST",
            "/config",
            Some(json!({ "vpc_link_pending_seconds": 0.2, "target_initial_seconds": 0.2 })),
        )
        .await;
        let demo = turn.demo(region).await;
        SandboxUse { turn, region, demo }
    }

    /// The seed topology moved into the demo account: its VPC, subnets and first instance.
    pub fn seed(&self) -> Topology {
        let mut seed = super::seed_topology();
        seed.gateway.region = self.region.to_owned();
        seed.gateway.vpc_id = self.demo["vpc_id"].as_str().unwrap().to_owned();
        seed.gateway.subnet_ids = serde_json::from_value(self.demo["subnet_ids"].clone()).unwrap();
        let instance = self.demo["instance_ids"][0].as_str().unwrap().to_owned();
        for p in &mut seed.ports {
            p.instances = vec![instance.clone()];
        }
        seed
    }
}

impl TestApp {
    pub fn sandbox(&self) -> &SandboxUse {
        self.sandbox.as_ref().expect("built with_sandbox")
    }

    pub fn turn(&self) -> &Turn {
        &self.sandbox().turn
    }

    /// Deletes, by hand, the listener of `port` on gateway `gateway`'s load balancer.
    pub async fn delete_listener_by_hand(
        &self,
        gateway: &portico_core::model::topology::Gateway,
        port: u32,
    ) {
        let c = self.turn().clients(self.sandbox().region, 3).await;
        let name = portico_core::plan::names::load_balancer(gateway);
        let lbs = c.elb.describe_load_balancers().send().await.unwrap();
        let lb = lbs
            .load_balancers()
            .iter()
            .find(|l| l.load_balancer_name() == Some(name.as_str()))
            .and_then(|l| l.load_balancer_arn())
            .expect("the gateway's load balancer");
        let listeners = c
            .elb
            .describe_listeners()
            .load_balancer_arn(lb)
            .send()
            .await
            .unwrap();
        let listener = listeners
            .listeners()
            .iter()
            .find(|l| l.port() == Some(port as i32))
            .expect("the port's listener");
        c.elb
            .delete_listener()
            .listener_arn(listener.listener_arn().unwrap())
            .send()
            .await
            .unwrap();
    }

    /// Stores the demo-account seed, changed by `edit`, as gateway `seed`; returns its id and
    /// the (normalised) topology stored.
    pub async fn seed_in_sandbox(&self, edit: impl FnOnce(&mut Topology)) -> (i64, Topology) {
        let mut seed = self.sandbox().seed();
        edit(&mut seed);
        portico_store::gateways::create(&self.store, "test", seed.clone(), false)
            .await
            .expect("create the seed gateway");
        let id = portico_store::gateways::load(&self.store, &seed.gateway.name)
            .await
            .unwrap()
            .id;
        (id, seed.normalised())
    }

    /// A worker over this app's database and the sandbox (the SDK retries nothing itself: the
    /// worker's own policy is what is tested).
    pub async fn worker(&self, config: WorkerConfig) -> Worker {
        let s = self.sandbox();
        Worker::new(
            self.store.clone(),
            s.turn.sdk_config(s.region, 1).await,
            config,
        )
    }

    /// Reconciles gateway `id` until in sync (at most `runs` runs); returns the outcomes.
    pub async fn converge(&self, worker: &Worker, id: i64, runs: usize) -> Vec<Outcome> {
        let mut outcomes = vec![];
        for _ in 0..runs {
            let o = worker.reconcile(id).await;
            let done = matches!(o, Outcome::InSync | Outcome::Removed);
            outcomes.push(o);
            if done {
                return outcomes;
            }
        }
        panic!("not converged after {runs} runs: {outcomes:?}");
    }

    /// Replaces a gateway's topology with `edit` applied to it, as a form would.
    pub async fn edit_gateway(&self, name: &str, edit: impl FnOnce(&mut Topology)) {
        let desired = portico_store::gateways::load(&self.store, name)
            .await
            .unwrap();
        let mut t = desired.topology;
        edit(&mut t);
        portico_store::gateways::replace(
            &self.store,
            "test",
            name,
            Some(desired.generation),
            t,
            "test",
            false,
        )
        .await
        .expect("edit");
    }

    /// Calls since the last reset, by operation, split into (reads, writes).
    pub async fn aws_calls(&self) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
        let log = self.turn().control("GET", "/calls", None).await;
        let mut reads = BTreeMap::new();
        let mut writes = BTreeMap::new();
        for service in ["apigateway", "elasticloadbalancing"] {
            if let Some(ops) = log["calls"][service].as_object() {
                for (op, n) in ops {
                    let n = n.as_u64().unwrap_or(0);
                    let read = op.starts_with("Get") || op.starts_with("Describe");
                    let map = if read { &mut reads } else { &mut writes };
                    *map.entry(op.clone()).or_default() += n;
                }
            }
        }
        (reads, writes)
    }

    pub async fn reset_aws_calls(&self) {
        self.turn()
            .control("POST", "/calls/reset", Some(json!({})))
            .await;
    }

    /// How many of each kind AWS holds in the region (all owners).
    pub async fn inventory(&self) -> BTreeMap<&'static str, usize> {
        let c = self.turn().clients(self.sandbox().region, 3).await;
        let mut out = BTreeMap::new();
        let lbs = c.elb.describe_load_balancers().send().await.unwrap();
        out.insert("load balancers", lbs.load_balancers().len());
        let mut listeners = 0;
        for lb in lbs.load_balancers() {
            listeners += c
                .elb
                .describe_listeners()
                .load_balancer_arn(lb.load_balancer_arn().unwrap())
                .send()
                .await
                .unwrap()
                .listeners()
                .len();
        }
        out.insert("listeners", listeners);
        let tgs = c.elb.describe_target_groups().send().await.unwrap();
        out.insert("target groups", tgs.target_groups().len());
        let links = c.apigateway.get_vpc_links().send().await.unwrap();
        out.insert("vpc links", links.items().len());
        let apis = c.apigateway.get_rest_apis().send().await.unwrap();
        out.insert("rest apis", apis.items().len());
        let (mut deployments, mut stages, mut resources) = (0, 0, 0);
        for a in apis.items() {
            let id = a.id().unwrap();
            let api = &c.apigateway;
            deployments += api
                .get_deployments()
                .rest_api_id(id)
                .send()
                .await
                .unwrap()
                .items()
                .len();
            stages += api
                .get_stages()
                .rest_api_id(id)
                .send()
                .await
                .unwrap()
                .item()
                .len();
            resources += api
                .get_resources()
                .rest_api_id(id)
                .send()
                .await
                .unwrap()
                .items()
                .len();
        }
        out.insert("deployments", deployments);
        out.insert("stages", stages);
        out.insert("resources", resources);
        let plans = c.apigateway.get_usage_plans().send().await.unwrap();
        out.insert("usage plans", plans.items().len());
        out
    }
}

/// What the seed makes in AWS, one of each.
pub fn seed_inventory() -> BTreeMap<&'static str, usize> {
    BTreeMap::from([
        ("load balancers", 1),
        ("listeners", 3),
        ("target groups", 3),
        ("vpc links", 1),
        ("rest apis", 1),
        ("deployments", 1),
        ("stages", 3),
        ("resources", 7),
        ("usage plans", 1),
    ])
}
