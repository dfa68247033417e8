//! Causal multi-head self-attention forward and backward on the CPU (Vaswani et al. 2017).
//!
//! Per sequence and head, with `hs = C/NH` and `s = 1/√hs`:
//! `A = softmax_causal(s·Q·Kᵀ)`, `Y = A·V`. Backward:
//! `dA = dY·Vᵀ`, `dV += Aᵀ·dY`, `dP = A ∘ (dA − rowsum(A ∘ dA))` (softmax Jacobian),
//! `dQ += s·dP·K`, `dK += s·dPᵀ·Q`.
//!
//! The fast path ([`attention_forward`], [`attention_backward`]) walks each head in stripes
//! of four query rows and hands every product to the packing-free [`microgemm`] kernel,
//! cut at the diagonal: a stripe of queries `i0..i0+4` only meets keys `< i0 + 4`, so about
//! half of the `T×T` work is skipped, and `Kᵀ`/`Vᵀ` of one head are transposed once into a
//! stack buffer. Sequences are split over threads. The sgemm versions over whole `T×T`
//! blocks stay as the reference and as the path for heads whose `hs·T` exceeds the buffer.

use super::fastmath::{dot, exp};
use super::matmul::gemm;
use super::microgemm;
use super::parallel::for_items2;
use super::{attention, has_avx2};
use crate::kernels::{AttnShape, DecodeShape};
use core::mem::MaybeUninit;

/// Forward over `qkv(B,T,3C)`, writing `att(B,NH,T,T)` and `out(B,T,C)`, through sgemm over
/// whole `T×T` blocks: the reference for [`attention_forward`] and its path for heads too
/// large for its stack scratch.
#[inline(always)]
pub fn attention_forward_gemm(out: &mut [f32], att: &mut [f32], qkv: &[f32], s: AttnShape) {
    let AttnShape { b, t, c, nh } = s;
    let hs = c / nh;
    let scale = 1.0 / libm::sqrtf(hs as f32);
    for bi in 0..b {
        let qkv_b = &qkv[bi * t * 3 * c..][..t * 3 * c];
        for h in 0..nh {
            let a = &mut att[(bi * nh + h) * t * t..][..t * t];
            // a(t,t) = q(t,hs) · k(t,hs)ᵀ
            gemm(
                t,
                hs,
                t,
                &qkv_b[h * hs..],
                3 * c,
                1,
                &qkv_b[c + h * hs..],
                1,
                3 * c,
                0.0,
                a,
                t,
            );
            for i in 0..t {
                let row = &mut a[i * t..][..t];
                let mx = row[..=i].iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                let mut sum = 0.0;
                for v in row[..=i].iter_mut() {
                    *v = exp((*v - mx) * scale);
                    sum += *v;
                }
                let inv = 1.0 / sum;
                for v in row[..=i].iter_mut() {
                    *v *= inv;
                }
                row[i + 1..].fill(0.0);
            }
            // out(t,hs) = a(t,t) · v(t,hs)
            let o = &mut out[bi * t * c + h * hs..];
            gemm(
                t,
                t,
                hs,
                a,
                t,
                1,
                &qkv_b[2 * c + h * hs..],
                3 * c,
                1,
                0.0,
                o,
                c,
            );
        }
    }
}

/// Backward through sgemm (reference for [`attention_backward`]): accumulates
/// `dqkv(B,T,3C)`; `datt(B,NH,T,T)` is scratch.
#[inline(always)]
pub fn attention_backward_gemm(
    dqkv: &mut [f32],
    datt: &mut [f32],
    dout: &[f32],
    qkv: &[f32],
    att: &[f32],
    s: AttnShape,
) {
    let AttnShape { b, t, c, nh } = s;
    let hs = c / nh;
    let scale = 1.0 / libm::sqrtf(hs as f32);
    for bi in 0..b {
        let qkv_b = &qkv[bi * t * 3 * c..][..t * 3 * c];
        let dqkv_b = &mut dqkv[bi * t * 3 * c..][..t * 3 * c];
        let dout_b = &dout[bi * t * c..][..t * c];
        for h in 0..nh {
            let a = &att[(bi * nh + h) * t * t..][..t * t];
            let da = &mut datt[(bi * nh + h) * t * t..][..t * t];
            // da(t,t) = dout(t,hs) · v(t,hs)ᵀ
            let v = &qkv_b[2 * c + h * hs..];
            gemm(t, hs, t, &dout_b[h * hs..], c, 1, v, 1, 3 * c, 0.0, da, t);
            // dv(t,hs) += a(t,t)ᵀ · dout(t,hs)
            gemm(
                t,
                t,
                hs,
                a,
                1,
                t,
                &dout_b[h * hs..],
                c,
                1,
                1.0,
                &mut dqkv_b[2 * c + h * hs..],
                3 * c,
            );
            // softmax backward, in place, scaled: dp = s·a∘(da − Σ a∘da)
            for i in 0..t {
                let ar = &a[i * t..][..=i];
                let dr = &mut da[i * t..][..t];
                let dot = dot(ar, &dr[..=i]);
                for (d, &p) in dr[..=i].iter_mut().zip(ar) {
                    *d = scale * p * (*d - dot);
                }
                dr[i + 1..].fill(0.0);
            }
            // dq(t,hs) += dp(t,t) · k(t,hs)
            let k = &qkv_b[c + h * hs..];
            gemm(
                t,
                t,
                hs,
                da,
                t,
                1,
                k,
                3 * c,
                1,
                1.0,
                &mut dqkv_b[h * hs..],
                3 * c,
            );
            // dk(t,hs) += dp(t,t)ᵀ · q(t,hs)
            let q = &qkv_b[h * hs..];
            gemm(
                t,
                t,
                hs,
                da,
                1,
                t,
                q,
                3 * c,
                1,
                1.0,
                &mut dqkv_b[c + h * hs..],
                3 * c,
            );
        }
    }
}

/// Floats of the per-head transposed key/value buffer on the stack (64 KiB): the fast path
/// takes heads with `hs·T ≤ TRANSPOSED_MAX`.
pub const TRANSPOSED_MAX: usize = 16 * 1024;

/// Sequences per thread below which the attention kernels stay on one thread.
const MIN_SEQS_PER_THREAD: usize = 1;

/// Forward over `qkv(B,T,3C)`, writing `att(B,NH,T,T)` (zeros above the diagonal) and
/// `out(B,T,C)`.
pub fn attention_forward(out: &mut [f32], att: &mut [f32], qkv: &[f32], s: AttnShape) {
    let AttnShape { b, t, c, nh } = s;
    if (c / nh) * t > TRANSPOSED_MAX {
        return simd_call!(attention::attention_forward_gemm(out, att, qkv, s));
    }
    for_items2(
        b,
        MIN_SEQS_PER_THREAD,
        out,
        t * c,
        att,
        nh * t * t,
        |b0, out, att| {
            let nb = att.len() / (nh * t * t);
            for i in 0..nb {
                let qkv_b = &qkv[(b0 + i) * t * 3 * c..][..t * 3 * c];
                let out_b = &mut out[i * t * c..][..t * c];
                let att_b = &mut att[i * nh * t * t..][..nh * t * t];
                simd_call!(attention::forward_seq(out_b, att_b, qkv_b, s));
            }
        },
    );
}

/// [`attention_forward`] for one sequence: `out(T,C)`, `att(NH,T,T)`, `qkv(T,3C)`.
#[inline(always)]
pub fn forward_seq(out: &mut [f32], att: &mut [f32], qkv: &[f32], s: AttnShape) {
    let AttnShape { t, c, nh, .. } = s;
    let hs = c / nh;
    let scale = 1.0 / libm::sqrtf(hs as f32);
    let mut kt_buf = [MaybeUninit::<f32>::uninit(); TRANSPOSED_MAX];
    for h in 0..nh {
        // kt(hs,T) = k(T,hs)ᵀ
        for j in 0..t {
            let k = &qkv[j * 3 * c + c + h * hs..][..hs];
            for (d, &kv) in k.iter().enumerate() {
                kt_buf[d * t + j].write(kv);
            }
        }
        // SAFETY: the loop above wrote all `hs·T ≤ TRANSPOSED_MAX` leading elements, and
        // `MaybeUninit<f32>` has the layout of `f32`.
        let kt: &[f32] = unsafe { core::slice::from_raw_parts(kt_buf.as_ptr().cast(), hs * t) };
        let a = &mut att[h * t * t..][..t * t];
        for i0 in (0..t).step_by(microgemm::MR) {
            let mr = (t - i0).min(microgemm::MR);
            // a(i0.., 0..i0+mr) = q(i0..,hs) · kt(hs, 0..i0+mr)
            microgemm::gemm(
                mr,
                i0 + mr,
                hs,
                &qkv[i0 * 3 * c + h * hs..],
                3 * c,
                1,
                kt,
                t,
                &mut a[i0 * t..],
                t,
                1.0,
                false,
            );
            for i in i0..i0 + mr {
                let row = &mut a[i * t..][..t];
                let inv = softmax_in_place(&mut row[..=i], scale);
                for v in row[..=i].iter_mut() {
                    *v *= inv;
                }
                row[i + 1..].fill(0.0);
            }
            // out(i0.., hs) = a(i0.., 0..i0+mr) · v(0..i0+mr, hs)
            microgemm::gemm(
                mr,
                hs,
                i0 + mr,
                &a[i0 * t..],
                t,
                1,
                &qkv[2 * c + h * hs..],
                3 * c,
                &mut out[i0 * c + h * hs..],
                c,
                1.0,
                false,
            );
        }
    }
}

/// Backward: accumulates `dqkv(B,T,3C)`; `datt(B,NH,T,T)` is scratch.
pub fn attention_backward(
    dqkv: &mut [f32],
    datt: &mut [f32],
    dout: &[f32],
    qkv: &[f32],
    att: &[f32],
    s: AttnShape,
) {
    attention_backward_into(dqkv, true, datt, dout, qkv, att, s);
}

/// [`attention_backward`] that overwrites `dqkv` instead when `accumulate` is false.
pub fn attention_backward_into(
    dqkv: &mut [f32],
    accumulate: bool,
    datt: &mut [f32],
    dout: &[f32],
    qkv: &[f32],
    att: &[f32],
    s: AttnShape,
) {
    let AttnShape { b, t, c, nh } = s;
    if (c / nh) * t > TRANSPOSED_MAX {
        if !accumulate {
            dqkv[..b * t * 3 * c].fill(0.0);
        }
        return simd_call!(attention::attention_backward_gemm(
            dqkv, datt, dout, qkv, att, s
        ));
    }
    for_items2(
        b,
        MIN_SEQS_PER_THREAD,
        dqkv,
        t * 3 * c,
        datt,
        nh * t * t,
        |b0, dqkv, datt| {
            let nb = datt.len() / (nh * t * t);
            for i in 0..nb {
                let bi = b0 + i;
                simd_call!(attention::backward_seq(
                    &mut dqkv[i * t * 3 * c..][..t * 3 * c],
                    accumulate,
                    &mut datt[i * nh * t * t..][..nh * t * t],
                    &dout[bi * t * c..][..t * c],
                    &qkv[bi * t * 3 * c..][..t * 3 * c],
                    &att[bi * nh * t * t..][..nh * t * t],
                    s
                ));
            }
        },
    );
}

/// [`attention_backward_into`] for one sequence (each element of `dqkv` is written by one
/// product, so `accumulate = false` overwrites it): `dqkv(T,3C)`, `datt(NH,T,T)`, `dout(T,C)`,
/// `qkv(T,3C)`, `att(NH,T,T)`.
#[inline(always)]
pub fn backward_seq(
    dqkv: &mut [f32],
    accumulate: bool,
    datt: &mut [f32],
    dout: &[f32],
    qkv: &[f32],
    att: &[f32],
    s: AttnShape,
) {
    let AttnShape { t, c, nh, .. } = s;
    let hs = c / nh;
    let scale = 1.0 / libm::sqrtf(hs as f32);
    let mut vt_buf = [MaybeUninit::<f32>::uninit(); TRANSPOSED_MAX];
    for h in 0..nh {
        // vt(hs,T) = v(T,hs)ᵀ
        for j in 0..t {
            let v = &qkv[j * 3 * c + 2 * c + h * hs..][..hs];
            for (d, &vv) in v.iter().enumerate() {
                vt_buf[d * t + j].write(vv);
            }
        }
        // SAFETY: the loop above wrote all `hs·T ≤ TRANSPOSED_MAX` leading elements, and
        // `MaybeUninit<f32>` has the layout of `f32`.
        let vt: &[f32] = unsafe { core::slice::from_raw_parts(vt_buf.as_ptr().cast(), hs * t) };
        let a = &att[h * t * t..][..t * t];
        let dp = &mut datt[h * t * t..][..t * t];
        for i0 in (0..t).step_by(microgemm::MR) {
            let mr = (t - i0).min(microgemm::MR);
            // da(i0.., 0..i0+mr) = dout(i0..,hs) · vt(hs, 0..i0+mr)
            microgemm::gemm(
                mr,
                i0 + mr,
                hs,
                &dout[i0 * c + h * hs..],
                c,
                1,
                vt,
                t,
                &mut dp[i0 * t..],
                t,
                1.0,
                false,
            );
            // softmax backward in place, scaled: dp = s·a∘(da − Σ a∘da)
            for i in i0..i0 + mr {
                let ar = &a[i * t..][..=i];
                let dr = &mut dp[i * t..][..t];
                let dot = dot(ar, &dr[..=i]);
                for (d, &p) in dr[..=i].iter_mut().zip(ar) {
                    *d = scale * p * (*d - dot);
                }
                dr[i + 1..].fill(0.0);
            }
            // dq(i0.., hs) += dp(i0.., 0..i0+mr) · k(0..i0+mr, hs)
            microgemm::gemm(
                mr,
                hs,
                i0 + mr,
                &dp[i0 * t..],
                t,
                1,
                &qkv[c + h * hs..],
                3 * c,
                &mut dqkv[i0 * 3 * c + h * hs..],
                3 * c,
                1.0,
                accumulate,
            );
        }
        let dp = &datt[h * t * t..][..t * t];
        for j0 in (0..t).step_by(microgemm::MR) {
            let mr = (t - j0).min(microgemm::MR);
            // Keys j0.. only meet queries i ≥ j0 (the rest of column j is zero).
            // dv(j0.., hs) += a(j0.., j0..)ᵀ · dout(j0.., hs)
            microgemm::gemm(
                mr,
                hs,
                t - j0,
                &a[j0 * t + j0..],
                1,
                t,
                &dout[j0 * c + h * hs..],
                c,
                &mut dqkv[j0 * 3 * c + 2 * c + h * hs..],
                3 * c,
                1.0,
                accumulate,
            );
            // dk(j0.., hs) += dp(j0.., j0..)ᵀ · q(j0.., hs)
            microgemm::gemm(
                mr,
                hs,
                t - j0,
                &dp[j0 * t + j0..],
                1,
                t,
                &qkv[j0 * 3 * c + h * hs..],
                3 * c,
                &mut dqkv[j0 * 3 * c + c + h * hs..],
                3 * c,
                1.0,
                accumulate,
            );
        }
    }
}

/// One decoding step: stores k, v of `qkv(B,3C)` at `pos` of the caches `(B,T_cap,C)`, then
/// attends each query to keys `0..=pos`; `att(B,NH,T_cap)` is scratch; writes `out(B,C)`.
#[inline(always)]
pub fn attention_decode(
    out: &mut [f32],
    k_cache: &mut [f32],
    v_cache: &mut [f32],
    att: &mut [f32],
    qkv: &[f32],
    s: DecodeShape,
) {
    let DecodeShape {
        b,
        pos,
        t_cap,
        c,
        nh,
    } = s;
    let hs = c / nh;
    let scale = 1.0 / libm::sqrtf(hs as f32);
    for bi in 0..b {
        let row = &qkv[bi * 3 * c..][..3 * c];
        let kc = &mut k_cache[bi * t_cap * c..][..t_cap * c];
        let vc = &mut v_cache[bi * t_cap * c..][..t_cap * c];
        kc[pos * c..][..c].copy_from_slice(&row[c..2 * c]);
        vc[pos * c..][..c].copy_from_slice(&row[2 * c..]);
        for h in 0..nh {
            let q = &row[h * hs..][..hs];
            let a = &mut att[(bi * nh + h) * t_cap..][..=pos];
            for (j, aj) in a.iter_mut().enumerate() {
                *aj = dot(q, &kc[j * c + h * hs..][..hs]);
            }
            let inv = softmax_in_place(a, scale);
            // out(1,hs) = a(1,0..=pos) · v(0..=pos,hs), the weights normalised afterwards
            microgemm::gemm(
                1,
                hs,
                pos + 1,
                a,
                0,
                1,
                &vc[h * hs..],
                c,
                &mut out[bi * c + h * hs..],
                c,
                inv,
                false,
            );
        }
    }
}

/// `a ← e^{(a − max a)·scale}` in place; returns `1/Σ a` (eight lanes so it vectorises).
#[inline(always)]
fn softmax_in_place(a: &mut [f32], scale: f32) -> f32 {
    let mut mx8 = [f32::NEG_INFINITY; 8];
    let mut chunks = a.chunks_exact_mut(8);
    for ch in &mut chunks {
        for i in 0..8 {
            mx8[i] = if ch[i] > mx8[i] { ch[i] } else { mx8[i] };
        }
    }
    let mx = chunks
        .into_remainder()
        .iter()
        .chain(&mx8)
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
    let mut s8 = [0.0f32; 8];
    let mut chunks = a.chunks_exact_mut(8);
    for ch in &mut chunks {
        for i in 0..8 {
            ch[i] = exp((ch[i] - mx) * scale);
            s8[i] += ch[i];
        }
    }
    let mut sum = s8.iter().sum::<f32>();
    for v in chunks.into_remainder() {
        *v = exp((*v - mx) * scale);
        sum += *v;
    }
    1.0 / sum
}
