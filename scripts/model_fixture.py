"""Hugging Face GPT-2 parity fixture for spar-model, and the reverse check.

Mode `make` (the default) builds a small random `GPT2LMHeadModel` (vocab 67, n_positions 16,
n_embd 32, n_layer 2, n_head 4, seed 20240611; every LayerNorm gain/bias and every linear
bias perturbed away from its 1/0 initialisation), saves it with
`save_pretrained(safe_serialization=True)`, and writes, for fixed tokens (batch 2, length 12):

- `parity.json`: the config, `inputs` [B, T] and `targets` [B, T] (the next token of each
  position), `weights` [B, T], the `logits` [B, T, V] and the per-token log-probabilities
  `logprobs[b, t] = log softmax(logits[b, t])[targets[b, t]]` [B, T], and the objective
  `J = sum(logprobs * weights)`;
- `grads.safetensors`: dJ/dθ for every parameter, named as in spar's layout (HF names
  without the `transformer.` prefix; `wte.weight` holds the embedding and the tied output
  head's gradient together).

The reference numbers are computed in float64 from the float32 checkpoint, so they are the
exact values the stored f32 parameters define, up to f64 rounding.

Output goes to crates/spar-model/tests/fixtures/hf_tiny/ (model.safetensors, config.json,
parity.json, grads.safetensors; about 250 kB). Rerun, in a venv with torch, transformers and
safetensors installed:

    python3 scripts/model_fixture.py            # or: python3 scripts/model_fixture.py make

Mode `check DIR` is the reverse direction: DIR holds a checkpoint written by spar
(`model.safetensors` + `config.json`) and `spar_logits.json` (`inputs` [B, T] and the
`logits` [B, T, V] spar computed). The script loads DIR with
`GPT2LMHeadModel.from_pretrained`, fails if any key is missing, unexpected or mismatched,
recomputes the logits and fails if they differ from spar's by more than 1e-4:

    python3 scripts/model_fixture.py check /tmp/spar-export
"""

import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import GPT2Config, GPT2LMHeadModel

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "crates", "spar-model", "tests", "fixtures", "hf_tiny")
SEED = 20240611
B, T = 2, 12
TOL = 1e-4


def make():
    torch.manual_seed(SEED)
    config = GPT2Config(
        vocab_size=67,
        n_positions=16,
        n_embd=32,
        n_layer=2,
        n_head=4,
        layer_norm_epsilon=1e-5,
        activation_function="gelu_new",
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        tie_word_embeddings=True,
    )
    model = GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "ln_" in name and name.endswith(".weight"):
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p))
            elif name.endswith("wte.weight") or name.endswith("wpe.weight"):
                # Larger embeddings than the 0.02 init, so the logits spread out.
                p.mul_(10.0)

    os.makedirs(OUT, exist_ok=True)
    model.save_pretrained(OUT, safe_serialization=True)
    gen = os.path.join(OUT, "generation_config.json")
    if os.path.exists(gen):
        os.remove(gen)  # spar does not read it

    g = torch.Generator().manual_seed(SEED + 1)
    seq = torch.randint(0, config.vocab_size, (B, T + 1), generator=g)
    inputs, targets = seq[:, :T], seq[:, 1:]
    weights = torch.randn(B, T, generator=g, dtype=torch.float64)
    weights[1, 9:] = 0.0  # masked positions: their log-probs must get no gradient

    # Reference in float64 from the float32 parameters.
    ref_config = GPT2Config.from_dict(config.to_dict())
    ref_config._attn_implementation = "eager"  # the textbook softmax(QK^T/sqrt(d))V path
    ref = GPT2LMHeadModel(ref_config).double().eval()
    ref.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    logits = ref(inputs).logits  # (B, T, V)
    logprobs = torch.log_softmax(logits, dim=-1).gather(-1, targets[..., None])[..., 0]
    objective = (logprobs * weights).sum()
    objective.backward()

    grads = {}
    for name, p in ref.named_parameters():
        short = name.removeprefix("transformer.")
        if short == "lm_head.weight":
            continue  # tied: its gradient is already in wte.weight's
        grads[short] = p.grad.detach().to(torch.float32).contiguous()
    save_file(grads, os.path.join(OUT, "grads.safetensors"), metadata={"format": "pt"})

    def rounded(t):
        return [float(f"{x:.9g}") for x in t.detach().flatten().tolist()]

    parity = {
        "batch": B,
        "seq_len": T,
        "vocab_size": config.vocab_size,
        "inputs": inputs.tolist(),
        "targets": targets.tolist(),
        "weights": rounded(weights),
        "logits": rounded(logits),
        "logprobs": rounded(logprobs),
        "objective": objective.item(),
    }
    with open(os.path.join(OUT, "parity.json"), "w") as f:
        json.dump(parity, f, separators=(",", ":"))
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {sorted(os.listdir(OUT))} to {OUT} ({total} bytes), J = {objective.item():.6f}")


def check(path):
    model, info = GPT2LMHeadModel.from_pretrained(
        path, output_loading_info=True, attn_implementation="eager"
    )
    problems = {k: v for k, v in info.items() if v}
    if problems:
        sys.exit(f"from_pretrained reported {problems}")
    if model.lm_head.weight.data_ptr() != model.transformer.wte.weight.data_ptr():
        sys.exit("lm_head is not tied to wte")
    with open(os.path.join(path, "spar_logits.json")) as f:
        spar = json.load(f)
    inputs = torch.tensor(spar["inputs"])
    want = torch.tensor(spar["logits"], dtype=torch.float64).reshape(
        inputs.shape[0], inputs.shape[1], -1
    )
    with torch.no_grad():
        got = model.double().eval()(inputs).logits
    err = (got - want).abs().max().item()
    print(f"from_pretrained loaded {path}: {info}; max |logit difference| = {err:.3e}")
    if not err <= TOL:
        sys.exit(f"logits differ by {err} > {TOL}")
    print("OK")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "check":
        check(sys.argv[2])
    elif len(sys.argv) == 1 or sys.argv[1] == "make":
        make()
    else:
        sys.exit(__doc__)
