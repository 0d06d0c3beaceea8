//! Admin: add users, change their roles, reset their passwords, disable and enable them; and
//! the alerts' webhooks (`alerts`).

use crate::api::users::{
    list_users, AddUser, ResetPassword, SetUserDisabled, SetUserRole, UserRow,
};
use crate::components::error::{ActionError, LoadError};
use leptos::prelude::*;
use leptos_meta::Title;
use portico_core::model::user::CurrentUser;
use portico_core::model::{user, Role};

#[component]
pub fn AdminPage() -> impl IntoView {
    let me = expect_context::<CurrentUser>();
    view! {
        <Title text="Admin"/>
        <h1>"Users"</h1>
        {if me.role == Role::Admin {
            view! { <Users me=me.name.clone()/> <super::alerts::Alerts/> }.into_any()
        } else {
            view! {
                <p class="alert info">
                    "Only admins manage users. Your role is " {me.role.as_str()} "."
                </p>
            }
            .into_any()
        }}
    }
}

#[component]
fn Users(me: String) -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let set_disabled = ServerAction::<SetUserDisabled>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let users = Resource::new(
        move || {
            (
                add.version().get(),
                set_role.version().get(),
                set_disabled.version().get(),
            )
        },
        |_| list_users(),
    );
    let me = StoredValue::new(me);
    view! {
        <AddUserForm add/>
        <ActionError value=set_role.value()/>
        <ActionError value=set_disabled.value()/>
        <ActionError value=reset.value()/>
        {move || {
            reset.value().get().and_then(Result::ok).map(|r| view! {
                <p class="alert info" role="status" id="reset-password">
                    {format!("New password for {}: ", r.name)}
                    <code class="secret">{r.password}</code>
                    " — shown this once. Hand it over in person or through your secret store; "
                    "their sessions are signed out, and they can change it on their account page."
                </p>
            })
        }}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(err) => view! { <LoadError err/> }.into_any(),
                    Ok(rows) => view! {
                        <table class="table" id="users">
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Role"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Added (UTC)"</th>
                                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows
                                    .into_iter()
                                    .map(|u| {
                                        let is_me = me.with_value(|m| m.eq_ignore_ascii_case(&u.name));
                                        view! { <UserLine u is_me set_role set_disabled reset/> }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AddUserForm(add: ServerAction<AddUser>) -> impl IntoView {
    // Checked as the admin types, with the same rules the server enforces.
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let name_error = move || {
        let n = name.get();
        (!n.is_empty())
            .then(|| user::validate_name(n.trim()).err())
            .flatten()
    };
    let password_error = move || {
        let p = password.get();
        (!p.is_empty())
            .then(|| user::validate_password(&p).err())
            .flatten()
    };
    view! {
        <ActionForm action=add attr:class="card form-row" attr:id="add-user">
            <h2>"Add a user"</h2>
            <label>
                "Name"
                <input name="name" required maxlength=user::NAME_MAX.to_string()
                    on:input=move |ev| name.set(event_target_value(&ev))
                    aria-invalid=move || name_error().is_some().to_string()/>
                <span class="field-error" aria-live="polite">{name_error}</span>
            </label>
            <label>
                "Role"
                <select name="role">
                    {Role::ALL.into_iter().map(|r| view! {
                        <option value=r.as_str() selected={r == Role::Viewer}>
                            {format!("{} — {}", r.as_str(), r.summary())}
                        </option>
                    }).collect_view()}
                </select>
            </label>
            <label>
                "Initial password"
                <input type="password" name="password" required autocomplete="new-password"
                    minlength=user::PASSWORD_MIN.to_string() maxlength=user::PASSWORD_MAX.to_string()
                    on:input=move |ev| password.set(event_target_value(&ev))
                    aria-invalid=move || password_error().is_some().to_string()/>
                <span class="field-error" aria-live="polite">{password_error}</span>
            </label>
            <button type="submit" class="primary">"Add user"</button>
            <ActionError value=add.value()/>
        </ActionForm>
    }
}

#[component]
fn UserLine(
    u: UserRow,
    is_me: bool,
    set_role: ServerAction<SetUserRole>,
    set_disabled: ServerAction<SetUserDisabled>,
    reset: ServerAction<ResetPassword>,
) -> impl IntoView {
    let label = format!("Role of {}", u.name);
    let status = if u.disabled { "disabled" } else { "active" };
    let toggle = if u.disabled { "Enable" } else { "Disable" };
    let next_disabled = (!u.disabled).to_string();
    let cannot_toggle = is_me && !u.disabled;
    let (role, role_form_name, toggle_form_name) = (u.role, u.name.clone(), u.name.clone());
    let reset_form_name = u.name.clone();
    // The new password comes back in the action's answer, which only the hydrated page shows
    // (a plain form post would redirect it away): the button waits for the page's script.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    view! {
        <tr class:disabled=u.disabled data-user=u.name.clone()>
            <td>{u.name.clone()} {is_me.then_some(" (you)")}</td>
            <td>
                <ActionForm action=set_role attr:class="inline">
                    <input type="hidden" name="name" value=role_form_name/>
                    <select name="role" aria-label=label>
                        {Role::ALL.into_iter().map(|r| view! {
                            <option value=r.as_str() selected={r == role}>{r.as_str()}</option>
                        }).collect_view()}
                    </select>
                    <button type="submit" class="small">"Change role"</button>
                </ActionForm>
            </td>
            <td>{status}</td>
            <td class="mono">{u.created}</td>
            <td>
                <ActionForm action=set_disabled attr:class="inline">
                    <input type="hidden" name="name" value=toggle_form_name/>
                    <input type="hidden" name="disabled" value=next_disabled/>
                    <button type="submit" class="small" disabled=cannot_toggle>{toggle}</button>
                </ActionForm>
                {(!is_me).then(|| view! {
                    <ActionForm action=reset attr:class="inline">
                        <input type="hidden" name="name" value=reset_form_name/>
                        <button type="submit" class="small" disabled=move || !ready.get()
                            title="Shows a new password once (needs JavaScript)">
                            "Reset password"
                        </button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}
