//! Matmul (+bias) forward and backward on the CPU, through `matrixmultiply::sgemm`.
//!
//! Weights are `[in, out]` (HF `Conv1D`): `out = inp·W + b`, so
//! `dinp = dout·Wᵀ`, `dW = inpᵀ·dout`, `db = Σ_rows dout`.

use super::microgemm;
use super::parallel;
use super::pool::{part_range, Shared};
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

/// Multiply-adds per thread below which a product stays on one thread.
pub const MIN_PART_WORK: usize = 1 << 17;

/// `out(rows,n) = inp(rows,k)·weight(k,n) + bias(n)`, the rows split over the kernel threads
/// (each output row is computed the same way whatever thread takes it).
pub fn matmul_forward(
    out: &mut [f32],
    inp: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    s: MatmulShape,
) {
    let MatmulShape { rows, k, n } = s;
    let out = &mut out[..rows * n];
    // The path is chosen from the whole product, never from a part.
    let small = rows <= SMALL_ROWS;
    // Small products split in whole microkernel tiles.
    let unit = if small { microgemm::MR } else { 1 };
    let units = rows.div_ceil(unit);
    let parts = parallel::parts_for(rows * k * n, MIN_PART_WORK).min(units);
    let shared = Shared::new(out);
    parallel::run(parts, &|p| {
        let (u0, nu) = part_range(units, parts, p);
        let r0 = u0 * unit;
        let r = (nu * unit).min(rows - r0);
        if r == 0 {
            return;
        }
        // SAFETY: the parts' row runs are disjoint.
        let out = unsafe { shared.range(r0 * n, r * n) };
        let inp = &inp[r0 * k..];
        let beta = match bias {
            Some(b) => {
                for row in out.chunks_exact_mut(n) {
                    row.copy_from_slice(&b[..n]);
                }
                1.0
            }
            None => 0.0,
        };
        if small {
            // Few rows (the decode step): packing the weights would cost as much as the product.
            microgemm::gemm(r, n, k, inp, k, 1, weight, n, out, n, 1.0, beta != 0.0);
        } else {
            gemm(r, k, n, inp, k, 1, weight, n, 1, beta, out, n);
        }
    });
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
///
/// On several threads, half the parts take runs of `dinp`'s rows and the other half runs of
/// `dweight`'s rows (the bias gradient goes with the last); no sum is split, so the result
/// is the one-thread result bit for bit.
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
    let parts = parallel::parts_for(2 * rows * k * n, MIN_PART_WORK).clamp(1, 2 * rows.max(1));
    let (pa, pb) = if parts == 1 {
        (1, 1)
    } else {
        (parts / 2, parts - parts / 2)
    };
    let (sx, sw) = (
        Shared::new(&mut dinp[..rows * k]),
        Shared::new(&mut dweight[..k * n]),
    );
    let sb = dbias.map(|d| Shared::new(&mut d[..n]));
    let input_grad = |p: usize| {
        let (r0, r) = part_range(rows, pa, p);
        if r == 0 {
            return;
        }
        // SAFETY: the dinp parts' row runs are disjoint.
        let dx = unsafe { sx.range(r0 * k, r * k) };
        // dinp(r,k) = dout(r,n) · weight(k,n)ᵀ + beta·dinp
        gemm(r, n, k, &dout[r0 * n..], n, 1, weight, 1, n, beta, dx, k);
    };
    let weight_grad = |p: usize| {
        let (i0, m) = part_range(k, pb, p);
        if m > 0 {
            // SAFETY: the dweight parts' row runs are disjoint.
            let dw = unsafe { sw.range(i0 * n, m * n) };
            // dweight(i0.., n) += inp(rows, i0..)ᵀ · dout(rows, n)
            gemm(m, rows, n, &inp[i0..], 1, k, dout, n, 1, 1.0, dw, n);
        }
        if let (Some(sb), true) = (&sb, p + 1 == pb) {
            // SAFETY: only the last dweight part touches dbias.
            let db = unsafe { sb.range(0, n) };
            for row in dout[..rows * n].chunks_exact(n) {
                for (d, g) in db.iter_mut().zip(row) {
                    *d += g;
                }
            }
        }
    };
    if parts == 1 {
        input_grad(0);
        weight_grad(0);
        return;
    }
    parallel::run(pa + pb, &|p| {
        if p < pa {
            input_grad(p)
        } else {
            weight_grad(p - pa)
        }
    });
}
