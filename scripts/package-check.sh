#!/usr/bin/env bash
# Proves every crate of the workspace can be published: `cargo package` for all of them
# (versions on path dependencies, metadata; the unpublished spar crates resolve from the
# workspace), with any warning counted as a failure, then a look inside each .crate: every
# `include_str!`/`include_bytes!` of its library and binary sources must name a file the
# archive carries (a path out of the crate directory builds here but not from crates.io).
#
# It does not compile the archives (`--no-verify`): the workspace build already compiles the
# same sources. Writes target/package/*.crate. Run it alone: bash scripts/package-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# --allow-dirty: packaging reads the working tree; CI's checkout may hold generated files.
cargo package --workspace --no-verify --allow-dirty 2>&1 | tee "$log"
if grep -q '^warning' "$log"; then
  echo "package check: cargo package warned (see above)" >&2
  exit 1
fi

version=$(awk -F'"' '/^\[workspace.package\]/ { p = 1 } p && /^version/ { print $2; exit }' Cargo.toml)
members=(.)
for d in crates/*/; do members+=("${d%/}"); done
failed=0
for dir in "${members[@]}"; do
  name=$(awk -F'"' '/^\[package\]/ { p = 1 } p && /^name/ { print $2; exit }' "$dir/Cargo.toml")
  crate="target/package/$name-$version.crate"
  [ -f "$crate" ] || { echo "package check: $crate is missing" >&2; failed=1; continue; }
  root="$name-$version"
  files=$(tar tzf "$crate")
  for src in $(grep -E "^$root/(src/.*\.rs|build\.rs)$" <<<"$files"); do
    while IFS= read -r rel; do
      [ -n "$rel" ] || continue
      target=$(realpath -m --relative-to=. "$(dirname "$src")/$rel")
      if ! grep -qxF "$target" <<<"$files"; then
        echo "package check: $src includes $rel, which $crate does not carry" >&2
        failed=1
      fi
    done < <(tar xzf "$crate" -O "$src" | grep -oE 'include_(str|bytes)!\("[^"]+"\)' | sed -E 's/^[^"]*"([^"]+)".*$/\1/')
  done
done
[ "$failed" = 0 ] || exit 1
echo "package check: ${#members[@]} crates package, and every file their sources include is inside"
