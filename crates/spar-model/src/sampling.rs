//! Batched sampling with a key/value cache, and the counter-based random stream.
//!
//! # The random stream (bit-identical on CPU and GPU)
//!
//! Every draw is a pure function of `(seed, step, sequence, position)` using only `u32`
//! wrapping arithmetic (WGSL has no `u64`):
//!
//! ```text
//! mix(h):   h ^= h >> 16; h *= 0x7feb352d; h ^= h >> 15; h *= 0x846ca68b; h ^= h >> 16
//!           (Wellons' "lowbias32")
//! hash(seed, step, seq, pos):
//!   h = mix(seed_lo + 0x9e3779b9)        // seed_lo = low 32 bits of seed
//!   h = mix((h + 0x9e3779b9) ^ seed_hi)  // seed_hi = high 32 bits
//!   h = mix((h + 0x9e3779b9) ^ step)
//!   h = mix((h + 0x9e3779b9) ^ seq)
//!   h = mix((h + 0x9e3779b9) ^ pos)
//! uniform = f32(h >> 8) / 2^24           // in [0, 1), exactly representable
//! ```
//! `pos` is the position of the token being drawn (its index in the sequence).
//!
//! # Drawing one token from logits `z` (one row)
//! 1. `temperature == 0`: the argmax (lowest index on ties).
//! 2. Otherwise `z/temperature`. Without top-k (`0` or `≥ V`) and top-p (`≥ 1`) the
//!    candidates are all tokens in index order; otherwise they are sorted by logit
//!    (descending, ties by lower index), cut to the first `top_k`, then to the shortest
//!    prefix whose probability (renormalised over the top-k set) reaches `top_p`.
//! 3. With `p_i = e^{z_i − max}` over the candidates and `S = Σ p_i`, the token is the first
//!    candidate whose running sum exceeds `uniform·S` (the last candidate if rounding leaves
//!    none).
//!
//! The returned log-prob is the model's: `log softmax(z)` at temperature 1 over the whole
//! vocabulary — the same number [`crate::Gpt::logprobs`] computes, which the policy losses
//! use as the old policy's log-prob.
//!
//! # Decoding
//! All sequences advance one position per step: at step `p` every sequence's token `p`
//! is embedded, attends to its cached keys `0..=p`, and the head's logits give token
//! `p + 1` — taken from the prompt while `p + 1 <` its length, drawn otherwise. So
//! prompts of different lengths need no padding, and a whole rollout is a fixed sequence
//! of kernel calls (one GPU submission, one read-back).

use crate::gpt::{Bump, Gpt};
use crate::kernels::*;
use crate::layout::align_up;
use crate::ModelError;
use alloc::vec::Vec;
use alloc::{format, vec};

const GOLDEN: u32 = 0x9e37_79b9;

/// Wellons' lowbias32 integer mix.
pub fn mix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x7feb_352d);
    h ^= h >> 15;
    h = h.wrapping_mul(0x846c_a68b);
    h ^= h >> 16;
    h
}

/// The stream's 32-bit value for `(seed, step, seq, pos)` (see the module docs).
pub fn hash(seed: u64, step: u32, seq: u32, pos: u32) -> u32 {
    let mut h = mix32((seed as u32).wrapping_add(GOLDEN));
    for x in [(seed >> 32) as u32, step, seq, pos] {
        h = mix32(h.wrapping_add(GOLDEN) ^ x);
    }
    h
}

/// The stream's uniform draw in `[0, 1)` for `(seed, step, seq, pos)`.
pub fn uniform(seed: u64, step: u32, seq: u32, pos: u32) -> f32 {
    (hash(seed, step, seq, pos) >> 8) as f32 / (1u32 << 24) as f32
}

/// Draws one token from a row of logits with uniform `u` (see the module docs); `order` is
/// scratch of length `V`. Returns the token and its model log-prob.
pub fn sample_row(z: &[f32], u: f32, a: &SampleArgs, order: &mut [u32]) -> (u32, f32) {
    let v = z.len();
    let mx = z.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
    let filtered = (a.top_k > 0 && a.top_k < v) || a.top_p < 1.0;
    if a.temperature > 0.0 && !filtered {
        // Unfiltered draw: each p_i is computed once and kept (as bits) in `order`, which
        // this branch does not otherwise need; at temperature 1 the same numbers
        // e^{z_i − max} also give the log-sum-exp. Same values, same summation order as
        // computing them again, so the draw is unchanged.
        let inv_t = 1.0 / a.temperature;
        let zmax = mx * inv_t;
        let mut total = 0.0f32;
        for (o, &x) in order.iter_mut().zip(z) {
            let p = libm::expf(x * inv_t - zmax);
            *o = p.to_bits();
            total += p;
        }
        let lse_sum = if inv_t == 1.0 {
            total
        } else {
            z.iter().map(|&x| libm::expf(x - mx)).sum::<f32>()
        };
        let lse = mx + libm::logf(lse_sum);
        let target = u * total;
        let mut acc = 0.0;
        let mut pick = v - 1;
        for (i, &bits) in order[..v].iter().enumerate() {
            acc += f32::from_bits(bits);
            if acc > target {
                pick = i;
                break;
            }
        }
        return (pick as u32, z[pick] - lse);
    }
    let lse = mx + libm::logf(z.iter().map(|&x| libm::expf(x - mx)).sum::<f32>());
    let tok = if a.temperature <= 0.0 {
        let mut best = 0;
        for (i, &x) in z.iter().enumerate() {
            if x > z[best] {
                best = i;
            }
        }
        best
    } else {
        let inv_t = 1.0 / a.temperature;
        let zmax = mx * inv_t;
        let p = |i: usize| libm::expf(z[i] * inv_t - zmax);
        for (i, o) in order.iter_mut().enumerate() {
            *o = i as u32;
        }
        order.sort_unstable_by(|&i, &j| z[j as usize].total_cmp(&z[i as usize]).then(i.cmp(&j)));
        let k = if a.top_k == 0 { v } else { a.top_k.min(v) };
        let mass: f32 = order[..k].iter().map(|&i| p(i as usize)).sum();
        let mut keep = k;
        if a.top_p < 1.0 {
            let mut acc = 0.0;
            for (n, &i) in order[..k].iter().enumerate() {
                acc += p(i as usize);
                if acc >= a.top_p * mass {
                    keep = n + 1;
                    break;
                }
            }
        }
        let total: f32 = order[..keep].iter().map(|&i| p(i as usize)).sum();
        let target = u * total;
        let mut acc = 0.0;
        let mut pick = order[keep - 1] as usize;
        for &i in &order[..keep] {
            acc += p(i as usize);
            if acc > target {
                pick = i as usize;
                break;
            }
        }
        pick
    };
    (tok as u32, z[tok] - lse)
}

/// Sampling settings (TRL's names where they exist).
#[derive(Debug, Clone, PartialEq)]
pub struct SampleConfig {
    /// New tokens per sequence at most (TRL `max_completion_length`).
    pub max_new_tokens: usize,
    /// Softmax temperature; 0 is greedy.
    pub temperature: f32,
    /// Keep the `top_k` most likely tokens (0: off).
    pub top_k: usize,
    /// Nucleus mass in (0, 1] (1: off).
    pub top_p: f32,
    /// A sequence ends after emitting any of these (the stop token is kept in the output).
    pub stop_tokens: Vec<u32>,
    /// Seed of the random stream.
    pub seed: u64,
}

impl Default for SampleConfig {
    fn default() -> Self {
        Self {
            max_new_tokens: 16,
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
            stop_tokens: Vec::new(),
            seed: 0,
        }
    }
}

/// One sampled completion.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// The new tokens (the stop token included when one ended the sequence).
    pub tokens: Vec<u32>,
    /// The model's log-prob of each new token (temperature 1, unfiltered).
    pub logprobs: Vec<f32>,
    /// Whether a stop token ended the sequence (else the length limit or the context did).
    pub stopped: bool,
}

/// Buffers of the decoder: the token grid, the key/value cache and one position's scratch.
#[derive(Debug, Clone)]
pub(crate) struct DecodeArena {
    batch: usize,
    tokens: IdSlice,      // (B, T_cap)
    prompt_lens: IdSlice, // (B)
    logprobs: Slice,      // (B, T_cap)
    k_cache: Vec<Slice>,  // L × (B, T_cap, C)
    v_cache: Vec<Slice>,  // L × (B, T_cap, C)
    x: Slice,             // (B, C)
    x2: Slice,            // (B, C)
    ln: Slice,            // (B, C)
    mean: Slice,          // (B)
    rstd: Slice,          // (B)
    qkv: Slice,           // (B, 3C)
    atty: Slice,          // (B, C)
    proj: Slice,          // (B, C)
    fch: Slice,           // (B, 4C)
    gelu: Slice,          // (B, 4C)
    logits: Slice,        // (B, V)
    att: Slice,           // (B, NH, T_cap)
}

impl DecodeArena {
    fn layout(cfg: &crate::GptConfig, b: usize, buf: BufId, ids: IdBufId) -> (Self, usize) {
        let (c, t, v, nh) = (cfg.n_embd, cfg.n_positions, cfg.vocab_size, cfg.n_head);
        let mut a = Bump { buf, next: 0 };
        let arena = Self {
            batch: b,
            tokens: IdSlice {
                buf: ids,
                offset: 0,
                len: b * t,
            },
            prompt_lens: IdSlice {
                buf: ids,
                offset: align_up(b * t),
                len: b,
            },
            logprobs: a.take(b * t),
            k_cache: (0..cfg.n_layer).map(|_| a.take(b * t * c)).collect(),
            v_cache: (0..cfg.n_layer).map(|_| a.take(b * t * c)).collect(),
            x: a.take(b * c),
            x2: a.take(b * c),
            ln: a.take(b * c),
            mean: a.take(b),
            rstd: a.take(b),
            qkv: a.take(b * 3 * c),
            atty: a.take(b * c),
            proj: a.take(b * c),
            fch: a.take(b * 4 * c),
            gelu: a.take(b * 4 * c),
            logits: a.take(b * v),
            att: a.take(b * nh * t),
        };
        (arena, a.next)
    }
}

impl<K: Kernels> Gpt<K> {
    fn decode_arena(&mut self, b: usize) -> DecodeArena {
        match &self.sampler {
            Some(s) if s.batch >= b => s.clone(),
            _ => {
                // Grown once to the largest batch seen; reused after.
                let cfg = self.config;
                let (_, size) = DecodeArena::layout(&cfg, b, BufId(u32::MAX), IdBufId(u32::MAX));
                let buf = self.kernels.alloc(size);
                let ids = self
                    .kernels
                    .alloc_ids(align_up(b * cfg.n_positions) + align_up(b));
                let (arena, _) = DecodeArena::layout(&cfg, b, buf, ids);
                self.sampler = Some(arena.clone());
                arena
            }
        }
    }

    /// Enqueues one decoding step at position `pos` for the first `b` sequences.
    fn decode_step(&mut self, d: &DecodeArena, b: usize, pos: usize, a: SampleArgs) {
        let cfg = self.config;
        let (c, v, nh, tc) = (cfg.n_embd, cfg.vocab_size, cfg.n_head, cfg.n_positions);
        let (p, lay) = (self.p.params, &self.layout);
        let k = &mut self.kernels;
        let prm = |o: usize, n: usize| p.sub(o, n);
        let rows = RowShape { rows: b, c };
        let bc = |s: Slice| s.sub(0, b * c);
        k.embedding_forward(
            bc(d.x),
            d.tokens,
            prm(lay.wte(), v * c),
            prm(lay.wpe(), tc * c),
            EmbedShape {
                b,
                t: 1,
                c,
                token_stride: tc,
                pos0: pos,
            },
        );
        for l in 0..cfg.n_layer {
            let o = lay.block(l);
            k.layernorm_forward(
                bc(d.ln),
                d.mean.sub(0, b),
                d.rstd.sub(0, b),
                bc(d.x),
                prm(o.ln_1_w, c),
                prm(o.ln_1_b, c),
                rows,
                cfg.layer_norm_epsilon,
            );
            k.matmul_forward(
                d.qkv.sub(0, b * 3 * c),
                bc(d.ln),
                prm(o.c_attn_w, 3 * c * c),
                Some(prm(o.c_attn_b, 3 * c)),
                MatmulShape {
                    rows: b,
                    k: c,
                    n: 3 * c,
                },
            );
            k.attention_decode(
                bc(d.atty),
                d.k_cache[l].sub(0, b * tc * c),
                d.v_cache[l].sub(0, b * tc * c),
                d.att.sub(0, b * nh * tc),
                d.qkv.sub(0, b * 3 * c),
                DecodeShape {
                    b,
                    pos,
                    t_cap: tc,
                    c,
                    nh,
                },
            );
            k.matmul_forward(
                bc(d.proj),
                bc(d.atty),
                prm(o.attn_proj_w, c * c),
                Some(prm(o.attn_proj_b, c)),
                MatmulShape {
                    rows: b,
                    k: c,
                    n: c,
                },
            );
            k.residual_forward(bc(d.x2), bc(d.x), bc(d.proj), b * c);
            k.layernorm_forward(
                bc(d.ln),
                d.mean.sub(0, b),
                d.rstd.sub(0, b),
                bc(d.x2),
                prm(o.ln_2_w, c),
                prm(o.ln_2_b, c),
                rows,
                cfg.layer_norm_epsilon,
            );
            k.matmul_forward(
                d.fch.sub(0, b * 4 * c),
                bc(d.ln),
                prm(o.c_fc_w, 4 * c * c),
                Some(prm(o.c_fc_b, 4 * c)),
                MatmulShape {
                    rows: b,
                    k: c,
                    n: 4 * c,
                },
            );
            k.gelu_forward(d.gelu.sub(0, b * 4 * c), d.fch.sub(0, b * 4 * c), b * 4 * c);
            k.matmul_forward(
                bc(d.proj),
                d.gelu.sub(0, b * 4 * c),
                prm(o.mlp_proj_w, 4 * c * c),
                Some(prm(o.mlp_proj_b, c)),
                MatmulShape {
                    rows: b,
                    k: 4 * c,
                    n: c,
                },
            );
            k.residual_forward(bc(d.x), bc(d.x2), bc(d.proj), b * c);
        }
        k.layernorm_forward(
            bc(d.ln),
            d.mean.sub(0, b),
            d.rstd.sub(0, b),
            bc(d.x),
            prm(lay.ln_f_w(), c),
            prm(lay.ln_f_b(), c),
            rows,
            cfg.layer_norm_epsilon,
        );
        let head = HeadShape {
            rows: b,
            c,
            v,
            chunk: b,
        };
        k.logits_forward(
            d.logits.sub(0, b * v),
            bc(d.ln),
            prm(lay.wte(), v * c),
            head,
        );
        k.sample(
            d.tokens,
            d.logprobs,
            d.logits.sub(0, b * v),
            d.prompt_lens,
            SampleArgs { pos, ..a },
        );
    }

    /// Samples a completion for every prompt, all in one batch with a key/value cache.
    /// `step` is the caller's step counter, part of the random stream's key with the seed.
    /// Generation stops at `max_new_tokens`, a stop token, or the context.
    /// Errors: empty or over-long prompts, ids `≥ vocab_size`, bad settings.
    pub async fn generate(
        &mut self,
        prompts: &[&[u32]],
        cfg: &SampleConfig,
        step: u32,
    ) -> Result<Vec<Generation>, ModelError> {
        let gc = self.config;
        let tc = gc.n_positions;
        let b = prompts.len();
        if b == 0 || b > crate::config::MAX_DIM {
            return Err(ModelError::BadBatch {
                batch: b,
                max: crate::config::MAX_DIM,
            });
        }
        if !(cfg.temperature >= 0.0 && cfg.temperature.is_finite()) {
            return Err(ModelError::InvalidArgument(format!(
                "temperature {} is not finite and ≥ 0",
                cfg.temperature
            )));
        }
        if !(cfg.top_p > 0.0 && cfg.top_p <= 1.0) {
            return Err(ModelError::InvalidArgument(format!(
                "top_p {} is not in (0, 1]",
                cfg.top_p
            )));
        }
        for pr in prompts {
            if pr.is_empty() || pr.len() > tc {
                return Err(ModelError::SequenceTooLong {
                    len: pr.len(),
                    max: tc,
                });
            }
            self.check_ids(pr)?;
        }
        let d = self.decode_arena(b);
        let mut grid = vec![0u32; b * tc];
        let mut lens = vec![0u32; b];
        for (i, pr) in prompts.iter().enumerate() {
            grid[i * tc..][..pr.len()].copy_from_slice(pr);
            lens[i] = pr.len() as u32;
        }
        self.kernels.write_ids(
            IdSlice {
                len: b * tc,
                ..d.tokens
            },
            &grid,
        );
        self.kernels.write_ids(
            IdSlice {
                len: b,
                ..d.prompt_lens
            },
            &lens,
        );
        let args = SampleArgs {
            b,
            v: gc.vocab_size,
            pos: 0,
            t_cap: tc,
            seed: cfg.seed,
            step,
            temperature: cfg.temperature,
            top_k: cfg.top_k,
            top_p: cfg.top_p,
        };
        // Sequence i needs positions up to len_i + max_new − 1 (bounded by the context).
        let end = |i: usize| (prompts[i].len() + cfg.max_new_tokens).min(tc);
        let last = (0..b).map(end).max().unwrap_or(0);
        let mut done = vec![false; b];
        let mut pos = 0;
        while pos + 1 < last {
            self.decode_step(&d, b, pos, args);
            pos += 1;
            if self.kernels.read_is_immediate() && cfg.max_new_tokens > 0 {
                // Early exit on the CPU: read this position's tokens and check for stops.
                let mut all = true;
                for i in 0..b {
                    if !done[i] {
                        let mut t = [0u32];
                        let s = IdSlice {
                            offset: d.tokens.offset + i * tc + pos,
                            len: 1,
                            ..d.tokens
                        };
                        self.kernels.read_ids(s, &mut t).await;
                        if pos + 1 >= end(i)
                            || (pos >= prompts[i].len() && cfg.stop_tokens.contains(&t[0]))
                        {
                            done[i] = true;
                        }
                    }
                    all &= done[i];
                }
                if all {
                    break;
                }
            }
        }
        let mut lps = vec![0f32; b * tc];
        self.kernels
            .read_ids(
                IdSlice {
                    len: b * tc,
                    ..d.tokens
                },
                &mut grid,
            )
            .await;
        self.kernels.read(d.logprobs.sub(0, b * tc), &mut lps).await;
        let out = (0..b)
            .map(|i| {
                let (s, e) = (prompts[i].len(), end(i));
                let mut g = Generation {
                    tokens: Vec::new(),
                    logprobs: Vec::new(),
                    stopped: false,
                };
                for j in s..e {
                    let t = grid[i * tc + j];
                    g.tokens.push(t);
                    g.logprobs.push(lps[i * tc + j]);
                    if cfg.stop_tokens.contains(&t) {
                        g.stopped = true;
                        break;
                    }
                }
                g
            })
            .collect();
        Ok(out)
    }
}
