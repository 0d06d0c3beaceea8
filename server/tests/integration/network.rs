//! The forms' AWS ids checked against the account (the sandbox's EC2): a VPC, subnet or
//! instance that does not exist there, two subnets in one zone and an instance outside the VPC
//! are refused with the list of what exists, and nothing is saved; what exists is offered.

use crate::common::{refused, TestApp, REGION};
use axum::http::StatusCode;
use portico_core::model::Role;

#[tokio::test]
async fn ids_the_account_does_not_have_are_refused_naming_what_it_has() {
    let app = TestApp::builder()
        .with_sandbox(REGION)
        .user("root", Role::Admin)
        .build()
        .await;
    let root = app.login("root").await;
    let demo = &app.sandbox().demo;
    let vpc = demo["vpc_id"].as_str().unwrap().to_owned();
    let subnets: Vec<String> = serde_json::from_value(demo["subnet_ids"].clone()).unwrap();
    let instance = demo["instance_ids"][0].as_str().unwrap().to_owned();
    // A second VPC with an instance, and a second subnet in the first subnet's zone.
    let c = app.turn().clients(REGION, 3).await;
    let other = c
        .ec2
        .create_vpc()
        .cidr_block("10.77.0.0/16")
        .send()
        .await
        .unwrap();
    let other = other.vpc().unwrap().vpc_id().unwrap().to_owned();
    let other_subnet = c
        .ec2
        .create_subnet()
        .vpc_id(&other)
        .cidr_block("10.77.1.0/24")
        .availability_zone(format!("{REGION}a"))
        .send()
        .await
        .unwrap();
    let image = c
        .ec2
        .describe_images()
        .owners("amazon")
        .send()
        .await
        .unwrap();
    let outside = c
        .ec2
        .run_instances()
        .image_id(image.images()[0].image_id().unwrap())
        .min_count(1)
        .max_count(1)
        .subnet_id(other_subnet.subnet().unwrap().subnet_id().unwrap())
        .send()
        .await
        .unwrap();
    let outside = outside.instances()[0].instance_id().unwrap().to_owned();
    let same_zone = c
        .ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.20.9.0/24")
        .availability_zone(format!("{REGION}a"))
        .send()
        .await
        .unwrap();
    let same_zone = same_zone.subnet().unwrap().subnet_id().unwrap().to_owned();

    let create = |vpc: &str, subnets: &str| {
        vec![
            ("name", "shop".to_owned()),
            ("region", REGION.to_owned()),
            ("vpc_id", vpc.to_owned()),
            ("subnet_ids", subnets.to_owned()),
        ]
    };
    let call = |form: Vec<(&'static str, String)>| {
        let app = &app;
        let root = root.clone();
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call("create_gateway", Some(&root), &form).await
        }
    };
    let r = call(create("vpc-0fffffffffffffff0", &subnets.join(","))).await;
    refused(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VPC vpc-0fffffffffffffff0 does not exist in ap-northeast-2. It has:",
    );
    assert!(r.body.contains(&vpc), "{}", r.body);
    let pair = format!("{},{same_zone}", subnets[0]);
    let r = call(create(&vpc, &pair)).await;
    refused(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "are both in ap-northeast-2a",
    );
    let r = call(create(&vpc, "subnet-0fffffffffffffff0")).await;
    refused(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Subnet subnet-0fffffffffffffff0 does not exist",
    );
    assert!(
        r.body.contains(&subnets[1]),
        "it lists the VPC's subnets: {}",
        r.body
    );
    assert!(portico_store::gateways::list(&app.store)
        .await
        .unwrap()
        .is_empty());

    let r = call(create(&vpc, &subnets.join(","))).await;
    assert!(
        r.status.is_success() || r.status.is_redirection(),
        "{}",
        r.body
    );

    // Ports: an instance outside the VPC, or one that does not exist, is refused.
    let port = |instances: &str| {
        vec![
            ("gateway", "shop".to_owned()),
            ("from", "1".to_owned()),
            ("port", "8080".to_owned()),
            ("health_protocol", "TCP".to_owned()),
            ("interval_seconds", "30".to_owned()),
            ("healthy_threshold", "3".to_owned()),
            ("unhealthy_threshold", "3".to_owned()),
            ("deregistration_delay", "30".to_owned()),
            ("instances", instances.to_owned()),
        ]
    };
    let save = |form: Vec<(&'static str, String)>| {
        let app = &app;
        let root = root.clone();
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call("save_port", Some(&root), &form).await
        }
    };
    let r = save(port(&outside)).await;
    refused(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        &format!("Instance {outside} (port 8080) is in {other}"),
    );
    assert!(
        r.body.contains(&instance),
        "it lists the VPC's instances: {}",
        r.body
    );
    let r = save(port("i-0fffffffffffffff0")).await;
    refused(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Instance i-0fffffffffffffff0 (port 8080) does not exist",
    );
    assert_eq!(app.generation("shop").await, 1, "nothing saved");
    let r = save(port(&instance)).await;
    assert!(
        r.status.is_success() || r.status.is_redirection(),
        "{}",
        r.body
    );
    assert_eq!(app.generation("shop").await, 2);

    // The forms' offer: the region's VPCs, subnets with zones, instances.
    let r = app
        .call("region_network", Some(&root), &[("region", REGION)])
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    for id in [&vpc, &subnets[0], &instance, &outside] {
        assert!(r.body.contains(id.as_str()), "{id} offered: {}", r.body);
    }
    assert!(r.body.contains("ap-northeast-2b"), "zones: {}", r.body);
}
