//! Several servers on one database: the calls their pages make and the one worker's stay
//! within AWS's quotas together. Pages on any server take from the part of AWS's buckets kept
//! for them, counted in the database (`portico::aws::pace::pages`); the worker keeps to the
//! rest. The sandbox enforces AWS's request quotas and counts every throttling answer.

use super::*;
use app::state::KeyValues;
use portico::aws::keys::SdkKeyValues;

#[tokio::test]
async fn pages_on_two_servers_and_the_worker_stay_within_the_quotas_together() {
    let rig = rig().await;
    rig.turn()
        .control("POST", "/quotas", Some(json!({ "enforce": true })))
        .await;
    rig.reset_calls().await;
    let worker = rig.worker(fast()).await;
    // Two more servers serving pages: each its own process's pacers, one database.
    let config = rig.turn().sdk_config(REGION, 1).await;
    let servers: Vec<SdkKeyValues> = (0..2)
        .map(|_| SdkKeyValues::new(config.clone(), Default::default(), rig.app.store.clone()))
        .collect();
    const EACH: usize = 10;
    let started = std::time::Instant::now();
    let reveals = async {
        let mut asks = vec![];
        for server in &servers {
            for i in 0..EACH {
                // A key AWS does not have: the call counts against the quotas all the same.
                asks.push(server.value(REGION.into(), None, format!("nokey{i}")));
            }
        }
        let answers = futures::future::join_all(asks).await;
        (answers, started.elapsed())
    };
    let ((answers, pages_took), outcomes) = tokio::join!(reveals, rig.converge(&worker, 4));
    assert_eq!(outcomes.last(), Some(&Outcome::InSync), "{outcomes:?}");
    assert!(
        answers
            .iter()
            .all(|a| a.as_ref().is_err_and(|e| e.contains("NotFound"))),
        "{answers:?}"
    );
    let log = rig.turn().control("GET", "/calls", None).await;
    let throttled = quota_answers(&log);
    assert_eq!(throttled, 0, "throttling answers: {}", log["injected"]);
    let calls: u64 = log["calls"]["apigateway"]
        .as_object()
        .into_iter()
        .flat_map(|o| o.values())
        .filter_map(serde_json::Value::as_u64)
        .sum();
    // The pages' part of API Gateway's bucket of all operations is 6, then 2 a second, for
    // both servers together: 20 reveals take at least 7 s (each server on a bucket of its
    // own would have taken 2).
    let shared = (2 * EACH - 6) as f64 / 2.0;
    assert!(
        pages_took.as_secs_f64() >= shared - 0.5,
        "{} reveals in {pages_took:?}",
        2 * EACH
    );
    println!(
        "pages on two servers: {} reveals in {:.1} s ({:.2} a second, the pages' part 2); with \
         the worker's convergence, {calls} API Gateway calls and no throttling answer",
        2 * EACH,
        pages_took.as_secs_f64(),
        (2 * EACH) as f64 / pages_took.as_secs_f64()
    );
}
