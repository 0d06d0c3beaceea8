//! `portico adopt --dry-run` against the sandbox: a setup built by hand through the SDK, as a
//! team does in the console, reads back as the topology that says it — with nothing written to
//! AWS — and what the shape cannot express is listed.

use crate::common::{TestApp, REGION};
use aws_sdk_apigateway::types as agw;
use aws_sdk_elasticloadbalancingv2::types as elbt;
use portico::aws::call::Caller;

/// Builds the console walkthrough: target groups tg-8080 and tg-8081, one internal NLB with a
/// TCP listener each, a VPC link, a REST API with /dev and /release each pinned to a port, a
/// stage each, a usage plan over both and a key in it. Returns the REST API's id.
async fn build_by_hand(app: &TestApp) -> String {
    let c = app.turn().clients(REGION, 3).await;
    let demo = &app.sandbox().demo;
    let vpc = demo["vpc_id"].as_str().unwrap();
    let subnets: Vec<String> = serde_json::from_value(demo["subnet_ids"].clone()).unwrap();
    let instance = demo["instance_ids"][0].as_str().unwrap();
    let lb = c
        .elb
        .create_load_balancer()
        .name("shared-nlb")
        .r#type(elbt::LoadBalancerTypeEnum::Network)
        .scheme(elbt::LoadBalancerSchemeEnum::Internal)
        .set_subnets(Some(subnets))
        .send()
        .await
        .unwrap();
    let lb = lb.load_balancers()[0].clone();
    let lb_arn = lb.load_balancer_arn().unwrap();
    for port in [8080, 8081] {
        let tg = c
            .elb
            .create_target_group()
            .name(format!("tg-{port}"))
            .protocol(elbt::ProtocolEnum::Tcp)
            .port(port)
            .vpc_id(vpc)
            .target_type(elbt::TargetTypeEnum::Instance)
            .send()
            .await
            .unwrap();
        let tg_arn = tg.target_groups()[0].target_group_arn().unwrap().to_owned();
        c.elb
            .register_targets()
            .target_group_arn(&tg_arn)
            .targets(
                elbt::TargetDescription::builder()
                    .id(instance)
                    .port(port)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        c.elb
            .create_listener()
            .load_balancer_arn(lb_arn)
            .protocol(elbt::ProtocolEnum::Tcp)
            .port(port)
            .default_actions(
                elbt::Action::builder()
                    .r#type(elbt::ActionTypeEnum::Forward)
                    .target_group_arn(&tg_arn)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let link = c
        .apigateway
        .create_vpc_link()
        .name("shop-link")
        .target_arns(lb_arn)
        .send()
        .await
        .unwrap();
    let api = c
        .apigateway
        .create_rest_api()
        .name("shop")
        .endpoint_configuration(
            agw::EndpointConfiguration::builder()
                .types(agw::EndpointType::Regional)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let api_id = api.id().unwrap().to_owned();
    let root = api.root_resource_id().unwrap().to_owned();
    for (stage, port) in [("dev", 8080), ("release", 8081)] {
        let top = c
            .apigateway
            .create_resource()
            .rest_api_id(&api_id)
            .parent_id(&root)
            .path_part(stage)
            .send()
            .await
            .unwrap();
        let proxy = c
            .apigateway
            .create_resource()
            .rest_api_id(&api_id)
            .parent_id(top.id().unwrap())
            .path_part("{proxy+}")
            .send()
            .await
            .unwrap();
        let rid = proxy.id().unwrap();
        c.apigateway
            .put_method()
            .rest_api_id(&api_id)
            .resource_id(rid)
            .http_method("ANY")
            .authorization_type("NONE")
            .api_key_required(true)
            .send()
            .await
            .unwrap();
        c.apigateway
            .put_integration()
            .rest_api_id(&api_id)
            .resource_id(rid)
            .http_method("ANY")
            .r#type(agw::IntegrationType::HttpProxy)
            .integration_http_method("ANY")
            .connection_type(agw::ConnectionType::VpcLink)
            .connection_id(link.id().unwrap())
            .uri(format!(
                "http://{}:{port}/{stage}/{{proxy}}",
                lb.dns_name().unwrap()
            ))
            .send()
            .await
            .unwrap();
    }
    let deployment = c
        .apigateway
        .create_deployment()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    for stage in ["dev", "release"] {
        c.apigateway
            .create_stage()
            .rest_api_id(&api_id)
            .stage_name(stage)
            .deployment_id(deployment.id().unwrap())
            .variables("team", "payments")
            .send()
            .await
            .unwrap();
    }
    let plan = c
        .apigateway
        .create_usage_plan()
        .name("standard")
        .api_stages(
            agw::ApiStage::builder()
                .api_id(&api_id)
                .stage("dev")
                .build(),
        )
        .api_stages(
            agw::ApiStage::builder()
                .api_id(&api_id)
                .stage("release")
                .build(),
        )
        .throttle(
            agw::ThrottleSettings::builder()
                .rate_limit(50.0)
                .burst_limit(100)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let key = c
        .apigateway
        .create_api_key()
        .name("partner")
        .enabled(true)
        .send()
        .await
        .unwrap();
    c.apigateway
        .create_usage_plan_key()
        .usage_plan_id(plan.id().unwrap())
        .key_id(key.id().unwrap())
        .key_type("API_KEY")
        .send()
        .await
        .unwrap();
    api_id
}

fn caller() -> Caller {
    Caller::new(Default::default(), REGION, None)
}

#[tokio::test]
async fn a_hand_built_setup_reads_back_as_its_topology_and_nothing_is_written() {
    let app = TestApp::builder().with_sandbox(REGION).build().await;
    let api_id = build_by_hand(&app).await;
    let c = app.turn().clients(REGION, 3).await;
    app.reset_aws_calls().await;
    let found = portico::adopt::discover(&c, &caller(), &api_id)
        .await
        .unwrap();
    let (reads, writes) = app.aws_calls().await;
    assert!(writes.is_empty(), "a dry run writes nothing: {writes:?}");
    eprintln!(
        "adopt --dry-run: {} reads {reads:?}",
        reads.values().sum::<u64>()
    );

    let a = portico_core::adopt::adopt(&found, "shop", None);
    assert_eq!(a.misfits, Vec::<String>::new());
    let t = &a.topology;
    assert_eq!(
        t.gateway.vpc_id,
        app.sandbox().demo["vpc_id"].as_str().unwrap()
    );
    assert_eq!(
        t.ports.iter().map(|p| p.port).collect::<Vec<_>>(),
        vec![8080, 8081]
    );
    assert!(t.ports.iter().all(|p| p.instances.len() == 1));
    let routes: Vec<(String, Option<u32>, bool)> = t
        .routes
        .iter()
        .map(|r| (r.path.clone(), r.port, r.api_key_required))
        .collect();
    assert_eq!(
        routes,
        vec![
            ("/dev/{proxy+}".to_string(), Some(8080), true),
            ("/release/{proxy+}".to_string(), Some(8081), true),
        ]
    );
    assert_eq!(t.stages.len(), 2);
    assert_eq!(
        t.stages[0].variables.get("team").map(String::as_str),
        Some("payments")
    );
    assert_eq!(t.usage_plans[0].name, "standard");
    assert_eq!(
        t.usage_plans[0].stages,
        vec!["dev".to_string(), "release".to_string()]
    );
    assert_eq!(a.keys.len(), 1);
    assert_eq!(
        (a.keys[0].name.as_str(), a.keys[0].enabled),
        ("partner", true)
    );
    // The API, the link, the NLB, two target groups, the plan, the key.
    assert_eq!(a.tags.len(), 7, "{:?}", a.tags);
    let report = portico::adopt::report(&a);
    assert!(report.contains("# It fits"), "{report}");

    // The same through the command line: the file on standard output, a refusal to store.
    let cli = |dry_run: bool| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_portico"));
        c.args([
            "adopt",
            "--region",
            REGION,
            "--rest-api",
            &api_id,
            "--name",
            "shop",
        ])
        .env("AWS_ENDPOINT_URL", &app.turn().url)
        .env("AWS_ACCESS_KEY_ID", "sandbox")
        .env("AWS_SECRET_ACCESS_KEY", "sandbox")
        .env("AWS_EC2_METADATA_DISABLED", "true");
        if dry_run {
            c.arg("--dry-run");
        }
        c.output().unwrap()
    };
    let out = cli(true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let yaml: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        &portico_core::model::topology::Topology::from_yaml(&yaml)
            .unwrap()
            .normalised(),
        t
    );
    let out = cli(false);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dry-run shows what it would be"));

    // A method that calls a Lambda function does not fit, and says so.
    let root = c
        .apigateway
        .get_resources()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .find(|r| r.path() == Some("/"))
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let hook = c
        .apigateway
        .create_resource()
        .rest_api_id(&api_id)
        .parent_id(&root)
        .path_part("hook")
        .send()
        .await
        .unwrap();
    c.apigateway
        .put_method()
        .rest_api_id(&api_id)
        .resource_id(hook.id().unwrap())
        .http_method("POST")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    c.apigateway
        .put_integration()
        .rest_api_id(&api_id)
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
    let found = portico::adopt::discover(&c, &caller(), &api_id)
        .await
        .unwrap();
    let a = portico_core::adopt::adopt(&found, "shop", None);
    assert!(
        a.misfits
            .iter()
            .any(|m| m.contains("POST /hook integrates AWS_PROXY")),
        "{:?}",
        a.misfits
    );
    assert!(portico::adopt::report(&a).contains("does not fit"));
}
