//! The GPT (Radford et al. 2019, "Language Models are Unsupervised Multitask Learners"),
//! exactly Hugging Face's `GPT2LMHeadModel`, written once over [`Kernels`].
//!
//! Forward, per block `l` with residual stream `x`:
//! `x ← x + c_proj(attn(c_attn(LN₁(x))))`, `x ← x + mlp_proj(gelu(c_fc(LN₂(x))))`;
//! then `LN_f` and the tied head `z = x·wteᵀ`, gathered to per-token log-probs.
//!
//! The seam: [`Gpt::logprobs`] returns `logp_t = log softmax(z_t)[target_t]` (and `H_t` on
//! request); [`Gpt::backward`] back-propagates `Σ w_t·logp_t + Σ e_t·H_t` for weights given
//! by the loss (supervised fine-tuning is `w_t = −1/N`); [`Gpt::step`] applies AdamW.
//!
//! Memory: parameters, gradients and both AdamW moments each live in one buffer with the
//! [`ParamLayout`]; activations in one arena sized from `(max_batch, max_len)` by
//! [`Activations`]; the backward's activation gradients in a small arena reused by every
//! block. Nothing is allocated inside a step.

use crate::kernels::*;
use crate::layout::{align_up, ParamLayout};
use crate::{GptConfig, ModelError};
use alloc::vec;
use alloc::vec::Vec;

/// Rows of logits that exist at once in the output head (chunk × V floats of scratch).
pub const HEAD_CHUNK: usize = 128;

/// A bump allocator of 256-byte-aligned slices inside one buffer.
pub(crate) struct Bump {
    pub(crate) buf: BufId,
    pub(crate) next: usize,
}

impl Bump {
    pub(crate) fn take(&mut self, len: usize) -> Slice {
        let s = Slice {
            buf: self.buf,
            offset: self.next,
            len,
        };
        self.next = align_up(self.next + len);
        s
    }
}

/// Saved activations of one block (shapes for the arena's `(B, T)`).
#[derive(Debug, Clone, Copy)]
#[allow(missing_docs)]
pub struct BlockActs {
    pub ln1: Slice,      // (B, T, C)
    pub ln1_mean: Slice, // (B, T)
    pub ln1_rstd: Slice, // (B, T)
    pub qkv: Slice,      // (B, T, 3C)
    pub atty: Slice,     // (B, T, C)
    pub att: Slice,      // (B, NH, T, T)
    pub res2: Slice,     // (B, T, C)
    pub ln2: Slice,      // (B, T, C)
    pub ln2_mean: Slice, // (B, T)
    pub ln2_rstd: Slice, // (B, T)
    pub fch: Slice,      // (B, T, 4C)
    pub gelu: Slice,     // (B, T, 4C)
    pub res3: Slice,     // (B, T, C)
}

/// The activation arena and the backward's gradient scratch, with every offset computed here.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub struct Activations {
    pub max_batch: usize,
    pub max_len: usize,
    pub encoded: Slice, // (B, T, C)
    pub blocks: Vec<BlockActs>,
    pub proj: Slice, // (B, T, C) scratch: attention/MLP projection before the residual add
    pub lnf: Slice,  // (B, T, C)
    pub lnf_mean: Slice, // (B, T)
    pub lnf_rstd: Slice, // (B, T)
    pub lse: Slice,  // (B, T)
    pub logp: Slice, // (B, T)
    pub entropy: Slice, // (B, T)
    pub weights: Slice, // (B, T) log-prob weights from the loss
    pub entropy_weights: Slice, // (B, T)
    pub head_scratch: Slice, // (HEAD_CHUNK, V)
    pub norm_sq: Slice, // (1)
    // gradient scratch, reused by every block
    pub dresid: Slice, // (B, T, C)
    pub dln: Slice,    // (B, T, C)
    pub datty: Slice,  // (B, T, C)
    pub dqkv: Slice,   // (B, T, 3C)
    pub dfch: Slice,   // (B, T, 4C)
    pub dgelu: Slice,  // (B, T, 4C)
    pub datt: Slice,   // (B, NH, T, T)
}

impl Activations {
    /// Lays the arena out in `buf` (use a throw-away id first to learn the size).
    pub(crate) fn layout(cfg: &GptConfig, b: usize, t: usize, buf: BufId) -> (Self, usize) {
        let (c, nh, v) = (cfg.n_embd, cfg.n_head, cfg.vocab_size);
        let n = b * t;
        let mut a = Bump { buf, next: 0 };
        let encoded = a.take(n * c);
        let blocks = (0..cfg.n_layer)
            .map(|_| BlockActs {
                ln1: a.take(n * c),
                ln1_mean: a.take(n),
                ln1_rstd: a.take(n),
                qkv: a.take(n * 3 * c),
                atty: a.take(n * c),
                att: a.take(b * nh * t * t),
                res2: a.take(n * c),
                ln2: a.take(n * c),
                ln2_mean: a.take(n),
                ln2_rstd: a.take(n),
                fch: a.take(n * 4 * c),
                gelu: a.take(n * 4 * c),
                res3: a.take(n * c),
            })
            .collect();
        let acts = Self {
            max_batch: b,
            max_len: t,
            encoded,
            blocks,
            proj: a.take(n * c),
            lnf: a.take(n * c),
            lnf_mean: a.take(n),
            lnf_rstd: a.take(n),
            lse: a.take(n),
            logp: a.take(n),
            entropy: a.take(n),
            weights: a.take(n),
            entropy_weights: a.take(n),
            head_scratch: a.take(HEAD_CHUNK.min(n) * v),
            norm_sq: a.take(1),
            dresid: a.take(n * c),
            dln: a.take(n * c),
            datty: a.take(n * c),
            dqkv: a.take(n * 3 * c),
            dfch: a.take(n * 4 * c),
            dgelu: a.take(n * 4 * c),
            datt: a.take(b * nh * t * t),
        };
        (acts, a.next)
    }
}

/// The flat parameter-shaped buffers: parameters, gradients, AdamW moments, decay mask.
#[derive(Debug, Clone, Copy)]
pub struct ParamBuffers {
    /// Parameters (the [`ParamLayout`]).
    pub params: Slice,
    /// Gradients (same layout).
    pub grads: Slice,
    /// AdamW first moment.
    pub m: Slice,
    /// AdamW second moment.
    pub v: Slice,
    /// 1.0 where weight decay applies.
    pub decay_mask: Slice,
}

/// The shape of the last forward pass, which the backward needs.
#[derive(Debug, Clone, Copy)]
struct Forwarded {
    b: usize,
    t: usize,
    entropy: bool,
}

/// A GPT-2 with its parameters, optimiser state and activation arena on a backend `K`.
pub struct Gpt<K: Kernels> {
    /// The backend (public so tests and benches can reach buffers directly).
    pub kernels: K,
    pub(crate) config: GptConfig,
    pub(crate) layout: ParamLayout,
    pub(crate) p: ParamBuffers,
    pub(crate) acts: Activations,
    pub(crate) tokens: IdSlice,  // (B, T)
    pub(crate) targets: IdSlice, // (B, T)
    forwarded: Option<Forwarded>,
    pub(crate) adam_t: u32,
    host_ids: Vec<u32>,
    host_f32: Vec<f32>,
    pub(crate) sampler: Option<crate::sampling::DecodeArena>,
}

fn param(p: Slice, offset: usize, len: usize) -> Slice {
    p.sub(offset, len)
}

impl<K: Kernels> Gpt<K> {
    /// Allocates a model for batches of up to `max_batch` sequences of up to `max_len`
    /// tokens (`max_len ≤ n_positions`). Parameters start at zero: call
    /// [`Gpt::init_params`] or [`Gpt::write_params`].
    pub fn new(
        mut kernels: K,
        config: GptConfig,
        max_batch: usize,
        max_len: usize,
    ) -> Result<Self, ModelError> {
        let layout = ParamLayout::new(&config)?;
        if max_len == 0 || max_len > config.n_positions {
            return Err(ModelError::SequenceTooLong {
                len: max_len,
                max: config.n_positions,
            });
        }
        if max_batch == 0 || max_batch > crate::config::MAX_DIM {
            return Err(ModelError::BadBatch {
                batch: max_batch,
                max: crate::config::MAX_DIM,
            });
        }
        let np = layout.len();
        let pbuf = kernels.alloc(5 * np);
        let mut bump = Bump { buf: pbuf, next: 0 };
        let p = ParamBuffers {
            params: bump.take(np),
            grads: bump.take(np),
            m: bump.take(np),
            v: bump.take(np),
            decay_mask: bump.take(np),
        };
        kernels.write(p.decay_mask, &layout.decay_mask());
        let (_, size) = Activations::layout(&config, max_batch, max_len, BufId(u32::MAX));
        let abuf = kernels.alloc(size);
        let (acts, _) = Activations::layout(&config, max_batch, max_len, abuf);
        let ids = kernels.alloc_ids(align_up(max_batch * max_len) * 2);
        let n = max_batch * max_len;
        let tokens = IdSlice {
            buf: ids,
            offset: 0,
            len: n,
        };
        let targets = IdSlice {
            buf: ids,
            offset: align_up(n),
            len: n,
        };
        Ok(Self {
            kernels,
            config,
            layout,
            p,
            acts,
            tokens,
            targets,
            forwarded: None,
            adam_t: 0,
            host_ids: Vec::with_capacity(n),
            host_f32: Vec::with_capacity(n),
            sampler: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &GptConfig {
        &self.config
    }

    /// The parameter layout.
    pub fn layout(&self) -> &ParamLayout {
        &self.layout
    }

    /// The parameter-shaped buffers (for backends and tests).
    pub fn param_buffers(&self) -> ParamBuffers {
        self.p
    }

    /// The activation arena (for backends and tests).
    pub fn activations(&self) -> &Activations {
        &self.acts
    }

    /// Largest batch and sequence length the arena holds.
    pub fn capacity(&self) -> (usize, usize) {
        (self.acts.max_batch, self.acts.max_len)
    }

    /// GPT-2's initialisation from a seed: weights `N(0, 0.02)`, the residual projections
    /// (`c_proj`) `N(0, 0.02/√(2L))`, biases 0, LayerNorm gains 1. Resets the optimiser.
    pub fn init_params(&mut self, seed: u64) {
        let mut host = vec![0.0f32; self.layout.len()];
        crate::init::gpt2_init(&self.layout, seed, &mut host);
        self.load_host(&host);
    }

    fn load_host(&mut self, host: &[f32]) {
        self.kernels.write(self.p.params, host);
        for s in [self.p.grads, self.p.m, self.p.v] {
            self.kernels.fill(s, 0.0);
        }
        self.adam_t = 0;
        self.forwarded = None;
    }

    /// Replaces all parameters with `params` (the flat layout, padding included; the
    /// checkpoint loader produces it). Resets the optimiser state and the gradients.
    pub fn write_params(&mut self, params: &[f32]) -> Result<(), ModelError> {
        if params.len() != self.layout.len() {
            return Err(ModelError::ShapeMismatch {
                what: "flat parameter buffer",
                expected: self.layout.len(),
                got: params.len(),
            });
        }
        self.load_host(params);
        Ok(())
    }

    /// Reads all parameters back (flat layout, padding included).
    pub async fn read_params(&mut self, out: &mut [f32]) -> Result<(), ModelError> {
        self.read_flat(self.p.params, out).await
    }

    /// Reads the accumulated gradients back (flat layout).
    pub async fn read_grads(&mut self, out: &mut [f32]) -> Result<(), ModelError> {
        self.read_flat(self.p.grads, out).await
    }

    async fn read_flat(&mut self, s: Slice, out: &mut [f32]) -> Result<(), ModelError> {
        if out.len() != s.len {
            return Err(ModelError::ShapeMismatch {
                what: "flat parameter buffer",
                expected: s.len,
                got: out.len(),
            });
        }
        self.kernels.read(s, out).await;
        Ok(())
    }

    fn check_shape(&self, len: usize, batch: usize) -> Result<usize, ModelError> {
        let (mb, ml) = self.capacity();
        if batch == 0 || batch > mb {
            return Err(ModelError::BadBatch { batch, max: mb });
        }
        if len % batch != 0 {
            return Err(ModelError::ShapeMismatch {
                what: "tokens (a multiple of the batch size)",
                expected: batch * (len / batch + 1),
                got: len,
            });
        }
        let t = len / batch;
        if t == 0 || t > ml {
            return Err(ModelError::SequenceTooLong { len: t, max: ml });
        }
        Ok(t)
    }

    pub(crate) fn check_ids(&self, ids: &[u32]) -> Result<(), ModelError> {
        let v = self.config.vocab_size;
        match ids.iter().find(|&&x| x as usize >= v) {
            Some(&token) => Err(ModelError::TokenOutOfRange {
                token,
                vocab_size: v,
            }),
            None => Ok(()),
        }
    }

    /// Forward pass to per-token log-probabilities. `tokens` and `targets` are
    /// `batch × T` row-major; `mask` (same length) marks the positions that count: masked-out
    /// positions get log-prob 0 and their targets are not read. Writes `logp_t` into
    /// `logprobs` and, if given, the entropy `H_t` of the next-token distribution into
    /// `entropy`. Errors: batch or length outside the arena, ids `≥ vocab_size`.
    pub async fn logprobs(
        &mut self,
        tokens: &[u32],
        targets: &[u32],
        mask: Option<&[bool]>,
        batch: usize,
        logprobs: &mut [f32],
        entropy: Option<&mut [f32]>,
    ) -> Result<(), ModelError> {
        let t = self.check_shape(tokens.len(), batch)?;
        let n = tokens.len();
        for (what, len) in [
            ("targets", targets.len()),
            ("logprobs", logprobs.len()),
            ("mask", mask.map_or(n, |m| m.len())),
            ("entropy", entropy.as_ref().map_or(n, |e| e.len())),
        ] {
            if len != n {
                return Err(ModelError::ShapeMismatch {
                    what,
                    expected: n,
                    got: len,
                });
            }
        }
        self.check_ids(tokens)?;
        self.host_ids.clear();
        match mask {
            Some(m) => self.host_ids.extend(
                targets
                    .iter()
                    .zip(m)
                    .map(|(&y, &keep)| if keep { y } else { 0 }),
            ),
            None => self.host_ids.extend_from_slice(targets),
        }
        let ids = core::mem::take(&mut self.host_ids);
        let checked = self.check_ids(&ids);
        self.host_ids = ids;
        checked?;
        let tok = IdSlice {
            len: n,
            ..self.tokens
        };
        let tgt = IdSlice {
            len: n,
            ..self.targets
        };
        self.kernels.write_ids(tok, tokens);
        self.kernels.write_ids(tgt, &self.host_ids);
        let want_entropy = entropy.is_some();
        self.forward(batch, t, want_entropy);
        self.kernels.read(self.acts.logp.sub(0, n), logprobs).await;
        if let Some(e) = entropy {
            self.kernels.read(self.acts.entropy.sub(0, n), e).await;
            if let Some(m) = mask {
                for (e, &keep) in e.iter_mut().zip(m) {
                    if !keep {
                        *e = 0.0;
                    }
                }
            }
        }
        if let Some(m) = mask {
            for (l, &keep) in logprobs.iter_mut().zip(m) {
                if !keep {
                    *l = 0.0;
                }
            }
        }
        Ok(())
    }

    /// Enqueues the forward pass over the uploaded tokens/targets.
    fn forward(&mut self, b: usize, t: usize, want_entropy: bool) {
        let cfg = self.config;
        let (c, nh, v) = (cfg.n_embd, cfg.n_head, cfg.vocab_size);
        let n = b * t;
        let (a, p, lay) = (&self.acts, self.p.params, &self.layout);
        let k = &mut self.kernels;
        let rows = RowShape { rows: n, c };
        let tok = IdSlice {
            len: n,
            ..self.tokens
        };
        k.embedding_forward(
            a.encoded.sub(0, n * c),
            tok,
            param(p, lay.wte(), v * c),
            param(p, lay.wpe(), cfg.n_positions * c),
            EmbedShape {
                b,
                t,
                c,
                token_stride: t,
                pos0: 0,
            },
        );
        let mut x = a.encoded;
        for (l, ba) in a.blocks.iter().enumerate() {
            let o = lay.block(l);
            k.layernorm_forward(
                ba.ln1.sub(0, n * c),
                ba.ln1_mean.sub(0, n),
                ba.ln1_rstd.sub(0, n),
                x.sub(0, n * c),
                param(p, o.ln_1_w, c),
                param(p, o.ln_1_b, c),
                rows,
                cfg.layer_norm_epsilon,
            );
            k.matmul_forward(
                ba.qkv.sub(0, n * 3 * c),
                ba.ln1.sub(0, n * c),
                param(p, o.c_attn_w, c * 3 * c),
                Some(param(p, o.c_attn_b, 3 * c)),
                MatmulShape {
                    rows: n,
                    k: c,
                    n: 3 * c,
                },
            );
            let ash = AttnShape { b, t, c, nh };
            k.attention_forward(
                ba.atty.sub(0, n * c),
                ba.att.sub(0, b * nh * t * t),
                ba.qkv.sub(0, n * 3 * c),
                ash,
            );
            k.matmul_forward(
                a.proj.sub(0, n * c),
                ba.atty.sub(0, n * c),
                param(p, o.attn_proj_w, c * c),
                Some(param(p, o.attn_proj_b, c)),
                MatmulShape {
                    rows: n,
                    k: c,
                    n: c,
                },
            );
            k.residual_forward(
                ba.res2.sub(0, n * c),
                x.sub(0, n * c),
                a.proj.sub(0, n * c),
                n * c,
            );
            k.layernorm_forward(
                ba.ln2.sub(0, n * c),
                ba.ln2_mean.sub(0, n),
                ba.ln2_rstd.sub(0, n),
                ba.res2.sub(0, n * c),
                param(p, o.ln_2_w, c),
                param(p, o.ln_2_b, c),
                rows,
                cfg.layer_norm_epsilon,
            );
            k.matmul_forward(
                ba.fch.sub(0, n * 4 * c),
                ba.ln2.sub(0, n * c),
                param(p, o.c_fc_w, c * 4 * c),
                Some(param(p, o.c_fc_b, 4 * c)),
                MatmulShape {
                    rows: n,
                    k: c,
                    n: 4 * c,
                },
            );
            k.gelu_forward(
                ba.gelu.sub(0, n * 4 * c),
                ba.fch.sub(0, n * 4 * c),
                n * 4 * c,
            );
            k.matmul_forward(
                a.proj.sub(0, n * c),
                ba.gelu.sub(0, n * 4 * c),
                param(p, o.mlp_proj_w, 4 * c * c),
                Some(param(p, o.mlp_proj_b, c)),
                MatmulShape {
                    rows: n,
                    k: 4 * c,
                    n: c,
                },
            );
            k.residual_forward(
                ba.res3.sub(0, n * c),
                ba.res2.sub(0, n * c),
                a.proj.sub(0, n * c),
                n * c,
            );
            x = ba.res3;
        }
        k.layernorm_forward(
            a.lnf.sub(0, n * c),
            a.lnf_mean.sub(0, n),
            a.lnf_rstd.sub(0, n),
            x.sub(0, n * c),
            param(p, lay.ln_f_w(), c),
            param(p, lay.ln_f_b(), c),
            rows,
            cfg.layer_norm_epsilon,
        );
        let head = HeadShape {
            rows: n,
            c,
            v,
            chunk: HEAD_CHUNK.min(n),
        };
        k.logprob_forward(
            a.logp.sub(0, n),
            want_entropy.then(|| a.entropy.sub(0, n)),
            a.lse.sub(0, n),
            a.lnf.sub(0, n * c),
            param(p, lay.wte(), v * c),
            IdSlice {
                len: n,
                ..self.targets
            },
            a.head_scratch.sub(0, head.chunk * v),
            head,
        );
        self.forwarded = Some(Forwarded {
            b,
            t,
            entropy: want_entropy,
        });
    }

    /// Back-propagates `Σ_t weights[t]·logp_t + Σ_t entropy_weights[t]·H_t` through the last
    /// [`Gpt::logprobs`] call, accumulating into the gradients (the chain rule starts here:
    /// `weights` is `∂L/∂logp` from the loss). Entropy weights need a forward that computed
    /// the entropy. Gradients accumulate across calls until [`Gpt::step`] or
    /// [`Gpt::zero_grad`].
    pub fn backward(
        &mut self,
        weights: &[f32],
        entropy_weights: Option<&[f32]>,
    ) -> Result<(), ModelError> {
        let Some(f) = self.forwarded else {
            return Err(ModelError::InvalidArgument(
                "backward needs a preceding logprobs call".into(),
            ));
        };
        let n = f.b * f.t;
        if weights.len() != n {
            return Err(ModelError::ShapeMismatch {
                what: "weights",
                expected: n,
                got: weights.len(),
            });
        }
        if let Some(e) = entropy_weights {
            if e.len() != n {
                return Err(ModelError::ShapeMismatch {
                    what: "entropy weights",
                    expected: n,
                    got: e.len(),
                });
            }
            if !f.entropy {
                return Err(ModelError::InvalidArgument(
                    "entropy weights need logprobs called with an entropy output".into(),
                ));
            }
        }
        self.kernels.write(self.acts.weights.sub(0, n), weights);
        if let Some(e) = entropy_weights {
            self.kernels.write(self.acts.entropy_weights.sub(0, n), e);
        }
        self.backward_enqueue(f, entropy_weights.is_some());
        Ok(())
    }

    fn backward_enqueue(&mut self, f: Forwarded, with_entropy: bool) {
        let cfg = self.config;
        let (c, nh, v) = (cfg.n_embd, cfg.n_head, cfg.vocab_size);
        let (b, t) = (f.b, f.t);
        let n = b * t;
        let (a, p, g, lay) = (&self.acts, self.p.params, self.p.grads, &self.layout);
        let k = &mut self.kernels;
        let rows = RowShape { rows: n, c };
        let nc = |s: Slice| s.sub(0, n * c);
        let n4c = |s: Slice| s.sub(0, n * 4 * c);
        k.fill(nc(a.dresid), 0.0);
        k.fill(nc(a.dln), 0.0);
        let head = HeadShape {
            rows: n,
            c,
            v,
            chunk: HEAD_CHUNK.min(n),
        };
        k.logprob_backward(
            nc(a.dln),
            param(g, lay.wte(), v * c),
            a.weights.sub(0, n),
            with_entropy.then(|| a.entropy_weights.sub(0, n)),
            nc(a.lnf),
            param(p, lay.wte(), v * c),
            IdSlice {
                len: n,
                ..self.targets
            },
            a.lse.sub(0, n),
            with_entropy.then(|| a.entropy.sub(0, n)),
            a.head_scratch.sub(0, head.chunk * v),
            head,
        );
        let last = a.blocks.last().map_or(a.encoded, |bl| bl.res3);
        k.layernorm_backward(
            nc(a.dresid),
            param(g, lay.ln_f_w(), c),
            param(g, lay.ln_f_b(), c),
            nc(a.dln),
            nc(last),
            param(p, lay.ln_f_w(), c),
            a.lnf_mean.sub(0, n),
            a.lnf_rstd.sub(0, n),
            rows,
        );
        for l in (0..cfg.n_layer).rev() {
            let ba = &a.blocks[l];
            let o = lay.block(l);
            let x = if l == 0 {
                a.encoded
            } else {
                a.blocks[l - 1].res3
            };
            // dresid holds ∂L/∂res3: it flows unchanged into res2 and, through the MLP, into
            // ln2's input, whose contribution layernorm_backward adds to dresid.
            k.fill(n4c(a.dgelu), 0.0);
            k.matmul_backward(
                n4c(a.dgelu),
                param(g, o.mlp_proj_w, 4 * c * c),
                Some(param(g, o.mlp_proj_b, c)),
                nc(a.dresid),
                n4c(ba.gelu),
                param(p, o.mlp_proj_w, 4 * c * c),
                MatmulShape {
                    rows: n,
                    k: 4 * c,
                    n: c,
                },
            );
            k.fill(n4c(a.dfch), 0.0);
            k.gelu_backward(n4c(a.dfch), n4c(a.dgelu), n4c(ba.fch), n * 4 * c);
            k.fill(nc(a.dln), 0.0);
            k.matmul_backward(
                nc(a.dln),
                param(g, o.c_fc_w, c * 4 * c),
                Some(param(g, o.c_fc_b, 4 * c)),
                n4c(a.dfch),
                nc(ba.ln2),
                param(p, o.c_fc_w, c * 4 * c),
                MatmulShape {
                    rows: n,
                    k: c,
                    n: 4 * c,
                },
            );
            k.layernorm_backward(
                nc(a.dresid),
                param(g, o.ln_2_w, c),
                param(g, o.ln_2_b, c),
                nc(a.dln),
                nc(ba.res2),
                param(p, o.ln_2_w, c),
                ba.ln2_mean.sub(0, n),
                ba.ln2_rstd.sub(0, n),
                rows,
            );
            // dresid now holds ∂L/∂res2.
            k.fill(nc(a.datty), 0.0);
            k.matmul_backward(
                nc(a.datty),
                param(g, o.attn_proj_w, c * c),
                Some(param(g, o.attn_proj_b, c)),
                nc(a.dresid),
                nc(ba.atty),
                param(p, o.attn_proj_w, c * c),
                MatmulShape {
                    rows: n,
                    k: c,
                    n: c,
                },
            );
            k.fill(a.dqkv.sub(0, n * 3 * c), 0.0);
            k.attention_backward(
                a.dqkv.sub(0, n * 3 * c),
                a.datt.sub(0, b * nh * t * t),
                nc(a.datty),
                ba.qkv.sub(0, n * 3 * c),
                ba.att.sub(0, b * nh * t * t),
                AttnShape { b, t, c, nh },
            );
            k.fill(nc(a.dln), 0.0);
            k.matmul_backward(
                nc(a.dln),
                param(g, o.c_attn_w, c * 3 * c),
                Some(param(g, o.c_attn_b, 3 * c)),
                a.dqkv.sub(0, n * 3 * c),
                nc(ba.ln1),
                param(p, o.c_attn_w, c * 3 * c),
                MatmulShape {
                    rows: n,
                    k: c,
                    n: 3 * c,
                },
            );
            k.layernorm_backward(
                nc(a.dresid),
                param(g, o.ln_1_w, c),
                param(g, o.ln_1_b, c),
                nc(a.dln),
                nc(x),
                param(p, o.ln_1_w, c),
                ba.ln1_mean.sub(0, n),
                ba.ln1_rstd.sub(0, n),
                rows,
            );
            // dresid now holds ∂L/∂x, the block's input.
        }
        k.embedding_backward(
            param(g, lay.wte(), v * c),
            param(g, lay.wpe(), cfg.n_positions * c),
            nc(a.dresid),
            IdSlice {
                len: n,
                ..self.tokens
            },
            EmbedShape {
                b,
                t,
                c,
                token_stride: t,
                pos0: 0,
            },
        );
    }

    /// The full next-token logits (`V` each, in order) at the positions `mask` marks, from
    /// one training forward over `tokens` (`batch × T`; `targets` and `mask` the same shape
    /// as for [`Gpt::logprobs`]): the final hidden states are read back and multiplied by the
    /// tied embedding on the host. For rewards that need the whole distribution (e.g.
    /// self-certainty) on a few positions.
    pub async fn masked_logits(
        &mut self,
        tokens: &[u32],
        targets: &[u32],
        mask: &[bool],
        batch: usize,
    ) -> Result<Vec<f32>, ModelError> {
        let n = tokens.len();
        let mut lp = vec![0.0f32; n];
        self.logprobs(tokens, targets, Some(mask), batch, &mut lp, None)
            .await?;
        let (c, v) = (self.config.n_embd, self.config.vocab_size);
        let mut lnf = vec![0.0f32; n * c];
        self.kernels
            .read(self.acts.lnf.sub(0, n * c), &mut lnf)
            .await;
        let mut wte = vec![0.0f32; v * c];
        let wte_slice = self.p.params.sub(self.layout.wte(), v * c);
        self.kernels.read(wte_slice, &mut wte).await;
        let mut logits = Vec::with_capacity(mask.iter().filter(|&&m| m).count() * v);
        for (pos, _) in mask.iter().enumerate().filter(|(_, &m)| m) {
            let h = &lnf[pos * c..][..c];
            for row in wte.chunks_exact(c) {
                logits.push(h.iter().zip(row).map(|(a, b)| a * b).sum::<f32>());
            }
        }
        Ok(logits)
    }

    /// Full recomputation of the next-token logits: runs the training forward over
    /// `tokens` (`batch × T`) and writes the logits of each sequence's last position into
    /// `out` (`batch × V`). The reference the KV-cache sampler is tested against.
    pub async fn next_token_logits(
        &mut self,
        tokens: &[u32],
        batch: usize,
        out: &mut [f32],
    ) -> Result<(), ModelError> {
        let t = self.check_shape(tokens.len(), batch)?;
        self.check_ids(tokens)?;
        let (c, v) = (self.config.n_embd, self.config.vocab_size);
        if out.len() != batch * v {
            return Err(ModelError::ShapeMismatch {
                what: "logits",
                expected: batch * v,
                got: out.len(),
            });
        }
        let n = tokens.len();
        self.kernels.write_ids(
            IdSlice {
                len: n,
                ..self.tokens
            },
            tokens,
        );
        self.kernels.fill(self.acts.head_scratch, 0.0);
        let zeros = self.host_zero_ids(n);
        self.kernels.write_ids(
            IdSlice {
                len: n,
                ..self.targets
            },
            &zeros,
        );
        self.host_ids = zeros;
        self.forward(batch, t, false);
        let wte = param(self.p.params, self.layout.wte(), v * c);
        for i in 0..batch {
            let row = self.acts.lnf.sub((i * t + t - 1) * c, c);
            let z = self.acts.head_scratch.sub(0, v);
            let head = HeadShape {
                rows: 1,
                c,
                v,
                chunk: 1,
            };
            self.kernels.logits_forward(z, row, wte, head);
            self.kernels.read(z, &mut out[i * v..][..v]).await;
        }
        Ok(())
    }

    fn host_zero_ids(&mut self, n: usize) -> Vec<u32> {
        let mut ids = core::mem::take(&mut self.host_ids);
        ids.clear();
        ids.resize(n, 0);
        ids
    }

    /// Sets the gradients to zero.
    pub fn zero_grad(&mut self) {
        self.kernels.fill(self.p.grads, 0.0);
    }

    /// Supervised (next-token) training step over `tokens` (`batch × T`): the loss is the
    /// mean negative log-likelihood of `targets`, i.e. log-prob weights `−1/N`. Returns the
    /// loss before the update.
    pub async fn train_step_sft(
        &mut self,
        tokens: &[u32],
        targets: &[u32],
        batch: usize,
        opt: &crate::optim::AdamWConfig,
        lr: f32,
    ) -> Result<f32, ModelError> {
        let n = tokens.len();
        let mut lp = core::mem::take(&mut self.host_f32);
        lp.resize(n, 0.0);
        let r = self
            .logprobs(tokens, targets, None, batch, &mut lp, None)
            .await;
        if let Err(e) = r {
            self.host_f32 = lp;
            return Err(e);
        }
        let loss = -lp.iter().map(|&x| x as f64).sum::<f64>() / n as f64;
        lp.fill(-1.0 / n as f32);
        let r = self.backward(&lp, None);
        self.host_f32 = lp;
        r?;
        self.step(opt, lr);
        Ok(loss as f32)
    }
}
