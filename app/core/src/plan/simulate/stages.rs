//! Stages: on an existing deployment, gone only when no usage plan covers them.

use super::{api, throttle, Outputs};
use crate::model::topology::AccessLog;
use crate::plan::actual::{Actual, Stage};
use crate::plan::Op;

pub(super) fn run(a: &mut Actual, out: &Outputs, op: &Op) {
    match op {
        Op::CreateStage {
            rest_api,
            name,
            deployment,
            variables,
            cache_gb,
        } => {
            let id = out.get(rest_api);
            let d = out.get(deployment);
            let api = api(a, &id);
            assert!(
                api.deployments.contains_key(&d),
                "stage on a missing deployment"
            );
            assert!(api
                .stages
                .insert(
                    name.clone(),
                    Stage {
                        deployment_id: d,
                        variables: variables.clone(),
                        throttle: None,
                        cache_gb: cache_gb.clone(),
                        access_log: None,
                    }
                )
                .is_none());
        }
        Op::UpdateStage {
            rest_api,
            name,
            deployment,
            patches,
        } => {
            let id = out.get(rest_api);
            let d = deployment.as_ref().map(|d| out.get(d));
            let api = api(a, &id);
            if let Some(d) = &d {
                assert!(api.deployments.contains_key(d));
            }
            let st = api.stages.get_mut(name).expect("stage");
            if let Some(d) = d {
                st.deployment_id = d;
            }
            for p in patches {
                let value = p.value.clone().unwrap_or_default();
                if let Some(k) = p.path.strip_prefix("/variables/") {
                    if p.op == "remove" {
                        st.variables.remove(k);
                    } else {
                        st.variables.insert(k.into(), value);
                    }
                } else if p.path.ends_with("rateLimit") {
                    throttle(&mut st.throttle).rate = value.parse().unwrap();
                } else if p.path.ends_with("burstLimit") {
                    throttle(&mut st.throttle).burst = value.parse().unwrap();
                } else if p.path == "/cacheClusterEnabled" {
                    if value == "false" {
                        st.cache_gb = None;
                    }
                } else if p.path == "/cacheClusterSize" {
                    st.cache_gb = Some(value);
                } else if p.path == "/accessLogSettings" && p.op == "remove" {
                    st.access_log = None;
                } else if let Some(field) = p.path.strip_prefix("/accessLogSettings/") {
                    let log = st.access_log.get_or_insert_with(|| AccessLog {
                        destination: String::new(),
                        format: None,
                    });
                    match field {
                        "destinationArn" => log.destination = value,
                        "format" => log.format = Some(value),
                        other => panic!("no access log field {other}"),
                    }
                } else {
                    panic!("no stage patch {}", p.path);
                }
            }
        }
        Op::DeleteStage { rest_api, name } => {
            assert!(
                !a.usage_plans
                    .values()
                    .any(|p| p.api_stages.contains(&(rest_api.clone(), name.clone()))),
                "stage {name} deleted while a usage plan covers it"
            );
            assert!(api(a, rest_api).stages.remove(name).is_some());
        }
        other => unreachable!("{} is not a stage call", other.operation()),
    }
}
