//! The wasm entry point: hydrate the page the server rendered.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazily: a page whose code is in a split module waits for it before hydrating.
    leptos::mount::hydrate_lazy(app::App);
}
