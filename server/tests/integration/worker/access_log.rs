//! Stage access logs: converged from the topology, read back as AWS holds them, a change by
//! hand corrected like any other drift, and a stage whose topology says nothing left alone.

use super::*;
use aws_sdk_apigateway::types::{Op, PatchOperation};
use portico_core::model::rules::ACCESS_LOG_JSON;
use portico_core::model::topology::{AccessLog, AccessLogging};

fn group(name: &str) -> String {
    format!("arn:aws:logs:{REGION}:123456789012:log-group:{name}")
}

/// Each stage's access log as AWS answers it: (destination, format).
async fn logs(rig: &Rig) -> BTreeMap<String, Option<(String, String)>> {
    let c = rig.turn().clients(REGION, 3).await;
    let apis = c.apigateway.get_rest_apis().send().await.unwrap();
    let api = apis.items()[0].id().unwrap();
    let stages = c
        .apigateway
        .get_stages()
        .rest_api_id(api)
        .send()
        .await
        .unwrap();
    stages
        .item()
        .iter()
        .map(|s| {
            let log = s.access_log_settings().and_then(|l| {
                Some((
                    l.destination_arn()?.to_owned(),
                    l.format().unwrap_or_default().to_owned(),
                ))
            });
            (s.stage_name().unwrap().to_owned(), log)
        })
        .collect()
}

/// Changes a stage's access log by hand, as someone in the console would.
async fn by_hand(rig: &Rig, stage: &str, ops: Vec<PatchOperation>) {
    let c = rig.turn().clients(REGION, 3).await;
    let apis = c.apigateway.get_rest_apis().send().await.unwrap();
    c.apigateway
        .update_stage()
        .rest_api_id(apis.items()[0].id().unwrap())
        .stage_name(stage)
        .set_patch_operations(Some(ops))
        .send()
        .await
        .unwrap();
}

fn replace(field: &str, value: &str) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Replace)
        .path(format!("/accessLogSettings/{field}"))
        .value(value)
        .build()
}

#[tokio::test]
async fn access_logs_converge_and_a_change_by_hand_is_corrected() {
    let rig = rig_with(|t| {
        t.stages[0].access_log = Some(AccessLogging::To(AccessLog {
            destination: group("shop/access"),
            format: None,
        }));
        t.stages[1].access_log = Some(AccessLogging::Off);
    })
    .await;
    let (dev, off, untouched) = (
        rig.seed.stages[0].name.clone(),
        rig.seed.stages[1].name.clone(),
        rig.seed.stages[2].name.clone(),
    );
    let worker = rig.worker(fast()).await;
    rig.converge(&worker, 3).await;
    let now = logs(&rig).await;
    assert_eq!(
        now[&dev],
        Some((group("shop/access"), ACCESS_LOG_JSON.to_owned()))
    );
    assert_eq!(now[&off], None);
    assert_eq!(now[&untouched], None);
    assert_eq!(worker.reconcile(rig.id).await, Outcome::InSync);

    // By hand: dev's format changed, a log turned on where the topology says off, and one
    // set on the stage the topology says nothing about.
    let theirs = (group("theirs"), "$context.requestId".to_owned());
    by_hand(
        &rig,
        &dev,
        vec![replace("format", "$context.requestId $context.status")],
    )
    .await;
    for stage in [&off, &untouched] {
        let ops = vec![
            replace("destinationArn", &theirs.0),
            replace("format", &theirs.1),
        ];
        by_hand(&rig, stage, ops).await;
    }
    rig.reset_calls().await;
    rig.converge(&worker, 3).await;
    let (_, writes) = rig.calls().await;
    assert_eq!(writes, BTreeMap::from([("UpdateStage".to_string(), 2)]));
    let now = logs(&rig).await;
    assert_eq!(
        now[&dev],
        Some((group("shop/access"), ACCESS_LOG_JSON.to_owned()))
    );
    assert_eq!(now[&off], None);
    assert_eq!(now[&untouched], Some(theirs));

    // An edit: dev's log turned off, in one UpdateStage.
    rig.edit(|t| t.stages[0].access_log = Some(AccessLogging::Off))
        .await;
    rig.reset_calls().await;
    rig.converge(&worker, 3).await;
    let (_, writes) = rig.calls().await;
    assert_eq!(writes, BTreeMap::from([("UpdateStage".to_string(), 1)]));
    assert_eq!(logs(&rig).await[&dev], None);
}
