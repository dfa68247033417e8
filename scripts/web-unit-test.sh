#!/usr/bin/env bash
# The web demo's browser-only unit tests (web-demo/tests/web.rs, wasm-bindgen-test): the
# asynchronous read-back of a GPU buffer, the WebGPU adapter path (a kernel's result equals
# the CPU backend's) and the wasm CPU fallback, run in headless Chromium through chromedriver
# by wasm-bindgen-test-runner (part of wasm-bindgen-cli, pinned to the wasm-bindgen version in
# web-demo/Cargo.lock).
#
#   scripts/web-unit-test.sh            # all tests
#   scripts/web-unit-test.sh readback   # only the tests whose name contains "readback"
#
# Needs: Chromium and its driver (`apt-get install -y chromium chromium-driver`),
# wasm-bindgen-cli of the pinned version, and a wasm32 toolchain as scripts/build-web.sh uses
# (rustup's wasm32 target, or Debian's rustc-web with -Zbuild-std). Installs nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEMO="$ROOT/web-demo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/web-unit}"
TARGET=wasm32-unknown-unknown
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver || echo /usr/bin/chromedriver)}"

WB_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$DEMO/Cargo.lock")"
RUNNER="$(command -v wasm-bindgen-test-runner || true)"
[ -z "$RUNNER" ] && [ -x "$HOME/.cargo/bin/wasm-bindgen-test-runner" ] && RUNNER="$HOME/.cargo/bin/wasm-bindgen-test-runner"
missing=()
[ -x "$CHROMIUM" ] || missing+=("Chromium: apt-get install -y chromium")
[ -x "$CHROMEDRIVER" ] || missing+=("chromedriver: apt-get install -y chromium-driver")
if [ -z "$RUNNER" ] || [ "$("$RUNNER" --version | awk '{print $2}')" != "$WB_VERSION" ]; then
  missing+=("wasm-bindgen-test-runner $WB_VERSION: cargo install wasm-bindgen-cli --version $WB_VERSION")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "web-unit-test: missing prerequisites:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 2
fi

# The driver's capabilities: the runner adds headless, no-sandbox and disable-dev-shm-usage;
# WebGPU needs --enable-unsafe-webgpu (a machine without a GPU has only the software adapter,
# which Chromium blocklists otherwise).
mkdir -p "$CARGO_TARGET_DIR"
cat >"$CARGO_TARGET_DIR/webdriver.json" <<EOF
{
  "goog:chromeOptions": {
    "binary": "$CHROMIUM",
    "args": [
      "--headless=new", "--no-sandbox", "--enable-unsafe-webgpu", "--disable-gpu-sandbox",
      "--no-first-run", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--disable-quic"
    ]
  }
}
EOF
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$CARGO_TARGET_DIR/webdriver.json"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
export WASM_BINDGEN_TEST_ONLY_WEB=1
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$RUNNER"

cd "$DEMO"
if command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  cargo test --target "$TARGET" --test web -- "$@"
else
  LLD="$(ls "$HOME"/.rustup/toolchains/*/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld 2>/dev/null | head -1 || true)"
  [ -z "$LLD" ] && LLD="$(command -v rust-lld || command -v wasm-ld || true)"
  if [ -z "$LLD" ]; then echo "web-unit-test: no rust-lld or wasm-ld (apt-get install lld)" >&2; exit 1; fi
  RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$LLD" \
    /usr/bin/cargo test --target "$TARGET" --test web -Zbuild-std=std,panic_abort -- "$@"
fi
