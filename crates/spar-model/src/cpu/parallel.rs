//! Splitting a kernel's independent items (sequences, rows, elements) over the CPU's threads
//! through the persistent kernel thread [`pool`] under the `threads` feature; one thread
//! otherwise.
//!
//! Items go to threads in contiguous, equal runs and each item is computed by the same code
//! whatever run it lands in, so outputs do not depend on the thread count.

use super::pool::{self, part_range, Shared};

/// Threads the kernels use: `SPAR_KERNEL_THREADS` if set, else `MATMUL_NUM_THREADS` (the
/// name the matmul threads went by), else the CPU's available parallelism; read once. 1
/// without `threads`.
pub fn threads() -> usize {
    #[cfg(feature = "threads")]
    {
        static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        *N.get_or_init(|| {
            let var = |name: &str| {
                std::env::var(name)
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .filter(|&n: &usize| n > 0)
            };
            var("SPAR_KERNEL_THREADS")
                .or_else(|| var("MATMUL_NUM_THREADS"))
                .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
                .unwrap_or(1)
        })
    }
    #[cfg(not(feature = "threads"))]
    {
        1
    }
}

/// Parts to split `work` units into so each part gets at least `min_work`, at most one per
/// thread (parts are claimed by whichever thread is free, so a thread the machine does not
/// schedule in time leaves its part to the others).
pub fn parts_for(work: usize, min_work: usize) -> usize {
    threads().min(work / min_work.max(1)).max(1)
}

/// Calls `f(part)` for each of `parts` parts on the kernel threads (see [`pool::run`]).
pub fn run(parts: usize, f: &(dyn Fn(usize) + Sync)) {
    pool::run(threads(), parts, f);
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
    for_runs(
        n,
        min_items,
        [(a, a_item), (b, b_item)],
        |first, _, [a, b]| f(first, a, b),
    );
}

/// Runs `f(first, count, outs)` over `n` items split into contiguous runs of at least
/// `min_items` (one per thread), where each output `outs[j]` holds `item_len[j]` floats per
/// item and `f` gets the run's part of each.
pub fn for_runs<const W: usize, F>(n: usize, min_items: usize, outs: [(&mut [f32], usize); W], f: F)
where
    F: Fn(usize, usize, [&mut [f32]; W]) + Sync,
{
    runs_in(parts_for(n, min_items), n, outs, f);
}

/// [`for_runs`] over exactly `parts` runs (one thread each where the pool has them).
fn runs_in<const W: usize, F>(parts: usize, n: usize, outs: [(&mut [f32], usize); W], f: F)
where
    F: Fn(usize, usize, [&mut [f32]; W]) + Sync,
{
    let shared: [(Shared<'_>, usize); W] =
        outs.map(|(s, len)| (Shared::new(&mut s[..n * len]), len));
    run(parts, &|p| {
        let (first, count) = part_range(n, parts, p);
        // SAFETY: the parts' item runs are disjoint, so are their ranges of each output.
        let runs = shared
            .each_ref()
            .map(|(s, len)| unsafe { s.range(first * len, count * len) });
        f(first, count, runs);
    });
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
        super::runs_in(1, n, [(&mut a1, ai), (&mut b1, bi)], |i, _, [a, b]| {
            f(i, a, b)
        });
        for parts in 2..=4 {
            let (mut a2, mut b2) = (vec![0.0; n * ai], vec![0.0; n * bi]);
            super::runs_in(parts, n, [(&mut a2, ai), (&mut b2, bi)], |i, _, [a, b]| {
                f(i, a, b)
            });
            assert_eq!(a1, a2);
            assert_eq!(b1, b2);
        }
    }
}
