//! `portico prices refresh`: reads current prices from the AWS Price List API (GetProducts,
//! endpoint us-east-1) for the regions in use, and stores them over the embedded table. Without
//! network (or without permission) the command says so and the embedded table keeps serving.

use portico_core::cost::prices::{for_region, Prices};
use portico_core::cost::Money;
use portico_store::Store;
use serde_json::Value;

/// A price string as the Price List writes it ("0.0225000000"), cut to pico-dollars.
fn money(text: &str) -> Option<Money> {
    let text = text.trim();
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let frac: String = frac.chars().take(12).collect();
    Some(Money::dollars(&format!("{whole}.{frac}")))
}

/// The on-demand price dimensions of one Price List document: (begin, end, USD per unit).
fn dimensions(doc: &Value) -> Vec<(f64, Option<f64>, Money)> {
    let mut out = vec![];
    if let Some(terms) = doc["terms"]["OnDemand"].as_object() {
        for term in terms.values() {
            if let Some(dims) = term["priceDimensions"].as_object() {
                for d in dims.values() {
                    let Some(price) = d["pricePerUnit"]["USD"].as_str().and_then(money) else {
                        continue;
                    };
                    let begin: f64 = d["beginRange"]
                        .as_str()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0.0);
                    let end = d["endRange"].as_str().and_then(|s| s.parse().ok());
                    out.push((begin, end, price));
                }
            }
        }
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// Request tiers: per-request prices and ranges → (upper bound in millions, price per million).
fn tiers(dims: &[(f64, Option<f64>, Money)]) -> Vec<(u64, Money)> {
    dims.iter()
        .map(|(_, end, price)| {
            let upper = match end {
                Some(e) if e.is_finite() => (*e / 1_000_000.0).round() as u64,
                _ => u64::MAX,
            };
            (upper, price.times(1_000_000, 1))
        })
        .collect()
}

/// Applies one Price List document to `p`; returns what it set, in words.
pub fn apply_document(p: &mut Prices, service: &str, text: &str) -> Option<String> {
    let doc: Value = serde_json::from_str(text).ok()?;
    let attrs = &doc["product"]["attributes"];
    let usage = attrs["usagetype"].as_str().unwrap_or_default();
    let family = doc["product"]["productFamily"].as_str().unwrap_or_default();
    let dims = dimensions(&doc);
    let first = dims.iter().find(|d| d.2 != Money::ZERO).or(dims.first())?.2;
    match service {
        "AWSELB" => {
            let network = family == "Load Balancer-Network";
            let application = family == "Load Balancer-Application";
            if usage.ends_with("LoadBalancerUsage") && network {
                p.nlb_hour = first;
                return Some(format!("NLB hour {}", first.exact()));
            }
            if usage.ends_with("LCUUsage") && network {
                p.nlcu_hour = first;
                return Some(format!("NLCU hour {}", first.exact()));
            }
            if usage.ends_with("LoadBalancerUsage") && application {
                p.alb_hour = first;
                return Some(format!("ALB hour {}", first.exact()));
            }
            if usage.ends_with("LCUUsage") && application {
                p.lcu_hour = first;
                return Some(format!("LCU hour {}", first.exact()));
            }
        }
        "AmazonApiGateway" => {
            if usage.ends_with("ApiGatewayHttpRequest") {
                p.http_tiers = tiers(&dims);
                return Some("HTTP API request tiers".into());
            }
            if usage.ends_with("ApiGatewayRequest") {
                p.rest_tiers = tiers(&dims);
                return Some("REST API request tiers".into());
            }
            if let Some(size) = attrs["cacheMemorySizeGb"].as_str() {
                let size = size.trim_end_matches(".0").to_owned();
                p.cache_hour.retain(|(s, _)| *s != size);
                p.cache_hour.push((size.clone(), first));
                return Some(format!("cache {size} GB hour {}", first.exact()));
            }
        }
        "AWSLambda" => {
            if usage.ends_with("Lambda-GB-Second") {
                p.lambda_gb_second = first;
                return Some(format!("Lambda GB-second {}", first.exact()));
            }
            if usage.ends_with("Request") && !usage.contains("ARM") && !usage.contains("Edge") {
                p.lambda_million_requests = first.times(1_000_000, 1);
                return Some("Lambda requests".into());
            }
        }
        "AWSDataTransfer" if attrs["transferType"].as_str() == Some("AWS Outbound") => {
            p.transfer_gb = first;
            return Some(format!("data transfer out {}/GB", first.exact()));
        }
        _ => {}
    }
    None
}

/// The filters per service: what to ask for in `region`.
fn queries(region: &str) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    vec![
        ("AWSELB", vec![("regionCode", region.to_owned())]),
        ("AmazonApiGateway", vec![("regionCode", region.to_owned())]),
        (
            "AWSLambda",
            vec![
                ("regionCode", region.to_owned()),
                ("group", "AWS-Lambda-Duration".to_owned()),
            ],
        ),
        (
            "AWSLambda",
            vec![
                ("regionCode", region.to_owned()),
                ("group", "AWS-Lambda-Requests".to_owned()),
            ],
        ),
        (
            "AWSDataTransfer",
            vec![
                ("fromRegionCode", region.to_owned()),
                ("toLocation", "External".to_owned()),
            ],
        ),
    ]
}

/// Refreshes `regions` (or every region a gateway uses) into the database.
pub async fn refresh(
    store: &Store,
    base: &aws_config::SdkConfig,
    regions: Vec<String>,
) -> Result<Vec<String>, String> {
    use aws_sdk_pricing::types::{Filter, FilterType};
    let regions = if regions.is_empty() {
        portico_store::prices::regions_in_use(store)
            .await
            .map_err(|e| e.to_string())?
    } else {
        regions
    };
    if regions.is_empty() {
        return Err("No gateway uses a region yet; name one with --region.".into());
    }
    // The Price List API lives in us-east-1.
    let config = base
        .to_builder()
        .region(aws_config::Region::new("us-east-1"))
        .build();
    let client = aws_sdk_pricing::Client::new(&config);
    let today = portico_core::model::keys::format_time(portico_store::now_unix())[..10].to_owned();
    let mut report = vec![];
    for region in regions {
        let (mut prices, _) = for_region(&region, &[]);
        prices.region = region.clone();
        let mut set = vec![];
        for (service, filters) in queries(&region) {
            let mut token = None;
            loop {
                let mut req = client
                    .get_products()
                    .service_code(service)
                    .max_results(100)
                    .set_next_token(token.clone());
                for (field, value) in &filters {
                    req = req.filters(
                        Filter::builder()
                            .r#type(FilterType::TermMatch)
                            .field(*field)
                            .value(value)
                            .build()
                            .map_err(|e| e.to_string())?,
                    );
                }
                let out = req.send().await.map_err(|e| {
                    format!(
                        "Could not read the AWS Price List API ({}); the embedded prices of {} stay in use.",
                        crate::aws::call::AwsError::from_sdk(
                            crate::aws::call::Service::Pricing,
                            "GetProducts",
                            &e,
                        ),
                        portico_core::cost::prices::embedded()[0].date
                    )
                })?;
                for doc in out.price_list() {
                    if let Some(what) = apply_document(&mut prices, service, doc) {
                        set.push(what);
                    }
                }
                token = out.next_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
        }
        if set.is_empty() {
            report.push(format!(
                "{region}: the Price List had nothing for this region; the embedded table stays."
            ));
            continue;
        }
        prices.date = today.clone();
        prices.source = "AWS Price List API (portico prices refresh)".into();
        portico_store::prices::save(store, &region, &prices)
            .await
            .map_err(|e| e.to_string())?;
        set.sort();
        set.dedup();
        report.push(format!(
            "{region}: {} prices of {today} ({})",
            set.len(),
            set.join(", ")
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(family: &str, usage: &str, extra: &str, dims: &str) -> String {
        format!(
            r#"{{"product":{{"productFamily":"{family}","attributes":{{"usagetype":"{usage}"{extra}}}}},
               "terms":{{"OnDemand":{{"T1":{{"priceDimensions":{{{dims}}}}}}}}}}}"#
        )
    }

    fn dim(id: &str, begin: &str, end: &str, usd: &str) -> String {
        format!(
            r#""{id}":{{"beginRange":"{begin}","endRange":"{end}","pricePerUnit":{{"USD":"{usd}"}}}}"#
        )
    }

    #[test]
    fn price_list_documents_set_the_table() {
        let (mut p, _) = for_region("ap-northeast-2", &[]);
        let nlb = doc(
            "Load Balancer-Network",
            "APN2-LoadBalancerUsage",
            "",
            &dim("a", "0", "Inf", "0.0250000000"),
        );
        assert_eq!(
            apply_document(&mut p, "AWSELB", &nlb).as_deref(),
            Some("NLB hour $0.025")
        );
        assert_eq!(p.nlb_hour, Money::dollars("0.025"));
        let rest = doc(
            "API Calls",
            "APN2-ApiGatewayRequest",
            "",
            &[
                dim("a", "0", "333000000", "0.0000035000"),
                dim("b", "333000000", "1000000000", "0.0000031900"),
                dim("c", "1000000000", "20000000000", "0.0000027100"),
                dim("d", "20000000000", "Inf", "0.0000017200"),
            ]
            .join(","),
        );
        apply_document(&mut p, "AmazonApiGateway", &rest).unwrap();
        assert_eq!(
            p.rest_tiers,
            vec![
                (333, Money::dollars("3.5")),
                (1_000, Money::dollars("3.19")),
                (20_000, Money::dollars("2.71")),
                (u64::MAX, Money::dollars("1.72")),
            ]
        );
        let transfer = doc(
            "Data Transfer",
            "APN2-DataTransfer-Out-Bytes",
            r#","transferType":"AWS Outbound""#,
            &[
                dim("a", "0", "10240", "0.1260000000"),
                dim("b", "10240", "51200", "0.1220000000"),
            ]
            .join(","),
        );
        apply_document(&mut p, "AWSDataTransfer", &transfer).unwrap();
        assert_eq!(p.transfer_gb, Money::dollars("0.126"));
        // Something else is left alone.
        let other = doc(
            "Load Balancer",
            "APN2-LoadBalancerUsage",
            "",
            &dim("a", "0", "Inf", "0.0250000000"),
        );
        assert_eq!(apply_document(&mut p, "AWSELB", &other), None);
        assert_eq!(apply_document(&mut p, "AWSELB", "not json"), None);
    }
}
