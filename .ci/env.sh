# Sourced by every script that runs cargo: the same environment cargo-leptos sets, so plain
# `cargo test` reuses what `cargo leptos build` compiled (Leptos reads some of it at compile
# time), and one fixed place for tools and the build cache outside the clone.
export PORTICO_CACHE="${PORTICO_CACHE:-$HOME/.cache/portico}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PORTICO_CACHE/target}"
export PATH="$PORTICO_CACHE/tools/bin:$HOME/.cargo/bin:$PATH"
export LEPTOS_OUTPUT_NAME=portico
# Where the bundle is built and served from: the demo (and `portico serve` by hand) use
# target/site; the tests and the benchmarks build into their own, so running them while the
# demo serves never replaces the demo's bundle under it.
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
export LEPTOS_SITE_PKG_DIR=pkg
export LEPTOS_SITE_ADDR=127.0.0.1:3000
export LEPTOS_RELOAD_PORT=3001
export LEPTOS_LIB_DIR=frontend
export LEPTOS_BIN_DIR=server
export LEPTOS_JS_MINIFY=false
export LEPTOS_HASH_FILES=false
