//! Splitting a kernel's independent items (sequences, rows) over the CPU's threads with
//! `std::thread::scope` under the `threads` feature; one thread otherwise.
//!
//! Items go to threads in contiguous, equal runs and each item is computed by the same code
//! whatever run it lands in, so outputs do not depend on the thread count.

/// Threads the non-matmul kernels use: `SPAR_KERNEL_THREADS` if set (read once), else 1; 1
/// without `threads`. Off by default because each call starts its threads afresh: on the
/// shared 2-core build machine (load average 6–9) a two-thread attention was slower in wall
/// time than one thread (train C0, 10 steps: 333 vs 284 ms), the second thread waiting for
/// a time slice; on an idle machine the split pays from about a millisecond of work.
pub fn threads() -> usize {
    #[cfg(feature = "threads")]
    {
        static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        *N.get_or_init(|| {
            std::env::var("SPAR_KERNEL_THREADS")
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .filter(|&n: &usize| n > 0)
                .unwrap_or(1)
        })
    }
    #[cfg(not(feature = "threads"))]
    {
        1
    }
}

/// Runs `f(first_item, items_of_a, items_of_b)` over `n` items, where item `i` owns
/// `a[i·a_item..][..a_item]` and `b[i·b_item..][..b_item]`, splitting the items into one
/// contiguous run per thread when there are at least `min_items` items per thread.
pub fn for_items2<F>(
    n: usize,
    min_items: usize,
    a: &mut [f32],
    a_item: usize,
    b: &mut [f32],
    b_item: usize,
    f: F,
) where
    F: Fn(usize, &mut [f32], &mut [f32]) + Sync,
{
    let parts = threads().min(n / min_items.max(1)).max(1);
    run_parts(parts, n, a, a_item, b, b_item, f);
}

/// [`for_items2`] over exactly `parts` runs (one thread each).
fn run_parts<F>(
    parts: usize,
    n: usize,
    a: &mut [f32],
    a_item: usize,
    b: &mut [f32],
    b_item: usize,
    f: F,
) where
    F: Fn(usize, &mut [f32], &mut [f32]) + Sync,
{
    let a = &mut a[..n * a_item];
    let b = &mut b[..n * b_item];
    if parts <= 1 {
        f(0, a, b);
        return;
    }
    #[cfg(feature = "threads")]
    std::thread::scope(|scope| {
        let (mut a, mut b) = (a, b);
        let mut start = 0;
        for part in 0..parts {
            let end = n * (part + 1) / parts;
            let (ha, ta) = core::mem::take(&mut a).split_at_mut((end - start) * a_item);
            let (hb, tb) = core::mem::take(&mut b).split_at_mut((end - start) * b_item);
            (a, b) = (ta, tb);
            let f = &f;
            if part + 1 == parts {
                f(start, ha, hb);
            } else {
                scope.spawn(move || f(start, ha, hb));
            }
            start = end;
        }
    });
    #[cfg(not(feature = "threads"))]
    f(0, a, b);
}

/// [`for_items2`] with one output.
pub fn for_items<F>(n: usize, min_items: usize, a: &mut [f32], a_item: usize, f: F)
where
    F: Fn(usize, &mut [f32]) + Sync,
{
    for_items2(n, min_items, a, a_item, &mut [], 0, |i, a, _| f(i, a));
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    #[test]
    fn split_runs_give_the_same_result_as_one() {
        // Each item's outputs depend on its index only, so any split must agree exactly.
        let (n, ai, bi) = (7, 3, 2);
        let f = |i0: usize, a: &mut [f32], b: &mut [f32]| {
            for (i, x) in a.iter_mut().enumerate() {
                *x = (i0 * 3 + i) as f32 * 0.5;
            }
            for (i, x) in b.iter_mut().enumerate() {
                *x = libm::sinf((i0 * 2 + i) as f32);
            }
        };
        let (mut a1, mut b1) = (vec![0.0; n * ai], vec![0.0; n * bi]);
        super::run_parts(1, n, &mut a1, ai, &mut b1, bi, f);
        for parts in 2..=4 {
            let (mut a2, mut b2) = (vec![0.0; n * ai], vec![0.0; n * bi]);
            super::run_parts(parts, n, &mut a2, ai, &mut b2, bi, f);
            assert_eq!(a1, a2);
            assert_eq!(b1, b2);
        }
    }
}
