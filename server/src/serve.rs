//! `portico serve`: open the database, build the app, listen until SIGTERM or ctrl-c.

use crate::cli::{CliError, ServeArgs};
use crate::web::{self, WebConfig};
use crate::worker::{Worker, WorkerConfig};
use app::state::AppState;
use app::throttle::LoginThrottle;
use leptos::prelude::get_configuration;
use portico_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;

pub async fn serve(db: &str, args: ServeArgs) -> Result<(), CliError> {
    let store = Store::connect(db).await?;
    if portico_store::users::count(&store).await? == 0 {
        tracing::warn!(
            "no users yet: create the first admin with `portico user add NAME --role admin` \
             (add --db {} if you serve another database); there is no default password",
            portico_store::shown(db)
        );
    }
    let mut leptos = get_configuration(None)
        .map_err(|e| CliError::Serve(format!("Leptos configuration: {e}")))?
        .leptos_options;
    leptos.site_addr = args.addr;
    warn_if_not_split(&leptos);
    let mut state = AppState::new(store.clone(), leptos, LoginThrottle::default());
    state.session_lifetime = std::time::Duration::from_secs(args.session_days * 24 * 3600);
    // The metrics recorder exists before the worker counts its first AWS call.
    crate::web::metrics::handle();
    let worker = if args.no_worker {
        tracing::warn!("the worker is off (--no-worker): nothing will be written to AWS");
        None
    } else {
        let defaults = WorkerConfig::default();
        let drift_interval = std::time::Duration::from_secs(args.drift_interval.max(1));
        let health_interval = std::time::Duration::from_secs(args.health_interval.max(1));
        let config = WorkerConfig {
            drift_interval,
            health_interval,
            // A shared listing is never older than the looks asked for.
            listing_age: defaults
                .listing_age
                .min(drift_interval)
                .min(health_interval),
            lease_ttl: std::time::Duration::from_secs(args.lease_seconds.max(1)),
            metrics_interval: (args.metrics_interval > 0).then(|| {
                std::time::Duration::from_secs(
                    args.metrics_interval
                        .max(crate::aws::cloudwatch::PERIOD as u64),
                )
            }),
            // In range: the command line's parsers refuse any other.
            error_threshold: portico_core::health::ErrorThreshold {
                percent: args.error_rate_percent,
                min_requests: args.error_rate_min_requests,
            },
            ..defaults
        };
        let base = crate::aws::base_config().await;
        let worker = Arc::new(Worker::new(store.clone(), base.clone(), config));
        state = state
            .with_key_values(Arc::new(crate::aws::keys::SdkKeyValues::new(
                base.clone(),
                worker.pacers(),
                store.clone(),
            )))
            .with_networks(Arc::new(crate::aws::network::SdkNetworks::new(
                base.clone(),
                worker.pacers(),
            )))
            .with_adoptions(Arc::new(crate::adopt::SdkAdoptions {
                base,
                pacers: worker.pacers(),
                store: store.clone(),
            }));
        // Edits saved on other servers wake this worker at once (PostgreSQL); the listening
        // task runs until the server stops (it holds a connection the pool's close waits for).
        let listening = store.watch_changes(state.worker.clone()).await?;
        Some((
            worker.clone().spawn(state.worker.clone()),
            worker,
            listening,
        ))
    };
    let router = web::router(
        state,
        &WebConfig {
            secure_cookies: args.secure_cookies(),
            proxies: crate::web::proxy::Proxies {
                trusted: args.trusted_proxies.clone(),
                header: args.forwarded_header,
                public: args.public_url.clone(),
            },
            metrics_token: args.metrics_token.clone().filter(|t| !t.is_empty()),
        },
    )
    .await
    .map_err(|e| CliError::Serve(format!("session store: {e}")))?;
    if args.secure_cookies() && !args.secure_cookies && args.public_url.is_none() {
        tracing::warn!(
            "the session cookie is Secure (the server listens beyond loopback): browsers send it \
             over https only, so serve Portico behind https (and say --public-url https://…), \
             or pass --insecure-cookies for plain http on a network you trust"
        );
    }
    if args.metrics_token.as_deref() == Some("") {
        tracing::warn!("--metrics-token is empty: /metrics stays open to anyone who reaches it");
    }
    // Webhook deliveries go out from every server; a claim keeps one from going twice.
    let sender = match crate::alerts::Sender::new(
        store.clone(),
        crate::alerts::SenderConfig {
            public_url: args
                .public_url
                .as_ref()
                .and_then(|o| Some(format!("{}://{}", o.scheme.as_deref()?, o.authority))),
            to_local_addresses: args.webhooks_to_local_addresses,
            ..Default::default()
        },
    ) {
        Ok(sender) => Some(sender.spawn()),
        Err(e) => {
            tracing::error!("{e}: webhook alerts are queued but not sent");
            None
        }
    };
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| CliError::Serve(format!("cannot listen on {}: {e}", args.addr)))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::Serve(e.to_string()))?;
    tracing::info!(db = %portico_store::shown(db), "Portico listening on http://{local}");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| CliError::Serve(e.to_string()))?;
    // A delivery cut off here is claimed for a while, then sent again by the next server.
    if let Some(sender) = sender {
        sender.abort();
        let _ = sender.await;
    }
    if let Some((task, worker, listening)) = worker {
        if let Some(listening) = listening {
            listening.abort();
            let _ = listening.await;
        }
        // A step cut off here is re-observed by the next holder, never blindly re-run; the
        // lease is given up so another server takes over at once.
        task.abort();
        // Once the supervisor is gone, so are the gateway tasks it held (their handles stop
        // them when dropped); only then is the lease given up.
        let _ = task.await;
        worker.release_lease().await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

/// The browser's code is split by route (app/src/routes.rs), and a bundle built without
/// `--split` imports a loader that does not exist: its pages still work as plain HTML but never
/// hydrate. Say so at start-up rather than leave a silent page.
fn warn_if_not_split(leptos: &leptos::prelude::LeptosOptions) {
    let pkg = std::path::Path::new(leptos.site_root.as_ref()).join(leptos.site_pkg_dir.as_ref());
    if pkg.join(format!("{}.wasm", leptos.output_name)).exists()
        && !pkg.join("__wasm_split_manifest.json").exists()
    {
        tracing::warn!(
            "{} holds a wasm bundle built without `--split`: pages will work without \
             JavaScript but not hydrate; build it with `cargo leptos build --split`",
            pkg.display()
        );
    }
}
