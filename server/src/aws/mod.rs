//! AWS adapters: SDK clients built from the standard credential chain (environment, profile,
//! SSO, assumed role), which also honours `AWS_ENDPOINT_URL`, so the same binary talks to the
//! local sandbox or to real AWS; `call`, the one way Portico calls AWS: paced to the quotas
//! (`pace`), counted, retried with jittered backoff, its errors classified. Nothing here knows
//! who calls (the worker, the key screen, the price refresh), so nothing here imports them.
//!
//! Client set-up is written once: `base_config` reads the chain, `config_for` moves it to a
//! gateway's region and account, `Clients::for_worker` turns the SDK's retries off.

pub mod call;
pub mod cloudwatch;
pub mod convert;
pub mod keys;
pub mod network;
pub mod pace;
pub mod read;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::time::Duration;

/// The clients for one account and region.
#[derive(Clone, Debug)]
pub struct Clients {
    pub apigateway: aws_sdk_apigateway::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
}

impl Clients {
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            apigateway: aws_sdk_apigateway::Client::new(config),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(config),
            ec2: aws_sdk_ec2::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
        }
    }

    /// Clients for the worker: the SDK's own retries are off, because `call` retries after
    /// taking a token from the pacer (an SDK retry would skip it), and every call has a
    /// deadline so a hung connection becomes a retried timeout. Set once on the shared config
    /// so both services get the same policy.
    pub fn for_worker(config: &SdkConfig) -> Self {
        let mut timeouts = TimeoutConfig::builder()
            .operation_attempt_timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build();
        // What the base sets and these do not (a read timeout, say) still applies, as it would
        // had each service's builder been given these.
        if let Some(base) = config.timeout_config() {
            timeouts.take_defaults_from(base);
        }
        let worker = config
            .to_builder()
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts)
            .build();
        Self::new(&worker)
    }

    /// The worker's clients for a gateway's region, as `role_arn` when one is given: the one
    /// set-up the reconcile loop, the health reads and the key screen share.
    pub async fn for_account(base: &SdkConfig, region: &str, role_arn: Option<&str>) -> Self {
        Self::for_worker(&config_for(base, region, role_arn).await)
    }
}

/// The standard credential chain (environment, profile, SSO, IMDS, `AWS_ENDPOINT_URL`): the
/// base every region and account is derived from, read once at start.
pub async fn base_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
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
