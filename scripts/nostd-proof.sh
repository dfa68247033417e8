#!/usr/bin/env bash
# Proves that the crates marked no_std in the design build for wasm32-unknown-unknown with
# only `core` and `alloc`: `--no-default-features` turns their `std` feature off and
# `-Zbuild-std=core,alloc` builds no `std` at all, so any use of std fails to compile.
# It builds them twice: as they are, then with their `ndarray` features (the array APIs,
# which must stay no_std too).
#
# Run it alone: bash scripts/nostd-proof.sh
# It uses rustup's nightly with the wasm32 target and rust-src when those are installed, and
# otherwise Debian's second compiler (apt-get install rustc-web cargo-web rust-web-src lld).
set -euo pipefail
cd "$(dirname "$0")/.."

# spar-train is not marked no_std in the design, but its library (the loop without file
# helpers) must build for wasm32 for the web demo: building it with core+alloc proves more.
crates=(spar-bpe spar-tasks spar-losses spar-bandits spar-cucb spar-model spar-plot spar-train)
args=()
for c in "${crates[@]}"; do args+=(-p "$c"); done
ndarray_features=spar-losses/ndarray,spar-bandits/ndarray,spar-cucb/ndarray,spar-model/ndarray
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/nostd"

if rustup +nightly component list --installed 2>/dev/null | grep -q '^rust-src'; then
  echo "no_std proof: rustup nightly with rust-src"
  for features in "" "$ndarray_features"; do
    cargo +nightly build --release --target wasm32-unknown-unknown \
      -Zbuild-std=core,alloc --no-default-features --features "$features" "${args[@]}"
  done
else
  echo "no_std proof: Debian rustc-web with rust-web-src"
  [ -x /usr/bin/rustc ] && [ -x /usr/bin/cargo ] || {
    echo "needs: apt-get install rustc-web cargo-web rust-web-src lld" >&2
    exit 1
  }
  lld=$(ls "$HOME"/.rustup/toolchains/*/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld 2>/dev/null | head -1 || true)
  [ -n "$lld" ] || lld=$(command -v rust-lld || command -v lld || true)
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$lld"
  for features in "" "$ndarray_features"; do
    RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc /usr/bin/cargo build --release \
      --target wasm32-unknown-unknown -Zbuild-std=core,alloc --no-default-features \
      --features "$features" "${args[@]}"
  done
fi
echo "no_std proof: ${crates[*]} build for wasm32-unknown-unknown with core+alloc only, with and without their ndarray features"
