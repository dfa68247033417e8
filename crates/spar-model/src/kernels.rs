//! The `Kernels` seam: every operation of the GPT as a forward/backward twin over buffers
//! addressed by offset, implemented once per backend (the CPU here, WGSL in `spar-gpu`).
//!
//! Rules every backend follows (they are what a WebGPU queue can honour):
//! - Memory is a few large allocations made up front ([`Kernels::alloc`]); a kernel names
//!   its operands as [`Slice`]s (buffer, offset, length). The model pads every offset it
//!   hands out to 64 elements (256 bytes), so a WGSL backend can bind at the offset directly.
//! - Kernel calls only *enqueue* work and return nothing; shapes are passed explicitly in
//!   small `Copy` structs (a GPU backend writes them into a uniform).
//! - Reading a buffer back ([`Kernels::read`]) is the one asynchronous operation. On the CPU
//!   the future is ready at once ([`block_on`] drives it); on WebGPU it awaits `mapAsync`.
//! - Nothing is allocated inside a step.
//! - Backward kernels *accumulate* (`+=`) into parameter gradients and into input
//!   gradients (llm.c's convention), so the caller zeroes them with [`Kernels::fill`];
//!   buffers documented as scratch are overwritten.
//! - Output slices never overlap input slices of the same call (the CPU backend asserts it).

use alloc::string::String;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

/// Handle to an `f32` buffer owned by a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BufId(pub u32);

/// Handle to a `u32` buffer (token ids, lengths) owned by a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdBufId(pub u32);

/// A range of an `f32` buffer: `len` elements from `offset` (in elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    /// The buffer.
    pub buf: BufId,
    /// First element.
    pub offset: usize,
    /// Number of elements.
    pub len: usize,
}

impl Slice {
    /// The slice `[offset + start, offset + start + len)` of the same buffer.
    pub fn sub(self, start: usize, len: usize) -> Slice {
        assert!(start + len <= self.len, "sub-slice out of range");
        Slice {
            buf: self.buf,
            offset: self.offset + start,
            len,
        }
    }
}

/// A range of a `u32` buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdSlice {
    /// The buffer.
    pub buf: IdBufId,
    /// First element.
    pub offset: usize,
    /// Number of elements.
    pub len: usize,
}

/// Shape of a token + position embedding over a `(b, t)` block of a token grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbedShape {
    /// Sequences.
    pub b: usize,
    /// Positions per sequence in this call.
    pub t: usize,
    /// Width `C`.
    pub c: usize,
    /// Distance between two sequences in the token slice (`t` for a dense batch, the
    /// context for the sampler's token grid).
    pub token_stride: usize,
    /// First position: row `(i, j)` reads token `tokens[i·token_stride + pos0 + j]` and
    /// position embedding `pos0 + j`.
    pub pos0: usize,
}

/// Shape of a row-wise operation: `rows` rows of width `c`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowShape {
    /// Number of rows (`B·T`).
    pub rows: usize,
    /// Row width.
    pub c: usize,
}

/// Shape of `out[rows, n] = inp[rows, k] · weight[k, n] (+ bias[n])` (weights in HF
/// `Conv1D` orientation `[in, out]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatmulShape {
    /// Rows of the input (`B·T`).
    pub rows: usize,
    /// Input width.
    pub k: usize,
    /// Output width.
    pub n: usize,
}

/// Shape of causal multi-head self-attention over `qkv[b, t, 3c]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttnShape {
    /// Sequences.
    pub b: usize,
    /// Positions.
    pub t: usize,
    /// Width `C` (the q, k, v parts each have `c` columns).
    pub c: usize,
    /// Heads; `c % nh == 0`.
    pub nh: usize,
}

/// Shape of one decoding step of attention against a key/value cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeShape {
    /// Sequences.
    pub b: usize,
    /// The position being decoded (keys `0..=pos` are attended).
    pub pos: usize,
    /// Capacity of the cache in positions (the context).
    pub t_cap: usize,
    /// Width `C`.
    pub c: usize,
    /// Heads.
    pub nh: usize,
}

/// Shape of the tied output head: `rows` hidden states of width `c` against a `v × c`
/// embedding, evaluated `chunk` rows at a time through a `chunk × v` scratch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadShape {
    /// Rows (`B·T`).
    pub rows: usize,
    /// Width `C`.
    pub c: usize,
    /// Vocabulary `V`.
    pub v: usize,
    /// Rows per chunk; the scratch holds `chunk·v` floats.
    pub chunk: usize,
}

/// Arguments of one AdamW update (PyTorch's `torch.optim.AdamW` semantics).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWArgs {
    /// Learning rate of this step.
    pub lr: f32,
    /// First-moment decay β₁.
    pub beta1: f32,
    /// Second-moment decay β₂.
    pub beta2: f32,
    /// Denominator epsilon.
    pub eps: f32,
    /// Decoupled weight decay λ (applied where the decay mask is 1).
    pub weight_decay: f32,
    /// Bias correction `1 − β₁ᵗ` of this step `t` (computed on the host).
    pub bias_correction1: f32,
    /// Bias correction `1 − β₂ᵗ`.
    pub bias_correction2: f32,
    /// Clip the global gradient norm to this value (`≤ 0`: no clipping).
    pub max_grad_norm: f32,
}

/// Arguments of one sampling step (see [`crate::sampling`] for the exact procedure).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleArgs {
    /// Sequences.
    pub b: usize,
    /// Vocabulary.
    pub v: usize,
    /// The position whose logits are given; the draw is written at `pos + 1`.
    pub pos: usize,
    /// Row length of the token grid (the context).
    pub t_cap: usize,
    /// Sampling seed.
    pub seed: u64,
    /// Caller's step counter (part of the random stream's key).
    pub step: u32,
    /// Temperature; 0 means greedy (argmax, lowest index on ties).
    pub temperature: f32,
    /// Keep only the `top_k` most likely tokens (0: all).
    pub top_k: usize,
    /// Keep the smallest most-likely set with probability ≥ `top_p` (1: all).
    pub top_p: f32,
}

/// The operations of the GPT, each forward with its backward twin (same operands, in the
/// same order, gradients first). See the module docs for the rules.
///
/// Shape comments: `(B, T, C)` etc., row-major, last index fastest.
pub trait Kernels {
    /// True when [`Kernels::read`] completes at once (the CPU): the sampler then stops as
    /// soon as every sequence has finished instead of running to the maximum length.
    /// A method rather than a constant so that a backend chosen at run time (an enum over
    /// backends) can answer for the one it holds.
    fn read_is_immediate(&self) -> bool;

    /// Takes the first error the backend recorded since the last call, as text (`None`:
    /// none). The kernel calls cannot return errors (on a GPU they are recorded and
    /// submitted later), so a backend that can fail keeps its first error and the caller
    /// asks for it after a step, an evaluation or a read-back, and stops the run on one.
    /// The default, for backends that never fail (the CPU), always says `None`.
    fn take_backend_error(&mut self) -> Option<String> {
        None
    }

    /// Allocates a zeroed `f32` buffer of `len` elements (outside steps only).
    fn alloc(&mut self, len: usize) -> BufId;
    /// Allocates a zeroed `u32` buffer of `len` elements (outside steps only).
    fn alloc_ids(&mut self, len: usize) -> IdBufId;
    /// Copies host data into a slice (`src.len() == dst.len`).
    fn write(&mut self, dst: Slice, src: &[f32]);
    /// Copies host ids into an id slice (`src.len() == dst.len`).
    fn write_ids(&mut self, dst: IdSlice, src: &[u32]);
    /// Reads a slice back to the host (`dst.len() == src.len`): the one asynchronous call.
    fn read(&mut self, src: Slice, dst: &mut [f32]) -> impl Future<Output = ()>;
    /// Reads an id slice back to the host.
    fn read_ids(&mut self, src: IdSlice, dst: &mut [u32]) -> impl Future<Output = ()>;
    /// Sets every element of `dst` to `value`.
    fn fill(&mut self, dst: Slice, value: f32);
    /// Copies `src` into `dst` (same length, no overlap).
    fn copy(&mut self, dst: Slice, src: Slice);

    /// `out(b,t,C)[i,j] = wte(V,C)[tokens[i·stride + pos0 + j]] + wpe(T,C)[pos0 + j]`.
    /// Ids must be below `V` (the model checks them on the host).
    fn embedding_forward(
        &mut self,
        out: Slice,
        tokens: IdSlice,
        wte: Slice,
        wpe: Slice,
        s: EmbedShape,
    );
    /// `dwte[tok] += dout[i,j]`, `dwpe[pos0 + j] += dout[i,j]`.
    fn embedding_backward(
        &mut self,
        dwte: Slice,
        dwpe: Slice,
        dout: Slice,
        tokens: IdSlice,
        s: EmbedShape,
    );

    /// LayerNorm over rows: `out = (x − μ)·rstd·w + b`, with `rstd = 1/√(σ² + eps)`
    /// (biased variance); saves `mean(rows)` and `rstd(rows)` for the backward.
    #[allow(clippy::too_many_arguments)]
    fn layernorm_forward(
        &mut self,
        out: Slice,
        mean: Slice,
        rstd: Slice,
        inp: Slice,
        weight: Slice,
        bias: Slice,
        s: RowShape,
        eps: f32,
    );
    /// Accumulates `dinp`, `dweight`, `dbias` from `dout`.
    #[allow(clippy::too_many_arguments)]
    fn layernorm_backward(
        &mut self,
        dinp: Slice,
        dweight: Slice,
        dbias: Slice,
        dout: Slice,
        inp: Slice,
        weight: Slice,
        mean: Slice,
        rstd: Slice,
        s: RowShape,
    );

    /// `out(rows,n) = inp(rows,k) · weight(k,n) + bias(n)`.
    fn matmul_forward(
        &mut self,
        out: Slice,
        inp: Slice,
        weight: Slice,
        bias: Option<Slice>,
        s: MatmulShape,
    );
    /// `dinp += dout·weightᵀ`, `dweight += inpᵀ·dout`, `dbias += Σ_rows dout`.
    #[allow(clippy::too_many_arguments)]
    fn matmul_backward(
        &mut self,
        dinp: Slice,
        dweight: Slice,
        dbias: Option<Slice>,
        dout: Slice,
        inp: Slice,
        weight: Slice,
        s: MatmulShape,
    );

    /// Causal attention: for each head `h`, `att(B,NH,T,T) = softmax(q·kᵀ/√hs)` over keys
    /// `≤` the query's position (zeros above the diagonal), `out(B,T,C) = att·v`, with
    /// `qkv(B,T,3C)` holding q, k, v side by side (HF `c_attn` split order).
    fn attention_forward(&mut self, out: Slice, att: Slice, qkv: Slice, s: AttnShape);
    /// Accumulates `dqkv` from `dout`; `datt(B,NH,T,T)` is scratch (overwritten).
    fn attention_backward(
        &mut self,
        dqkv: Slice,
        datt: Slice,
        dout: Slice,
        qkv: Slice,
        att: Slice,
        s: AttnShape,
    );

    /// GELU, tanh approximation: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    fn gelu_forward(&mut self, out: Slice, inp: Slice, n: usize);
    /// `dinp += gelu'(inp)·dout`.
    fn gelu_backward(&mut self, dinp: Slice, dout: Slice, inp: Slice, n: usize);

    /// `out = a + b`.
    fn residual_forward(&mut self, out: Slice, a: Slice, b: Slice, n: usize);
    /// `da += dout`, `db += dout`.
    fn residual_backward(&mut self, da: Slice, db: Slice, dout: Slice, n: usize);

    /// Tied output head and log-prob gather, chunked so at most `chunk × V` logits exist:
    /// `z = x(rows,C)·wte(V,C)ᵀ`, `lse = log Σ_v e^{z_v}`, `logp[r] = z[target[r]] − lse`,
    /// and if `entropy` is given `H[r] = lse − Σ_v p_v z_v`. Saves `lse(rows)`.
    #[allow(clippy::too_many_arguments)]
    fn logprob_forward(
        &mut self,
        logp: Slice,
        entropy: Option<Slice>,
        lse: Slice,
        x: Slice,
        wte: Slice,
        targets: IdSlice,
        scratch: Slice,
        s: HeadShape,
    );
    /// Back-propagates `Σ_r w_r·logp_r + Σ_r e_r·H_r`: recomputes each chunk's logits and
    /// sets `dz = w·(onehot − p) − e·p·(log p + H)`, then `dx += dz·wte`, `dwte += dzᵀ·x`.
    /// `entropy` (the forward's `H`) is needed only with `entropy_weights`.
    #[allow(clippy::too_many_arguments)]
    fn logprob_backward(
        &mut self,
        dx: Slice,
        dwte: Slice,
        weights: Slice,
        entropy_weights: Option<Slice>,
        x: Slice,
        wte: Slice,
        targets: IdSlice,
        lse: Slice,
        entropy: Option<Slice>,
        scratch: Slice,
        s: HeadShape,
    );

    /// `logits(rows,V) = x(rows,C)·wte(V,C)ᵀ` (the sampler's head, full distribution).
    fn logits_forward(&mut self, logits: Slice, x: Slice, wte: Slice, s: HeadShape);

    /// One decoding step of attention: writes this position's k and v from `qkv(B,3C)` into
    /// `k_cache(B,T_cap,C)` and `v_cache(B,T_cap,C)` at `pos`, then attends the query to keys
    /// `0..=pos`; `att(B,NH,T_cap)` is scratch; `out(B,C)`.
    #[allow(clippy::too_many_arguments)]
    fn attention_decode(
        &mut self,
        out: Slice,
        k_cache: Slice,
        v_cache: Slice,
        att: Slice,
        qkv: Slice,
        s: DecodeShape,
    );

    /// Draws the token at `pos + 1` of every sequence whose prompt has ended
    /// (`pos + 1 ≥ prompt_lens[i]`, `pos + 1 < t_cap`) from `logits(B,V)`, writing it to
    /// `tokens(B,T_cap)` and its model log-prob (temperature 1, unfiltered) to
    /// `logprobs(B,T_cap)`. The procedure and random stream are in [`crate::sampling`].
    fn sample(
        &mut self,
        tokens: IdSlice,
        logprobs: Slice,
        logits: Slice,
        prompt_lens: IdSlice,
        a: SampleArgs,
    );

    /// `out[0] = Σ grads²` (accumulated in f64 where the backend can).
    fn sum_squares(&mut self, out: Slice, inp: Slice);
    /// One AdamW step over the whole flat buffer. `decay_mask` is 1 where weight decay
    /// applies; `norm_sq[0]` is the squared global gradient norm (from
    /// [`Kernels::sum_squares`]) used for clipping: the gradient is scaled by
    /// `min(1, max_norm / (‖g‖ + 1e-6))`.
    #[allow(clippy::too_many_arguments)]
    fn adamw(
        &mut self,
        params: Slice,
        grads: Slice,
        m: Slice,
        v: Slice,
        decay_mask: Slice,
        norm_sq: Slice,
        a: AdamWArgs,
    );
}

/// Runs a future that is ready at once (or soon) to completion on the current thread by
/// polling it with a no-op waker. Enough for the CPU backend, whose reads complete
/// immediately; a GPU backend on native code brings its own executor or polls the device.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        core::hint::spin_loop();
    }
}
