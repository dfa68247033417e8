#!/usr/bin/env bash
# Builds the browser demo: web-demo compiled to wasm32-unknown-unknown, then wasm-bindgen
# (the CLI pinned to the wasm-bindgen version in web-demo/Cargo.lock) into web-demo/pkg.
#
#   scripts/build-web.sh            # release build
#
# Uses rustup's wasm32 target when it is installed; otherwise Debian's wasm-capable compiler
# (`apt-get install rustc-web cargo-web rust-web-src lld`) with -Zbuild-std.
# Needs: wasm-bindgen-cli of the pinned version
#   (`cargo install wasm-bindgen-cli --version <version printed below>`).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEMO="$ROOT/web-demo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/web-demo}"
TARGET=wasm32-unknown-unknown

WB_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$DEMO/Cargo.lock" 2>/dev/null || true)"
if [ -z "$WB_VERSION" ]; then
  WB_VERSION="$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' "$DEMO/Cargo.toml")"
fi
WB="$(command -v wasm-bindgen || true)"
[ -z "$WB" ] && [ -x "$HOME/.cargo/bin/wasm-bindgen" ] && WB="$HOME/.cargo/bin/wasm-bindgen"
if [ -z "$WB" ] || [ "$("$WB" --version | awk '{print $2}')" != "$WB_VERSION" ]; then
  echo "build-web: need wasm-bindgen-cli $WB_VERSION: cargo install wasm-bindgen-cli --version $WB_VERSION" >&2
  exit 1
fi

cd "$DEMO"
if command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  echo "build-web: rustup target $TARGET"
  cargo build --release --lib --target "$TARGET"
else
  echo "build-web: no rustup $TARGET target; using the system compiler with -Zbuild-std"
  LLD="$(ls "$HOME"/.rustup/toolchains/*/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld 2>/dev/null | head -1 || true)"
  [ -z "$LLD" ] && LLD="$(command -v rust-lld || command -v wasm-ld || true)"
  if [ -z "$LLD" ]; then echo "build-web: no rust-lld or wasm-ld (apt-get install lld)" >&2; exit 1; fi
  RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$LLD" \
    /usr/bin/cargo build --release --lib --target "$TARGET" -Zbuild-std=std,panic_abort
fi

rm -rf "$DEMO/pkg"
"$WB" --target web --out-dir "$DEMO/pkg" --no-typescript "$CARGO_TARGET_DIR/$TARGET/release/spar_web_demo.wasm"
if command -v wasm-opt >/dev/null; then
  wasm-opt -O2 "$DEMO/pkg/spar_web_demo_bg.wasm" -o "$DEMO/pkg/spar_web_demo_bg.wasm"
fi
echo "build-web: $(du -h "$DEMO/pkg/spar_web_demo_bg.wasm" | cut -f1) wasm, $(gzip -9c "$DEMO/pkg/spar_web_demo_bg.wasm" | wc -c) bytes gzipped"
