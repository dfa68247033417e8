#!/usr/bin/env bash
# The browser test of the web demo, end to end: builds the wasm package (scripts/build-web.sh),
# computes the native CPU reference (web-demo example `reference`), serves the page on
# 127.0.0.1, drives it in headless Chromium with Playwright (web-demo/tests/e2e.mjs: task
# training, Kuhn-poker self-play, failures), then loads the downloaded checkpoint natively
# (example `check_download`) and with the `spar eval` binary itself.
#
#   scripts/web-test.sh                 # WebGPU (SwiftShader on a machine without a GPU)
#   E2E_BACKEND=cpu scripts/web-test.sh # the same checks on the CPU backend compiled to wasm
#   BENCH_STEPS=10 scripts/web-test.sh  # also measure C0 training steps per second
#
# Installs nothing: it checks the prerequisites and prints what is missing.
# Output (screenshots, downloads, e2e-result.json) goes to target/web-e2e/. The spar binary is
# built in the workspace's target directory (CARGO_TARGET_DIR if set), as the workspace's own
# tests build it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEMO="$ROOT/web-demo"
OUT="$ROOT/target/web-e2e"
NATIVE_TARGET="$ROOT/target/web-demo-native"

missing=()
[ -x /usr/bin/chromium ] || missing+=("Chromium: apt-get install -y chromium")
command -v node >/dev/null || missing+=("Node.js: apt-get install -y nodejs npm")
[ -d "$DEMO/node_modules/playwright-core" ] || missing+=("playwright-core: (cd web-demo && npm ci)")
command -v python3 >/dev/null || missing+=("python3 (the static server)")
WB_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$DEMO/Cargo.lock")"
if ! { command -v wasm-bindgen >/dev/null || [ -x "$HOME/.cargo/bin/wasm-bindgen" ]; }; then
  missing+=("wasm-bindgen-cli: cargo install wasm-bindgen-cli --version $WB_VERSION")
fi
if ! { command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; } \
   && ! [ -x /usr/bin/cargo -a -x /usr/bin/rustc ]; then
  missing+=("a wasm32 toolchain: rustup target add wasm32-unknown-unknown, or apt-get install -y rustc-web cargo-web rust-web-src lld")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "web-test: missing prerequisites:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 2
fi

start=$(date +%s)
"$ROOT/scripts/build-web.sh"
rm -rf "$OUT" && mkdir -p "$OUT"
(cd "$DEMO" && CARGO_TARGET_DIR="$NATIVE_TARGET" cargo build --release --examples -q)
"$NATIVE_TARGET/release/examples/reference" "$OUT/reference.json" "${C0_NATIVE_STEPS:-20}"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$DEMO" >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/')" 2>/dev/null && break
  sleep 0.1
done

(cd "$DEMO" && BASE_URL="http://127.0.0.1:$PORT/" REF_JSON="$OUT/reference.json" OUT_DIR="$OUT" \
  node tests/e2e.mjs)
"$NATIVE_TARGET/release/examples/check_download" "$OUT/checkpoint"

# The download must be what `spar eval` loads: the CLI itself, on a copy in a fresh directory.
EVAL_DIR="$(mktemp -d)"
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$EVAL_DIR"' EXIT
cp "$OUT"/checkpoint/* "$EVAL_DIR/"
(cd "$ROOT" && cargo build --release -q -p spar-cli --bin spar)
SPAR="${CARGO_TARGET_DIR:-$ROOT/target}/release/spar"
"$SPAR" eval --checkpoint "$EVAL_DIR" --backend cpu | tee "$OUT/spar-eval.txt"
if ! grep -Eq '^eval \[checkpoint\] step 0: accuracy [0-9.]+ \([0-9]+ problems\)' "$OUT/spar-eval.txt"; then
  echo "web-test: spar eval did not print an accuracy for the downloaded checkpoint" >&2
  exit 1
fi
echo "web-test: spar eval loaded the downloaded checkpoint"
echo "web-test: passed in $(( $(date +%s) - start )) s (screenshots: $OUT/e2e.png, e2e-kuhn.png)"
