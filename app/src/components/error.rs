//! How a failed server function looks on a page.

use crate::error::AppError;
use leptos::prelude::*;

/// The latest error of an action, as an alert the screen reader announces.
#[component]
pub fn ActionError<T: Clone + Send + Sync + 'static>(
    #[prop(into)] value: Signal<Option<Result<T, AppError>>>,
) -> impl IntoView {
    move || {
        value.get().and_then(Result::err).map(|err| {
            view! { <p class="alert error" role="alert">{err.to_string()}</p> }
        })
    }
}

/// A message for a page whose data could not be loaded.
#[component]
pub fn LoadError(err: AppError) -> impl IntoView {
    view! { <p class="alert error" role="alert">{err.to_string()}</p> }
}
