#!/usr/bin/env bash
# Builds the browser demo: web-demo compiled to wasm32-unknown-unknown with SIMD (and again
# with relaxed SIMD), then wasm-bindgen (the CLI pinned to the wasm-bindgen version in
# web-demo/Cargo.lock) into web-demo/pkg and web-demo/pkg/relaxed.
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

# Two builds of the same code: WebAssembly SIMD (simd128, in every browser with WebGPU) into
# pkg/, and SIMD with relaxed SIMD (fused multiply-add in matrixmultiply's kernel) into
# pkg/relaxed/; the page loads the second where the browser validates relaxed SIMD.
build() { # RUSTFLAGS for the build, its target directory
  if command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
    echo "build-web: rustup target $TARGET, $1"
    RUSTFLAGS="$1" CARGO_TARGET_DIR="$2" cargo build --release --lib --target "$TARGET"
  else
    echo "build-web: no rustup $TARGET target; using the system compiler with -Zbuild-std, $1"
    LLD="$(ls "$HOME"/.rustup/toolchains/*/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld 2>/dev/null | head -1 || true)"
    [ -z "$LLD" ] && LLD="$(command -v rust-lld || command -v wasm-ld || true)"
    if [ -z "$LLD" ]; then echo "build-web: no rust-lld or wasm-ld (apt-get install lld)" >&2; exit 1; fi
    RUSTFLAGS="$1" CARGO_TARGET_DIR="$2" RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$LLD" \
      /usr/bin/cargo build --release --lib --target "$TARGET" -Zbuild-std=std,panic_abort
  fi
}
bindgen() { # the wasm, the output directory
  "$WB" --target web --out-dir "$2" --no-typescript "$1"
  if command -v wasm-opt >/dev/null; then
    wasm-opt -O2 --enable-simd --enable-relaxed-simd "$2/spar_web_demo_bg.wasm" -o "$2/spar_web_demo_bg.wasm"
  fi
  echo "build-web: $2: $(du -h "$2/spar_web_demo_bg.wasm" | cut -f1) wasm, $(gzip -9c "$2/spar_web_demo_bg.wasm" | wc -c) bytes gzipped"
}

cd "$DEMO"
build "-C target-feature=+simd128" "$CARGO_TARGET_DIR"
build "-C target-feature=+simd128,+relaxed-simd" "$CARGO_TARGET_DIR-relaxed"
rm -rf "$DEMO/pkg"
bindgen "$CARGO_TARGET_DIR/$TARGET/release/spar_web_demo.wasm" "$DEMO/pkg"
bindgen "$CARGO_TARGET_DIR-relaxed/$TARGET/release/spar_web_demo.wasm" "$DEMO/pkg/relaxed"
