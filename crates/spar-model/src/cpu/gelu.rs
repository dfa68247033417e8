//! GELU with the tanh approximation (Hendrycks & Gimpel 2016; GPT-2's `gelu_new`), and the
//! residual add, on the CPU.
//!
//! `gelu(x) = ½x(1 + tanh u)`, `u = √(2/π)(x + 0.044715x³)`;
//! `gelu'(x) = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)`.

use super::fastmath::tanh_rational as tanh;

const SQRT_2_OVER_PI: f32 = 0.797_884_6;
const K: f32 = 0.044_715;

/// `out = gelu(inp)`.
#[inline(always)]
pub fn gelu_forward(out: &mut [f32], inp: &[f32]) {
    for (o, &x) in out.iter_mut().zip(inp) {
        let u = SQRT_2_OVER_PI * (x + K * x * x * x);
        *o = 0.5 * x * (1.0 + tanh(u));
    }
}

/// `dinp += gelu'(inp)·dout`.
#[inline(always)]
pub fn gelu_backward(dinp: &mut [f32], dout: &[f32], inp: &[f32]) {
    for ((d, &g), &x) in dinp.iter_mut().zip(dout).zip(inp) {
        let u = SQRT_2_OVER_PI * (x + K * x * x * x);
        let th = tanh(u);
        let du = SQRT_2_OVER_PI * (1.0 + 3.0 * K * x * x);
        *d += g * (0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * du);
    }
}

/// `dinp = gelu'(inp)·dout` (overwrites, for a gradient buffer not yet written). `dinp`'s
/// length sets the count.
#[inline(always)]
pub fn gelu_backward_set(dinp: &mut [f32], dout: &[f32], inp: &[f32]) {
    for ((d, &g), &x) in dinp.iter_mut().zip(dout).zip(inp) {
        let u = SQRT_2_OVER_PI * (x + K * x * x * x);
        let th = tanh(u);
        let du = SQRT_2_OVER_PI * (1.0 + 3.0 * K * x * x);
        *d = g * (0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * du);
    }
}

/// `out = a + b`.
#[inline(always)]
pub fn residual_forward(out: &mut [f32], a: &[f32], b: &[f32]) {
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x + y;
    }
}

/// `da += dout`, `db += dout`.
#[inline(always)]
pub fn residual_backward(da: &mut [f32], db: &mut [f32], dout: &[f32]) {
    for ((a, b), g) in da.iter_mut().zip(db.iter_mut()).zip(dout) {
        *a += g;
        *b += g;
    }
}
