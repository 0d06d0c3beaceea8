//! The local AWS sandbox seen through the real Rust SDK: resources round-trip, injected
//! throttling and server errors reach the SDK in each service's own format, and the call log
//! counts every call.

use crate::common::sandbox::Sandbox;
use aws_sdk_apigateway::error::ProvideErrorMetadata;
use aws_sdk_elasticloadbalancingv2::types::{
    LoadBalancerSchemeEnum, LoadBalancerTypeEnum, ProtocolEnum, TargetTypeEnum,
};
use serde_json::json;
use std::time::{Duration, Instant};

const REGION: &str = "ap-northeast-2";

#[tokio::test]
async fn target_group_nlb_and_vpc_link_round_trip() {
    let sandbox = Sandbox::lock().await;
    sandbox
        .control(
            "POST",
            "/config",
            Some(json!({ "vpc_link_pending_seconds": 0.5 })),
        )
        .await;
    let demo = sandbox.demo(REGION).await;
    let aws = sandbox.clients(REGION, 1).await;
    let vpc = demo["vpc_id"].as_str().unwrap();
    let subnets: Vec<String> = demo["subnet_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();

    let tg = aws
        .elb
        .create_target_group()
        .name("portico-demo-8080")
        .protocol(ProtocolEnum::Tcp)
        .port(8080)
        .vpc_id(vpc)
        .target_type(TargetTypeEnum::Instance)
        .send()
        .await
        .expect("create target group");
    let tg_arn = tg.target_groups()[0].target_group_arn().unwrap().to_owned();
    let read = aws
        .elb
        .describe_target_groups()
        .names("portico-demo-8080")
        .send()
        .await
        .unwrap();
    let group = &read.target_groups()[0];
    assert_eq!(group.target_group_arn(), Some(tg_arn.as_str()));
    assert_eq!(
        (group.protocol(), group.port()),
        (Some(&ProtocolEnum::Tcp), Some(8080))
    );

    let nlb = aws
        .elb
        .create_load_balancer()
        .name("portico-demo")
        .r#type(LoadBalancerTypeEnum::Network)
        .scheme(LoadBalancerSchemeEnum::Internal)
        .set_subnets(Some(subnets))
        .send()
        .await
        .expect("create NLB");
    let nlb_arn = nlb.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_owned();
    let read = aws
        .elb
        .describe_load_balancers()
        .load_balancer_arns(&nlb_arn)
        .send()
        .await
        .unwrap();
    let lb = &read.load_balancers()[0];
    assert_eq!(lb.scheme(), Some(&LoadBalancerSchemeEnum::Internal));
    assert_eq!(lb.availability_zones().len(), 2);

    let link = aws
        .apigateway
        .create_vpc_link()
        .name("portico-demo")
        .target_arns(&nlb_arn)
        .send()
        .await
        .expect("create VPC link");
    let id = link.id().unwrap().to_owned();
    assert_eq!(link.status().map(|s| s.as_str()), Some("PENDING"));
    // The sandbox holds it PENDING for the configured time, as AWS does for minutes.
    let started = Instant::now();
    loop {
        let got = aws
            .apigateway
            .get_vpc_link()
            .vpc_link_id(&id)
            .send()
            .await
            .unwrap();
        if got.status().map(|s| s.as_str()) == Some("AVAILABLE") {
            assert_eq!(got.target_arns(), std::slice::from_ref(&nlb_arn));
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "VPC link never became AVAILABLE"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // And the dependency AWS enforces: the NLB can't go while the link points at it.
    let refused = aws
        .elb
        .delete_load_balancer()
        .load_balancer_arn(&nlb_arn)
        .send()
        .await;
    assert_eq!(refused.unwrap_err().code(), Some("ResourceInUse"));
}

#[tokio::test]
async fn an_injected_429_reaches_the_sdk_and_retries_absorb_it() {
    let sandbox = Sandbox::lock().await;
    let fault = json!({ "service": "apigateway", "operation": "GetRestApis", "kind": "throttle", "count": 1 });
    sandbox
        .control("POST", "/faults", Some(fault.clone()))
        .await;
    let no_retry = sandbox.clients(REGION, 1).await;
    let err = no_retry
        .apigateway
        .get_rest_apis()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("TooManyRequestsException"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(429));
    assert_eq!(sandbox.calls("apigateway", "GetRestApis").await, 1);

    // With the standard retry policy the SDK backs off and the second attempt succeeds.
    sandbox.control("POST", "/faults", Some(fault)).await;
    let retrying = sandbox.clients(REGION, 3).await;
    retrying
        .apigateway
        .get_rest_apis()
        .send()
        .await
        .expect("retried past the 429");
    assert_eq!(sandbox.calls("apigateway", "GetRestApis").await, 3);
    let log = sandbox.control("GET", "/calls", None).await;
    assert_eq!(log["injected"]["apigateway"]["GetRestApis"]["throttle"], 2);
}

#[tokio::test]
async fn an_injected_503_and_elb_throttling_reach_the_sdk() {
    let sandbox = Sandbox::lock().await;
    let aws = sandbox.clients(REGION, 1).await;
    sandbox
        .control(
            "POST",
            "/faults",
            Some(json!({ "service": "elasticloadbalancing", "operation": "DescribeLoadBalancers", "kind": "503", "count": 1 })),
        )
        .await;
    let err = aws.elb.describe_load_balancers().send().await.unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(503));
    assert_eq!(err.code(), Some("ServiceUnavailable"));

    sandbox
        .control(
            "POST",
            "/faults",
            Some(json!({ "service": "elasticloadbalancing", "kind": "throttle", "count": 1 })),
        )
        .await;
    let err = aws.elb.describe_target_groups().send().await.unwrap_err();
    assert_eq!(err.code(), Some("Throttling"));

    aws.elb
        .describe_load_balancers()
        .send()
        .await
        .expect("faults retired");
    assert_eq!(
        sandbox
            .calls("elasticloadbalancing", "DescribeLoadBalancers")
            .await,
        2
    );
    assert_eq!(
        sandbox
            .calls("elasticloadbalancing", "DescribeTargetGroups")
            .await,
        1
    );
    let log = sandbox.control("GET", "/calls", None).await;
    assert_eq!(log["total"], 3);
}
