//! The CPU backend: [`CpuKernels`] implements [`Kernels`] with plain loops and
//! `matrixmultiply`, split over the kernel thread pool with the `threads` feature
//! ([`parallel`], [`pool`]).
//!
//! Each kernel family lives in its own file with its forward and backward side by side;
//! the functions there take ordinary slices and are public for tests and benches.

/// Whether the AVX2 + FMA copies of the kernels may run (run-time detection needs `std`;
/// without it plain build flags apply).
#[inline(always)]
fn has_avx2() -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        false
    }
}

/// Calls a kernel (an `#[inline(always)]` function) through a copy compiled for AVX2 + FMA
/// when the CPU has them, so its loops vectorise 8 wide; else calls it as is.
macro_rules! simd_call {
    ($m:ident :: $f:ident ( $($arg:expr),* $(,)? )) => {{
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        {
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn avx2<A: FnOnce()>(a: A) {
                a()
            }
            if has_avx2() {
                // SAFETY: the CPU supports AVX2 and FMA (checked just above).
                unsafe { avx2(#[inline(always)] || $m::$f($($arg),*)) }
            } else {
                $m::$f($($arg),*)
            }
        }
        #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
        {
            let _ = has_avx2;
            $m::$f($($arg),*)
        }
    }};
}

pub mod adamw;
pub mod attention;
pub mod embedding;
pub mod fastmath;
pub mod gelu;
pub mod layernorm;
pub mod logprob;
pub mod matmul;
pub mod microgemm;
pub mod parallel;
pub mod pool;

/// Elements per thread below which an elementwise kernel stays on one thread.
const MIN_ELEMS: usize = 1 << 15;
/// Rows per thread below which a row kernel (LayerNorm) stays on one thread.
const MIN_ROWS: usize = 64;

use crate::kernels::*;
use crate::sampling;
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::future::{ready, Future};

/// CPU memory and kernels. Buffers are boxed slices whose addresses never move; kernels
/// borrow disjoint parts of them (checked at run time) through `CpuKernels::split`.
pub struct CpuKernels {
    bufs: Vec<(*mut f32, usize)>,
    ids: Vec<(*mut u32, usize)>,
    /// Index scratch for top-k/top-p sorting (grown once, reused).
    order: Vec<u32>,
    /// A zero-fill not yet written: the next kernel that accumulates into exactly this
    /// slice overwrites it instead (saving a pass over memory); any other access writes
    /// the zeros first (in `split`), so the effect is that of an immediate fill.
    pending_zero: Option<Slice>,
}

// SAFETY: the raw pointers are uniquely owned boxed slices (like `Vec`), only reached
// through `&mut self`.
unsafe impl Send for CpuKernels {}

impl Default for CpuKernels {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for CpuKernels {
    fn drop(&mut self) {
        for &(p, n) in &self.bufs {
            // SAFETY: made by `Box::into_raw` of a `[f32]` of length `n` in `alloc`.
            drop(unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(p, n)) });
        }
        for &(p, n) in &self.ids {
            // SAFETY: as above, from `alloc_ids`.
            drop(unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(p, n)) });
        }
    }
}

fn overlaps(a: (u32, usize, usize), b: (u32, usize, usize)) -> bool {
    a.0 == b.0 && a.2 > 0 && b.2 > 0 && a.1 < b.1 + b.2 && b.1 < a.1 + a.2
}

fn key(s: Slice) -> (u32, usize, usize) {
    (s.buf.0, s.offset, s.len)
}

fn id_key(s: IdSlice) -> (u32, usize, usize) {
    (s.buf.0, s.offset, s.len)
}

/// An absent optional operand: a zero-length slice (never overlaps anything).
fn opt(s: Option<Slice>) -> Slice {
    s.unwrap_or(Slice {
        buf: BufId(0),
        offset: 0,
        len: 0,
    })
}

fn some(s: &[f32]) -> Option<&[f32]> {
    (!s.is_empty()).then_some(s)
}

impl CpuKernels {
    /// An empty backend.
    pub fn new() -> Self {
        Self {
            bufs: Vec::new(),
            ids: Vec::new(),
            order: Vec::new(),
            pending_zero: None,
        }
    }

    /// Writes a deferred zero-fill.
    fn flush_zero(&mut self) {
        if let Some(s) = self.pending_zero.take() {
            self.slice_mut(s).fill(0.0);
        }
    }

    /// Whether `s` is exactly the deferred zero-fill (which the caller then overwrites
    /// instead of accumulating into); clears it if so.
    fn take_zero(&mut self, s: Slice) -> bool {
        let hit = self.pending_zero == Some(s);
        if hit {
            self.pending_zero = None;
        }
        hit
    }

    /// Borrows output slices mutably and input slices shared, all at once, after checking
    /// bounds and that no output overlaps another operand.
    #[allow(clippy::type_complexity)]
    fn split<const W: usize, const R: usize, const IW: usize, const IR: usize>(
        &mut self,
        w: [Slice; W],
        r: [Slice; R],
        iw: [IdSlice; IW],
        ir: [IdSlice; IR],
    ) -> ([&mut [f32]; W], [&[f32]; R], [&mut [u32]; IW], [&[u32]; IR]) {
        self.flush_zero();
        for s in w.iter().chain(&r) {
            if s.len > 0 {
                let (_, n) = self.bufs[s.buf.0 as usize];
                assert!(s.offset + s.len <= n, "slice out of bounds: {s:?}");
            }
        }
        for s in iw.iter().chain(&ir) {
            if s.len > 0 {
                let (_, n) = self.ids[s.buf.0 as usize];
                assert!(s.offset + s.len <= n, "id slice out of bounds: {s:?}");
            }
        }
        for (i, a) in w.iter().enumerate() {
            for b in w[i + 1..].iter().chain(&r) {
                assert!(!overlaps(key(*a), key(*b)), "output {a:?} overlaps {b:?}");
            }
        }
        for (i, a) in iw.iter().enumerate() {
            for b in iw[i + 1..].iter().chain(&ir) {
                assert!(
                    !overlaps(id_key(*a), id_key(*b)),
                    "output {a:?} overlaps {b:?}"
                );
            }
        }
        let f = |s: &Slice| -> *mut f32 {
            if s.len == 0 {
                core::ptr::NonNull::dangling().as_ptr()
            } else {
                // SAFETY: in bounds (checked above).
                unsafe { self.bufs[s.buf.0 as usize].0.add(s.offset) }
            }
        };
        let g = |s: &IdSlice| -> *mut u32 {
            if s.len == 0 {
                core::ptr::NonNull::dangling().as_ptr()
            } else {
                // SAFETY: in bounds (checked above).
                unsafe { self.ids[s.buf.0 as usize].0.add(s.offset) }
            }
        };
        // SAFETY: every range is in bounds of a live allocation owned by `self`, outputs are
        // disjoint from each other and from inputs, and all borrows end with `&mut self`'s.
        unsafe {
            (
                core::array::from_fn(|i| core::slice::from_raw_parts_mut(f(&w[i]), w[i].len)),
                core::array::from_fn(|i| core::slice::from_raw_parts(f(&r[i]), r[i].len)),
                core::array::from_fn(|i| core::slice::from_raw_parts_mut(g(&iw[i]), iw[i].len)),
                core::array::from_fn(|i| core::slice::from_raw_parts(g(&ir[i]), ir[i].len)),
            )
        }
    }

    /// Reads a slice synchronously (the CPU's read is immediate).
    pub fn slice(&mut self, s: Slice) -> &[f32] {
        let ([], [x], [], []) = self.split([], [s], [], []);
        x
    }

    /// Writes a slice synchronously.
    pub fn slice_mut(&mut self, s: Slice) -> &mut [f32] {
        let ([x], [], [], []) = self.split([s], [], [], []);
        x
    }

    /// Reads an id slice synchronously.
    pub fn id_slice(&mut self, s: IdSlice) -> &[u32] {
        let ([], [], [], [x]) = self.split([], [], [], [s]);
        x
    }
}

impl Kernels for CpuKernels {
    fn read_is_immediate(&self) -> bool {
        true
    }

    fn alloc(&mut self, len: usize) -> BufId {
        let b: Box<[f32]> = vec![0.0; len].into_boxed_slice();
        self.bufs.push((Box::into_raw(b) as *mut f32, len));
        BufId((self.bufs.len() - 1) as u32)
    }

    fn alloc_ids(&mut self, len: usize) -> IdBufId {
        let b: Box<[u32]> = vec![0; len].into_boxed_slice();
        self.ids.push((Box::into_raw(b) as *mut u32, len));
        IdBufId((self.ids.len() - 1) as u32)
    }

    fn write(&mut self, dst: Slice, src: &[f32]) {
        self.slice_mut(dst).copy_from_slice(src);
    }

    fn write_ids(&mut self, dst: IdSlice, src: &[u32]) {
        let ([], [], [d], []) = self.split([], [], [dst], []);
        d.copy_from_slice(src);
    }

    fn read(&mut self, src: Slice, dst: &mut [f32]) -> impl Future<Output = ()> {
        dst.copy_from_slice(self.slice(src));
        ready(())
    }

    fn read_ids(&mut self, src: IdSlice, dst: &mut [u32]) -> impl Future<Output = ()> {
        dst.copy_from_slice(self.id_slice(src));
        ready(())
    }

    fn fill(&mut self, dst: Slice, value: f32) {
        self.flush_zero();
        if value == 0.0 && dst.len > 0 {
            // Checked now, written later (see `pending_zero`).
            let _ = self.slice_mut(dst);
            self.pending_zero = Some(dst);
        } else {
            self.slice_mut(dst).fill(value);
        }
    }

    fn copy(&mut self, dst: Slice, src: Slice) {
        let ([d], [s], [], []) = self.split([dst], [src], [], []);
        d.copy_from_slice(s);
    }

    fn embedding_forward(
        &mut self,
        out: Slice,
        tokens: IdSlice,
        wte: Slice,
        wpe: Slice,
        s: EmbedShape,
    ) {
        let ([o], [wte, wpe], [], [t]) = self.split([out], [wte, wpe], [], [tokens]);
        simd_call!(embedding::embedding_forward(o, t, wte, wpe, s));
    }

    fn embedding_backward(
        &mut self,
        dwte: Slice,
        dwpe: Slice,
        dout: Slice,
        tokens: IdSlice,
        s: EmbedShape,
    ) {
        let ([dwte, dwpe], [d], [], [t]) = self.split([dwte, dwpe], [dout], [], [tokens]);
        simd_call!(embedding::embedding_backward(dwte, dwpe, d, t, s));
    }

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
    ) {
        let ([o, m, r], [x, w, b], [], []) =
            self.split([out, mean, rstd], [inp, weight, bias], [], []);
        let c = s.c;
        parallel::for_runs(
            s.rows,
            MIN_ROWS,
            [(o, c), (m, 1), (r, 1)],
            |r0, rows, [o, m, r]| {
                let x = &x[r0 * c..];
                let s = RowShape { rows, c };
                simd_call!(layernorm::layernorm_forward(o, m, r, x, w, b, s, eps));
            },
        );
    }

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
    ) {
        let ([dx, dw, db], [dy, x, w, m, r], [], []) = self.split(
            [dinp, dweight, dbias],
            [dout, inp, weight, mean, rstd],
            [],
            [],
        );
        let c = s.c;
        if parallel::parts_for(s.rows, MIN_ROWS) == 1 {
            return simd_call!(layernorm::layernorm_backward(dx, dw, db, dy, x, w, m, r, s));
        }
        // The weight and bias gradients (a sum over rows) on one part, runs of the input
        // gradient's rows on the others: the sums keep their one-thread order.
        let parts = parallel::parts_for(s.rows, MIN_ROWS).max(2);
        let sx = pool::Shared::new(&mut dx[..s.rows * c]);
        let (sw, sb) = (
            pool::Shared::new(&mut dw[..c]),
            pool::Shared::new(&mut db[..c]),
        );
        parallel::run(parts, &|p| {
            if p == 0 {
                // SAFETY: only part 0 touches dweight and dbias.
                let (dw, db) = unsafe { (sw.range(0, c), sb.range(0, c)) };
                simd_call!(layernorm::layernorm_backward_params(dw, db, dy, x, m, r, s));
            } else {
                let (r0, rows) = pool::part_range(s.rows, parts - 1, p - 1);
                // SAFETY: the other parts' row runs are disjoint.
                let dx = unsafe { sx.range(r0 * c, rows * c) };
                let (dy, x) = (&dy[r0 * c..], &x[r0 * c..]);
                let (m, r) = (&m[r0..], &r[r0..]);
                let s = RowShape { rows, c };
                simd_call!(layernorm::layernorm_backward_input(dx, dy, x, w, m, r, s));
            }
        });
    }

    fn matmul_forward(
        &mut self,
        out: Slice,
        inp: Slice,
        weight: Slice,
        bias: Option<Slice>,
        s: MatmulShape,
    ) {
        let ([o], [x, w, b], [], []) = self.split([out], [inp, weight, opt(bias)], [], []);
        matmul::matmul_forward(o, x, w, some(b), s);
    }

    fn matmul_backward(
        &mut self,
        dinp: Slice,
        dweight: Slice,
        dbias: Option<Slice>,
        dout: Slice,
        inp: Slice,
        weight: Slice,
        s: MatmulShape,
    ) {
        let fresh = self.take_zero(dinp);
        let ([dx, dw, db], [dy, x, w], [], []) =
            self.split([dinp, dweight, opt(dbias)], [dout, inp, weight], [], []);
        let db = (!db.is_empty()).then_some(db);
        matmul::matmul_backward_beta(dx, if fresh { 0.0 } else { 1.0 }, dw, db, dy, x, w, s);
    }

    fn attention_forward(&mut self, out: Slice, att: Slice, qkv: Slice, s: AttnShape) {
        let ([o, a], [q], [], []) = self.split([out, att], [qkv], [], []);
        attention::attention_forward(o, a, q, s);
    }

    fn attention_backward(
        &mut self,
        dqkv: Slice,
        datt: Slice,
        dout: Slice,
        qkv: Slice,
        att: Slice,
        s: AttnShape,
    ) {
        let fresh = self.take_zero(dqkv);
        let ([dq, da], [dy, q, a], [], []) = self.split([dqkv, datt], [dout, qkv, att], [], []);
        attention::attention_backward_into(dq, !fresh, da, dy, q, a, s);
    }

    fn gelu_forward(&mut self, out: Slice, inp: Slice, n: usize) {
        let ([o], [x], [], []) = self.split([out], [inp], [], []);
        parallel::for_runs(n, MIN_ELEMS, [(o, 1)], |i, len, [o]| {
            simd_call!(gelu::gelu_forward(o, &x[i..i + len]))
        });
    }

    fn gelu_backward(&mut self, dinp: Slice, dout: Slice, inp: Slice, n: usize) {
        let fresh = self.take_zero(dinp);
        let ([dx], [dy, x], [], []) = self.split([dinp], [dout, inp], [], []);
        parallel::for_runs(n, MIN_ELEMS, [(dx, 1)], |i, len, [dx]| {
            let (dy, x) = (&dy[i..i + len], &x[i..i + len]);
            if fresh {
                simd_call!(gelu::gelu_backward_set(dx, dy, x));
            } else {
                simd_call!(gelu::gelu_backward(dx, dy, x));
            }
        });
    }

    fn residual_forward(&mut self, out: Slice, a: Slice, b: Slice, n: usize) {
        let ([o], [a, b], [], []) = self.split([out], [a, b], [], []);
        parallel::for_runs(n, MIN_ELEMS, [(o, 1)], |i, len, [o]| {
            simd_call!(gelu::residual_forward(o, &a[i..i + len], &b[i..i + len]))
        });
    }

    fn residual_backward(&mut self, da: Slice, db: Slice, dout: Slice, n: usize) {
        let ([da, db], [dy], [], []) = self.split([da, db], [dout], [], []);
        parallel::for_runs(n, MIN_ELEMS, [(da, 1), (db, 1)], |i, len, [da, db]| {
            simd_call!(gelu::residual_backward(da, db, &dy[i..i + len]))
        });
    }

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
    ) {
        let ([lp, h, l, z], [x, w], [], [t]) =
            self.split([logp, opt(entropy), lse, scratch], [x, wte], [], [targets]);
        let h = (!h.is_empty()).then_some(h);
        simd_call!(logprob::logprob_forward(lp, h, l, x, w, t, z, s));
    }

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
    ) {
        let ([dx, dw, z], [wt, ew, x, w, l, h], [], [t]) = self.split(
            [dx, dwte, scratch],
            [weights, opt(entropy_weights), x, wte, lse, opt(entropy)],
            [],
            [targets],
        );
        simd_call!(logprob::logprob_backward(
            dx,
            dw,
            wt,
            some(ew),
            x,
            w,
            t,
            l,
            some(h),
            z,
            s
        ));
    }

    fn logits_forward(&mut self, logits: Slice, x: Slice, wte: Slice, s: HeadShape) {
        let ([z], [x, w], [], []) = self.split([logits], [x, wte], [], []);
        logprob::logits_forward(z, x, w, s);
    }

    fn attention_decode(
        &mut self,
        out: Slice,
        k_cache: Slice,
        v_cache: Slice,
        att: Slice,
        qkv: Slice,
        s: DecodeShape,
    ) {
        let ([o, kc, vc, a], [q], [], []) = self.split([out, k_cache, v_cache, att], [qkv], [], []);
        simd_call!(attention::attention_decode(o, kc, vc, a, q, s));
    }

    fn sample(
        &mut self,
        tokens: IdSlice,
        logprobs: Slice,
        logits: Slice,
        prompt_lens: IdSlice,
        a: SampleArgs,
    ) {
        let mut order = core::mem::take(&mut self.order);
        if order.len() < a.v {
            order.resize(a.v, 0);
        }
        {
            let ([lp], [z], [tok], [pl]) =
                self.split([logprobs], [logits], [tokens], [prompt_lens]);
            let next = a.pos + 1;
            if next < a.t_cap {
                for i in 0..a.b {
                    if next < pl[i] as usize {
                        continue;
                    }
                    let row = &z[i * a.v..][..a.v];
                    let u = sampling::uniform(a.seed, a.step, i as u32, next as u32);
                    let (t, l) = sampling::sample_row(row, u, &a, &mut order[..a.v]);
                    tok[i * a.t_cap + next] = t;
                    lp[i * a.t_cap + next] = l;
                }
            }
        }
        self.order = order;
    }

    fn sum_squares(&mut self, out: Slice, inp: Slice) {
        let ([o], [x], [], []) = self.split([out], [inp], [], []);
        o[0] = adamw::sum_squares(x);
    }

    fn adamw(
        &mut self,
        params: Slice,
        grads: Slice,
        m: Slice,
        v: Slice,
        decay_mask: Slice,
        norm_sq: Slice,
        a: AdamWArgs,
    ) {
        let ([p, mm, vv], [g, mask, n], [], []) =
            self.split([params, m, v], [grads, decay_mask, norm_sq], [], []);
        let norm_sq = n[0];
        let len = p.len();
        parallel::for_runs(
            len,
            MIN_ELEMS,
            [(p, 1), (mm, 1), (vv, 1)],
            |i, len, [p, mm, vv]| {
                let (g, mask) = (&g[i..i + len], &mask[i..i + len]);
                simd_call!(adamw::adamw(p, g, mm, vv, mask, norm_sq, a));
            },
        );
    }
}
