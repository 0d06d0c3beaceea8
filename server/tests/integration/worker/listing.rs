//! One listing of an account and region serves all its gateways: health reads share one per
//! health interval, reconciles one younger than `listing_age`; Portico's own writes make the
//! next look list again, and a change made by hand is seen once the listing has aged.

use super::*;

async fn other_gateway(rig: &Rig) -> i64 {
    let mut other = rig.app.sandbox().seed();
    other.gateway.name = "other".into();
    gateways::create(&rig.app.store, "test", other, false)
        .await
        .unwrap();
    gateways::load(&rig.app.store, "other").await.unwrap().id
}

/// The account-wide listings, each of which one shared look makes once.
const LISTINGS: [&str; 7] = [
    "DescribeLoadBalancers",
    "DescribeTargetGroups",
    "DescribeTags",
    "GetRestApis",
    "GetVpcLinks",
    "GetUsagePlans",
    "GetApiKeys",
];

/// Health reads between reconciles share one listing of the account and region per health
/// interval, whatever the number of gateways there; each gateway's own details are still read
/// each time, and a plan's run makes the next read list again.
#[tokio::test]
async fn health_reads_share_one_listing_of_the_account_and_region() {
    let rig = rig().await;
    let worker = rig.worker(fast()).await;
    rig.converge(&worker, 3).await;
    let other = other_gateway(&rig).await;
    rig.reset_calls().await;
    for _ in 0..3 {
        worker.refresh_health(rig.id).await.unwrap();
        worker.refresh_health(other).await.unwrap();
    }
    let (reads, writes) = rig.calls().await;
    eprintln!("6 health reads of 2 gateways: {reads:?}");
    assert!(writes.is_empty(), "{writes:?}");
    for listing in LISTINGS {
        assert_eq!(reads.get(listing), Some(&1), "{listing}: {reads:?}");
    }
    assert_eq!(
        reads.get("DescribeTargetHealth"),
        Some(&9),
        "the seed's three target groups, read each time: {reads:?}"
    );
    rig.edit(|t| t.stages[0].backend_port = 8081).await;
    rig.converge(&worker, 3).await;
    rig.reset_calls().await;
    worker.refresh_health(rig.id).await.unwrap();
    let (reads, _) = rig.calls().await;
    assert_eq!(reads.get("DescribeLoadBalancers"), Some(&1), "{reads:?}");
}

/// Drift checks of every gateway in an account and region plan from one recent listing; a
/// change made by hand to what the listing holds (a target group's health check) is not seen
/// while the listing is younger than `listing_age`, and is seen and corrected once it is
/// older; the correction (Portico's write) makes the next look list again, and that listing
/// serves the other gateway.
#[tokio::test]
async fn reconciles_share_a_recent_listing_and_see_a_hand_change_once_it_ages() {
    let rig = rig().await;
    // Long enough that nothing ages by itself while the test runs, however slow the machine.
    let long = Duration::from_secs(600);
    let mut worker = rig
        .worker(WorkerConfig {
            listing_age: long,
            ..fast()
        })
        .await;
    rig.converge(&worker, 3).await;
    let other = other_gateway(&rig).await;
    rig.app.converge(&worker, other, 3).await;

    worker.forget_all_read();
    rig.reset_calls().await;
    assert_eq!(worker.reconcile(rig.id).await, Outcome::InSync);
    assert_eq!(worker.reconcile(other).await, Outcome::InSync);
    let (reads, writes) = rig.calls().await;
    eprintln!("2 drift checks of 2 gateways: {reads:?}");
    assert!(writes.is_empty(), "{writes:?}");
    for listing in LISTINGS {
        assert_eq!(reads.get(listing), Some(&1), "{listing}: {reads:?}");
    }

    // By hand, in the console: port 8080's health check every 20 s instead of the seed's.
    let c = rig.turn().clients(REGION, 3).await;
    let name = portico_core::plan::names::target_group(&rig.seed.gateway, 8080);
    let tgs = c.elb.describe_target_groups().send().await.unwrap();
    let tg = tgs
        .target_groups()
        .iter()
        .find(|t| t.target_group_name() == Some(name.as_str()))
        .expect("the seed's target group for 8080");
    let before = tg.health_check_interval_seconds();
    assert_ne!(before, Some(20), "the hand change must change something");
    c.elb
        .modify_target_group()
        .target_group_arn(tg.target_group_arn().unwrap())
        .health_check_interval_seconds(20)
        .send()
        .await
        .unwrap();
    // The listing from before the change is still young: the change is not seen yet …
    assert_eq!(worker.reconcile(rig.id).await, Outcome::InSync);
    // … and is once the listing is older than `listing_age`.
    let short = Duration::from_millis(500);
    worker.config.listing_age = short;
    tokio::time::sleep(short).await;
    rig.reset_calls().await;
    let outcomes = rig.converge(&worker, 3).await;
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, Outcome::Applied { .. })),
        "the hand change is corrected: {outcomes:?}"
    );
    let (reads, writes) = rig.calls().await;
    assert_eq!(writes.get("ModifyTargetGroup"), Some(&1), "{writes:?}");
    // Listed twice: the look that saw the change, and the one after Portico's write.
    assert_eq!(reads.get("DescribeLoadBalancers"), Some(&2), "{reads:?}");
    let tgs = c.elb.describe_target_groups().send().await.unwrap();
    let tg = tgs
        .target_groups()
        .iter()
        .find(|t| t.target_group_arn() == tg.target_group_arn())
        .unwrap();
    assert_eq!(tg.health_check_interval_seconds(), before);

    // The other gateway plans from the listing read after that write.
    worker.config.listing_age = long;
    rig.reset_calls().await;
    assert_eq!(worker.reconcile(other).await, Outcome::InSync);
    let (reads, _) = rig.calls().await;
    assert_eq!(reads.get("DescribeLoadBalancers"), None, "{reads:?}");
}

/// A run that failed (here: AWS made a listener but its answer was lost) makes the gateway's
/// next look list the region itself, even though another gateway's look listed it since:
/// in AWS, what the failed run did may show only in a later listing.
#[tokio::test]
async fn after_a_failed_run_the_next_look_lists_the_region_itself() {
    let rig = rig().await;
    let worker = rig
        .worker(WorkerConfig {
            listing_age: Duration::from_secs(600),
            ..fast()
        })
        .await;
    rig.converge(&worker, 3).await;
    let other = other_gateway(&rig).await;
    // By hand: the listener of port 8081 deleted; recreating it fails after AWS did it.
    rig.app
        .delete_listener_by_hand(&rig.seed.gateway, 8081)
        .await;
    rig.turn()
        .control(
            "POST",
            "/faults",
            Some(json!({ "service": "elasticloadbalancing", "operation": "CreateListener", "kind": "applied-500", "count": 1 })),
        )
        .await;
    let failed = worker.reconcile(rig.id).await;
    assert!(
        matches!(failed, Outcome::Failed(ref m) if m.contains("may have made it")),
        "{failed:?}"
    );
    // Another gateway's look lists the region after the failure …
    rig.reset_calls().await;
    worker.refresh_health(other).await.unwrap();
    let (reads, _) = rig.calls().await;
    assert_eq!(reads.get("DescribeLoadBalancers"), Some(&1), "{reads:?}");
    rig.reset_calls().await;
    // … and the seed's next look lists it again anyway.
    assert_eq!(worker.reconcile(rig.id).await, Outcome::InSync);
    let (reads, writes) = rig.calls().await;
    assert!(
        writes.is_empty(),
        "the listener AWS made is not made twice: {writes:?}"
    );
    assert_eq!(reads.get("DescribeLoadBalancers"), Some(&1), "{reads:?}");
}

/// A routine look pays for the listing it makes: each of its reads is charged to the budget
/// routine looks share, a listing larger than the budget's burst included, and the look is not
/// cut off halfway. In debt, the routine looks after it (a drift check, a health read) are put
/// off, and an edit's look is not routine.
#[tokio::test]
async fn a_routine_look_pays_for_its_listing() {
    use aws_sdk_elasticloadbalancingv2::types::ProtocolEnum;
    use portico::aws::pace::{Budget, Prepaid, IDLE_SHARE};
    let rig = rig().await;
    let worker = rig.worker(fast()).await;
    rig.converge(&worker, 3).await;
    // Someone else's target groups: enough that listing their tags (20 a call) takes more
    // reads than ELB's whole `Describe*` burst (40), let alone the routine budget's.
    let c = rig.turn().clients(REGION, 3).await;
    for batch in 0..50 {
        let mut made = tokio::task::JoinSet::new();
        for i in 0..16 {
            let (elb, vpc) = (c.elb.clone(), rig.seed.gateway.vpc_id.clone());
            made.spawn(async move {
                elb.create_target_group()
                    .name(format!("others-{batch}-{i}"))
                    .protocol(ProtocolEnum::Tcp)
                    .port(9000)
                    .vpc_id(vpc)
                    .send()
                    .await
                    .map(|_| ())
            });
        }
        while let Some(done) = made.join_next().await {
            done.unwrap().unwrap();
        }
    }
    let pacers = worker.pacers();
    // The seed has no role: its pacers' account is "default".
    let balance = || pacers.routine_balance("default", REGION, Budget::Elb);
    rig.reset_calls().await;
    let before = balance();
    let started = std::time::Instant::now();
    assert_eq!(worker.drift_check(rig.id).await, Outcome::InSync);
    let took = started.elapsed().as_secs_f64();
    let after = balance();
    let (reads, writes) = rig.calls().await;
    assert!(writes.is_empty(), "{writes:?}");
    let elb_reads: u64 = reads
        .iter()
        .filter(|(op, _)| op.starts_with("Describe"))
        .map(|(_, n)| n)
        .sum();
    assert!(
        reads.get("DescribeTags").is_some_and(|n| *n >= 40) && elb_reads > 40,
        "the whole listing was read: {reads:?}"
    );
    // Every read sent was charged, no more: the budget lost them, less what it refilled
    // meanwhile at its share of ELB's `Describe*` rate (10 a second).
    let refilled = took * 10.0 * IDLE_SHARE;
    let charged = before - after;
    assert!(
        charged >= elb_reads as f64 - refilled - 0.01 && charged <= elb_reads as f64 + 0.01,
        "{elb_reads} ELB reads in {took:.2} s; the budget went from {before:.1} to {after:.1}"
    );

    // In debt (a minute of the share, so nothing repays it while the test runs), the routine
    // looks wait …
    let spent = Prepaid::default();
    for _ in 0..300 {
        pacers.charge_routine("default", REGION, Budget::Elb, &spent);
    }
    rig.reset_calls().await;
    assert_eq!(worker.drift_check(rig.id).await, Outcome::Postponed);
    let skipped = worker.refresh_health_as(rig.id, true).await.unwrap_err();
    assert!(
        skipped.to_string().contains("routine reads have spent"),
        "{skipped}"
    );
    let (reads, _) = rig.calls().await;
    assert!(
        reads.is_empty(),
        "put off before reading anything: {reads:?}"
    );
    // … and an edit's look does not.
    assert_eq!(worker.reconcile(rig.id).await, Outcome::InSync);
    let (reads, _) = rig.calls().await;
    assert!(reads.contains_key("DescribeTags"), "{reads:?}");
}
