#!/usr/bin/env python3
"""Reference GPT-2-style model in PyTorch (pre-LN, learned positions, GELU-tanh MLP x4, tied
embeddings, causal attention, AdamW): training and generation throughput on CPU or CUDA.

This is the project's reference for spar-model's speed figures: the same model and the same
configurations as spar's GPT (`spar_model::GptConfig::C0`..`C3`), measured in PyTorch eager on
the same machine, in the same session, right before or after
`cargo run --release -p spar-model --example bench_table`, so that ratios are comparable.

Run it in a virtual environment with torch installed (the default CPU wheel is enough):
  python3 -m venv venv && venv/bin/pip install torch
  venv/bin/python benches/gpt_bench.py train --cfg C1 --threads 2

Usage:
  python gpt_bench.py train   --cfg C0 [--attn manual|sdpa] [--compile]
  python gpt_bench.py gen     --cfg C1 [--attn manual|sdpa] [--compile]   (recomputes the prefix each token)
  python gpt_bench.py genkv   --cfg C1                                  (with a KV cache)
Prints one JSON line per measurement (prefixed with RESULT).
"""
import argparse, json, math, os, statistics, sys, time
import torch
DEV = "cuda" if torch.cuda.is_available() else "cpu"
def sync():
    if DEV == "cuda": torch.cuda.synchronize()
import torch.nn as nn
import torch.nn.functional as F

CFGS = {
    "C0": dict(vocab=64, ctx=64, d=64, layers=2, heads=2, batch=32),
    "C1": dict(vocab=256, ctx=128, d=128, layers=4, heads=4, batch=16),
    "C2": dict(vocab=512, ctx=256, d=256, layers=6, heads=8, batch=8),
    "C3": dict(vocab=50304, ctx=1024, d=768, layers=12, heads=12, batch=8),
    "C2b": dict(vocab=512, ctx=256, d=256, layers=6, heads=8, batch=64),
}


class Attn(nn.Module):
    def __init__(s, d, h, ctx, mode):
        super().__init__()
        s.h, s.mode = h, mode
        s.qkv = nn.Linear(d, 3 * d)
        s.proj = nn.Linear(d, d)
        s.register_buffer("mask", torch.tril(torch.ones(ctx, ctx, dtype=torch.bool)), persistent=False)

    def forward(s, x):
        B, T, C = x.shape
        q, k, v = s.qkv(x).split(C, dim=2)
        q = q.view(B, T, s.h, C // s.h).transpose(1, 2)
        k = k.view(B, T, s.h, C // s.h).transpose(1, 2)
        v = v.view(B, T, s.h, C // s.h).transpose(1, 2)
        if s.mode == "sdpa":
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # explicit: QK^T, mask, softmax, @V
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(~s.mask[:T, :T], float("-inf"))
            att = F.softmax(att, dim=-1)
            y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return s.proj(y)


class Block(nn.Module):
    def __init__(s, d, h, ctx, mode):
        super().__init__()
        s.ln1, s.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        s.attn = Attn(d, h, ctx, mode)
        s.fc, s.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(s, x):
        x = x + s.attn(s.ln1(x))
        return x + s.out(F.gelu(s.fc(s.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(s, vocab, ctx, d, layers, heads, mode="manual", **_):
        super().__init__()
        s.ctx = ctx
        s.tok = nn.Embedding(vocab, d)
        s.pos = nn.Embedding(ctx, d)
        s.blocks = nn.ModuleList([Block(d, heads, ctx, mode) for _ in range(layers)])
        s.lnf = nn.LayerNorm(d)
        s.head = nn.Linear(d, vocab, bias=False)
        s.head.weight = s.tok.weight  # tied
        s.apply(s._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(s, idx):
        B, T = idx.shape
        x = s.tok(idx) + s.pos(torch.arange(T, device=idx.device))
        for b in s.blocks:
            x = b(x)
        return s.head(s.lnf(x))


def flops_per_token_train(c):
    """Matmul FLOPs per trained token = 3 x forward (fwd + 2x bwd).
    forward = 2*(12*L*d^2 + vocab*d)  [qkv,proj,fc,out + lm head]
            + 4*L*ctx*d               [QK^T and AV, full TxT, no causal savings]"""
    L, d, V, T = c["layers"], c["d"], c["vocab"], c["ctx"]
    fwd = 2 * (12 * L * d * d + V * d) + 4 * L * T * d
    return 3 * fwd


def train(cfg_name, mode, compile_, warm=5, steps=20):
    c = CFGS[cfg_name]
    torch.manual_seed(0)
    model = GPT(mode=mode, **c).to(DEV)
    nparams = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1, fused=(DEV=="cuda"))
    fwd = model
    t_compile = None
    if compile_:
        fwd = torch.compile(model)
    B, T, V = c["batch"], c["ctx"], c["vocab"]
    g = torch.Generator().manual_seed(1)
    data = torch.randint(0, V, (warm + steps, B, T + 1), generator=g).to(DEV)

    def step(i):
        x, y = data[i, :, :-1], data[i, :, 1:]
        logits = fwd(x)
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    times, losses = [], []
    for i in range(warm + steps):
        sync(); t0 = time.perf_counter()
        losses.append(step(i))
        sync(); dt = time.perf_counter() - t0
        if i == 0 and compile_:
            t_compile = dt
        if i >= warm:
            times.append(dt)
    med = statistics.median(times)
    tok = B * T
    fpt = flops_per_token_train(c)
    res = dict(kind="train", cfg=cfg_name, attn=mode, compile=compile_, params=nparams,
               tokens_per_step=tok, median_step_s=med, min_step_s=min(times),
               tokens_per_s=tok / med, model_gflops=fpt * tok / med / 1e9,
               flops_per_token=fpt, first_step_s=t_compile, loss_first=losses[0], loss_last=losses[-1],
               threads=torch.get_num_threads())
    print("RESULT " + json.dumps(res), flush=True)


@torch.inference_mode()
def generate(model, idx, new_tokens, greedy, ctx, gen):
    for _ in range(new_tokens):
        logits = model(idx[:, -ctx:])[:, -1, :]
        if greedy:
            nxt = logits.argmax(dim=-1, keepdim=True)
        else:
            probs = F.softmax(logits, dim=-1)  # temperature 1.0
            nxt = torch.multinomial(probs, 1, generator=gen)
        idx = torch.cat([idx, nxt], dim=1)
    return idx


def gen_bench(cfg_name, mode, compile_, batch=16, prompt=16, new=64, reps=5):
    c = CFGS[cfg_name]
    torch.manual_seed(0)
    model = GPT(mode=mode, **c).to(DEV).eval()
    fwd = torch.compile(model, dynamic=True) if compile_ else model
    g = torch.Generator(device=DEV).manual_seed(2)
    prompts = torch.randint(0, c["vocab"], (batch, prompt), generator=torch.Generator().manual_seed(2)).to(DEV)
    for greedy in (True, False):
        sync(); t0 = time.perf_counter()
        generate(fwd, prompts, new, greedy, c["ctx"], g)  # warm-up (and compile)
        sync(); first = time.perf_counter() - t0
        ts = []
        for _ in range(reps):
            sync(); t0 = time.perf_counter()
            out = generate(fwd, prompts, new, greedy, c["ctx"], g)
            sync(); ts.append(time.perf_counter() - t0)
        assert out.shape == (batch, prompt + new)
        med = statistics.median(ts)
        res = dict(kind="gen", cfg=cfg_name, attn=mode, compile=compile_, greedy=greedy, batch=batch,
                   prompt=prompt, new_tokens=new, kv_cache=False, median_s=med, min_s=min(ts),
                   new_tokens_per_s=batch * new / med, first_run_s=first, threads=torch.get_num_threads())
        print("RESULT " + json.dumps(res), flush=True)


@torch.inference_mode()
def generate_kv(model, idx, new_tokens, greedy, gen):
    """Batched sampling with a per-layer key/value cache: each new token costs one position."""
    B, T0 = idx.shape
    caches = [None] * len(model.blocks)

    def step(tokens, start):
        T = tokens.shape[1]
        x = model.tok(tokens) + model.pos(torch.arange(start, start + T, device=tokens.device))
        for li, blk in enumerate(model.blocks):
            h = blk.ln1(x)
            a = blk.attn
            C = h.shape[-1]
            q, k, v = a.qkv(h).split(C, dim=2)
            q = q.view(B, T, a.h, C // a.h).transpose(1, 2)
            k = k.view(B, T, a.h, C // a.h).transpose(1, 2)
            v = v.view(B, T, a.h, C // a.h).transpose(1, 2)
            if caches[li] is not None:
                k = torch.cat([caches[li][0], k], dim=2)
                v = torch.cat([caches[li][1], v], dim=2)
            caches[li] = (k, v)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=(T > 1))
            x = x + a.proj(y.transpose(1, 2).contiguous().view(B, T, C))
            x = x + blk.out(F.gelu(blk.fc(blk.ln2(x)), approximate="tanh"))
        return model.head(model.lnf(x))[:, -1, :]

    logits = step(idx, 0)
    out = [idx]
    pos = T0
    for _ in range(new_tokens):
        if greedy:
            nxt = logits.argmax(dim=-1, keepdim=True)
        else:
            nxt = torch.multinomial(F.softmax(logits, dim=-1), 1, generator=gen)
        out.append(nxt)
        logits = step(nxt, pos)
        pos += 1
    return torch.cat(out, dim=1)


def genkv_bench(cfg_name, batch=16, prompt=16, new=64, reps=5):
    c = CFGS[cfg_name]
    torch.manual_seed(0)
    model = GPT(mode="sdpa", **c).to(DEV).eval()
    g = torch.Generator(device=DEV).manual_seed(2)
    prompts = torch.randint(0, c["vocab"], (batch, prompt), generator=torch.Generator().manual_seed(2)).to(DEV)
    ref = generate(model, prompts, 8, True, c["ctx"], g)
    assert torch.equal(generate_kv(model, prompts, 8, True, g), ref), "KV-cache greedy output differs"
    for greedy in (True, False):
        generate_kv(model, prompts, new, greedy, g)
        ts = []
        for _ in range(reps):
            sync(); t0 = time.perf_counter()
            out = generate_kv(model, prompts, new, greedy, g)
            sync(); ts.append(time.perf_counter() - t0)
        assert out.shape == (batch, prompt + new)
        med = statistics.median(ts)
        res = dict(kind="gen", cfg=cfg_name, attn="sdpa", compile=False, greedy=greedy, batch=batch,
                   prompt=prompt, new_tokens=new, kv_cache=True, median_s=med, min_s=min(ts),
                   new_tokens_per_s=batch * new / med, threads=torch.get_num_threads())
        print("RESULT " + json.dumps(res), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["train", "gen", "genkv"])
    ap.add_argument("--cfg", default="C1")
    ap.add_argument("--attn", default="manual", choices=["manual", "sdpa"])
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"dev={DEV} torch {torch.__version__} threads={torch.get_num_threads()} "
          f"interop={torch.get_num_interop_threads()} cpu_capability={torch.backends.cpu.get_cpu_capability()} "
          f"mkldnn={torch.backends.mkldnn.is_available()}", flush=True)
    if a.what == "train":
        train(a.cfg, a.attn, a.compile)
    elif a.what == "genkv":
        genkv_bench(a.cfg)
    else:
        gen_bench(a.cfg, a.attn, a.compile)


if __name__ == "__main__":
    main()
