//! The one read of an API key's value: for the screen that shows a new key once. It goes from
//! AWS's answer to the HTTP response and nowhere else (no log, no database row).

use super::Clients;
use app::state::KeyValues;
use aws_config::SdkConfig;
use std::future::Future;
use std::pin::Pin;

pub struct SdkKeyValues {
    base: SdkConfig,
}

impl SdkKeyValues {
    pub fn new(base: SdkConfig) -> Self {
        Self { base }
    }
}

impl KeyValues for SdkKeyValues {
    fn value(
        &self,
        region: String,
        role_arn: Option<String>,
        aws_id: String,
    ) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send>> {
        let base = self.base.clone();
        Box::pin(async move {
            let clients = Clients::for_account(&base, &region, role_arn.as_deref()).await;
            let key = clients
                .apigateway
                .get_api_key()
                .api_key(&aws_id)
                .include_value(true)
                .send()
                .await
                .map_err(|e| super::call::AwsError::from_sdk("GetApiKey", &e).to_string())?;
            key.value()
                .map(str::to_owned)
                .ok_or_else(|| format!("AWS returned key {aws_id} without its value"))
        })
    }
}
