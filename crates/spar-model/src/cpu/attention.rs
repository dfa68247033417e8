//! Causal multi-head self-attention forward and backward on the CPU (Vaswani et al. 2017).
//!
//! Per sequence and head, with `hs = C/NH` and `s = 1/√hs`:
//! `A = softmax_causal(s·Q·Kᵀ)`, `Y = A·V`. Backward:
//! `dA = dY·Vᵀ`, `dV += Aᵀ·dY`, `dP = A ∘ (dA − rowsum(A ∘ dA))` (softmax Jacobian),
//! `dQ += s·dP·K`, `dK += s·dPᵀ·Q`. The products go through sgemm over the full `T×T`
//! block (the masked upper triangle is zero), which on small heads is faster than a
//! triangle-aware loop.

use super::fastmath::{dot, exp};
use super::matmul::gemm;
use crate::kernels::{AttnShape, DecodeShape};

/// Forward over `qkv(B,T,3C)`, writing `att(B,NH,T,T)` and `out(B,T,C)`.
#[inline(always)]
pub fn attention_forward(out: &mut [f32], att: &mut [f32], qkv: &[f32], s: AttnShape) {
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

/// Backward: accumulates `dqkv(B,T,3C)`; `datt(B,NH,T,T)` is scratch.
#[inline(always)]
pub fn attention_backward(
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
            let mut mx = f32::NEG_INFINITY;
            for (j, aj) in a.iter_mut().enumerate() {
                let k = &kc[j * c + h * hs..][..hs];
                *aj = dot(q, k);
                mx = mx.max(*aj);
            }
            let mut sum = 0.0;
            for aj in a.iter_mut() {
                *aj = exp((*aj - mx) * scale);
                sum += *aj;
            }
            let inv = 1.0 / sum;
            let o = &mut out[bi * c + h * hs..][..hs];
            o.fill(0.0);
            for (j, &aj) in a.iter().enumerate() {
                let p = aj * inv;
                for (o, v) in o.iter_mut().zip(&vc[j * c + h * hs..][..hs]) {
                    *o += p * v;
                }
            }
        }
    }
}
