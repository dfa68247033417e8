//! Matmul (+bias) forward and backward on the CPU, through `matrixmultiply::sgemm`.
//!
//! Weights are `[in, out]` (HF `Conv1D`): `out = inp·W + b`, so
//! `dinp = dout·Wᵀ`, `dW = inpᵀ·dout`, `db = Σ_rows dout`.

use super::microgemm;
use crate::kernels::MatmulShape;

/// Products with at most this many rows go through the packing-free microkernel.
pub const SMALL_ROWS: usize = 32;

/// `c(m,n) = alpha·a·b + beta·c` with explicit row/column strides (thin wrapper: one place
/// for the `unsafe` call).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    rsb: usize,
    csb: usize,
    beta: f32,
    c: &mut [f32],
    rsc: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    // The slices must cover every element the strides address.
    assert!(k == 0 || a.len() > (m - 1) * rsa + (k - 1) * csa);
    assert!(k == 0 || b.len() > (k - 1) * rsb + (n - 1) * csb);
    assert!(c.len() > (m - 1) * rsc + (n - 1));
    // SAFETY: the asserts above keep every access of sgemm inside the three slices, and
    // `c` is a unique borrow that does not alias `a` or `b`.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa as isize,
            csa as isize,
            b.as_ptr(),
            rsb as isize,
            csb as isize,
            beta,
            c.as_mut_ptr(),
            rsc as isize,
            1,
        );
    }
}

/// `out(rows,n) = inp(rows,k)·weight(k,n) + bias(n)`.
pub fn matmul_forward(
    out: &mut [f32],
    inp: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    s: MatmulShape,
) {
    let MatmulShape { rows, k, n } = s;
    let out = &mut out[..rows * n];
    let beta = match bias {
        Some(b) => {
            for row in out.chunks_exact_mut(n) {
                row.copy_from_slice(&b[..n]);
            }
            1.0
        }
        None => 0.0,
    };
    if rows <= SMALL_ROWS {
        // Few rows (the decode step): packing the weights would cost as much as the product.
        microgemm::gemm(rows, n, k, inp, k, 1, weight, n, out, n, 1.0, beta != 0.0);
        return;
    }
    gemm(rows, k, n, inp, k, 1, weight, n, 1, beta, out, n);
}

/// Accumulates `dinp += dout·weightᵀ`, `dweight += inpᵀ·dout`, `dbias += Σ_rows dout`.
pub fn matmul_backward(
    dinp: &mut [f32],
    dweight: &mut [f32],
    dbias: Option<&mut [f32]>,
    dout: &[f32],
    inp: &[f32],
    weight: &[f32],
    s: MatmulShape,
) {
    matmul_backward_beta(dinp, 1.0, dweight, dbias, dout, inp, weight, s);
}

/// [`matmul_backward`] with `dinp = dout·weightᵀ + beta·dinp` (`beta = 0` overwrites it).
#[allow(clippy::too_many_arguments)]
pub fn matmul_backward_beta(
    dinp: &mut [f32],
    beta: f32,
    dweight: &mut [f32],
    dbias: Option<&mut [f32]>,
    dout: &[f32],
    inp: &[f32],
    weight: &[f32],
    s: MatmulShape,
) {
    let MatmulShape { rows, k, n } = s;
    // dinp(rows,k) = dout(rows,n) · weight(k,n)ᵀ + beta·dinp
    gemm(rows, n, k, dout, n, 1, weight, 1, n, beta, dinp, k);
    // dweight(k,n) += inp(rows,k)ᵀ · dout(rows,n)
    gemm(k, rows, n, inp, 1, k, dout, n, 1, 1.0, dweight, n);
    if let Some(db) = dbias {
        let db = &mut db[..n];
        for row in dout[..rows * n].chunks_exact(n) {
            for (d, g) in db.iter_mut().zip(row) {
                *d += g;
            }
        }
    }
}
