//! `portico adopt` against the sandbox: the hand-built setup (the console walkthrough, made
//! with boto3 by the sandbox's `handbuilt.py`, untagged) is taken over in one step — the same
//! REST API, VPC link, NLB and target groups afterwards, nothing new, nothing foreign touched,
//! the first plan empty — and a setup the shape cannot express is refused with nothing stored
//! or tagged.

use crate::common::{TestApp, REGION};
use aws_sdk_apigateway::types as agw;
use portico_core::model::topology::{BackendPort, Topology};
use std::collections::BTreeSet;
use std::process::{Command, Output};

/// Builds the hand-made setup `name` in the sandbox; returns its REST API's id.
async fn handbuilt(app: &TestApp, name: &str) -> String {
    let built = app
        .turn()
        .control(
            "POST",
            "/handbuilt",
            Some(serde_json::json!({ "region": REGION, "name": name })),
        )
        .await;
    built["rest_api_id"].as_str().expect("an API id").to_owned()
}

/// `portico ARGS` on this test's database and sandbox.
fn portico(app: &TestApp, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_portico"));
    c.arg("--db")
        .arg(app.db_arg())
        .args(args)
        .env("AWS_ENDPOINT_URL", &app.turn().url)
        .env("AWS_ACCESS_KEY_ID", "sandbox")
        .env("AWS_SECRET_ACCESS_KEY", "sandbox")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("RUST_LOG", "warn");
    c
}

fn run(app: &TestApp, args: &[&str]) -> (bool, String) {
    let out: Output = portico(app, args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn adopt_args<'a>(api: &'a str, name: &'a str) -> Vec<&'a str> {
    vec![
        "adopt",
        "--region",
        REGION,
        "--rest-api",
        api,
        "--name",
        name,
    ]
}

/// Every resource id and ARN in the account (all owners), and every tag key Portico uses on
/// them: what "nothing new, nothing foreign touched" is checked against.
async fn account(app: &TestApp) -> (BTreeSet<String>, BTreeSet<String>) {
    let c = app.turn().clients(REGION, 3).await;
    let mut ids = BTreeSet::new();
    let mut tagged = BTreeSet::new();
    let lbs = c.elb.describe_load_balancers().send().await.unwrap();
    let tgs = c.elb.describe_target_groups().send().await.unwrap();
    let arns: Vec<String> = lbs
        .load_balancers()
        .iter()
        .filter_map(|l| l.load_balancer_arn().map(str::to_owned))
        .chain(
            tgs.target_groups()
                .iter()
                .filter_map(|g| g.target_group_arn().map(str::to_owned)),
        )
        .collect();
    for lb in lbs.load_balancers() {
        let listeners = c
            .elb
            .describe_listeners()
            .load_balancer_arn(lb.load_balancer_arn().unwrap())
            .send()
            .await
            .unwrap();
        ids.extend(
            listeners
                .listeners()
                .iter()
                .filter_map(|l| l.listener_arn().map(str::to_owned)),
        );
    }
    for arn in &arns {
        ids.insert(arn.clone());
        let tags = c
            .elb
            .describe_tags()
            .resource_arns(arn)
            .send()
            .await
            .unwrap();
        for d in tags.tag_descriptions() {
            if d.tags().iter().any(|t| t.key() == Some("portico:gateway")) {
                tagged.insert(arn.clone());
            }
        }
    }
    let portico = |t: Option<&std::collections::HashMap<String, String>>| {
        t.is_some_and(|t| t.contains_key("portico:gateway"))
    };
    for a in c.apigateway.get_rest_apis().send().await.unwrap().items() {
        let id = a.id().unwrap().to_owned();
        if portico(a.tags()) {
            tagged.insert(id.clone());
        }
        let deployments = c.apigateway.get_deployments().rest_api_id(&id).send().await;
        for d in deployments.unwrap().items() {
            ids.insert(format!("{id}/deployment/{}", d.id().unwrap()));
        }
        ids.insert(id);
    }
    for l in c.apigateway.get_vpc_links().send().await.unwrap().items() {
        ids.insert(l.id().unwrap().to_owned());
        if portico(l.tags()) {
            tagged.insert(l.id().unwrap().to_owned());
        }
    }
    for p in c.apigateway.get_usage_plans().send().await.unwrap().items() {
        ids.insert(p.id().unwrap().to_owned());
        if portico(p.tags()) {
            tagged.insert(p.id().unwrap().to_owned());
        }
    }
    let keys = c.apigateway.get_api_keys().send().await.unwrap();
    for k in keys.items() {
        ids.insert(k.id().unwrap().to_owned());
        if portico(k.tags()) {
            tagged.insert(k.id().unwrap().to_owned());
        }
    }
    (ids, tagged)
}

#[tokio::test]
async fn a_hand_built_setup_is_adopted_without_replacing_anything() {
    let app = TestApp::builder().with_sandbox(REGION).build().await;
    let api = handbuilt(&app, "orders").await;
    let (before, tagged) = account(&app).await;
    assert!(tagged.is_empty(), "built by hand: untagged");

    // --dry-run: the file, the tags it would add, the keys; reads only.
    app.reset_aws_calls().await;
    let (ok, text) = run(
        &app,
        &[adopt_args(&api, "orders"), vec!["--dry-run"]].concat(),
    );
    assert!(ok, "{text}");
    let (reads, writes) = app.aws_calls().await;
    assert!(writes.is_empty(), "a dry run writes nothing: {writes:?}");
    eprintln!(
        "adopt --dry-run of the seed-sized setup: {} reads {reads:?}",
        reads.values().sum::<u64>()
    );
    assert!(text.contains("# It fits"), "{text}");
    assert!(text.contains("orders-partner") && text.contains("orders-legacy"));
    let yaml: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let t = Topology::from_yaml(&yaml).unwrap();
    assert_eq!(
        t.ports.iter().map(|p| p.port).collect::<Vec<_>>(),
        vec![8080, 8081, 8082]
    );
    let dev = t.routes.iter().find(|r| r.path == "/dev/{proxy+}").unwrap();
    assert_eq!(dev.backend_path.as_deref(), Some("/{proxy}"));
    let adopted = t.gateway.adopted.as_ref().expect("the adopted record");
    assert_eq!(adopted.rest_api.id, api);
    assert_eq!(adopted.target_groups[&8081].name, "orders-8081");
    assert!(portico_store::gateways::list(&app.store)
        .await
        .unwrap()
        .is_empty());

    // Stopped by kill -9 half way through tagging (API Gateway's tag calls made slow).
    let slow = serde_json::json!({
        "service": "apigateway", "operation": "TagResource", "kind": "latency", "latency_ms": 1500
    });
    app.turn().control("POST", "/faults", Some(slow)).await;
    app.reset_aws_calls().await;
    let mut child = portico(&app, &adopt_args(&api, "orders")).spawn().unwrap();
    while app.turn().calls("apigateway", "TagResource").await < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    app.turn().control("DELETE", "/faults", None).await;
    // The call it was making goes on without it (as in AWS): let it land before reading.
    while app.turn().control("GET", "/calls", None).await["in_flight"] != 0 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, half) = account(&app).await;
    assert!(!half.is_empty() && half.len() < 9, "half tagged: {half:?}");
    assert!(portico_store::gateways::load(&app.store, "orders")
        .await
        .is_ok());

    // Adopting again finishes the tags; the first plan has nothing to do.
    app.reset_aws_calls().await;
    let (ok, text) = run(&app, &adopt_args(&api, "orders"));
    assert!(ok, "{text}");
    let (reads, writes) = app.aws_calls().await;
    eprintln!(
        "adopt again after kill -9: {} reads, writes {writes:?}",
        reads.values().sum::<u64>()
    );
    assert!(
        writes
            .keys()
            .all(|op| op == "AddTags" || op == "TagResource"),
        "only tags: {writes:?}"
    );
    let (after, tagged) = account(&app).await;
    assert_eq!(after, before, "nothing new, nothing gone");
    // The API, the link, the NLB, 3 target groups, the usage plan, 2 keys.
    assert_eq!(tagged.len(), 9, "{tagged:?}");
    let (ok, text) = run(&app, &["plan", "orders"]);
    assert!(ok && text.contains("Nothing to do"), "{text}");

    // The keys clients use are adopted as they are, values never read.
    let keys = portico_store::keys::list(
        &app.store,
        portico_store::gateways::load(&app.store, "orders")
            .await
            .unwrap()
            .id,
    )
    .await
    .unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| k.aws_id.is_some() && k.hint.is_none()));
    let c = app.turn().clients(REGION, 3).await;
    for k in &keys {
        let aws = c
            .apigateway
            .get_api_key()
            .api_key(k.aws_id.as_deref().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(aws.enabled(), k.name.ends_with("partner"), "{}", k.name);
    }

    // A fourth port, added by file, lands on the adopted load balancer.
    let (ok, file) = run(&app, &["topology", "export", "orders"]);
    assert!(ok, "{file}");
    let mut t = Topology::from_yaml(&file).unwrap();
    let instance = app.sandbox().demo["instance_ids"][0]
        .as_str()
        .unwrap()
        .to_owned();
    t.ports.push(BackendPort {
        port: 8083,
        instances: vec![instance],
        ..t.ports[0].clone()
    });
    let path = app._dir.path().join("orders.yaml");
    std::fs::write(&path, t.to_yaml().unwrap()).unwrap();
    let (ok, text) = run(&app, &["topology", "apply", "-f", path.to_str().unwrap()]);
    assert!(ok, "{text}");
    let worker = app.worker(crate::common::rig::fast()).await;
    let id = portico_store::gateways::load(&app.store, "orders")
        .await
        .unwrap()
        .id;
    app.converge(&worker, id, 3).await;
    let (grown, _) = account(&app).await;
    assert!(grown.is_superset(&before), "nothing replaced");
    let new: Vec<&String> = grown.difference(&before).collect();
    assert_eq!(new.len(), 2, "a target group and a listener: {new:?}");
    let lb = adopted.load_balancer.id.as_str();
    let listeners = c
        .elb
        .describe_listeners()
        .load_balancer_arn(lb)
        .send()
        .await
        .unwrap();
    assert!(listeners.listeners().iter().any(|l| l.port() == Some(8083)));

    // Released: Portico's tags and rows go, every resource stays.
    portico_store::gateways::delete(
        &app.store,
        "test",
        "orders",
        portico_store::gateways::Removal::Release,
    )
    .await
    .unwrap();
    app.reset_aws_calls().await;
    assert_eq!(
        app.converge(&worker, id, 2).await,
        vec![portico::worker::Outcome::Removed]
    );
    let (_, writes) = app.aws_calls().await;
    assert!(
        writes
            .keys()
            .all(|op| op == "RemoveTags" || op == "UntagResource"),
        "only tags removed: {writes:?}"
    );
    let (left, tagged) = account(&app).await;
    assert_eq!(left, grown, "released, not deleted");
    assert!(
        tagged.is_empty(),
        "no Portico tag left: {tagged:?} after {writes:?}"
    );
    assert!(portico_store::gateways::load(&app.store, "orders")
        .await
        .is_err());
}

#[tokio::test]
async fn a_setup_that_does_not_fit_is_refused_with_nothing_stored_or_tagged() {
    let app = TestApp::builder().with_sandbox(REGION).build().await;
    let api = handbuilt(&app, "misfit").await;
    let c = app.turn().clients(REGION, 3).await;
    // A method calling a Lambda function, and an authorizer.
    let root = c
        .apigateway
        .get_resources()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .find(|r| r.path() == Some("/"))
        .and_then(|r| r.id().map(str::to_owned))
        .unwrap();
    let hook = c
        .apigateway
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("hook")
        .send()
        .await
        .unwrap();
    c.apigateway
        .put_method()
        .rest_api_id(&api)
        .resource_id(hook.id().unwrap())
        .http_method("POST")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    c.apigateway
        .put_integration()
        .rest_api_id(&api)
        .resource_id(hook.id().unwrap())
        .http_method("POST")
        .r#type(agw::IntegrationType::AwsProxy)
        .integration_http_method("POST")
        .uri(format!(
            "arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/arn:aws:lambda:{REGION}:123456789012:function:hook/invocations"
        ))
        .send()
        .await
        .unwrap();
    c.apigateway
        .create_authorizer()
        .rest_api_id(&api)
        .name("jwt")
        .r#type(agw::AuthorizerType::Token)
        .authorizer_uri(format!(
            "arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/arn:aws:lambda:{REGION}:123456789012:function:auth/invocations"
        ))
        .identity_source("method.request.header.Authorization")
        .send()
        .await
        .unwrap();
    // One target group already another gateway's.
    let tg = c
        .elb
        .describe_target_groups()
        .names("misfit-8081")
        .send()
        .await
        .unwrap();
    let tg_arn = tg.target_groups()[0].target_group_arn().unwrap().to_owned();
    c.elb
        .add_tags()
        .resource_arns(&tg_arn)
        .tags(
            aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                .key("portico:gateway")
                .value("billing")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (before, tagged_before) = account(&app).await;

    app.reset_aws_calls().await;
    let (ok, text) = run(&app, &adopt_args(&api, "misfit"));
    assert!(!ok, "{text}");
    for needle in [
        "POST /hook integrates AWS_PROXY",
        "Authorizer \"jwt\"",
        "Target group misfit-8081 already belongs to Portico gateway \"billing\"",
        "Nothing was stored or tagged",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let (_, writes) = app.aws_calls().await;
    assert!(writes.is_empty(), "{writes:?}");
    assert!(portico_store::gateways::list(&app.store)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(account(&app).await, (before, tagged_before));
}
