//! A persistent pool of kernel threads (under the `threads` feature), started once and reused
//! by every kernel call, so splitting a millisecond of work in two costs microseconds rather
//! than the tens of microseconds of starting threads per call.
//!
//! [`run`]`(parts, f)` calls `f(0)` on the calling thread and `f(1)`, …, `f(parts − 1)` on
//! the pool's workers, and returns when all have returned. Workers spin briefly for the next
//! call (kernels of one training step follow each other within microseconds), then park. One
//! caller at a time owns the pool: a second caller meanwhile (another model on another
//! thread, or a kernel inside a kernel) runs its parts one after another on its own thread.
//! Callers split work so that each output is computed by the same code whatever part it lands
//! in, so results never depend on which of the two happened, nor on the thread count.

#[cfg(feature = "threads")]
mod imp {
    use std::cell::UnsafeCell;
    use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
    use std::sync::OnceLock;
    use std::thread::Thread;
    use std::time::{Duration, Instant};

    /// How long an idle worker spins before it parks.
    const SPIN: Duration = Duration::from_micros(200);

    type Job = *const (dyn Fn(usize) + Sync);

    struct Shared {
        /// Bumped by the owner to publish a call.
        epoch: AtomicUsize,
        /// The call's closure; written before `epoch` is bumped, read after.
        job: UnsafeCell<Option<Job>>,
        parts: AtomicUsize,
        /// Worker parts of the current call not yet finished.
        pending: AtomicUsize,
        panicked: AtomicBool,
        /// One flag per worker: set while it is parked (or about to park).
        sleeping: Vec<AtomicBool>,
        /// Whether a caller owns the pool.
        busy: AtomicBool,
    }

    // SAFETY: `job` is written only by the owner of `busy`, before it publishes the call with
    // a release store of `epoch`, and read by workers after an acquire load of that store;
    // the owner waits for `pending == 0` before it returns or writes `job` again.
    unsafe impl Sync for Shared {}

    struct Pool {
        shared: &'static Shared,
        workers: Vec<Thread>,
    }

    /// The pool for `threads` threads in all (`threads − 1` workers), started on first use.
    fn pool(threads: usize) -> &'static Pool {
        static POOL: OnceLock<Pool> = OnceLock::new();
        POOL.get_or_init(|| {
            let n = threads.saturating_sub(1);
            let shared: &'static Shared = Box::leak(Box::new(Shared {
                epoch: AtomicUsize::new(0),
                job: UnsafeCell::new(None),
                parts: AtomicUsize::new(0),
                pending: AtomicUsize::new(0),
                panicked: AtomicBool::new(false),
                sleeping: (0..n).map(|_| AtomicBool::new(false)).collect(),
                busy: AtomicBool::new(false),
            }));
            let workers = (0..n)
                .filter_map(|i| {
                    std::thread::Builder::new()
                        .name(format!("spar-kernel-{}", i + 1))
                        .spawn(move || worker(shared, i))
                        .ok()
                        .map(|h| h.thread().clone())
                })
                .collect();
            Pool { shared, workers }
        })
    }

    fn worker(s: &'static Shared, index: usize) {
        let mut seen = 0usize;
        loop {
            let start = Instant::now();
            let mut spins = 0u32;
            loop {
                if s.epoch.load(Acquire) != seen {
                    break;
                }
                spins += 1;
                if spins % 64 != 0 || start.elapsed() < SPIN {
                    core::hint::spin_loop();
                    continue;
                }
                s.sleeping[index].store(true, SeqCst);
                if s.epoch.load(SeqCst) == seen {
                    std::thread::park();
                }
                s.sleeping[index].store(false, SeqCst);
            }
            seen = s.epoch.load(Acquire);
            let part = index + 1;
            if part < s.parts.load(Acquire) {
                // SAFETY: see `Shared`: the job is set for this epoch and outlives the call.
                let f = unsafe { &*(*s.job.get()).expect("a published job") };
                if catch_unwind(AssertUnwindSafe(|| f(part))).is_err() {
                    s.panicked.store(true, SeqCst);
                }
                s.pending.fetch_sub(1, AcqRel);
            }
        }
    }

    /// See [`super::run`].
    pub fn run(threads: usize, parts: usize, f: &(dyn Fn(usize) + Sync)) {
        if parts <= 1 || threads <= 1 {
            return serial(0, parts, f);
        }
        let p = pool(threads);
        // Workers take parts 1..=helpers; the caller takes part 0 and any beyond.
        let helpers = (parts - 1).min(p.workers.len());
        let s = p.shared;
        if helpers == 0
            || s.busy
                .compare_exchange(false, true, Acquire, Relaxed)
                .is_err()
        {
            return serial(0, parts, f);
        }
        // SAFETY: we own the pool (`busy`) and no worker reads `job` until the epoch moves.
        // The lifetime is erased: the closure outlives the call because we wait below for
        // every worker part to finish before returning, panics included.
        unsafe {
            let job: &'static (dyn Fn(usize) + Sync) = core::mem::transmute(f);
            *s.job.get() = Some(job as Job);
        }
        s.parts.store(helpers + 1, Release);
        s.pending.store(helpers, Release);
        s.epoch.fetch_add(1, SeqCst);
        for (w, sleeping) in p.workers.iter().zip(&s.sleeping).take(helpers) {
            if sleeping.load(SeqCst) {
                w.unpark();
            }
        }
        let mine = catch_unwind(AssertUnwindSafe(|| {
            f(0);
            serial(helpers + 1, parts, f);
        }));
        let mut spins = 0u32;
        while s.pending.load(Acquire) != 0 {
            spins += 1;
            if spins < 1 << 12 {
                core::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        let theirs = s.panicked.swap(false, SeqCst);
        s.busy.store(false, Release);
        if let Err(e) = mine {
            resume_unwind(e);
        }
        assert!(!theirs, "a kernel thread panicked");
    }

    fn serial(from: usize, parts: usize, f: &(dyn Fn(usize) + Sync)) {
        for i in from..parts.max(1) {
            f(i);
        }
    }
}

/// Calls `f(i)` once for every `i < parts` (at least `f(0)`): on up to `threads` threads (the
/// caller's and the pool's, whose size the first call fixes), or one after another when the
/// pool is busy or `threads` is 1. Without the `threads` feature, always one after another.
pub fn run(threads: usize, parts: usize, f: &(dyn Fn(usize) + Sync)) {
    #[cfg(feature = "threads")]
    imp::run(threads, parts, f);
    #[cfg(not(feature = "threads"))]
    {
        let _ = threads;
        for i in 0..parts.max(1) {
            f(i);
        }
    }
}

/// A mutable slice handed to the parts of a [`run`] call, each of which takes a disjoint
/// range of it.
pub struct Shared<'a> {
    ptr: *mut f32,
    len: usize,
    _life: core::marker::PhantomData<&'a mut [f32]>,
}

// SAFETY: parts only reach the slice through `range`, whose callers promise disjoint ranges.
unsafe impl Send for Shared<'_> {}
// SAFETY: as above.
unsafe impl Sync for Shared<'_> {}

impl<'a> Shared<'a> {
    /// Shares `s` among the parts of a call.
    pub fn new(s: &'a mut [f32]) -> Self {
        Self {
            ptr: s.as_mut_ptr(),
            len: s.len(),
            _life: core::marker::PhantomData,
        }
    }

    /// Elements in the slice.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the slice is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `s[start..start + len]`, mutably.
    ///
    /// # Safety
    /// No two live results of `range` on the same `Shared` may overlap.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn range(&self, start: usize, len: usize) -> &mut [f32] {
        assert!(
            start <= self.len && len <= self.len - start,
            "range out of bounds"
        );
        // SAFETY: in bounds (asserted); disjointness is the caller's promise.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.add(start), len) }
    }
}

/// The `part`-th of `parts` contiguous runs of `n` items: `(first, count)`.
pub fn part_range(n: usize, parts: usize, part: usize) -> (usize, usize) {
    let a = n * part / parts;
    let b = n * (part + 1) / parts;
    (a, b - a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use core::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_part_runs_once() {
        for parts in 1..=5 {
            let hits: alloc::vec::Vec<AtomicUsize> =
                (0..parts).map(|_| AtomicUsize::new(0)).collect();
            for _ in 0..200 {
                run(2, parts, &|i| {
                    hits[i].fetch_add(1, Ordering::Relaxed);
                });
            }
            for (i, h) in hits.iter().enumerate() {
                assert_eq!(h.load(Ordering::Relaxed), 200, "parts {parts}, part {i}");
            }
        }
    }

    #[test]
    fn disjoint_ranges_write_the_whole_slice() {
        let n = 1001;
        let mut v = vec![0.0f32; n];
        let s = Shared::new(&mut v);
        run(2, 2, &|p| {
            let (a, len) = part_range(n, 2, p);
            // SAFETY: part ranges are disjoint.
            let r = unsafe { s.range(a, len) };
            for (i, x) in r.iter_mut().enumerate() {
                *x = (a + i) as f32;
            }
        });
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as f32));
    }

    #[test]
    fn concurrent_callers_all_complete() {
        // Several threads call at once: one owns the pool, the others run serially.
        #[cfg(feature = "std")]
        {
            let total = AtomicUsize::new(0);
            std::thread::scope(|sc| {
                for _ in 0..4 {
                    sc.spawn(|| {
                        for _ in 0..100 {
                            run(2, 2, &|_| {
                                total.fetch_add(1, Ordering::Relaxed);
                            });
                        }
                    });
                }
            });
            assert_eq!(total.load(Ordering::Relaxed), 4 * 100 * 2);
        }
    }

    #[cfg(feature = "threads")]
    #[test]
    fn a_panicking_part_reaches_the_caller_and_the_pool_recovers() {
        let r = std::panic::catch_unwind(|| run(2, 2, &|i| assert!(i != 1, "part 1 fails")));
        assert!(r.is_err());
        let hits = AtomicUsize::new(0);
        run(2, 2, &|_| {
            hits.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(hits.load(Ordering::Relaxed), 2);
    }
}
