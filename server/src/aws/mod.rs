//! AWS adapters: SDK clients built from the standard credential chain (environment, profile,
//! SSO, assumed role), which also honours `AWS_ENDPOINT_URL`, so the same binary talks to the
//! local sandbox or to real AWS; and `call`, the one way the worker calls AWS: paced to the
//! quotas, counted, retried with jittered backoff, its errors classified.

pub mod call;
pub mod keys;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::time::Duration;

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

    /// Clients for the worker: the SDK's own retries are off, because `call` retries after
    /// taking a token from the pacer (an SDK retry would skip it), and every call has a
    /// deadline so a hung connection becomes a retried timeout.
    pub fn for_worker(config: &SdkConfig) -> Self {
        let timeouts = TimeoutConfig::builder()
            .operation_attempt_timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build();
        let apigateway = aws_sdk_apigateway::config::Builder::from(config)
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts.clone())
            .build();
        let elb = aws_sdk_elasticloadbalancingv2::config::Builder::from(config)
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts)
            .build();
        Self {
            apigateway: aws_sdk_apigateway::Client::from_conf(apigateway),
            elb: aws_sdk_elasticloadbalancingv2::Client::from_conf(elb),
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

/// `base` moved to `region`, acting as `role_arn` when one is given (another account).
pub async fn config_for(base: &SdkConfig, region: &str, role_arn: Option<&str>) -> SdkConfig {
    let regional = base
        .to_builder()
        .region(Region::new(region.to_owned()))
        .build();
    match role_arn {
        None => regional,
        Some(role) => {
            let provider = aws_config::sts::AssumeRoleProvider::builder(role)
                .session_name("portico")
                .configure(&regional)
                .build()
                .await;
            regional
                .to_builder()
                .credentials_provider(
                    aws_credential_types::provider::SharedCredentialsProvider::new(provider),
                )
                .build()
        }
    }
}
