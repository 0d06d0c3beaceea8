use super::*;

#[test]
fn the_sql_lists_follow_the_core_rule() {
    assert_eq!(
        statuses_where(PlanStatus::is_open),
        "'awaiting_approval', 'approved', 'reported'"
    );
    assert_eq!(
        statuses_where(PlanStatus::is_current),
        "'awaiting_approval', 'approved', 'running', 'reported'"
    );
}

async fn store_with_gateway() -> (crate::testing::Held, Store, i64) {
    let (dir, store) = crate::testing::store().await;
    let id: i64 = sql::query_scalar(
        "INSERT INTO gateways (name, generation, created_at, created_by) \
         VALUES ('seed', 2, 0, 'test') RETURNING id",
    )
    .fetch_one(&store.pool)
    .await
    .unwrap();
    (dir, store, id)
}

fn new(gateway: i64, plan: &Plan, status: PlanStatus) -> NewPlan<'_> {
    NewPlan {
        gateway,
        generation: 2,
        reason: PlanReason::Edit,
        plan,
        needs_approval: status == PlanStatus::AwaitingApproval,
        status,
    }
}

#[tokio::test]
async fn a_running_plan_is_current_but_not_open() {
    let (_dir, db, gw) = store_with_gateway().await;
    let plan = Plan::default();
    let id = insert(&db, &new(gw, &plan, PlanStatus::Approved))
        .await
        .unwrap();
    assert_eq!(open_plan(&db, gw).await.unwrap().map(|p| p.id), Some(id));
    start(&db, id).await.unwrap();
    assert_eq!(open_plan(&db, gw).await.unwrap(), None);
    let current = current_plan(&db, gw).await.unwrap().unwrap();
    assert_eq!((current.id, current.status), (id, PlanStatus::Running));
    assert_eq!(interrupt_running(&db).await.unwrap(), 1);
    assert_eq!(current_plan(&db, gw).await.unwrap(), None);
    let row = by_id(&db, gw, id).await.unwrap().unwrap();
    assert_eq!(row.status, PlanStatus::Interrupted);
    assert!(row.error.is_some());
}

#[tokio::test]
async fn replacing_supersedes_every_open_plan() {
    let (_dir, db, gw) = store_with_gateway().await;
    let plan = Plan::default();
    let first = insert(&db, &new(gw, &plan, PlanStatus::Reported))
        .await
        .unwrap();
    let second = replace_open(&db, &new(gw, &plan, PlanStatus::AwaitingApproval))
        .await
        .unwrap();
    let rows = recent(&db, gw, 10).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| (r.id, r.status)).collect::<Vec<_>>(),
        vec![
            (second, PlanStatus::AwaitingApproval),
            (first, PlanStatus::Superseded)
        ]
    );
    supersede(&db, gw).await.unwrap();
    assert_eq!(open_plan(&db, gw).await.unwrap(), None);
}

#[tokio::test]
async fn only_a_waiting_plan_of_the_latest_generation_is_approved() {
    let (_dir, db, gw) = store_with_gateway().await;
    let plan = Plan::default();
    let stale = insert(
        &db,
        &NewPlan {
            generation: 1,
            ..new(gw, &plan, PlanStatus::AwaitingApproval)
        },
    )
    .await
    .unwrap();
    let err = approve(&db, "admin", gw, "seed", stale).await.unwrap_err();
    assert!(err.to_string().contains("will never run"), "{err}");
    let waiting = insert(&db, &new(gw, &plan, PlanStatus::AwaitingApproval))
        .await
        .unwrap();
    approve(&db, "admin", gw, "seed", waiting).await.unwrap();
    let row = by_id(&db, gw, waiting).await.unwrap().unwrap();
    assert_eq!(row.status, PlanStatus::Approved);
    assert_eq!(row.approved_by.as_deref(), Some("admin"));
    let again = approve(&db, "admin", gw, "seed", waiting)
        .await
        .unwrap_err();
    assert!(matches!(again, StoreError::Conflict(_)), "{again}");
    assert!(matches!(
        approve(&db, "admin", gw, "seed", 999).await,
        Err(StoreError::NotFound(_))
    ));
}
