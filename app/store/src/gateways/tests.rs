//! The edit core's promises, against a real database file: one generation per saved change,
//! stale edits of the same entity refused and of others merged, nothing saved for a gateway
//! being deleted, and an audit entry with every change.

use super::*;

async fn fresh() -> (crate::testing::Held, Store) {
    let (dir, db) = crate::testing::store().await;
    (dir, db)
}

fn seed() -> Topology {
    Topology::from_yaml(include_str!("../../../../examples/seed-topology.yaml")).unwrap()
}

/// An edit that sets port `port`'s deregistration delay.
fn delay(port: u32, seconds: u32) -> impl FnOnce(&mut Topology) -> Result<(), StoreError> {
    move |t: &mut Topology| {
        let p = t.ports.iter_mut().find(|p| p.port == port).unwrap();
        p.deregistration_delay = seconds;
        Ok(())
    }
}

#[tokio::test]
async fn creating_stores_generation_one_and_audits_it() {
    let (_dir, db) = fresh().await;
    let dry = create(&db, "ann", seed(), true).await.unwrap();
    assert_eq!(dry[0].entity, "gateway");
    assert!(matches!(
        load(&db, "seed").await,
        Err(StoreError::NotFound(_))
    ));

    create(&db, "ann", seed(), false).await.unwrap();
    let g = load(&db, "seed").await.unwrap();
    assert_eq!(
        (g.generation, g.deleting, g.converged_generation),
        (1, false, 0)
    );
    assert_eq!(g.topology, seed());
    assert_eq!(by_id(&db, g.id).await.unwrap(), Some(g.clone()));
    assert_eq!(snapshot(&db, g.id, 1).await.unwrap(), seed());
    assert!(matches!(
        create(&db, "ann", seed(), false).await,
        Err(StoreError::Conflict(m)) if m.contains("already exists")
    ));
    let page = crate::audit::page(&db, None, 50).await.unwrap();
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.entries[0].action, "gateway.create");
    assert_eq!(page.entries[0].target, "seed");
}

#[tokio::test]
async fn stale_edits_of_the_same_entity_are_refused_and_of_others_merged() {
    let (_dir, db) = fresh().await;
    create(&db, "ann", seed(), false).await.unwrap();
    assert_eq!(
        edit(
            &db,
            "ann",
            "seed",
            1,
            "port 8080",
            "port.save",
            delay(8080, 60)
        )
        .await
        .unwrap(),
        2
    );

    // Bob opened his form at generation 1 too.
    let stale = edit(
        &db,
        "bob",
        "seed",
        1,
        "port 8080",
        "port.save",
        delay(8080, 90),
    )
    .await;
    assert!(matches!(stale, Err(StoreError::Conflict(m)) if m.contains("ann")));
    let merged = edit(
        &db,
        "bob",
        "seed",
        1,
        "port 8081",
        "port.save",
        delay(8081, 90),
    )
    .await;
    assert_eq!(merged.unwrap(), 3);
    let t = load(&db, "seed").await.unwrap().topology;
    assert_eq!(t.port(8080).unwrap().deregistration_delay, 60);
    assert_eq!(t.port(8081).unwrap().deregistration_delay, 90);

    // Nothing changed: no generation.
    let same = edit(
        &db,
        "bob",
        "seed",
        3,
        "port 8081",
        "port.save",
        delay(8081, 90),
    )
    .await;
    assert_eq!(same.unwrap(), 3);

    let history = history(&db, load(&db, "seed").await.unwrap().id)
        .await
        .unwrap();
    let order: Vec<(i64, &str)> = history
        .iter()
        .map(|h| (h.generation, h.actor.as_str()))
        .collect();
    assert_eq!(order, vec![(3, "bob"), (2, "ann"), (1, "ann")]);
    let audit = crate::audit::page(&db, None, 50).await.unwrap();
    assert_eq!(audit.entries[0].target, "seed: port 8081");
    assert!(audit.entries[0].before.as_deref().unwrap().contains("30"));
    assert!(audit.entries[0].after.as_deref().unwrap().contains("90"));
}

#[tokio::test]
async fn the_callers_error_and_invalid_topologies_save_nothing() {
    let (_dir, db) = fresh().await;
    create(&db, "ann", seed(), false).await.unwrap();
    let refused = edit(&db, "ann", "seed", 1, "port 8080", "port.delete", |_| {
        Err(StoreError::Conflict("in use".into()))
    })
    .await;
    assert!(matches!(refused, Err(StoreError::Conflict(m)) if m == "in use"));
    let invalid = edit(&db, "ann", "seed", 1, "gateway", "gateway.settings", |t| {
        t.gateway.region = "nowhere".into();
        Ok::<(), StoreError>(())
    })
    .await;
    assert!(matches!(invalid, Err(StoreError::Invalid(m)) if m.contains("gateway.region")));
    assert!(matches!(
        edit(
            &db,
            "ann",
            "seed",
            7,
            "gateway",
            "gateway.settings",
            |_| Ok::<(), StoreError>(())
        )
        .await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(load(&db, "seed").await.unwrap().generation, 1);
}

#[tokio::test]
async fn replacing_the_whole_topology() {
    let (_dir, db) = fresh().await;
    create(&db, "ann", seed(), false).await.unwrap();
    let mut t = seed();
    t.ports[0].deregistration_delay = 90;
    let dry = replace(&db, "cli", "seed", None, t.clone(), "upload", true)
        .await
        .unwrap();
    assert_eq!(dry.len(), 1);
    assert_eq!(load(&db, "seed").await.unwrap().generation, 1);
    let done = replace(&db, "cli", "seed", Some(1), t.clone(), "upload", false)
        .await
        .unwrap();
    assert_eq!(done, dry);
    assert_eq!(load(&db, "seed").await.unwrap().generation, 2);
    // A restore made from generation 1 is refused now that generation 2 exists.
    let stale = replace(
        &db,
        "ann",
        "seed",
        Some(1),
        seed(),
        "restore generation 1",
        false,
    )
    .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))));
    let audit = crate::audit::page(&db, None, 1).await.unwrap();
    assert_eq!(audit.entries[0].target, "seed: topology");
}

#[tokio::test]
async fn a_gateway_being_deleted_takes_no_edits_and_is_removed_only_then() {
    let (_dir, db) = fresh().await;
    create(&db, "ann", seed(), false).await.unwrap();
    let id = load(&db, "seed").await.unwrap().id;
    remove(&db, id).await.unwrap();
    assert!(
        by_id(&db, id).await.unwrap().is_some(),
        "not asked to delete: kept"
    );

    delete(&db, "root", "seed", Removal::FromAws).await.unwrap();
    assert!(load(&db, "seed").await.unwrap().deleting);
    let refused = edit(
        &db,
        "ann",
        "seed",
        1,
        "port 8080",
        "port.save",
        delay(8080, 60),
    )
    .await;
    assert!(matches!(refused, Err(StoreError::Conflict(m)) if m.contains("by root")));
    assert!(matches!(
        delete(&db, "root", "seed", Removal::FromAws).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(worst_health(&db).await.unwrap(), None);
    let listed = list(&db).await.unwrap();
    assert!(listed[0].deleting);

    remove(&db, id).await.unwrap();
    assert_eq!(by_id(&db, id).await.unwrap(), None);
    assert!(names(&db).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_workers_marks() {
    let (_dir, db) = fresh().await;
    create(&db, "ann", seed(), false).await.unwrap();
    let id = load(&db, "seed").await.unwrap().id;
    let before = change_marks(&db).await.unwrap();
    nudge(&db, "seed").await.unwrap();
    let after = change_marks(&db).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_ne!(before, after);
    assert!(matches!(
        nudge(&db, "nope").await,
        Err(StoreError::NotFound(_))
    ));

    mark_converged(&db, id, 1).await.unwrap();
    mark_converged(&db, id, 0).await.unwrap();
    assert_eq!(
        by_id(&db, id).await.unwrap().unwrap().converged_generation,
        1
    );

    let listed = list(&db).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].state.clone(), listed[0].health.clone()),
        (None, None)
    );
    assert_eq!(listed[0].updated_by, "ann");
    assert_eq!(names(&db).await.unwrap(), vec!["seed".to_owned()]);
    assert_eq!(worst_health(&db).await.unwrap().as_deref(), Some("seed"));
}

#[tokio::test]
async fn region_and_account_stay_once_something_may_have_been_built() {
    let (_dir, db) = fresh().await;
    create(&db, "ann", seed(), false).await.unwrap();
    let moved = |t: &mut Topology| {
        t.gateway.region = "us-east-1".into();
        Ok::<(), StoreError>(())
    };
    // Nothing applied yet: the move is an ordinary edit.
    let g = edit(&db, "ann", "seed", 1, "gateway", "settings", moved)
        .await
        .unwrap();
    assert_eq!(g, 2);
    // Once a plan has started, the region and the role stay.
    let desired = load(&db, "seed").await.unwrap();
    let plan = portico_core::plan::Plan::default();
    let id = crate::plans::insert(
        &db,
        &crate::plans::NewPlan {
            gateway: desired.id,
            generation: 2,
            reason: portico_core::plan::lifecycle::PlanReason::Edit,
            plan: &plan,
            needs_approval: false,
            status: portico_core::plan::lifecycle::PlanStatus::Approved,
        },
    )
    .await
    .unwrap();
    crate::plans::start(&db, id).await.unwrap();
    let back = |t: &mut Topology| {
        t.gateway.region = "ap-northeast-2".into();
        Ok::<(), StoreError>(())
    };
    let err = edit(&db, "ann", "seed", 2, "gateway", "settings", back)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("would leave them running")),
        "{err:?}"
    );
    let mut t = desired.topology.clone();
    t.gateway.role_arn = Some("arn:aws:iam::123456789012:role/other".into());
    let err = replace(&db, "ann", "seed", None, t, "upload", true)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(_)),
        "a dry run says so too"
    );
    assert_eq!(
        load(&db, "seed").await.unwrap().generation,
        2,
        "nothing saved"
    );
}

#[tokio::test]
async fn what_was_adopted_is_stored_once_and_carried_by_every_edit() {
    use portico_core::model::topology::{Adopted, AwsRef};
    let (_dir, db) = fresh().await;
    let mut t = seed();
    let record = Adopted {
        rest_api: AwsRef {
            id: "a1b2c3".into(),
            name: "orders-api".into(),
        },
        epoch: "bef9".into(),
        ..Adopted::default()
    };
    t.gateway.adopted = Some(record.clone());
    // A new gateway, a file or a form never sets it.
    create(&db, "ann", t.clone(), false).await.unwrap();
    assert_eq!(
        load(&db, "seed").await.unwrap().topology.gateway.adopted,
        None
    );
    delete(&db, "root", "seed", Removal::FromAws).await.unwrap();
    remove(&db, load(&db, "seed").await.unwrap().id)
        .await
        .unwrap();

    let key = AdoptedKey {
        aws_id: "k-1".into(),
        name: "partner".into(),
        enabled: true,
        usage_plans: vec!["nowhere".into()],
    };
    let refused = adopt(&db, "ann", t.clone(), std::slice::from_ref(&key)).await;
    assert!(matches!(refused, Err(StoreError::Invalid(m)) if m.contains("nowhere")));
    assert!(load(&db, "seed").await.is_err(), "nothing stored");
    let key = AdoptedKey {
        usage_plans: vec!["standard".into()],
        ..key
    };
    let id = adopt(&db, "ann", t.clone(), &[key]).await.unwrap();
    assert_eq!(
        crate::keys::recorded(&db, id).await.unwrap(),
        vec![(1, "k-1".to_string())]
    );
    // Edits, files and restores carry it, whatever they say.
    edit(
        &db,
        "ann",
        "seed",
        1,
        "port 8080",
        "port.save",
        delay(8080, 31),
    )
    .await
    .unwrap();
    let mut file = load(&db, "seed").await.unwrap().topology;
    file.gateway.adopted = None;
    file.ports[1].deregistration_delay = 45;
    replace(&db, "ann", "seed", None, file, "topology.apply", false)
        .await
        .unwrap();
    let g = load(&db, "seed").await.unwrap();
    assert_eq!(g.generation, 3);
    assert_eq!(g.topology.gateway.adopted, Some(record));
}

#[tokio::test]
async fn what_one_gateway_adopted_another_cannot() {
    use portico_core::model::topology::{Adopted, AwsRef};
    let (_dir, db) = fresh().await;
    let mut t = seed();
    t.gateway.adopted = Some(Adopted {
        rest_api: AwsRef {
            id: "a1b2c3".into(),
            name: "orders-api".into(),
        },
        ..Adopted::default()
    });
    let key = AdoptedKey {
        aws_id: "k-1".into(),
        name: "partner".into(),
        enabled: true,
        usage_plans: vec!["standard".into()],
    };
    adopt(&db, "ann", t.clone(), std::slice::from_ref(&key))
        .await
        .unwrap();
    let mut again = t.clone();
    again.gateway.name = "orders".into();
    let r = adopt(&db, "ann", again.clone(), &[]).await;
    assert!(
        matches!(&r, Err(StoreError::Conflict(m)) if m.contains("a1b2c3 was already adopted by gateway seed")),
        "{r:?}"
    );
    again.gateway.adopted.as_mut().unwrap().rest_api.id = "other".into();
    let r = adopt(&db, "ann", again, &[key]).await;
    assert!(
        matches!(&r, Err(StoreError::Conflict(m)) if m.contains("already gateway seed's")),
        "{r:?}"
    );
    assert!(load(&db, "orders").await.is_err());
}

/// The overview's and the landing page's order is `Level`'s, worst first, with gateways not
/// read yet last: every level is stored and read back in that order (a new level the SQL order
/// does not name would land last and fail here).
#[tokio::test]
async fn worst_health_first_follows_every_level() {
    use portico_core::health::{Health, Level};
    let (_dir, db) = fresh().await;
    let levels = [
        Level::Healthy,
        Level::Pending,
        Level::Degraded,
        Level::Unknown,
        Level::Unhealthy,
    ];
    for (i, level) in levels.iter().enumerate() {
        let mut t = seed();
        t.gateway.name = format!("g{i}");
        create(&db, "ann", t, false).await.unwrap();
        let id = load(&db, &format!("g{i}")).await.unwrap().id;
        let health = Health {
            level: *level,
            reason: String::new(),
            parts: vec![],
        };
        crate::status::record_health(&db, id, &health, 1)
            .await
            .unwrap();
    }
    let mut t = seed();
    t.gateway.name = "a-not-read".into();
    create(&db, "ann", t, false).await.unwrap();

    let (listed, total) = list_worst_first(&db, 0, 50).await.unwrap();
    assert_eq!(total, 6);
    let got: Vec<Option<Level>> = listed
        .iter()
        .map(|g| g.health.as_ref().map(|h| h.level))
        .collect();
    let mut want: Vec<Option<Level>> = levels.iter().copied().map(Some).collect();
    want.sort_by(|a, b| b.cmp(a));
    want.push(None);
    assert_eq!(got, want);
    assert_eq!(worst_health(&db).await.unwrap().as_deref(), Some("g4"));
    let (page, _) = list_worst_first(&db, 5, 50).await.unwrap();
    assert_eq!(page.len(), 1);
}

/// A render's store handle reads a gateway once: asked again (even at once, from two server
/// functions), it answers the first read; a gateway missing is asked again; a plain handle
/// reads every time.
#[tokio::test]
async fn a_render_reads_a_gateway_once() {
    let (_dir, db) = fresh().await;
    create(&db, "ann", seed(), false).await.unwrap();
    let render = db.for_one_render();
    let (a, b) = tokio::join!(load(&render, "seed"), load(&render, "seed"));
    assert_eq!(a.unwrap(), b.unwrap());
    let mut t = seed();
    t.ports[0].deregistration_delay += 1;
    replace(&db, "ann", "seed", Some(1), t, "test", false)
        .await
        .unwrap();
    assert_eq!(load(&render, "seed").await.unwrap().generation, 1);
    assert_eq!(load(&db, "seed").await.unwrap().generation, 2);
    assert!(matches!(
        load(&render, "other").await,
        Err(StoreError::NotFound(_))
    ));
    let mut other = seed();
    other.gateway.name = "other".into();
    create(&db, "ann", other, false).await.unwrap();
    assert!(load(&render, "other").await.is_ok());
}
