//! Whose AWS resources are whose, in an account shared with others: copies of one owned
//! resource are drift the next plan removes; two installations with a gateway of the same name
//! never take each other's resources; what an installation tagged before installations had
//! ids stays its own and gains the tag.

use crate::common::{fast, TestApp, REGION};
use crate::keys::rig as keys_rig;
use portico::worker::Outcome;
use portico_core::plan::names::{TAG_GATEWAY, TAG_INSTALLATION, TAG_KEY};
use std::collections::HashMap;

/// Every AWS key tagged as Portico's key `key`.
async fn aws_keys_for(c: &portico::aws::Clients, key: i64) -> Vec<String> {
    let all = c.apigateway.get_api_keys().limit(500).send().await.unwrap();
    all.items()
        .iter()
        .filter(|k| k.tags().and_then(|t| t.get(TAG_KEY)) == Some(&key.to_string()))
        .filter_map(|k| k.id().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn copies_of_a_usage_plan_and_of_a_key_are_removed_by_the_next_plan() {
    let rig = keys_rig().await;
    let key = rig.issue("partner", "standard", "").await;
    rig.converge().await;
    let c = rig.turn().clients(REGION, 3).await;
    let recorded: String =
        portico_store::testing::query_scalar("SELECT aws_id FROM api_keys WHERE id = ?")
            .bind(key)
            .fetch_one(rig.db())
            .await
            .unwrap();
    // What a crash between a create and its record (or a second writer) leaves: a second usage
    // plan of one name and a second AWS key for one Portico key, both tagged as Portico's.
    let plans = c.apigateway.get_usage_plans().send().await.unwrap();
    let standard = plans
        .items()
        .iter()
        .find(|p| p.name() == Some("seed-standard"))
        .unwrap()
        .clone();
    c.apigateway
        .create_usage_plan()
        .name("seed-standard")
        .set_tags(standard.tags().cloned())
        .send()
        .await
        .unwrap();
    let original = c
        .apigateway
        .get_api_key()
        .api_key(&recorded)
        .send()
        .await
        .unwrap();
    c.apigateway
        .create_api_key()
        .name(original.name().unwrap())
        .enabled(true)
        .set_tags(original.tags().cloned())
        .send()
        .await
        .unwrap();
    assert_eq!(aws_keys_for(&c, key).await.len(), 2);

    // Observed, shown in the plan, and removed without an admin.
    let (_, actual, plan) = rig.worker.preview(rig.id).await.unwrap().unwrap();
    assert_eq!(actual.extra_usage_plans.len(), 1, "{actual:?}");
    assert_eq!(actual.extra_api_keys.len(), 1, "{actual:?}");
    let lines = plan.lines();
    assert!(
        lines.iter().any(|l| l.contains("(a duplicate, AWS id")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("usage plan seed-standard (a duplicate")),
        "{lines:?}"
    );
    rig.converge().await;
    let left = aws_keys_for(&c, key).await;
    eprintln!("duplicates left after one plan: {}", left.len() - 1);
    assert_eq!(left, vec![recorded], "the copy Portico recorded is kept");
    let plans = c.apigateway.get_usage_plans().send().await.unwrap();
    let standard_now: Vec<_> = plans
        .items()
        .iter()
        .filter(|p| p.name() == Some("seed-standard"))
        .collect();
    assert_eq!(standard_now.len(), 1);
    assert_eq!(
        standard_now[0].id(),
        standard.id(),
        "the plan serving the stages is kept"
    );
    let (_, actual, plan) = rig.worker.preview(rig.id).await.unwrap().unwrap();
    assert!(plan.is_empty(), "{:?}", plan.lines());
    assert!(actual.extra_usage_plans.is_empty() && actual.extra_api_keys.is_empty());
}

/// Two installations sharing one account and region: the first (`first`, its `worker`) built
/// the seed as gateway `seed` (`id`); the second (its own database, its worker `other`) holds
/// a gateway of the same name on the same network (`other_id`), not run yet.
struct TwoInstallations {
    first: TestApp,
    worker: portico::worker::Worker,
    id: i64,
    second: TestApp,
    other: portico::worker::Worker,
    other_id: i64,
}

async fn two_installations() -> TwoInstallations {
    let first = TestApp::builder().with_sandbox(REGION).build().await;
    let (id, _) = first.seed_in_sandbox(|_| {}).await;
    let worker = first.worker(fast()).await;
    first.converge(&worker, id, 3).await;
    let second = TestApp::builder().build().await;
    portico_store::gateways::create(&second.store, "test", first.sandbox().seed(), false)
        .await
        .unwrap();
    let other_id = portico_store::gateways::load(&second.store, "seed")
        .await
        .unwrap()
        .id;
    let other = portico::worker::Worker::new(
        second.store.clone(),
        first.turn().sdk_config(REGION, 1).await,
        fast(),
    );
    TwoInstallations {
        first,
        worker,
        id,
        second,
        other,
        other_id,
    }
}

/// Two installations (two databases) share one account and region, each with a gateway named
/// `seed` on the same network. The first builds it; the second sees the first's resources as
/// another installation's, refuses to build under their names, and touches none of them.
#[tokio::test]
async fn a_second_installation_never_touches_the_firsts_resources() {
    let TwoInstallations {
        first,
        worker,
        id,
        second: _second,
        other,
        other_id,
    } = two_installations().await;
    let built = first.inventory().await;
    let (_, actual, _) = other.preview(other_id).await.unwrap().unwrap();
    assert!(actual.is_empty(), "none of it is the second's: {actual:?}");
    assert!(!actual.foreign_names.is_empty());
    first.reset_aws_calls().await;
    let outcome = other.reconcile(other_id).await;
    let Outcome::Failed(why) = &outcome else {
        panic!("the second installation must refuse, got {outcome:?}");
    };
    assert!(
        why.contains("Another Portico installation") && why.contains("rename the gateway"),
        "{why}"
    );
    let (_, writes) = first.aws_calls().await;
    assert!(writes.is_empty(), "the second wrote to AWS: {writes:?}");
    assert_eq!(first.inventory().await, built);
    // The first still sees all of it as its own.
    let (_, _, plan) = worker.preview(id).await.unwrap().unwrap();
    assert!(plan.is_empty(), "{:?}", plan.lines());
}

/// A gateway made before installations had ids: its resources carry only the gateway's tag.
/// They stay its own (no second load balancer), and gain the installation's tag.
#[tokio::test]
async fn resources_tagged_before_installation_ids_stay_owned_and_gain_the_tag() {
    let app = TestApp::builder().with_sandbox(REGION).build().await;
    let (id, _) = app.seed_in_sandbox(|_| {}).await;
    let worker = app.worker(fast()).await;
    app.converge(&worker, id, 3).await;
    let c = app.turn().clients(REGION, 3).await;
    // As an older release left them: the installation tag taken off the load balancer and
    // the target groups, and the gateway marked as made before installation ids.
    let lbs = c.elb.describe_load_balancers().send().await.unwrap();
    let tgs = c.elb.describe_target_groups().send().await.unwrap();
    let arns: Vec<String> = lbs
        .load_balancers()
        .iter()
        .filter_map(|l| l.load_balancer_arn().map(str::to_owned))
        .chain(
            tgs.target_groups()
                .iter()
                .filter_map(|t| t.target_group_arn().map(str::to_owned)),
        )
        .collect();
    c.elb
        .remove_tags()
        .set_resource_arns(Some(arns.clone()))
        .tag_keys(TAG_INSTALLATION)
        .send()
        .await
        .unwrap();
    let apis = c.apigateway.get_rest_apis().send().await.unwrap();
    let links = c.apigateway.get_vpc_links().send().await.unwrap();
    let plans = c.apigateway.get_usage_plans().send().await.unwrap();
    let api_arns: Vec<String> = apis
        .items()
        .iter()
        .map(|a| format!("/restapis/{}", a.id().unwrap()))
        .chain(
            links
                .items()
                .iter()
                .map(|l| format!("/vpclinks/{}", l.id().unwrap())),
        )
        .chain(
            plans
                .items()
                .iter()
                .map(|p| format!("/usageplans/{}", p.id().unwrap())),
        )
        .map(|path| format!("arn:aws:apigateway:{REGION}::{path}"))
        .collect();
    for arn in &api_arns {
        c.apigateway
            .untag_resource()
            .resource_arn(arn)
            .tag_keys(TAG_INSTALLATION)
            .send()
            .await
            .unwrap();
    }
    portico_store::testing::query("UPDATE gateways SET legacy_tags = TRUE WHERE id = ?")
        .bind(id)
        .execute(app.db())
        .await
        .unwrap();
    let (_, actual, plan) = worker.preview(id).await.unwrap().unwrap();
    assert_eq!(
        actual.untagged.len(),
        arns.len() + api_arns.len(),
        "{:?}",
        actual.untagged
    );
    assert!(plan.is_empty(), "still its own: {:?}", plan.lines());

    app.reset_aws_calls().await;
    assert_eq!(worker.reconcile(id).await, Outcome::InSync);
    let (_, writes) = app.aws_calls().await;
    assert_eq!(
        writes.get("AddTags").copied(),
        Some(arns.len() as u64),
        "{writes:?}"
    );
    assert_eq!(
        writes.get("TagResource").copied(),
        Some(api_arns.len() as u64),
        "{writes:?}"
    );
    assert_eq!(writes.len(), 2, "nothing but tags: {writes:?}");
    let tags = c
        .elb
        .describe_tags()
        .set_resource_arns(Some(arns.clone()))
        .send()
        .await
        .unwrap();
    let installation = portico_store::installation::id(&app.store).await.unwrap();
    for d in tags.tag_descriptions() {
        let t: HashMap<&str, &str> = d
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?, t.value()?)))
            .collect();
        assert_eq!(t.get(TAG_GATEWAY), Some(&"seed"));
        assert_eq!(t.get(TAG_INSTALLATION), Some(&installation.as_str()));
    }
    let (_, actual, _) = worker.preview(id).await.unwrap().unwrap();
    assert!(actual.untagged.is_empty());
    // The next run finds everything tagged: from then on the gateway claims nothing tagged
    // with its name alone (they read as another's, as for a gateway made since).
    assert_eq!(worker.reconcile(id).await, Outcome::InSync);
    let legacy: bool =
        portico_store::testing::query_scalar("SELECT legacy_tags FROM gateways WHERE id = ?")
            .bind(id)
            .fetch_one(app.db())
            .await
            .unwrap();
    assert!(!legacy);
    c.elb
        .remove_tags()
        .set_resource_arns(Some(arns))
        .tag_keys(TAG_INSTALLATION)
        .send()
        .await
        .unwrap();
    let (_, actual, _) = worker.preview(id).await.unwrap().unwrap();
    assert!(actual.load_balancers.is_empty() && actual.target_groups.is_empty());
}

/// A name another installation holds stops the build, not a key change: a key issued (and
/// then revoked) on the second installation's gateway still reaches AWS first.
#[tokio::test]
async fn a_foreign_name_does_not_hold_key_changes_back() {
    let TwoInstallations {
        first,
        second,
        other,
        other_id,
        ..
    } = two_installations().await;
    let now = portico_store::now_unix();
    let key = portico_store::keys::issue(
        &second.store,
        "test",
        "seed",
        &portico_store::keys::NewKey {
            name: "partner".into(),
            owner: "partner team".into(),
            description: String::new(),
            usage_plans: vec!["standard".into()],
            expires: None,
            expires_at: None,
        },
        now,
    )
    .await
    .unwrap();
    assert!(
        matches!(other.reconcile(other_id).await, Outcome::Applied { .. }),
        "the key goes out first"
    );
    let c = first.turn().clients(REGION, 3).await;
    assert_eq!(aws_keys_for(&c, key).await.len(), 1);
    let Outcome::Failed(why) = other.reconcile(other_id).await else {
        panic!("then the build is refused");
    };
    assert!(why.contains("Another Portico installation"), "{why}");
    portico_store::keys::revoke(&second.store, "test", "seed", key, now)
        .await
        .unwrap();
    assert!(matches!(
        other.reconcile(other_id).await,
        Outcome::Applied { .. }
    ));
    let aws_id = &aws_keys_for(&c, key).await[0];
    let k = c
        .apigateway
        .get_api_key()
        .api_key(aws_id)
        .send()
        .await
        .unwrap();
    assert!(!k.enabled(), "the revoked key is disabled in AWS");
}
