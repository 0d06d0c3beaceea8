//! One's own account: change the password (knowing the current one) and sign out everywhere
//! else. Both end every other session of the user at once; this one carries on. Plain forms,
//! so both work without JavaScript.

use crate::api::account::{ChangePassword, SignOutEverywhere};
use crate::components::error::ActionError;
use leptos::prelude::*;
use leptos_meta::Title;
use portico_core::model::user::{self, CurrentUser};

#[component]
pub fn AccountPage() -> impl IntoView {
    let me = expect_context::<CurrentUser>();
    let change = ServerAction::<ChangePassword>::new();
    let everywhere = ServerAction::<SignOutEverywhere>::new();
    let new_password = RwSignal::new(String::new());
    let new_error = move || {
        let p = new_password.get();
        (!p.is_empty())
            .then(|| user::validate_password(&p).err())
            .flatten()
    };
    let done = |value: Option<Result<(), crate::error::AppError>>, text: &'static str| {
        matches!(value, Some(Ok(()))).then(|| {
            view! { <p class="alert success" role="status">{text}</p> }
        })
    };
    view! {
        <Title text="Your account"/>
        <h1>"Your account"</h1>
        <p>
            "Signed in as " <strong>{me.name.clone()}</strong> ", " {me.role.as_str()} ": "
            {me.role.summary()} "."
        </p>
        <ActionForm action=change attr:class="card form-row" attr:id="change-password">
            <h2>"Change your password"</h2>
            <label>
                "Current password"
                <input type="password" name="current" required autocomplete="current-password"/>
            </label>
            <label>
                "New password"
                <input type="password" name="new_password" required autocomplete="new-password"
                    minlength=user::PASSWORD_MIN.to_string() maxlength=user::PASSWORD_MAX.to_string()
                    on:input=move |ev| new_password.set(event_target_value(&ev))
                    aria-invalid=move || new_error().is_some().to_string()/>
                <span class="field-error" aria-live="polite">{new_error}</span>
            </label>
            <button type="submit" class="primary">"Change password"</button>
            <p class="hint">"Your other sessions (other browsers, other devices) end at once."</p>
            <ActionError value=change.value()/>
            {move || done(change.value().get(), "Password changed; your other sessions are signed out.")}
        </ActionForm>
        <ActionForm action=everywhere attr:class="card" attr:id="sign-out-everywhere">
            <h2>"Sign out everywhere else"</h2>
            <p>"Ends every other session of yours at once — a browser left signed in elsewhere, a lost laptop. This one stays."</p>
            <button type="submit">"Sign out everywhere else"</button>
            <ActionError value=everywhere.value()/>
            {move || done(everywhere.value().get(), "Every other session of yours is signed out.")}
        </ActionForm>
    }
}
