//! LayerNorm forward and backward on the CPU (Ba, Kiros, Hinton 2016).
//!
//! `x̂ = (x − μ)·rstd`, `rstd = 1/√(σ² + ε)` with the biased variance, `y = x̂·w + b`.
//! Backward (per row of width C, `g = dy·w`):
//! `dx = rstd·(g − mean(g) − x̂·mean(g·x̂))`, `dw += dy·x̂`, `db += dy`.

use super::fastmath::{sum, sum_sq_dev};
use crate::kernels::RowShape;

/// Normalises each row, saving its mean and rstd.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn layernorm_forward(
    out: &mut [f32],
    mean: &mut [f32],
    rstd: &mut [f32],
    inp: &[f32],
    weight: &[f32],
    bias: &[f32],
    s: RowShape,
    eps: f32,
) {
    let c = s.c;
    let (w, b) = (&weight[..c], &bias[..c]);
    for r in 0..s.rows {
        let x = &inp[r * c..][..c];
        let m = sum(x) / c as f32;
        let var = sum_sq_dev(x, m) / c as f32;
        let rs = 1.0 / libm::sqrtf(var + eps);
        let o = &mut out[r * c..][..c];
        for i in 0..c {
            o[i] = (x[i] - m) * rs * w[i] + b[i];
        }
        mean[r] = m;
        rstd[r] = rs;
    }
}

/// Accumulates the input, weight and bias gradients: [`layernorm_backward_params`] then
/// [`layernorm_backward_input`] (the kernel threads run the two on different threads).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn layernorm_backward(
    dinp: &mut [f32],
    dweight: &mut [f32],
    dbias: &mut [f32],
    dout: &[f32],
    inp: &[f32],
    weight: &[f32],
    mean: &[f32],
    rstd: &[f32],
    s: RowShape,
) {
    layernorm_backward_params(dweight, dbias, dout, inp, mean, rstd, s);
    layernorm_backward_input(dinp, dout, inp, weight, mean, rstd, s);
}

/// The input gradient of [`layernorm_backward`] (`dinp += …`), for `s.rows` rows.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn layernorm_backward_input(
    dinp: &mut [f32],
    dout: &[f32],
    inp: &[f32],
    weight: &[f32],
    mean: &[f32],
    rstd: &[f32],
    s: RowShape,
) {
    let c = s.c;
    let w = &weight[..c];
    for r in 0..s.rows {
        let x = &inp[r * c..][..c];
        let dy = &dout[r * c..][..c];
        let (m, rs) = (mean[r], rstd[r]);
        let mut g_mean = 0.0f32;
        let mut gx_mean = 0.0f32;
        for i in 0..c {
            let xh = (x[i] - m) * rs;
            let g = dy[i] * w[i];
            g_mean += g;
            gx_mean += g * xh;
        }
        g_mean /= c as f32;
        gx_mean /= c as f32;
        let dx = &mut dinp[r * c..][..c];
        for i in 0..c {
            let xh = (x[i] - m) * rs;
            dx[i] += rs * (dy[i] * w[i] - g_mean - xh * gx_mean);
        }
    }
}

/// The weight and bias gradients of [`layernorm_backward`] (`dweight += Σ dy·x̂`,
/// `dbias += Σ dy`, rows summed in order).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn layernorm_backward_params(
    dweight: &mut [f32],
    dbias: &mut [f32],
    dout: &[f32],
    inp: &[f32],
    mean: &[f32],
    rstd: &[f32],
    s: RowShape,
) {
    let c = s.c;
    let (dw, db) = (&mut dweight[..c], &mut dbias[..c]);
    for r in 0..s.rows {
        let x = &inp[r * c..][..c];
        let dy = &dout[r * c..][..c];
        let (m, rs) = (mean[r], rstd[r]);
        for i in 0..c {
            let xh = (x[i] - m) * rs;
            db[i] += dy[i];
            dw[i] += xh * dy[i];
        }
    }
}
