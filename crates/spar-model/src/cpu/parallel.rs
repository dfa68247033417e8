//! Splitting a kernel's independent items (sequences, rows) over the CPU's threads with
//! `std::thread::scope` under the `threads` feature; one thread otherwise.
//!
//! Items go to threads in contiguous, equal runs and each item is computed by the same code
//! whatever run it lands in, so outputs do not depend on the thread count.

/// Threads the non-matmul kernels use: `MATMUL_NUM_THREADS` (the variable `matrixmultiply`
/// reads, so both agree) or else the available parallelism; 1 without `threads`.
pub fn threads() -> usize {
    #[cfg(feature = "threads")]
    {
        static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        *N.get_or_init(|| {
            std::env::var("MATMUL_NUM_THREADS")
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .filter(|&n: &usize| n > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
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
    let a = &mut a[..n * a_item];
    let b = &mut b[..n * b_item];
    let parts = threads().min(n / min_items.max(1)).max(1);
    if parts == 1 {
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
