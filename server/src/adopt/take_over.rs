//! Taking a hand-built setup over: storing the adoption and tagging what it adopts (for the
//! CLI and, through `SdkAdoptions`, for the adopt page), and listing the REST APIs there are to
//! adopt.

use super::{discover, report};
use crate::aws::call::{AwsError, Caller, Service};
use crate::aws::pace::Pacers;
use crate::aws::read::paged;
use crate::aws::Clients;
use app::api::adopt::{Candidate, Inspection};
use app::error::AppError;
use app::state::Answer;
use aws_config::SdkConfig;
use portico_core::adopt::Adoption;
use portico_core::plan::names::TAG_GATEWAY;
use std::sync::Arc;

/// What `take_over` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TakenOver {
    /// The gateway was stored now (false: an earlier adoption of the same API was resumed).
    pub stored: bool,
    /// Resources given Portico's tags now.
    pub tagged: Vec<String>,
}

/// Adopts REST API `rest_api` as gateway `name`: stores the adoption (`store_adoption`), then
/// gives every adopted resource Portico's tags (the CLI: it says what it tagged). Stopped half
/// way (a crash, a refused tag call), running it again finishes the tags — and the worker's
/// next run tags what is left anyway, since the gateway owns its adopted resources by id until
/// they are tagged.
pub async fn take_over(
    store: &portico_store::Store,
    clients: &Clients,
    caller: &Caller,
    actor: &str,
    rest_api: &str,
    adoption: Option<&Adoption>,
    name: &str,
) -> Result<TakenOver, app::error::AppError> {
    let (g, mut out) = store_adoption(store, actor, rest_api, adoption, name).await?;
    let installation = portico_store::installation::id(store).await?;
    let owner = crate::worker::owner::Owner::of(store, &installation, &g).await?;
    let actual = crate::worker::observe::observe(clients, caller, &owner)
        .await
        .map_err(|e| AppError::Unavailable(format!("Could not read AWS: {e}")))?;
    for u in &actual.untagged {
        crate::worker::apply::tag(clients, caller, &owner, u)
            .await
            .map_err(|e| {
                AppError::Unavailable(format!(
                    "Gateway {name} is stored, but tagging {} failed: {e}. Run the adoption \
                     again to finish (the worker also finishes it on its next run).",
                    u.label
                ))
            })?;
        out.tagged.push(u.label.clone());
    }
    Ok(out)
}

/// Stores the adoption of REST API `rest_api` as gateway `name` (refused while anything does
/// not fit; an earlier adoption of the same API is taken up again), with nothing tagged yet:
/// the worker's run the new generation starts tags what it adopts, from the worker's part of
/// AWS's quotas (the adopt page stops here: its calls come from the pages' smaller part, and a
/// person waits for them).
pub async fn store_adoption(
    store: &portico_store::Store,
    actor: &str,
    rest_api: &str,
    adoption: Option<&Adoption>,
    name: &str,
) -> Result<(portico_store::gateways::Desired, TakenOver), app::error::AppError> {
    use portico_store::gateways;
    let mut out = TakenOver::default();
    let existing = match gateways::load(store, name).await {
        Ok(g) => Some(g),
        Err(portico_store::StoreError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let g = match existing {
        Some(g) => {
            let same = g.topology.gateway.adopted.as_ref();
            if same.is_none_or(|a| a.rest_api.id != rest_api) {
                return Err(AppError::Conflict(format!(
                    "A gateway named {name:?} already exists; adopt under another name."
                )));
            }
            if g.deleting {
                return Err(AppError::Conflict(format!(
                    "Gateway {name} is being deleted or released: it is not adopted again \
                     until that is done."
                )));
            }
            g
        }
        None => {
            let Some(a) = adoption else {
                return Err(AppError::Invalid("Nothing was read to adopt.".into()));
            };
            if !a.misfits.is_empty() {
                return Err(AppError::Invalid(format!(
                    "REST API {rest_api} does not fit the shape Portico manages; nothing was \
                     stored or tagged:\n{}",
                    a.misfits.join("\n")
                )));
            }
            let keys: Vec<_> = a
                .keys
                .iter()
                .map(|k| gateways::AdoptedKey {
                    aws_id: k.id.clone(),
                    name: k.name.clone(),
                    enabled: k.enabled,
                    usage_plans: k.usage_plans.clone(),
                })
                .collect();
            gateways::adopt(store, actor, a.topology.clone(), &keys).await?;
            out.stored = true;
            gateways::load(store, name).await?
        }
    };
    Ok((g, out))
}

/// The adopt page's AWS side: a page's calls, on whichever server serves it, paced by the
/// part of AWS's buckets kept for pages (`pace::pages`, counted in `store`).
pub struct SdkAdoptions {
    pub base: SdkConfig,
    pub pacers: Arc<Pacers>,
    pub store: portico_store::Store,
}

impl SdkAdoptions {
    fn reach(&self, region: &str, role: Option<&str>) -> (SdkConfig, Caller) {
        (
            self.base.clone(),
            Caller::new(self.pacers.clone(), region, role).for_pages(self.store.clone()),
        )
    }
}

/// What adopting would be, in a sentence.
fn summary(a: &Adoption) -> String {
    let t = &a.topology;
    let lb = t
        .gateway
        .adopted
        .as_ref()
        .map(|r| r.load_balancer.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "no load balancer".into());
    format!(
        "{} backend port(s) on {lb}, {} stage(s), {} route(s), {} usage plan(s), {} key(s)",
        t.ports.len(),
        t.stages.len(),
        t.routes.len(),
        t.usage_plans.len(),
        a.keys.len()
    )
}

impl app::state::Adoptions for SdkAdoptions {
    fn candidates(
        &self,
        region: String,
        role_arn: Option<String>,
    ) -> Answer<Result<Vec<Candidate>, String>> {
        let (base, caller) = self.reach(&region, role_arn.as_deref());
        Box::pin(async move {
            let clients = Clients::for_account(&base, &region, role_arn.as_deref()).await;
            let (api, caller) = (&clients.apigateway, &caller);
            let apis = paged(move |position| async move {
                let (page, _) = caller
                    .call(Service::ApiGateway, "GetRestApis", || {
                        api.get_rest_apis()
                            .limit(500)
                            .set_position(position.clone())
                            .send()
                    })
                    .await?;
                let next = page.position().map(str::to_owned);
                Ok::<_, AwsError>((page.items().to_vec(), next))
            })
            .await
            .map_err(|e| e.to_string())?;
            let mut out: Vec<Candidate> = apis
                .iter()
                .filter(|a| !a.tags().is_some_and(|t| t.contains_key(TAG_GATEWAY)))
                .filter_map(|a| {
                    Some(Candidate {
                        id: a.id()?.to_owned(),
                        name: a.name().unwrap_or_default().to_owned(),
                        description: a.description().unwrap_or_default().to_owned(),
                    })
                })
                .collect();
            out.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
            Ok(out)
        })
    }

    fn inspect(
        &self,
        region: String,
        role_arn: Option<String>,
        rest_api: String,
        name: String,
    ) -> Answer<Result<Inspection, String>> {
        let (base, caller) = self.reach(&region, role_arn.as_deref());
        Box::pin(async move {
            let clients = Clients::for_account(&base, &region, role_arn.as_deref()).await;
            let found = discover(&clients, &caller, &rest_api)
                .await
                .map_err(|e| format!("Could not read REST API {rest_api}: {e}"))?;
            let a = portico_core::adopt::adopt(&found, &name, role_arn.as_deref());
            let file = report(&a)
                .lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Inspection {
                summary: summary(&a),
                misfits: a.misfits.clone(),
                tags: a.tags.clone(),
                keys: a
                    .keys
                    .iter()
                    .map(|k| {
                        format!(
                            "{} ({}), {}, in {}",
                            k.name,
                            k.id,
                            if k.enabled { "enabled" } else { "disabled" },
                            k.usage_plans.join(", ")
                        )
                    })
                    .collect(),
                file,
            })
        })
    }

    fn adopt(
        &self,
        actor: String,
        region: String,
        role_arn: Option<String>,
        rest_api: String,
        name: String,
    ) -> Answer<Result<(), AppError>> {
        let (base, caller) = self.reach(&region, role_arn.as_deref());
        let store = self.store.clone();
        Box::pin(async move {
            let clients = Clients::for_account(&base, &region, role_arn.as_deref()).await;
            let found = discover(&clients, &caller, &rest_api).await.map_err(|e| {
                AppError::Unavailable(format!("Could not read REST API {rest_api}: {e}"))
            })?;
            let a = portico_core::adopt::adopt(&found, &name, role_arn.as_deref());
            store_adoption(&store, &actor, &rest_api, Some(&a), &name).await?;
            Ok(())
        })
    }
}
