//! The frame around every signed-in page: navigation, the signed-in user, sign-out.

use crate::api::session::{who_am_i, Logout};
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use portico_core::model::user::CurrentUser;
use portico_core::model::Role;

#[component]
pub fn Layout() -> impl IntoView {
    // A page request: the user the HTTP layer resolved, known at once on the server and, from
    // the page, in the browser while it hydrates. The frame and the page are then built once:
    // inside a `Suspend` they would be built each time it is polled, and every resource of the
    // page fetched again each time (three times a render, measured).
    let known = SharedValue::new(request_user).into_inner();
    if let Some(user) = known {
        provide_context(user.clone());
        return view! { <Frame user/> }.into_any();
    }
    // Entered in the browser (after sign-in): asked, so it is never stale.
    let me = Resource::new(|| (), |_| who_am_i());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(user)) => {
                        provide_context(user.clone());
                        view! { <Frame user/> }.into_any()
                    }
                    _ => view! { <Redirect path="/login"/> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// The signed-in user of the page request being rendered (the HTTP guard resolved it); None in
/// the browser, where only hydration knows it (from the page).
fn request_user() -> Option<CurrentUser> {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<crate::api::context::SignedIn>().cloned())
            .map(|s| s.0)
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

#[component]
fn Frame(user: CurrentUser) -> impl IntoView {
    let is_admin = user.role == Role::Admin;
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Portico"</a>
            <nav aria-label="Main">
                <A href="/" exact=true>"Overview"</A>
                <A href="/audit">"Audit"</A>
                <Show when=move || is_admin>
                    <A href="/admin">"Admin"</A>
                </Show>
            </nav>
            <UserMenu user/>
        </header>
        <main id="content">
            <Outlet/>
        </main>
    }
}

/// The account button: its details panel opens only once the page is hydrated; sign-out is a
/// plain form, so it works without JavaScript too.
#[component]
fn UserMenu(user: CurrentUser) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let open = RwSignal::new(false);
    let role = user.role;
    view! {
        <div class="user-menu">
            <button
                type="button"
                class="account"
                aria-expanded=move || open.get().to_string()
                aria-controls="account-panel"
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <span class="user-name">{user.name.clone()}</span>
                <span class="badge role">{role.as_str()}</span>
            </button>
            <div id="account-panel" class="account-panel" hidden=move || !open.get()>
                <p>
                    "Signed in as " <strong>{user.name.clone()}</strong> ", " {role.as_str()}
                    ": " {role.summary()} "."
                </p>
                <a href="/account">"Password and sessions"</a>
            </div>
            <ActionForm action=logout attr:class="inline">
                <button type="submit" class="link">"Sign out"</button>
            </ActionForm>
        </div>
    }
}
