//! AWS adapters: SDK clients built from the standard credential chain (environment, profile,
//! SSO, assumed role), which also honours `AWS_ENDPOINT_URL`, so the same binary talks to the
//! local sandbox or to real AWS. The worker (observe → plan → apply) is built on these.

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// The clients for one account and region.
#[derive(Clone, Debug)]
pub struct Clients {
    pub apigateway: aws_sdk_apigateway::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
}

impl Clients {
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            apigateway: aws_sdk_apigateway::Client::new(config),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(config),
        }
    }

    /// Clients for `region` from the standard chain.
    pub async fn for_region(region: &str) -> Self {
        Self::new(&sdk_config(region).await)
    }
}

pub async fn sdk_config(region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .load()
        .await
}
