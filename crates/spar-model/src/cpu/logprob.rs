//! The tied output head with log-prob gather and entropy, chunked over rows, on the CPU.
//!
//! For a row with logits `z = x·wteᵀ`: `lse = log Σ e^{z}`, `p = e^{z − lse}`,
//! `logp = z_y − lse`, `H = lse − Σ p·z`. Back-propagating `w·logp + e·H`:
//! `∂logp/∂z = onehot(y) − p` and `∂H/∂z = −p·(log p + H)`, so
//! `dz = w·(onehot − p) − e·p·(log p + H)`; then `dx += dz·wte`, `dwte += dzᵀ·x`.
//! Only `chunk × V` logits exist at a time: the backward recomputes them.

use super::fastmath::exp;
use super::matmul::gemm;
use crate::kernels::HeadShape;

#[inline(always)]
fn logits_chunk(z: &mut [f32], x: &[f32], wte: &[f32], rows: usize, c: usize, v: usize) {
    // z(rows,V) = x(rows,C) · wte(V,C)ᵀ
    gemm(rows, c, v, x, c, 1, wte, 1, c, 0.0, z, v);
}

/// `logits(rows,V) = x(rows,C)·wte(V,C)ᵀ` over all rows at once.
#[inline(always)]
pub fn logits_forward(logits: &mut [f32], x: &[f32], wte: &[f32], s: HeadShape) {
    logits_chunk(logits, x, wte, s.rows, s.c, s.v);
}

/// Log-sum-exp and `Σ p·z` of one row of logits (eight lanes so the loops vectorise).
#[inline(always)]
fn lse_and_mean(z: &[f32]) -> (f32, f32) {
    let mut mx8 = [f32::NEG_INFINITY; 8];
    let chunks = z.chunks_exact(8);
    let rest = chunks.remainder();
    for ch in chunks.clone() {
        for i in 0..8 {
            mx8[i] = mx8[i].max(ch[i]);
        }
    }
    let mx = rest
        .iter()
        .chain(&mx8)
        .fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let (mut s8, mut z8) = ([0.0f32; 8], [0.0f32; 8]);
    for ch in chunks {
        for i in 0..8 {
            let e = exp(ch[i] - mx);
            s8[i] += e;
            z8[i] += e * ch[i];
        }
    }
    let (mut sum, mut zsum) = (s8.iter().sum::<f32>(), z8.iter().sum::<f32>());
    for &zv in rest {
        let e = exp(zv - mx);
        sum += e;
        zsum += e * zv;
    }
    (mx + libm::logf(sum), zsum / sum)
}

/// Forward: writes `logp(rows)`, `lse(rows)` and, if given, `entropy(rows)`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn logprob_forward(
    logp: &mut [f32],
    mut entropy: Option<&mut [f32]>,
    lse: &mut [f32],
    x: &[f32],
    wte: &[f32],
    targets: &[u32],
    scratch: &mut [f32],
    s: HeadShape,
) {
    let HeadShape { rows, c, v, chunk } = s;
    let mut r0 = 0;
    while r0 < rows {
        let n = chunk.min(rows - r0);
        let z = &mut scratch[..n * v];
        logits_chunk(z, &x[r0 * c..], wte, n, c, v);
        for i in 0..n {
            let r = r0 + i;
            let zr = &z[i * v..][..v];
            let (l, zmean) = lse_and_mean(zr);
            lse[r] = l;
            logp[r] = zr[targets[r] as usize] - l;
            if let Some(h) = entropy.as_deref_mut() {
                h[r] = l - zmean;
            }
        }
        r0 += n;
    }
}

/// Backward: accumulates `dx(rows,C)` and `dwte(V,C)`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn logprob_backward(
    dx: &mut [f32],
    dwte: &mut [f32],
    weights: &[f32],
    entropy_weights: Option<&[f32]>,
    x: &[f32],
    wte: &[f32],
    targets: &[u32],
    lse: &[f32],
    entropy: Option<&[f32]>,
    scratch: &mut [f32],
    s: HeadShape,
) {
    let HeadShape { rows, c, v, chunk } = s;
    let mut r0 = 0;
    while r0 < rows {
        let n = chunk.min(rows - r0);
        let z = &mut scratch[..n * v];
        logits_chunk(z, &x[r0 * c..], wte, n, c, v);
        for i in 0..n {
            let r = r0 + i;
            let w = weights[r];
            let e = entropy_weights.map_or(0.0, |ew| ew[r]);
            let zr = &mut z[i * v..][..v];
            if e == 0.0 {
                for zv in zr.iter_mut() {
                    *zv = -w * exp(*zv - lse[r]);
                }
            } else {
                let h = entropy.expect("entropy weights need the forward's entropy")[r];
                for zv in zr.iter_mut() {
                    let logp = *zv - lse[r];
                    let p = exp(logp);
                    *zv = -w * p - e * p * (logp + h);
                }
            }
            zr[targets[r] as usize] += w;
        }
        // dx(n,C) += dz(n,V) · wte(V,C)
        gemm(n, v, c, z, v, 1, wte, c, 1, 1.0, &mut dx[r0 * c..], c);
        // dwte(V,C) += dz(n,V)ᵀ · x(n,C)
        gemm(v, n, c, z, 1, v, &x[r0 * c..], c, 1, 1.0, dwte, c);
        r0 += n;
    }
}
