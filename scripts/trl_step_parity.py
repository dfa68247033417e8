"""Makes the step-parity fixture under crates/spar-train/tests/fixtures/trl_parity/.

What it records, with Hugging Face transformers and TRL themselves:
- a tiny GPT2LMHeadModel (character vocabulary of 15 ids: <pad> 0, <eos> 1, <unk> 2, the
  digits 3-12, "+" 13, "=" 14) saved with save_pretrained (init/);
- three GRPO steps of TRL's GRPOTrainer loss on injected rollouts: 8 two-digit addition
  prompts x 8 completions each (random digits, <eos> at a random place or none, padding
  after it), with injected rewards; per step the advantages (TRL's formula, scale_rewards
  "group"), the loss (loss_type "dapo", epsilon 0.2, beta 0, one iteration), the global
  gradient norm before clipping, then the optimiser step of the trainer's own AdamW (fresh,
  TRL defaults: betas 0.9/0.999, eps 1e-8, no weight decay, clip 1.0, constant lr 1e-4), in
  float32 as the reference run (bf16 off);
  the weights after the three steps (grpo_after.safetensors);
- ten supervised steps of a plain PyTorch loop (the baseline warm start's recipe: AdamW lr
  1e-3 constant, weight decay 0.1 on every parameter, no clipping, batches of 50 drawn by
  shuffled epochs over 200 labelled examples, loss on the answer and <eos> only), from the
  same initial weights: per step the batch, the loss, the gradient norm; the weights after
  the ten steps (sft_after.safetensors).

spar's test (crates/spar-train/tests/trl_parity.rs) loads init/, injects the same rollouts
and batches and must match: advantages to the last bits (the float64 formula; TRL's float32 values to
float32 rounding), losses and gradient norms to 1e-5 relative,
parameters after the steps to 1e-5 relative.

Run (CPU; the default torch wheel works):
    python3 -m venv venv && venv/bin/pip install "torch==2.15.*" "transformers==5.24.*" "trl==1.16.*" datasets accelerate
    venv/bin/python scripts/trl_step_parity.py
"""
import json
import os
import random
import shutil
import tempfile

import torch
from datasets import Dataset
from safetensors.torch import save_file
from transformers import GPT2Config, GPT2LMHeadModel
from trl import GRPOConfig, GRPOTrainer

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "spar-train", "tests", "fixtures", "trl_parity")
PAD, EOS = 0, 1
CHARS = "0123456789+="


def ids(text):
    return [3 + CHARS.index(c) for c in text]


def make_model(seed):
    torch.manual_seed(seed)
    cfg = GPT2Config(
        vocab_size=15,
        n_positions=16,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=EOS,
        eos_token_id=EOS,
        pad_token_id=PAD,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    return GPT2LMHeadModel(cfg)


def flat_state(model):
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items() if k != "lm_head.weight"}


def grpo(rng, init_dir):
    model = GPT2LMHeadModel.from_pretrained(init_dir)
    model.train()
    G, P, C = 8, 8, 6
    tmp = tempfile.mkdtemp()
    args = GRPOConfig(
        output_dir=tmp,
        learning_rate=1e-4,
        lr_scheduler_type="constant",
        per_device_train_batch_size=G * P,
        num_generations=G,
        max_completion_length=C,
        beta=0.0,
        epsilon=0.2,
        loss_type="dapo",
        scale_rewards="group",
        report_to=[],
        use_cpu=True,
        # The reference run's settings: float32 (TRL's config turns bf16 autocast on by
        # default), no gradient checkpointing, no dropout.
        bf16=False,
        fp16=False,
        gradient_checkpointing=False,
        disable_dropout=True,
        max_steps=3,
        logging_steps=1,
    )
    ds = Dataset.from_dict({"prompt": ["12+34="] * 8})
    trainer = GRPOTrainer(model=model, reward_funcs=lambda completions, **kw: [0.0] * len(completions),
                          args=args, train_dataset=ds)
    trainer.create_optimizer_and_scheduler(num_training_steps=3)
    trainer.current_gradient_accumulation_steps = 1
    steps = []
    for _ in range(3):
        prompts, completions, rewards = [], [], []
        for _ in range(P):
            a, b = rng.randint(10, 99), rng.randint(10, 99)
            p = ids(f"{a}+{b}=")
            for _ in range(G):
                n = rng.randint(1, C)
                toks = [3 + rng.randint(0, 9) for _ in range(n)]
                if rng.random() < 0.8 and n < C:
                    toks.append(EOS)
                prompts.append(p)
                completions.append(toks)
                rewards.append(float(rng.random() < 0.4))
        comp = torch.full((len(completions), C), PAD, dtype=torch.long)
        cmask = torch.zeros((len(completions), C), dtype=torch.long)
        for i, c in enumerate(completions):
            comp[i, : len(c)] = torch.tensor(c)
            cmask[i, : len(c)] = 1
        r = torch.tensor(rewards)
        # TRL's advantages (GRPOTrainer._generate_and_score_completions, scale_rewards "group").
        mean = r.view(-1, G).mean(dim=1).repeat_interleave(G, dim=0)
        std = r.view(-1, G).std(dim=1).repeat_interleave(G, dim=0)
        adv = (r - mean) / (std + 1e-4)
        # The same formula in float64 (spar computes advantages in f64; TRL's float32 values
        # above differ from these by float32 rounding only).
        r64 = r.double()
        mean64 = r64.view(-1, G).mean(dim=1).repeat_interleave(G, dim=0)
        std64 = r64.view(-1, G).std(dim=1).repeat_interleave(G, dim=0)
        adv64 = (r64 - mean64) / (std64 + 1e-4)
        inputs = {
            "prompt_ids": torch.tensor(prompts),
            "prompt_mask": torch.ones((len(prompts), len(prompts[0])), dtype=torch.long),
            "completion_ids": comp,
            "completion_mask": cmask,
            "advantages": adv,
            "old_per_token_logps": None,
            "num_items_in_batch": cmask.sum(),
        }
        trainer.optimizer.zero_grad()
        loss = trainer.compute_loss(model, inputs)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
        trainer.optimizer.step()
        trainer.lr_scheduler.step()
        steps.append({
            "prompts": prompts,
            "completions": completions,
            "rewards": rewards,
            "advantages": adv.tolist(),
            "advantages_f64": adv64.tolist(),
            "loss": loss.item(),
            "grad_norm": norm.item(),
        })
    shutil.rmtree(tmp, ignore_errors=True)
    save_file(flat_state(model), os.path.join(OUT, "grpo_after.safetensors"), metadata={"format": "pt"})
    return {"learning_rate": 1e-4, "num_generations": G, "max_completion_length": C, "steps": steps}


def sft(rng, init_dir):
    model = GPT2LMHeadModel.from_pretrained(init_dir)
    model.train()
    examples = []
    for _ in range(200):
        a, b = rng.randint(10, 99), rng.randint(10, 99)
        examples.append((ids(f"{a}+{b}="), ids(str(a + b)) + [EOS]))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    g = torch.Generator().manual_seed(0)
    steps, bs = [], 50
    while len(steps) < 10:
        perm = torch.randperm(len(examples), generator=g).tolist()
        for j in range(0, len(examples), bs):
            if len(steps) == 10:
                break
            idx = perm[j : j + bs]
            seqs = [examples[i][0] + examples[i][1] for i in idx]
            L = max(len(s) for s in seqs)
            X = torch.full((len(idx), L), PAD, dtype=torch.long)
            Y = torch.full((len(idx), L), -100, dtype=torch.long)
            M = torch.zeros((len(idx), L), dtype=torch.long)
            for r, i in enumerate(idx):
                p, a = examples[i]
                X[r, : len(p) + len(a)] = torch.tensor(p + a)
                Y[r, len(p) : len(p) + len(a)] = torch.tensor(a)
                M[r, : len(p) + len(a)] = 1
            out = model(input_ids=X, attention_mask=M, labels=Y)
            opt.zero_grad()
            out.loss.backward()
            norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in model.parameters() if p.grad is not None))
            opt.step()
            steps.append({"batch": idx, "loss": out.loss.item(), "grad_norm": norm.item()})
    save_file(flat_state(model), os.path.join(OUT, "sft_after.safetensors"), metadata={"format": "pt"})
    return {
        "learning_rate": 1e-3,
        "weight_decay": 0.1,
        "examples": [{"prompt": p, "answer": a} for p, a in examples],
        "steps": steps,
    }


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    init_dir = os.path.join(OUT, "init")
    make_model(0).save_pretrained(init_dir)
    rng = random.Random(0)
    fixture = {"grpo": grpo(rng, init_dir), "sft": sft(rng, init_dir)}
    with open(os.path.join(OUT, "steps.json"), "w") as f:
        json.dump(fixture, f)
    print("fixture written under", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
