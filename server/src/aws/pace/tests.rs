//! The pacers' buckets and budgets, on a clock the tests move themselves.

use super::*;
use proptest::prelude::*;

#[test]
fn an_edge_api_waits_for_both_its_buckets() {
    let start = Instant::now();
    let mut p = Pacer::api_gateway(start);
    assert!(p.try_take("CreateRestApi:EDGE", start).is_ok());
    // The edge bucket (1 per 30 s) and the plain one (1 per 3 s) were both taken.
    let wait = p.try_take("CreateRestApi:EDGE", start).unwrap_err();
    assert!(wait > Duration::from_secs(20), "{wait:?}");
    let wait = p.try_take("CreateRestApi", start).unwrap_err();
    assert!(
        wait > Duration::from_secs(2) && wait <= Duration::from_millis(3251),
        "{wait:?}"
    );
}

/// Runs `ops` as fast as the pacer allows from `start`, returning each grant's time.
fn grants(ops: &[&str], start: Instant) -> Vec<(String, Instant)> {
    let mut pacer = Pacer::api_gateway(start);
    let mut now = start;
    ops.iter()
        .map(|op| loop {
            match pacer.try_take(op, now) {
                Ok(()) => break ((*op).to_owned(), now),
                Err(wait) => now += wait,
            }
        })
        .collect()
}

/// The most grants of `op` (or of all, for None) in any window of `window`.
fn busiest(grants: &[(String, Instant)], op: Option<&str>, window: Duration) -> usize {
    let times: Vec<Instant> = grants
        .iter()
        .filter(|(o, _)| op.is_none_or(|op| o == op))
        .map(|(_, t)| *t)
        .collect();
    times
        .iter()
        .map(|start| {
            times
                .iter()
                .filter(|t| **t >= *start && **t < *start + window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn deployments_are_five_seconds_and_a_margin_apart() {
    let start = Instant::now();
    let g = grants(&["CreateDeployment"; 4], start);
    let offsets: Vec<u64> = g
        .iter()
        .map(|(_, t)| t.duration_since(start).as_millis() as u64)
        .collect();
    for (got, want) in offsets.iter().zip([0, 5250, 10500, 15750]) {
        assert!(got.abs_diff(want) <= 1, "{offsets:?}");
    }
}

#[test]
fn the_workers_all_operations_burst_is_24_then_8_per_second() {
    let start = Instant::now();
    let g = grants(&["GetRestApis"; 60], start);
    assert!(
        g[..24].iter().all(|(_, t)| *t == start),
        "a burst of 24 at once (AWS's 40 less the margin, less the pages' 6)"
    );
    assert!(g[24].1 > start);
    let last = g[59].1.duration_since(start).as_secs_f64();
    assert!(
        (last - 36.0 / 8.0).abs() < 1e-6,
        "then 8 per second (the pages have 2): the 60th at 4.5 s, got {last}"
    );
}

#[test]
fn skippable_reads_leave_the_reserve_to_changes() {
    let start = Instant::now();
    let mut pacer = Pacer::api_gateway(start);
    let spare = (0..40)
        .filter(|_| pacer.try_take_spare("GetStages", 20.0, start))
        .count();
    assert_eq!(spare, 4, "reads stop while 20 tokens are left");
    let changes = (0..40)
        .filter(|_| pacer.try_take("CreateResource", start).is_ok())
        .count();
    assert_eq!(
        changes, 4,
        "CreateResource's own burst (AWS's 5, less the pages' 1) still goes at once"
    );
    assert!(
        pacer.try_take("PutMethod", start).is_ok(),
        "other changes use the reserve"
    );
}

#[test]
fn a_refused_call_costs_no_quota() {
    let start = Instant::now();
    let mut pacer = Pacer::api_gateway(start);
    pacer.try_take("CreateDeployment", start).unwrap();
    for _ in 0..100 {
        assert!(pacer.try_take("CreateDeployment", start).is_err());
    }
    // The refusals took nothing from the shared bucket: 23 more calls still pass at once.
    for _ in 0..23 {
        pacer.try_take("GetStage", start).unwrap();
    }
}

#[test]
fn elb_describes_and_changes_have_their_own_buckets() {
    let start = Instant::now();
    let mut p = Pacer::elb(start);
    let describes = (0..100)
        .filter(|_| p.try_take("DescribeTargetHealth", start).is_ok())
        .count();
    assert_eq!(
        describes, 24,
        "a burst of 24 Describe* calls (the pages have 6)"
    );
    let changes = (0..100)
        .filter(|_| p.try_take("RegisterTargets", start).is_ok())
        .count();
    assert_eq!(changes, 8, "changes have a bucket of their own");
    let wait = p.try_take("DescribeTags", start).unwrap_err();
    assert!(
        (wait.as_secs_f64() - 1.0 / 8.0).abs() < 1e-6,
        "then 8 per second: {wait:?}"
    );
    let wait = p.try_take("CreateListener", start).unwrap_err();
    assert!(
        (wait.as_secs_f64() - 1.0 / 1.6).abs() < 1e-6,
        "changes 1.6 per second: {wait:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn routine_reads_keep_to_their_share_of_the_read_rate_and_never_wait() {
    let pacers = Pacers::default();
    let (elb, api) = (Budget::Elb, Budget::ApiGateway);
    let admit = |asks: &[(Budget, f64)]| pacers.admit_routine("111", "us-east-1", asks);
    let balance = |q: Budget| pacers.routine_balance("111", "us-east-1", q);
    let charge = |q: Budget, paid: &Prepaid, n: usize| {
        for _ in 0..n {
            pacers.charge_routine("111", "us-east-1", q, paid);
        }
    };
    // Admission takes the look's first reads at once, so looks asking together can't all
    // pass on one balance.
    let (idle_elb, idle_api) = (idle(ELB_DESCRIBE), idle(API_GATEWAY_ALL));
    let looks = (0..100).filter_map(|_| admit(&[(elb, 5.0)])).count();
    assert_eq!(
        looks as f64,
        (idle_elb.0 / 5.0).floor(),
        "a burst's worth of looks"
    );
    let left = balance(elb);
    assert!(
        admit(&[(elb, left + 0.5), (api, 1.0)]).is_none(),
        "all budgets or none"
    );
    assert_eq!(balance(elb), left, "a refused look takes nothing");
    assert_eq!(balance(api), idle_api.0, "a refused look takes nothing");

    // A look's reads spend what it prepaid first, then go into debt, never cut off.
    tokio::time::advance(Duration::from_secs(60)).await;
    let paid = admit(&[(elb, 4.0)]).expect("a full budget");
    charge(elb, &paid, 4);
    assert_eq!(
        balance(elb),
        idle_elb.0 - 4.0,
        "the prepaid reads cost nothing more"
    );
    let beyond = idle_elb.0.ceil() as usize + 6;
    charge(elb, &paid, beyond);
    let debt = balance(elb);
    assert_eq!(debt, idle_elb.0 - 4.0 - beyond as f64);
    assert!(debt < -9.0);
    assert!(admit(&[(elb, 1.0)]).is_none());
    assert!(admit(&[(api, idle_api.0)]).is_some(), "each budget its own");
    // The debt is repaid at the share of the worker's read rate (9/s × IDLE_SHARE).
    let repaid = Duration::from_secs_f64((1.0 - debt) / idle_elb.1);
    tokio::time::advance(repaid - Duration::from_millis(50)).await;
    assert!(admit(&[(elb, 1.0)]).is_none());
    tokio::time::advance(Duration::from_millis(100)).await;
    assert!(admit(&[(elb, 1.0)]).is_some());
    // An ask beyond the burst is met by a full bucket instead of never passing.
    tokio::time::advance(Duration::from_secs(60)).await;
    assert!(admit(&[(elb, 500.0)]).is_some());

    // Over a long run, admitted looks with their reads keep to the share.
    tokio::time::advance(Duration::from_secs(60)).await;
    let mut reads = 0;
    for _ in 0..600 {
        if let Some(paid) = admit(&[(elb, 2.0)]) {
            charge(elb, &paid, 7);
            reads += 7;
        }
        tokio::time::advance(Duration::from_millis(100)).await;
    }
    let most = idle_elb.0 + 60.0 * idle_elb.1;
    assert!(
        f64::from(reads) <= most + 7.0,
        "{reads} reads in a minute, at most {most}"
    );
}

#[tokio::test(start_paused = true)]
async fn routine_looks_yield_to_work_that_keeps_the_pacer_busy() {
    let pacers = Pacers::default();
    let admit = |b: Budget| pacers.admit_routine("111", "us-east-1", &[(b, 4.0)]);
    // Other work (a restart's first looks) spends ELB's `Describe*` bucket.
    for _ in 0..Part::Worker.of(ELB_DESCRIBE).0 as usize - 3 {
        pacers
            .acquire_for(Quotas::Elb, "111", "us-east-1", "DescribeListeners")
            .await;
    }
    assert!(
        admit(Budget::Elb).is_none(),
        "admitted now, the look would wait behind that work with its budget spent"
    );
    assert_eq!(
        pacers.routine_balance("111", "us-east-1", Budget::Elb),
        idle(ELB_DESCRIBE).0,
        "a look put off takes nothing"
    );
    assert!(
        admit(Budget::ApiGateway).is_some(),
        "API Gateway's pacer is not busy"
    );
    // 150 ms refill the one token missing (8 a second).
    tokio::time::advance(Duration::from_millis(150)).await;
    assert!(admit(Budget::Elb).is_some());

    // API Gateway's tightest bucket is `GetResources` (the worker's 4, then 2 a second):
    // spent by other work, it puts a look off though the bucket of all operations has room,
    // and the look takes nothing from either budget.
    for _ in 0..5 {
        pacers.acquire("111", "us-east-1", "GetResources").await;
    }
    let before = |b| pacers.routine_balance("111", "us-east-1", b);
    let (elb, api) = (before(Budget::Elb), before(Budget::ApiGateway));
    let admit_both = || {
        let asks = [(Budget::Elb, 4.0), (Budget::ApiGateway, 2.0)];
        pacers.admit_routine("111", "us-east-1", &asks)
    };
    assert!(admit_both().is_none());
    assert_eq!(before(Budget::Elb), elb);
    assert_eq!(before(Budget::ApiGateway), api);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert!(admit_both().is_some());
}

#[tokio::test(start_paused = true)]
async fn acquire_waits_without_blocking_and_per_account() {
    let pacers = Pacers::default();
    let started = tokio::time::Instant::now();
    pacers.acquire("111", "us-east-1", "UpdateUsagePlan").await;
    pacers.acquire("222", "us-east-1", "UpdateUsagePlan").await;
    assert_eq!(
        started.elapsed(),
        Duration::ZERO,
        "another account has its own buckets"
    );
    pacers.acquire("111", "us-east-1", "UpdateUsagePlan").await;
    assert!(
        started.elapsed() >= Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

const OPS: [&str; 8] = [
    "CreateDeployment",
    "CreateRestApi",
    "UpdateUsagePlan",
    "CreateResource",
    "GetResources",
    "PutMethod",
    "PutIntegration",
    "GetStages",
];

proptest! {
    /// Whatever the mix, no quota is ever exceeded: in any window, grants never pass
    /// burst + rate × window.
    #[test]
    fn no_quota_is_ever_exceeded(picks in prop::collection::vec(0..OPS.len(), 1..150)) {
        let ops: Vec<&str> = picks.iter().map(|i| OPS[*i]).collect();
        let g = grants(&ops, Instant::now());
        prop_assert!(busiest(&g, None, Duration::from_secs(1)) <= 40 + 10);
        prop_assert!(busiest(&g, Some("CreateDeployment"), Duration::from_secs(5)) <= 1);
        prop_assert!(busiest(&g, Some("CreateRestApi"), Duration::from_secs(3)) <= 1);
        prop_assert!(busiest(&g, Some("UpdateUsagePlan"), Duration::from_secs(20)) <= 1);
        prop_assert!(busiest(&g, Some("CreateResource"), Duration::from_secs(1)) <= 5 + 5);
        prop_assert!(busiest(&g, Some("GetResources"), Duration::from_secs(2)) <= 5 + 5);
        // And grants come in the order asked, each as early as the quotas allow.
        prop_assert!(g.windows(2).all(|w| w[0].1 <= w[1].1));
    }
}
