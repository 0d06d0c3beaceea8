//! Pacing for the calls pages make, on whichever server serves the page: from `Part::Pages` of
//! AWS's buckets, counted in the database (`portico_store::budget`), so every server serving
//! pages takes from the same buckets and, with the worker's `Part::Worker`, they stay within
//! AWS's quotas together. A call waits (without blocking other tasks) until every bucket it
//! needs holds a token.

use super::{paced, Part, API_GATEWAY_ALL, API_GATEWAY_QUOTAS, ELB_CHANGES, ELB_DESCRIBE};
use crate::aws::call::Service;
use portico_store::budget::{self, Counted};
use portico_store::Store;
use std::time::Duration;

/// A bucket a page's call takes from: its key in the database, (burst, tokens per second).
type PagesBucket = (String, (f64, f64));

/// The buckets a page's call of `operation` takes from; None for an operation pages may not
/// make (one AWS allows one at a time, whose bucket is the worker's whole).
pub fn buckets(service: Service, operation: &str) -> Option<Vec<PagesBucket>> {
    match service {
        Service::ApiGateway => {
            // Operations with buckets of their own outside the quota table (an edge API's
            // create, an import) are one at a time too.
            if operation.contains(':') || operation == "PutRestApi" {
                return None;
            }
            let mut keys = vec![("apigateway:all".to_owned(), Part::Pages.of(API_GATEWAY_ALL))];
            if let Some((_, burst, rate)) =
                API_GATEWAY_QUOTAS.iter().find(|(o, ..)| *o == operation)
            {
                let own = Part::Pages.of(paced((*burst, *rate)));
                if own.0 < 1.0 {
                    return None;
                }
                keys.push((format!("apigateway:{operation}"), own));
            }
            Some(keys)
        }
        Service::Elb => {
            let (key, bucket) = if operation.starts_with("Describe") {
                ("elbv2:Describe*", ELB_DESCRIBE)
            } else {
                ("elbv2:changes", ELB_CHANGES)
            };
            Some(vec![(key.to_owned(), Part::Pages.of(bucket))])
        }
        // EC2's reads for the forms and the price list: no quota Portico shares with itself.
        // CloudWatch is read by the worker alone.
        Service::Ec2 | Service::Pricing | Service::CloudWatch => Some(vec![]),
    }
}

/// Waits until a page's call of `operation` in (`account`, `region`) may go, and takes its
/// tokens. The error, in words: an operation pages may not make, or the database did not
/// answer (nothing is sent then: unpaced, it could exceed the quotas).
pub async fn take(
    store: &Store,
    service: Service,
    account: &str,
    region: &str,
    operation: &str,
) -> Result<(), String> {
    let Some(buckets) = buckets(service, operation) else {
        return Err(format!(
            "not sent: {operation} is one at a time, and only the worker calls it"
        ));
    };
    if buckets.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = buckets.iter().map(|(k, _)| k.clone()).collect();
    loop {
        let taken = budget::take(store, account, region, &keys, |counted, now| {
            decide(&buckets, counted, now)
        })
        .await
        .map_err(|e| {
            format!("not sent: the database, which paces the calls pages make, failed: {e}")
        })?;
        match taken {
            Ok(()) => return Ok(()),
            Err(wait_ms) => tokio::time::sleep(Duration::from_millis(wait_ms.max(1) as u64)).await,
        }
    }
}

/// Each bucket refilled to `now` (unix ms) from its last count (None: never used, so full):
/// every bucket gives a token, or none does and the answer is how long to wait (ms).
fn decide(
    buckets: &[PagesBucket],
    counted: &[Option<Counted>],
    now: i64,
) -> Result<Vec<Counted>, i64> {
    let tokens: Vec<f64> = buckets
        .iter()
        .zip(counted)
        .map(|((_, (burst, rate)), c)| match c {
            None => *burst,
            Some(c) => (c.tokens + (now - c.at_ms).max(0) as f64 / 1000.0 * rate).min(*burst),
        })
        .collect();
    let wait = buckets
        .iter()
        .zip(&tokens)
        .map(|((_, (_, rate)), t)| if *t >= 1.0 { 0.0 } else { (1.0 - t) / rate })
        .fold(0.0, f64::max);
    if wait > 0.0 {
        return Err((wait * 1000.0).ceil() as i64);
    }
    Ok(tokens
        .into_iter()
        .map(|t| Counted {
            tokens: t - 1.0,
            at_ms: now,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_part_and_the_workers_never_pass_what_aws_allows() {
        let whole = [API_GATEWAY_ALL, ELB_DESCRIBE, ELB_CHANGES]
            .into_iter()
            .chain(API_GATEWAY_QUOTAS.iter().map(|(_, b, r)| paced((*b, *r))));
        for bucket in whole {
            let (w, p) = (Part::Worker.of(bucket), Part::Pages.of(bucket));
            assert!(
                w.0 + p.0 <= bucket.0 && w.1 + p.1 <= bucket.1 + 1e-9,
                "{bucket:?}"
            );
            assert!(w.0 >= 1.0 && w.1 > 0.0, "the worker keeps some: {bucket:?}");
        }
        // A page's key reveal takes from API Gateway's bucket of all operations.
        let all = &buckets(Service::ApiGateway, "GetApiKey").unwrap();
        assert_eq!(all, &[("apigateway:all".to_owned(), (6.0, 2.0))]);
        assert_eq!(
            buckets(Service::ApiGateway, "GetResources").unwrap().len(),
            2
        );
        assert!(buckets(Service::ApiGateway, "CreateDeployment").is_none());
        assert!(buckets(Service::ApiGateway, "CreateRestApi:EDGE").is_none());
    }

    #[test]
    fn a_bucket_refills_from_its_last_count_and_gives_all_or_nothing() {
        let b = vec![("a".to_owned(), (3.0, 1.0)), ("b".to_owned(), (1.0, 0.5))];
        let full = decide(&b, &[None, None], 1_000).unwrap();
        assert_eq!(full[0].tokens, 2.0);
        assert_eq!(full[1].tokens, 0.0);
        let counted: Vec<Option<Counted>> = full.into_iter().map(Some).collect();
        // `b` needs 2 s for its next token; `a` has two: nothing is taken.
        assert_eq!(decide(&b, &counted, 1_000), Err(2_000));
        assert_eq!(decide(&b, &counted, 2_500), Err(500));
        let later = decide(&b, &counted, 3_000).unwrap();
        assert_eq!(
            later[0].tokens, 2.0,
            "a: 2 + 2 s refilled, capped at 3, less 1"
        );
        assert_eq!(later[1].tokens, 0.0);
    }
}
