//! The wasm entry point: hydrate the page the server rendered.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazily: a page whose code is in a split module waits for it before hydrating.
    leptos::mount::hydrate_lazy(app::App);
}

/// Room in `.rodata` for `cargo leptos build --split` to lay out each split module's data.
///
/// The splitter gives every module its own copy of the constants it shares with another
/// (strings the linker merged), aligned afresh, so the data it lays out can come to more
/// than the linker's `.rodata`. When it does, it gives up and puts all of `.rodata` into
/// the main module: every page then fetches every page's strings (80 KB more before
/// brotli, measured when 264 bytes were missing). Nothing refers to these bytes, so no
/// module is given them; they only make the linker's segment long enough. Not zeros, which
/// the linker would move to `.bss`. 8 KB is some thirty times the shortfall measured, room
/// for the code to grow; `.ci/bench` reports split modules without their data.
#[cfg(target_arch = "wasm32")]
#[used]
static SPLIT_DATA_ROOM: [u8; 8192] = [0xA5; 8192];
