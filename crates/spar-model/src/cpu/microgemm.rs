//! A register-blocked GEMM microkernel without packing, for the small and skinny products
//! where `matrixmultiply`'s packing costs as much as the arithmetic: the per-head attention
//! products (`T ≤ 256`, head size 32–64) and the decode step's `16 × C` activations against
//! `C × 3C` weights.
//!
//! `c(m,n) = α·a(m,k)·b(k,n) (+ c)`, with `a` addressed by any row/column strides (its
//! elements are broadcast one at a time, so a transposed `a` costs nothing) and `b`, `c`
//! row-major with unit column stride. The output is cut into `4 × 16` tiles; each tile keeps
//! its 64 sums in eight 8-wide registers over the whole `k` loop (Goto & van de Geijn 2008,
//! "Anatomy of high-performance matrix multiplication", without the packing step), so
//! every `b` row is loaded once per four output rows and every output is written once.
//!
//! Each output is `Σ_p a[i,p]·b[p,j]` summed in order of `p`, whatever the tiling or
//! the thread that computes it: results depend on the CPU's features (FMA or not), never on
//! how the work is split.

/// Tile height (rows of `c` per microkernel call).
pub const MR: usize = 4;
/// Tile width (columns of `c` per microkernel call: two 8-wide registers).
pub const NR: usize = 16;

/// `c[i·rsc + j] = α·Σ_p a[i·rsa + p·csa]·b[p·rsb + j] (+ c[i·rsc + j] if accumulate)` for
/// `i < m`, `j < n`, `p < k`.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn gemm(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    rsb: usize,
    c: &mut [f32],
    rsc: usize,
    alpha: f32,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k > 0 {
        assert!(a.len() > (m - 1) * rsa + (k - 1) * csa, "a too short");
        assert!(b.len() >= (k - 1) * rsb + n, "b too short");
    }
    assert!(c.len() >= (m - 1) * rsc + n, "c too short");
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if super::has_avx2() {
        // Column panels outer: one `k × 16` panel of `b` stays in L1 for every row stripe.
        for j0 in (0..n).step_by(NR) {
            for i0 in (0..m).step_by(MR) {
                let (mr, nr) = ((m - i0).min(MR), (n - j0).min(NR));
                // SAFETY: AVX2 and FMA are present (checked above); the asserts above keep
                // every access of rows `i0..i0 + mr`, columns `j0..j0 + nr` and `p < k`
                // inside the three slices, and `c` does not alias `a` or `b` (borrows).
                unsafe {
                    let (a, b, c) = (
                        a.as_ptr().add(i0 * rsa),
                        b.as_ptr().add(j0),
                        c.as_mut_ptr().add(i0 * rsc + j0),
                    );
                    let args = (nr, k, a, rsa, csa, b, rsb, c, rsc, alpha, accumulate);
                    match mr {
                        4 => call_tile::<4>(args),
                        3 => call_tile::<3>(args),
                        2 => call_tile::<2>(args),
                        _ => call_tile::<1>(args),
                    }
                }
            }
        }
        return;
    }
    portable(m, n, k, a, rsa, csa, b, rsb, c, rsc, alpha, accumulate);
}

/// The same sums tile by tile in plain Rust (no FMA): the fallback and the reference.
#[allow(clippy::too_many_arguments)]
pub fn portable(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    rsb: usize,
    c: &mut [f32],
    rsc: usize,
    alpha: f32,
    accumulate: bool,
) {
    for i0 in (0..m).step_by(MR) {
        for j0 in (0..n).step_by(NR) {
            let (mr, nr) = ((m - i0).min(MR), (n - j0).min(NR));
            let mut acc = [[0.0f32; NR]; MR];
            for p in 0..k {
                let brow = &b[p * rsb + j0..][..nr];
                for (r, acc_r) in acc.iter_mut().enumerate().take(mr) {
                    let av = a[(i0 + r) * rsa + p * csa];
                    for (s, &bv) in acc_r.iter_mut().zip(brow) {
                        *s += av * bv;
                    }
                }
            }
            for (r, acc_r) in acc.iter().enumerate().take(mr) {
                let crow = &mut c[(i0 + r) * rsc + j0..][..nr];
                for (cv, &s) in crow.iter_mut().zip(acc_r) {
                    *cv = if accumulate {
                        *cv + alpha * s
                    } else {
                        alpha * s
                    };
                }
            }
        }
    }
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
type TileArgs = (
    usize,
    usize,
    *const f32,
    usize,
    usize,
    *const f32,
    usize,
    *mut f32,
    usize,
    f32,
    bool,
);

/// # Safety
/// As [`avx2::tile`].
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline(always)]
unsafe fn call_tile<const ROWS: usize>(x: TileArgs) {
    // SAFETY: forwarded from the caller.
    unsafe { avx2::tile::<ROWS>(x.0, x.1, x.2, x.3, x.4, x.5, x.6, x.7, x.8, x.9, x.10) }
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod avx2 {
    use super::NR;
    use core::arch::x86_64::*;

    /// Lane masks for the first `nr` columns of a 16-wide tile.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn masks(nr: usize) -> (__m256i, __m256i) {
        let lane = |base: i32| {
            _mm256_cmpgt_epi32(
                _mm256_set1_epi32(nr as i32),
                _mm256_setr_epi32(
                    base,
                    base + 1,
                    base + 2,
                    base + 3,
                    base + 4,
                    base + 5,
                    base + 6,
                    base + 7,
                ),
            )
        };
        (lane(0), lane(8))
    }

    /// One `ROWS × nr` tile (`nr ≤ 16`) of `c = α·a·b (+ c)`.
    ///
    /// # Safety
    /// AVX2 and FMA must be available; `a` must be readable at `r·rsa + p·csa` for `r < ROWS`,
    /// `p < k`, `b` at `p·rsb + j` and `c` writable at `r·rsc + j` for `j < nr`.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn tile<const ROWS: usize>(
        nr: usize,
        k: usize,
        a: *const f32,
        rsa: usize,
        csa: usize,
        b: *const f32,
        rsb: usize,
        c: *mut f32,
        rsc: usize,
        alpha: f32,
        accumulate: bool,
    ) {
        // SAFETY: the caller guarantees the features and that every pointer below stays
        // inside its slice (masked lanes are never touched).
        unsafe {
            let rows: [*const f32; ROWS] = core::array::from_fn(|r| a.add(r * rsa));
            let mut acc = [[_mm256_setzero_ps(); 2]; ROWS];
            if nr == NR {
                for p in 0..k {
                    let b0 = _mm256_loadu_ps(b.add(p * rsb));
                    let b1 = _mm256_loadu_ps(b.add(p * rsb + 8));
                    for (row, acc) in rows.iter().zip(acc.iter_mut()) {
                        let av = _mm256_set1_ps(*row.add(p * csa));
                        acc[0] = _mm256_fmadd_ps(av, b0, acc[0]);
                        acc[1] = _mm256_fmadd_ps(av, b1, acc[1]);
                    }
                }
            } else {
                let (m0, m1) = masks(nr);
                for p in 0..k {
                    let b0 = _mm256_maskload_ps(b.add(p * rsb), m0);
                    let b1 = _mm256_maskload_ps(b.wrapping_add(p * rsb + 8), m1);
                    for (row, acc) in rows.iter().zip(acc.iter_mut()) {
                        let av = _mm256_set1_ps(*row.add(p * csa));
                        acc[0] = _mm256_fmadd_ps(av, b0, acc[0]);
                        acc[1] = _mm256_fmadd_ps(av, b1, acc[1]);
                    }
                }
            }
            let al = _mm256_set1_ps(alpha);
            let (m0, m1) = masks(nr);
            for (r, acc) in acc.iter().enumerate() {
                let cr = c.add(r * rsc);
                let (mut v0, mut v1) = (_mm256_mul_ps(al, acc[0]), _mm256_mul_ps(al, acc[1]));
                if nr == NR {
                    if accumulate {
                        v0 = _mm256_add_ps(_mm256_loadu_ps(cr), v0);
                        v1 = _mm256_add_ps(_mm256_loadu_ps(cr.add(8)), v1);
                    }
                    _mm256_storeu_ps(cr, v0);
                    _mm256_storeu_ps(cr.add(8), v1);
                } else {
                    if accumulate {
                        v0 = _mm256_add_ps(_mm256_maskload_ps(cr, m0), v0);
                        v1 = _mm256_add_ps(_mm256_maskload_ps(cr.wrapping_add(8), m1), v1);
                    }
                    _mm256_maskstore_ps(cr, m0, v0);
                    _mm256_maskstore_ps(cr.wrapping_add(8), m1, v1);
                }
            }
        }
    }
}
