# Sourced by .ci/test and .ci/demo: installs what a fresh Debian machine with Rust lacks, and
# skips each step whose result is already there. Nothing is downloaded from outside the
# package registries (crates.io, npm, PyPI, Debian).

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.129

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

need_chromium() {
  if [ -x /usr/bin/chromium ]; then return; fi
  log "installing Chromium from Debian"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}

# The reverse proxy the proxy tests put in front of the server.
need_nginx() {
  if [ -x /usr/sbin/nginx ]; then return; fi
  log "installing nginx from Debian"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx >/dev/null
}

need_rust_tools() {
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
    || { log "adding the wasm32 target"; rustup target add wasm32-unknown-unknown; }
  if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (once: the longest step on a cold machine)"
    # Its own release profile (fat LTO in one codegen unit) made its final step half an hour
    # of one core on a cold machine; a build tool needs no such optimisation.
    CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo install --locked cargo-leptos --version "$CARGO_LEPTOS_VERSION" --features no_downloads \
      --root "$PORTICO_CACHE/tools"
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (once; about 2 minutes)"
    cargo install --locked wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$PORTICO_CACHE/tools"
  fi
}

# npm packages: Playwright's test runner and binaryen's wasm-opt (Debian's binaryen is too old).
need_node_modules() {
  if [ ! -f end2end/node_modules/.installed ] || [ end2end/package-lock.json -nt end2end/node_modules/.installed ]; then
    log "installing npm packages"
    (cd end2end && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed)
  fi
  export PATH="$PWD/end2end/node_modules/.bin:$PATH"
}

# The shared build cache only grows: each clone path compiles its own copy of the workspace
# crates. Keep it bounded, and skip incremental data (it only pays off in an edit loop).
bound_build_cache() {
  if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi
  if [ -d "$CARGO_TARGET_DIR" ]; then
    local mb
    mb="$(du -sm "$CARGO_TARGET_DIR" 2>/dev/null | cut -f1)"
    if [ "${mb:-0}" -gt 25000 ]; then
      log "the build cache holds ${mb} MB; starting it afresh"
      rm -rf "$CARGO_TARGET_DIR"
    fi
  fi
  local free
  free="$(df -Pm "$(dirname "$CARGO_TARGET_DIR")" | awk 'NR==2 {print $4}')"
  if [ "${free:-0}" -lt 8000 ]; then
    log "warning: only ${free} MB free on disk; a cold build needs about 8 GB"
  fi
}
