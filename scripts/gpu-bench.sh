#!/usr/bin/env bash
# GPU speed goals of spar-gpu against PyTorch on the same machine, in the same run.
#
# What it makes: RESULT {json} lines on stdout (spar-gpu's and PyTorch's), then one
# RESULT {"goal": ...} line per goal with the measured ratio:
#   - WGSL sgemm >= 0.7x PyTorch fp32 matmul (TF32 off) at 4096^3
#   - train tokens/s >= 1.5x PyTorch eager (SDPA) at C0, C1, C2 and >= 0.5x at C3
#   - rollout (16 prompts x 16 tokens, 64 new, greedy, KV cache) >= 5x PyTorch genkv at C1, C2
#
# It builds nothing on the GPU machine. Prepare on a build machine (x86-64 Linux binaries run
# there unchanged):
#   cargo build -p spar-gpu --release --example gpu_bench
#   (binary: target/release/examples/gpu_bench, or under $CARGO_TARGET_DIR)
# then, on the GPU machine (NVIDIA driver + Debian's libvulkan1; python3 with CUDA torch):
#   scripts/gpu-bench.sh [path/to/gpu_bench]
# Environment: PYTHON (default python3), SPAR_GPU_CFGS (default "C0 C1 C2 C3"),
# SPAR_GPU_VARIANTS (default "portable f16 fused": extra spar-gpu runs with those optional
# paths, see gpu_bench's SPAR_GPU_OPTS; the goals use the default paths' lines only).
# The first RESULT line says which optional features the adapter offers (subgroups, f16,
# cooperative matrices) and which paths the default run uses.
set -u
cd "$(dirname "$0")/.."
BIN=${1:-${SPAR_GPU_BENCH_BIN:-target/release/examples/gpu_bench}}
PY=${PYTHON:-python3}
CFGS=${SPAR_GPU_CFGS:-C0 C1 C2 C3}
VARIANTS=${SPAR_GPU_VARIANTS:-portable f16 fused}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
LOG=$(mktemp)

if [ ! -x "$BIN" ]; then
  echo "no gpu_bench binary at $BIN (build it first: see the header of this script)" >&2
  exit 1
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
date -u +"date %Y-%m-%dT%H:%M:%SZ"

run() { echo "+ $*" >&2; "$@" 2>&1 | tee -a "$LOG"; }

run "$BIN" features
run "$BIN" sgemm 2048
run "$BIN" sgemm 4096
for v in $VARIANTS; do
  SPAR_GPU_OPTS=$v run "$BIN" sgemm 4096
done
run "$PY" - <<'PYEOF'
import json, time, torch
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = "cuda" if torch.cuda.is_available() else "cpu"
for n in (2048, 4096):
    a = torch.randn(n, n, device=dev); b = torch.randn(n, n, device=dev)
    for _ in range(3): a @ b
    if dev == "cuda": torch.cuda.synchronize()
    reps = 20; t0 = time.perf_counter()
    for _ in range(reps): a @ b
    if dev == "cuda": torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    print("RESULT " + json.dumps(dict(kind="sgemm", impl="torch-fp32", n=n, gflops=2 * n**3 * reps / dt / 1e9)), flush=True)
PYEOF

for cfg in $CFGS; do
  run "$BIN" train "$cfg"
  run "$PY" benches/gpt_bench.py train --cfg "$cfg" --attn sdpa
done
for v in $VARIANTS; do
  for cfg in C1 C3; do
    SPAR_GPU_OPTS=$v run "$BIN" train "$cfg"
  done
done
# every GPU path in turn, interleaved step by step (median step time per path)
run "$BIN" paths C1 10
for cfg in C1 C2; do
  run "$BIN" genkv "$cfg"
  run "$PY" benches/gpt_bench.py genkv --cfg "$cfg"
done

"$PY" - "$LOG" <<'PYEOF'
import json, sys
rows = [json.loads(l.split("RESULT ", 1)[1]) for l in open(sys.argv[1]) if l.startswith("RESULT ")]
def pick(pred, key):
    # spar-gpu's lines: the default paths only (the variants are reported, not goals)
    xs = [r[key] for r in rows if pred(r) and r.get("variant", "default") == "default"]
    return xs[-1] if xs else None
def goal(name, ours, theirs, bar):
    ratio = None if not ours or not theirs else ours / theirs
    print("RESULT " + json.dumps(dict(goal=name, spar=ours, torch=theirs, ratio=ratio, bar=bar,
                                      met=None if ratio is None else ratio >= bar)), flush=True)
goal("sgemm 4096 vs torch fp32",
     pick(lambda r: r.get("bench") == "sgemm" and r["n"] == 4096, "gflops"),
     pick(lambda r: r.get("kind") == "sgemm" and r["n"] == 4096, "gflops"), 0.7)
for cfg in "C0 C1 C2 C3".split():
    goal(f"train {cfg} vs torch eager sdpa",
         pick(lambda r: r.get("bench") == "train" and r["cfg"] == cfg, "tokens_per_s"),
         pick(lambda r: r.get("kind") == "train" and r["cfg"] == cfg, "tokens_per_s"),
         0.5 if cfg == "C3" else 1.5)
for cfg in ("C1", "C2"):
    goal(f"rollout {cfg} vs torch genkv",
         pick(lambda r: r.get("bench") == "genkv" and r["cfg"] == cfg, "new_tokens_per_s"),
         pick(lambda r: r.get("kind") == "gen" and r["cfg"] == cfg and r.get("kv_cache") and r.get("greedy"), "new_tokens_per_s"),
         5.0)
PYEOF
rm -f "$LOG"
