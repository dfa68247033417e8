#!/usr/bin/env bash
# Kill-and-resume proof for every loop with checkpoints: `spar train` (SFT then GRPO) and
# `spar selfplay` for Kuhn poker, tic-tac-toe and Absolute Zero, on the CPU backend. For
# each, an uninterrupted reference run; then the same run killed with SIGKILL KILLS times
# (default 20) and resumed with `--resume` after each kill. Two kills in three come at a
# random moment (once the process has written 1–3 metrics lines more than there were when
# it started, plus 0–39 ms: anywhere in a step, an evaluation or a checkpoint, never after
# the run ended); every third waits until the process has begun writing a checkpoint (its
# `.step-*.tmp-PID` directory exists; SPAR_FAULT_CHECKPOINT_PAUSE_MS widens that window
# without changing anything computed) and kills it there. The final checkpoint (parameters,
# optimiser moments and state, the loop's state, every file) and metrics.jsonl must equal
# the reference's byte for byte, with no metrics line lost or repeated, and nothing a
# killed writer left may remain.
#
#   scripts/kill-resume.sh            # 20 kills per loop (about 2 minutes on 2 cores)
#   scripts/kill-resume.sh 3 short    # the CI size: 3 kills per loop, shorter runs
#
# Builds the release binary first, unless SPAR_BIN names one (CI passes the one its tests
# stage built). KILL_RESUME_SEED picks the random moments (default 20); KILL_RESUME_KEEP=1
# keeps the runs' directories and prints where they are.
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-20}
size=${2:-full}
spar=${SPAR_BIN:-}
if [ -z "$spar" ]; then
  cargo build --release -q -p spar-cli
  spar=$PWD/target/release/spar
fi
work=$(mktemp -d)
if [ -n "${KILL_RESUME_KEEP:-}" ]; then echo "work: $work"; else trap 'rm -rf "$work"' EXIT; fi
RANDOM=${KILL_RESUME_SEED:-20}
if [ "$size" = short ]; then steps=10 ttt=12 azr=8 every=4; else steps=100 ttt=80 azr=50 every=10; fi

# The configs: tiny models, a checkpoint every 1–2 steps, evaluations mid-run.
cat >"$work/train.toml" <<TOML
seed = 11
save_steps = 2
logging_steps = 5
eval_steps = $every
backend = "cpu"
[model]
n_embd = 16
[task]
name = "sort"
num_train_problems = 60
num_eval_problems = 8
[sft]
max_steps = $steps
per_device_train_batch_size = 8
[grpo]
max_steps = $steps
per_device_train_batch_size = 8
num_generations = 4
beta = 0.02
[eval]
num_samples = 2
TOML
sed -e "s/max_steps = 600/max_steps = $((steps * 2))\nsave_steps = 2/" \
  -e 's/games_per_step = 64/games_per_step = 16/' configs/kuhn_selfplay.toml >"$work/kuhn.toml"
sed -e "s/max_steps = 300/max_steps = $ttt\nsave_steps = 2/" -e 's/games_per_step = 64/games_per_step = 8/' \
  -e 's/eval_games = 100/eval_games = 5/' configs/tictactoe_selfplay.toml >"$work/tictactoe.toml"
sed -e "s/max_steps = 300/max_steps = $azr\nsave_steps = 1/" -e 's/warmup_steps = 80/warmup_steps = 4/' \
  -e 's/proposals_per_type = 16/proposals_per_type = 4/' -e 's/solves_per_type = 16/solves_per_type = 4/' \
  -e 's/eval_tasks_per_type = 32/eval_tasks_per_type = 3/' -e 's/eval_every = 25/eval_every = 2/' \
  configs/absolute_zero.toml >"$work/absolute_zero.toml"
for f in kuhn tictactoe absolute_zero; do
  grep -q "save_steps = " "$work/$f.toml" || { echo "$f: the config edit did not apply"; exit 1; }
done

# check NAME CONFIG COMMAND...: the reference run, the killed-and-resumed run, the comparison.
check() {
  local name=$1 cfg=$2
  shift 2
  local ref=$work/$name/ref run=$work/$name/run log=$work/$name/log
  mkdir -p "$work/$name"
  local t0
  t0=$(date +%s%N)
  "$spar" "$@" --backend cpu --config "$cfg" --output "$ref" >/dev/null 2>"$log.ref" ||
    { cat "$log.ref"; exit 1; }
  local ref_ms=$((($(date +%s%N) - t0) / 1000000))
  local n=0 mid=0 resumes=0 pid
  lines0() { if [ -f "$run/metrics.jsonl" ]; then wc -l <"$run/metrics.jsonl"; else echo 0; fi; }
  while :; do
    local resume=()
    if [ -f "$run/latest" ]; then resume=(--resume) && resumes=$((resumes + 1)); fi
    # Every third run pauses 20 ms after each checkpoint file, to be killed inside a write.
    local pause=0
    ((n % 3 == 2)) && pause=20
    SPAR_FAULT_CHECKPOINT_PAUSE_MS=$pause "$spar" "$@" --backend cpu --config "$cfg" \
      --output "$run" "${resume[@]}" >/dev/null 2>>"$log" &
    pid=$!
    if ((n >= kills)); then
      wait "$pid" || { tail -20 "$log"; echo "$name: the last resume failed"; exit 1; }
      break
    fi
    if ((n % 3 == 2)); then
      # Until this process has a checkpoint half-written (or it ends).
      while kill -0 "$pid" 2>/dev/null && ! compgen -G "$run/.step-*.tmp-$pid" >/dev/null; do
        sleep 0.005
      done
    else
      # Until 1–3 more metrics lines than at the start, then 0–39 ms more: a random moment
      # inside some step (or evaluation, or checkpoint), never after the run has ended.
      local want
      want=$(($(lines0) + 1 + RANDOM % 3))
      while kill -0 "$pid" 2>/dev/null && (($(lines0) < want)); do
        sleep 0.005
      done
      sleep "0.0$((RANDOM % 4))$((RANDOM % 10))"
    fi
    local inside=0
    compgen -G "$run/.step-*.tmp-$pid" >/dev/null && inside=1
    if kill -9 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      n=$((n + 1))
      mid=$((mid + inside))
    else
      wait "$pid" || { tail -20 "$log"; echo "$name: a run failed"; exit 1; }
      echo "$name: the run ended after $n of $kills kills; make it longer"
      exit 1
    fi
  done
  local last
  last=$(cat "$ref/latest")
  [ "$(cat "$run/latest")" = "$last" ] || { echo "$name: latest differs"; exit 1; }
  local files=0
  for f in "$ref/$last"/*; do
    cmp "$f" "$run/$last/$(basename "$f")" || { echo "$name: $last/$(basename "$f") differs"; exit 1; }
    files=$((files + 1))
  done
  cmp "$ref/metrics.jsonl" "$run/metrics.jsonl" || { echo "$name: metrics.jsonl differs"; exit 1; }
  local lines dup
  lines=$(wc -l <"$run/metrics.jsonl")
  dup=$(sort "$run/metrics.jsonl" | uniq -d | wc -l)
  ((dup == 0)) || { echo "$name: $dup repeated metrics lines"; exit 1; }
  if compgen -G "$run/.*tmp-*" >/dev/null; then
    echo "$name: a killed writer's temporary remains"
    exit 1
  fi
  echo "$name: $n kills ($mid inside a checkpoint write), $resumes resumes; $last ($files files)" \
    "and metrics.jsonl ($lines lines) identical to the uninterrupted run (${ref_ms} ms)"
}

check train "$work/train.toml" train
check kuhn "$work/kuhn.toml" selfplay --game kuhn
check tictactoe "$work/tictactoe.toml" selfplay --game tictactoe --eval-every 2
check absolute_zero "$work/absolute_zero.toml" selfplay --game absolute_zero
echo "kill-resume: every loop survived $kills kills per run bit for bit"
