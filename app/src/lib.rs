//! Portico's web app: pages and server functions, rendered on the server and hydrated in the
//! browser. The rules they share with the worker live in `portico_core`; everything they read
//! or write goes through `portico_store`.
//!
//! Data flow: forms (`pages/`) → server functions (`api/`) → the store → the worker (in
//! `server/`) → AWS, and status back into the pages.

pub mod api;
pub mod components;
pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod passwords;
mod routes;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod throttle;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::Router;

/// The Content-Security-Policy of a page: scripts only from this server or inline with this
/// response's nonce (Leptos puts it on its hydration and streaming scripts), WebAssembly
/// compiled, no plugins, no framing, forms and fetches only to this server.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(res), Some(nonce)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        leptos::nonce::use_nonce(),
    ) {
        if let Ok(csp) = http::HeaderValue::from_str(&page_csp(&nonce)) {
            res.insert_header(http::header::CONTENT_SECURITY_POLICY, csp);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                // The plain-JavaScript buttons (print, copy): a file, not inline handlers.
                <script src="/actions.js" defer></script>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: this marks the page as hydrated, which tests wait for.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/portico.css"/>
        <Title formatter=|page: String| format!("{page} · Portico")/>
        <Router>
            <routes::AppRoutes/>
        </Router>
    }
}
