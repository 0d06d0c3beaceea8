//! The one read of an API key's value: for the screen that shows a new key once. It goes from
//! AWS's answer to the HTTP response and nowhere else (no log, no database row).

use super::call::{Caller, Service};
use super::pace::Pacers;
use super::Clients;
use app::state::KeyValues;
use aws_config::SdkConfig;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub struct SdkKeyValues {
    base: SdkConfig,
    pacers: Arc<Pacers>,
    /// The read is a page's call: it takes its API Gateway token from the part of AWS's
    /// buckets kept for pages, counted in this database (`pace::pages`), as every server's
    /// pages do.
    store: portico_store::Store,
}

impl SdkKeyValues {
    pub fn new(base: SdkConfig, pacers: Arc<Pacers>, store: portico_store::Store) -> Self {
        Self {
            base,
            pacers,
            store,
        }
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
        let caller = Caller::new(self.pacers.clone(), &region, role_arn.as_deref())
            .for_pages(self.store.clone());
        Box::pin(async move {
            let clients = Clients::for_account(&base, &region, role_arn.as_deref()).await;
            let api = &clients.apigateway;
            let (key, _) = caller
                .call(Service::ApiGateway, "GetApiKey", || {
                    api.get_api_key()
                        .api_key(&aws_id)
                        .include_value(true)
                        .send()
                })
                .await
                .map_err(|e| e.to_string())?;
            key.value()
                .map(str::to_owned)
                .ok_or_else(|| format!("AWS returned key {aws_id} without its value"))
        })
    }
}
