//! `portico adopt`: the dry run's report, or the adoption (stored, then tagged), resuming an
//! adoption of the same REST API that stopped half way.

use super::CliError;
use portico_store::{gateways, Store};

pub(super) async fn adopt(
    db: &str,
    region: &str,
    rest_api: &str,
    name: &str,
    role: Option<&str>,
    dry_run: bool,
) -> Result<(), CliError> {
    portico_core::model::rules::gateway_name(name).map_err(CliError::Serve)?;
    let store = Store::connect(db).await?;
    let base = crate::aws::base_config().await;
    let clients = crate::aws::Clients::for_account(&base, region, role).await;
    let caller = crate::aws::call::Caller::new(Default::default(), region, role);
    // A gateway already adopted from this API resumes its tagging without reading it again.
    let resumed = gateways::load(&store, name).await.ok().filter(|g| {
        let adopted = g.topology.gateway.adopted.as_ref();
        adopted.is_some_and(|a| a.rest_api.id == rest_api)
    });
    let adoption = match resumed {
        Some(_) => {
            println!("Gateway {name} was adopted from REST API {rest_api}: finishing its tags.");
            None
        }
        None => {
            let found = crate::adopt::discover(&clients, &caller, rest_api)
                .await
                .map_err(|e| CliError::Serve(format!("Could not read REST API {rest_api}: {e}")))?;
            let adoption = portico_core::adopt::adopt(&found, name, role);
            print!("{}", crate::adopt::report(&adoption));
            if !adoption.misfits.is_empty() {
                return Err(CliError::Serve(format!(
                    "REST API {rest_api} does not fit: {} thing(s) listed above. Nothing was \
                     stored or tagged.",
                    adoption.misfits.len()
                )));
            }
            Some(adoption)
        }
    };
    if dry_run {
        return Ok(());
    }
    let done = crate::adopt::take_over(
        &store,
        &clients,
        &caller,
        "cli",
        rest_api,
        adoption.as_ref(),
        name,
    )
    .await?;
    if done.stored {
        println!("Stored gateway {name} (generation 1) with what it adopts.");
    }
    println!(
        "Tagged {} resource(s) with Portico's ownership tags{}",
        done.tagged.len(),
        if done.tagged.is_empty() { "." } else { ":" }
    );
    for t in &done.tagged {
        println!("  - {t}");
    }
    println!(
        "Run `portico plan {name}`: it should have nothing to change. Edits from now on are \
         planned and applied like any gateway's."
    );
    Ok(())
}
