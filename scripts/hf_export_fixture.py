"""Records what Hugging Face transformers generates from a checkpoint directory spar wrote.

The directory crates/spar-train/tests/fixtures/hf_export/ is made by spar itself:

    cargo run --release -p spar-train --example hf_export_fixture

(a tiny GPT trained by SFT on two-digit addition, saved as `spar train` saves a checkpoint;
only the files Hugging Face reads are kept). This script loads it with
`AutoTokenizer.from_pretrained(dir)` and `AutoModelForCausalLM.from_pretrained(dir)` and
no other argument, checks that the loading reported no missing, unexpected or mismatched
weights, runs `model.generate(**inputs)` with no generation arguments (greedy decoding,
the end token and `max_length` come from the directory's generation_config.json) on a few
prompts, one at a time, and writes generate.json beside the checkpoint:

- `prompts`: the prompt texts;
- per prompt: `prompt_ids` (what the tokenizer encoded), `completion_ids` (the generated
  ids after the prompt, the end token included when generate stopped on it),
  `stopped_at_eos`, and `text` (the completion decoded with skip_special_tokens=True);
- the versions of torch and transformers used.

spar's test (crates/spar-train/tests/hf_export.rs) checks the directory's files and that
spar's greedy sampling of the same checkpoint gives exactly these ids and texts.

Run (CPU; the default torch wheel works):
    python3 -m venv venv && venv/bin/pip install "torch==2.*" "transformers==5.*" safetensors
    venv/bin/python scripts/hf_export_fixture.py
"""
import json
import os

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(REPO, "crates", "spar-train", "tests", "fixtures", "hf_export")
# Addition prompts the model answers (and some it may not), a paraphrased form, and a prompt
# that is not a question at all (generation may run to max_length without the end token).
PROMPTS = ["12+34=", "7+8=", "56+29=", "90+9=", "add 41 17:", "3+", "=="]


def main():
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(DIR)
    model, info = AutoModelForCausalLM.from_pretrained(DIR, output_loading_info=True)
    bad = {k: v for k, v in info.items() if v}
    if bad:
        raise SystemExit(f"loading reported {bad}")
    model.eval()
    eos = model.generation_config.eos_token_id
    assert eos is not None and eos == tok.eos_token_id, (eos, tok.eos_token_id)
    records = []
    for prompt in PROMPTS:
        inputs = tok(prompt, return_tensors="pt")
        with torch.no_grad():
            out = model.generate(**inputs)
        prompt_ids = inputs["input_ids"][0].tolist()
        completion = out[0, len(prompt_ids):].tolist()
        records.append(
            {
                "prompt": prompt,
                "prompt_ids": prompt_ids,
                "completion_ids": completion,
                "stopped_at_eos": bool(completion) and completion[-1] == eos,
                "text": tok.decode(completion, skip_special_tokens=True),
            }
        )
        print(f"{prompt!r} -> {records[-1]['text']!r} {completion}")
    fixture = {
        "made_by": "scripts/hf_export_fixture.py",
        "torch": torch.__version__.split("+")[0],
        "transformers": transformers.__version__,
        "eos_token_id": eos,
        "generations": records,
    }
    with open(os.path.join(DIR, "generate.json"), "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
