//! Sign in.

use crate::api::session::{needs_first_admin, Login};
use crate::components::error::ActionError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let first_admin = Resource::new(|| (), |_| needs_first_admin());
    view! {
        <Title text="Sign in"/>
        <main class="login">
            <h1 class="brand">"Portico"</h1>
            <p class="tagline">"API Gateway, VPC link and NLB, kept in the shape you want."</p>
            <Suspense>
                {move || Suspend::new(async move {
                    matches!(first_admin.await, Ok(true)).then(|| view! {
                        <p class="alert info">
                            "No users exist yet. Create the first admin on the server: "
                            <code>"portico user add NAME --role admin"</code>
                        </p>
                    })
                })}
            </Suspense>
            <ActionForm action=login attr:class="card stack">
                <input type="hidden" name="next" value=next/>
                <label>
                    "User name"
                    <input name="name" autocomplete="username" required autofocus/>
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required/>
                </label>
                <ActionError value=login.value()/>
                <button type="submit" class="primary">"Sign in"</button>
            </ActionForm>
        </main>
    }
}
