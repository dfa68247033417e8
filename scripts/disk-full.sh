#!/usr/bin/env bash
# A real full disk (no injected budget): `spar train` writes its output into a small tmpfs,
# mounted in a private mount namespace of an unprivileged user namespace (`unshare -rm`; no
# root needed where user namespaces are allowed), until a checkpoint or a metrics line no
# longer fits. The run must stop with an error naming the step and the file ("No space left
# on device"), leave no temporary, keep `latest` naming a checkpoint that verifies; that
# directory, copied onto a disk with room and resumed with `--resume`, must end on an
# uninterrupted run's bytes (final checkpoint and metrics.jsonl).
#
#   scripts/disk-full.sh      (builds the release binary unless SPAR_BIN names one)
set -euo pipefail
cd "$(dirname "$0")/.."
spar=${SPAR_BIN:-}
if [ -z "$spar" ]; then
  cargo build --release -q -p spar-cli
  spar=$PWD/target/release/spar
fi
if ! unshare -rm true 2>/dev/null; then
  echo "disk-full: user namespaces are not available here (unshare -rm); nothing checked"
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/train.toml" <<TOML
seed = 5
save_steps = 2
logging_steps = 5
eval_steps = 10
backend = "cpu"
[model]
n_embd = 16
[task]
name = "sort"
num_train_problems = 60
num_eval_problems = 8
[sft]
max_steps = 20
per_device_train_batch_size = 8
[grpo]
max_steps = 20
per_device_train_batch_size = 8
num_generations = 4
beta = 0.02
[eval]
num_samples = 2
TOML
"$spar" train --config "$work/train.toml" --output "$work/ref" >/dev/null 2>&1
# Several sizes, so that the disk fills at different points (a checkpoint file, a metrics line).
for size in ${DISK_FULL_SIZES:-192k 288k 384k 480k}; do
  rm -rf "$work/small" "$work/copy" "$work/rc" "$work/err"
  mkdir -p "$work/small"
  set +e
  unshare -rm bash -c '
    set -u
    mount -t tmpfs -o size="$3" tmpfs "$2/small" || exit 3
    "$1" train --config "$2/train.toml" --output "$2/small/out" >/dev/null 2>"$2/err"
    echo $? >"$2/rc"
    cp -r "$2/small/out" "$2/copy"
  ' _ "$spar" "$work" "$size"
  set -e
  [ -f "$work/rc" ] || { echo "disk-full: the tmpfs could not be mounted"; exit 1; }
  rc=$(cat "$work/rc")
  err=$(grep -m1 "^error" "$work/err" || true)
  if ((rc == 0)); then
    echo "disk-full: the run fitted in $size; nothing was tested"
    exit 1
  fi
  grep -q "No space left on device" <<<"$err" || { cat "$work/err"; echo "disk-full: not a full disk"; exit 1; }
  grep -qE "step [0-9]+" <<<"$err" || { cat "$work/err"; echo "disk-full: the step is not named"; exit 1; }
  if compgen -G "$work/copy/.*tmp-*" >/dev/null; then
    echo "disk-full: a temporary was left"
    exit 1
  fi
  kept=$(cat "$work/copy/latest" 2>/dev/null || echo "no checkpoint")
  resume=(--resume)
  [ -f "$work/copy/latest" ] || resume=()
  "$spar" train --config "$work/train.toml" --output "$work/copy" "${resume[@]}" >/dev/null \
    2>"$work/resume-err" || { cat "$work/resume-err"; exit 1; }
  last=$(cat "$work/ref/latest")
  for f in model.safetensors optimizer.safetensors state.json; do
    cmp "$work/ref/$last/$f" "$work/copy/$last/$f"
  done
  cmp "$work/ref/metrics.jsonl" "$work/copy/metrics.jsonl"
  echo "disk-full $size: $err"
  echo "disk-full $size: latest named $kept; resumed from it to $last, identical to the uninterrupted run"
done
