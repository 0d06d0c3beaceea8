//! Stages: the deployment each serves, its variables (with the backend port), throttling,
//! cache and access log. Stages are deleted after usage plans stop covering them, and
//! deployments no stage serves any more after that.

use super::actual;
use super::rest::Api;
use super::{change, names, Action, Builder, Kind, Op, Patch};
use crate::model::rules::BACKEND_PORT_VAR;
use crate::model::topology::{AccessLog, AccessLogging, Stage, Throttle, Topology};
use std::collections::{BTreeMap, BTreeSet};

/// The stages that exist after the plan, and which of them move to a new deployment.
pub(crate) struct Stages {
    pub kept: BTreeSet<String>,
    pub moved: BTreeSet<String>,
}

/// A stage's variables as AWS should hold them: the user's, plus the backend (listener) port.
/// The port is set on every stage Portico makes and kept in step where a stage holds it; a
/// stage that exists without it (built by hand, adopted) gains it only once a route reads it
/// (a route without a port of its own), so adopting adds no variable nothing reads.
fn variables(
    desired: &Topology,
    stage: &Stage,
    current: Option<&actual::Stage>,
) -> BTreeMap<String, String> {
    let mut vars = stage.variables.clone();
    let held = current.is_some_and(|c| c.variables.contains_key(BACKEND_PORT_VAR));
    if current.is_none() || held || desired.routes.iter().any(|r| r.port.is_none()) {
        let port = desired
            .port(stage.backend_port)
            .map(|p| p.listener())
            .unwrap_or(stage.backend_port);
        vars.insert(BACKEND_PORT_VAR.into(), port.to_string());
    }
    vars
}

fn throttle_patches(throttle: &Throttle) -> Vec<Patch> {
    vec![
        Patch::replace("/*/*/throttling/rateLimit", throttle.rate.to_string()),
        Patch::replace("/*/*/throttling/burstLimit", throttle.burst.to_string()),
    ]
}

fn show(t: &Option<Throttle>) -> Option<String> {
    t.as_ref()
        .map(|t| format!("{}/s burst {}", t.rate, t.burst))
}

pub(super) fn plan(b: &mut Builder, desired: &Topology, api: &Api) -> Stages {
    let mut out = Stages {
        kept: BTreeSet::new(),
        moved: BTreeSet::new(),
    };
    let Some(deployment) = &api.deployment else {
        return out;
    };
    for stage in &desired.stages {
        out.kept.insert(stage.name.clone());
        let label = format!("stage {}", stage.name);
        let current = api.actual.and_then(|a| a.stages.get(&stage.name));
        let vars = variables(desired, stage, current);
        match current {
            None => {
                let mut changes = vec![change("deployment", None, Some("latest routes".into()))];
                changes.extend(
                    vars.iter()
                        .map(|(k, v)| change(&format!("variables.{k}"), None, Some(v.clone()))),
                );
                if let Some(gb) = &stage.cache_gb {
                    changes.push(change("cache_gb", None, Some(gb.clone())));
                }
                b.push(
                    Kind::Stage,
                    Action::Create,
                    label.clone(),
                    changes,
                    Op::CreateStage {
                        rest_api: api.id.clone(),
                        name: stage.name.clone(),
                        deployment: deployment.clone(),
                        variables: vars,
                        cache_gb: stage.cache_gb.clone(),
                    },
                );
                if let Some(t) = &stage.throttle {
                    b.push(
                        Kind::Stage,
                        Action::Update,
                        label,
                        vec![change("throttle", None, show(&stage.throttle))],
                        Op::UpdateStage {
                            rest_api: api.id.clone(),
                            name: stage.name.clone(),
                            deployment: None,
                            patches: throttle_patches(t),
                        },
                    );
                }
            }
            Some(current) => {
                let mut changes = vec![];
                let mut patches = vec![];
                let mut move_to = None;
                if !api.fresh(&current.deployment_id) {
                    out.moved.insert(stage.name.clone());
                    changes.push(change(
                        "deployment",
                        Some(current.deployment_id.clone()),
                        Some(
                            deployment
                                .as_known()
                                .map(|d| d.to_owned())
                                .unwrap_or_else(|| "a new deployment of the latest routes".into()),
                        ),
                    ));
                    move_to = Some(deployment.clone());
                }
                for (k, v) in &vars {
                    if current.variables.get(k) != Some(v) {
                        changes.push(change(
                            &format!("variables.{k}"),
                            current.variables.get(k).cloned(),
                            Some(v.clone()),
                        ));
                        patches.push(Patch::replace(format!("/variables/{k}"), v.clone()));
                    }
                }
                for (k, v) in &current.variables {
                    if !vars.contains_key(k) {
                        changes.push(change(&format!("variables.{k}"), Some(v.clone()), None));
                        patches.push(Patch::remove(format!("/variables/{k}")));
                    }
                }
                // No throttle in the topology leaves the stage's throttling as it is.
                if let Some(t) = &stage.throttle {
                    if current.throttle.as_ref() != Some(t) {
                        changes.push(change(
                            "throttle",
                            show(&current.throttle),
                            show(&stage.throttle),
                        ));
                        patches.extend(throttle_patches(t));
                    }
                }
                if current.cache_gb != stage.cache_gb {
                    changes.push(change(
                        "cache_gb",
                        current.cache_gb.clone(),
                        stage.cache_gb.clone(),
                    ));
                    match &stage.cache_gb {
                        Some(gb) => {
                            patches.push(Patch::replace("/cacheClusterEnabled", "true"));
                            patches.push(Patch::replace("/cacheClusterSize", gb.clone()));
                        }
                        None => patches.push(Patch::replace("/cacheClusterEnabled", "false")),
                    }
                }
                if !changes.is_empty() {
                    b.push(
                        Kind::Stage,
                        Action::Update,
                        label,
                        changes,
                        Op::UpdateStage {
                            rest_api: api.id.clone(),
                            name: stage.name.clone(),
                            deployment: move_to,
                            patches,
                        },
                    );
                }
            }
        }
    }
    out
}

/// Each stage's access log, one step a stage, planned after everything else (deletes too):
/// AWS refuses a log group until the account names a CloudWatch role, and that refusal then
/// holds back no deployment, throttle, key or delete. The steps read no output of each other,
/// so they may follow the plan's other steps from a builder of their own.
pub(super) fn access_logs(b: &mut Builder, desired: &Topology, api: &Api) {
    if api.deployment.is_none() {
        return; // No stage is made or changed (`plan` above).
    }
    for stage in &desired.stages {
        let Some(wanted) = &stage.access_log else {
            continue;
        };
        let current = api
            .actual
            .and_then(|a| a.stages.get(&stage.name))
            .and_then(|s| s.access_log.as_ref());
        let (changes, patches) = match (wanted, current) {
            (AccessLogging::Off, None) => continue,
            (AccessLogging::Off, Some(now)) => (
                vec![change(
                    "access_log",
                    Some(now.arn().to_owned()),
                    Some("off".into()),
                )],
                vec![Patch::remove("/accessLogSettings")],
            ),
            (AccessLogging::To(log), now) => {
                if now.is_some_and(|now| now.same_as(log)) {
                    continue;
                }
                (
                    access_log_changes(now, log),
                    vec![
                        Patch::replace("/accessLogSettings/destinationArn", log.arn()),
                        Patch::replace("/accessLogSettings/format", log.format().trim()),
                    ],
                )
            }
        };
        b.push(
            Kind::Stage,
            Action::Update,
            format!("stage {}", stage.name),
            changes,
            Op::UpdateStage {
                rest_api: api.id.clone(),
                name: stage.name.clone(),
                deployment: None,
                patches,
            },
        );
    }
}

fn access_log_changes(now: Option<&AccessLog>, log: &AccessLog) -> Vec<super::FieldChange> {
    let mut changes = vec![];
    let before = now.map(|n| n.arn().to_owned());
    if before.as_deref() != Some(log.arn()) {
        changes.push(change(
            "access_log.destination",
            before,
            Some(log.arn().to_owned()),
        ));
    }
    let before = now.map(|n| n.format().trim().to_owned());
    if before.as_deref() != Some(log.format().trim()) {
        let shown = |f: &str| {
            if f == crate::model::rules::ACCESS_LOG_JSON {
                "JSON (default)".to_owned()
            } else {
                f.to_owned()
            }
        };
        changes.push(change(
            "access_log.format",
            before.as_deref().map(shown),
            Some(shown(log.format().trim())),
        ));
    }
    changes
}

/// Stages no longer wanted, then deployments no stage serves after the plan.
pub(super) fn delete(b: &mut Builder, api: &Api, stages: &Stages) {
    let (Some(rest_api), Some(current)) = (api.id.as_known(), api.actual) else {
        return;
    };
    let mut served: BTreeSet<&str> = BTreeSet::new();
    for (name, st) in &current.stages {
        if !stages.kept.contains(name) {
            b.delete(
                Kind::Stage,
                format!("stage {name}"),
                Op::DeleteStage {
                    rest_api: rest_api.to_owned(),
                    name: name.clone(),
                },
            );
        } else if !stages.moved.contains(name) {
            served.insert(&st.deployment_id);
        }
    }
    if let Some(d) = api.deployment.as_ref().and_then(|d| d.as_known()) {
        served.insert(d);
    }
    for (id, description) in &current.deployments {
        if !served.contains(id.as_str()) {
            let what = if description.starts_with(names::DEPLOYMENT_PREFIX) {
                "an earlier version of the routes"
            } else if api.adopted.is_some() {
                // An adopted API's history (the deployments made before Portico) is the
                // team's: kept.
                continue;
            } else {
                "made outside Portico"
            };
            b.later(
                Kind::Deployment,
                Action::Delete,
                format!("deployment {id} ({what}, no stage serves it)"),
                vec![],
                Op::DeleteDeployment {
                    rest_api: rest_api.to_owned(),
                    deployment: id.clone(),
                },
            );
        }
    }
}
