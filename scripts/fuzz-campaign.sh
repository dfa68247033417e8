#!/usr/bin/env bash
# The fuzz campaign RELIABILITY.md records: builds every cargo-fuzz target once, then runs
# each in turn with ONE libFuzzer worker for SECONDS (default 180) on its committed corpus
# (fuzz/corpora/TARGET, read) and a scratch corpus (written), merges what it found into a
# fresh minimal corpus that replaces fuzz/corpora/TARGET, and prints one row per target:
# executions, seconds, coverage (cov: and ft: of libFuzzer's last status line), crashes.
# Crash inputs are kept beside the logs (crash-*). Logs go to target/fuzz-campaign/.
#
#   scripts/fuzz-campaign.sh [SECONDS] [TARGET...]     (default: every target in fuzz/)
#   FUZZ_DEADLINE=10:15 scripts/fuzz-campaign.sh 180   (UTC; starts no target that would end after it)
#   FUZZ_RUNS=10000000 scripts/fuzz-campaign.sh 3600   (a target stops at 10^7 executions or an hour)
#   FUZZ_SUMMARY=long.tsv ...                          (two campaigns at once keep separate tables)
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-180}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^spar-fuzz$')
fi
logs=$PWD/target/fuzz-campaign
mkdir -p "$logs"
(cd fuzz && cargo +nightly fuzz build -O >/dev/null)
bin=$PWD/fuzz/target/x86_64-unknown-linux-gnu/release
deadline=""
if [ -n "${FUZZ_DEADLINE:-}" ]; then
  deadline=$(date -u -d "$FUZZ_DEADLINE" +%s)
fi
summary=$logs/${FUZZ_SUMMARY:-summary.tsv}
printf 'target\texecutions\tseconds\tcov\tft\tcrashes\tcorpus_files\tcorpus_bytes\n' >"$summary"
for t in "${targets[@]}"; do
  if [ -n "$deadline" ] && (($(date -u +%s) + secs > deadline)); then
    echo "not starting $t: it would end after $FUZZ_DEADLINE UTC"
    continue
  fi
  committed=fuzz/corpora/$t
  scratch=$logs/corpus-$t
  mkdir -p "$committed" "$scratch"
  rm -f "$logs/$t-crash-"*
  t0=$(date +%s)
  set +e
  # One process, one worker (libFuzzer's default; `-jobs` would fork and log elsewhere).
  runs=()
  if [ -n "${FUZZ_RUNS:-}" ]; then runs=(-runs="$FUZZ_RUNS"); fi
  "$bin/$t" "$scratch" "$committed" -max_total_time="$secs" "${runs[@]}" -print_final_stats=1 \
    -artifact_prefix="$logs/$t-" >"$logs/$t.log" 2>&1
  rc=$?
  set -e
  took=$(($(date +%s) - t0))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -1)
  status=$(grep -E '^#[0-9]+.*cov: ' "$logs/$t.log" | tail -1 || true)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$status")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status")
  crashes=$(find "$logs" -maxdepth 1 -name "$t-crash-*" | wc -l)
  # A fresh minimal corpus: the fewest inputs of scratch and the committed one that keep
  # every coverage feature (libFuzzer's set-cover merge).
  fresh=$logs/min-$t
  rm -rf "$fresh" && mkdir -p "$fresh"
  "$bin/$t" -set_cover_merge=1 "$fresh" "$committed" "$scratch" >"$logs/$t-merge.log" 2>&1 || true
  if [ -n "$(ls -A "$fresh")" ]; then
    rm -rf "$committed" && mv "$fresh" "$committed"
  fi
  files=$(find "$committed" -type f | wc -l)
  bytes=$(du -sb "$committed" | cut -f1)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "${execs:-?}" "$took" "${cov:-?}" "${ft:-?}" \
    "$crashes" "$files" "$bytes" | tee -a "$summary"
  ((rc == 0)) || echo "$t: libFuzzer exited $rc (see $logs/$t.log)"
done
column -t "$summary"
