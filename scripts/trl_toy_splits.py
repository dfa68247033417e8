"""Writes configs/data/trl_toy_problems.json: the exact problem splits of the TRL toy-task
reference (2-digit addition; all 90 x 90 pairs a, b in [10, 99], shuffled with Python's
random.Random(0)): 200 labelled (SFT), 5,000 unlabelled (the GRPO prompts), 500 held out
(evaluation). The reference's 500 "dev" problems (its SFT stopping point) are left out.

Run: python3 scripts/trl_toy_splits.py  (standard library only)
"""
import json
import os
import random

pairs = [(a, b) for a in range(10, 100) for b in range(10, 100)]
random.Random(0).shuffle(pairs)
out = {
    "labelled": [list(p) for p in pairs[:200]],
    "unlabelled": [list(p) for p in pairs[700:5700]],
    "eval": [list(p) for p in pairs[200:700]],
}
path = os.path.join(os.path.dirname(__file__), "..", "configs", "data", "trl_toy_problems.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
print("wrote", os.path.normpath(path))
