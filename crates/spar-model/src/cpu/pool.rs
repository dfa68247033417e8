//! A persistent pool of kernel threads (under the `threads` feature), started once and reused
//! by every kernel call, so splitting a millisecond of work in two costs microseconds rather
//! than the tens of microseconds of starting threads per call.
//!
//! [`run`]`(parts, f)` calls `f(i)` once for each part `i`, on the calling thread and on the
//! pool's workers, and returns when all have returned. Parts are claimed one at a time from a
//! shared counter by whichever thread is free, the caller included, so a worker that the
//! operating system has not scheduled (a machine busy with other work) costs nothing: the
//! caller takes its parts too and waits only for a part a worker has already started.
//! Workers spin briefly for the next call (kernels of one training step follow each other
//! within microseconds), then park. One caller at a time owns the pool: a second caller
//! meanwhile (another model on another thread, or a kernel inside a kernel) runs its parts
//! one after another on its own thread. Callers split work so that each output is computed
//! by the same code whatever part it lands in and whatever thread runs the part, so results
//! never depend on the thread count or the timing.

#[cfg(feature = "threads")]
mod imp {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
    use std::sync::OnceLock;
    use std::thread::Thread;
    use std::time::{Duration, Instant};

    /// How long an idle worker spins before it parks.
    const SPIN: Duration = Duration::from_micros(100);

    type Job<'a> = &'a (dyn Fn(usize) + Sync);

    struct Shared {
        /// The call's epoch (high 32 bits) and its next unclaimed part (low 32 bits). A part
        /// is claimed by a compare-and-swap that also checks the epoch, so a worker late for
        /// one call can never claim a part of the next.
        claim: AtomicU64,
        /// The call's closure as the two words of its fat pointer, and its number of parts:
        /// written before the epoch is published, unchanged until every claimed part is done.
        job: [AtomicUsize; 2],
        parts: AtomicUsize,
        /// Parts of the current call finished.
        done: AtomicUsize,
        panicked: AtomicBool,
        /// One flag per worker: set while it is parked (or about to park).
        sleeping: Vec<AtomicBool>,
        /// Whether a caller owns the pool.
        busy: AtomicBool,
    }

    struct Pool {
        shared: &'static Shared,
        workers: Vec<Thread>,
    }

    const LOW: u64 = 0xffff_ffff;

    /// The pool for `threads` threads in all (`threads − 1` workers), started on first use.
    fn pool(threads: usize) -> &'static Pool {
        static POOL: OnceLock<Pool> = OnceLock::new();
        POOL.get_or_init(|| {
            let n = threads.saturating_sub(1);
            let shared: &'static Shared = Box::leak(Box::new(Shared {
                claim: AtomicU64::new(LOW),
                job: [AtomicUsize::new(0), AtomicUsize::new(0)],
                parts: AtomicUsize::new(0),
                done: AtomicUsize::new(0),
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

    /// Claims and runs parts of the call of `epoch` until none is left (or the call is over).
    fn work(s: &Shared, epoch: u64) {
        loop {
            let cur = s.claim.load(Acquire);
            let parts = s.parts.load(Acquire);
            let words = [s.job[0].load(Acquire), s.job[1].load(Acquire)];
            if cur >> 32 != epoch || (cur & LOW) as usize >= parts {
                return;
            }
            if s.claim
                .compare_exchange_weak(cur, cur + 1, AcqRel, Acquire)
                .is_err()
            {
                continue;
            }
            // SAFETY: the claim succeeded in `epoch`, whose job (read above, after the epoch
            // was published and before the claim) stays alive and unchanged until this part
            // is counted in `done`.
            let f: Job<'_> = unsafe { core::mem::transmute::<[usize; 2], Job<'_>>(words) };
            if catch_unwind(AssertUnwindSafe(|| f((cur & LOW) as usize))).is_err() {
                s.panicked.store(true, SeqCst);
            }
            s.done.fetch_add(1, AcqRel);
        }
    }

    fn worker(s: &'static Shared, index: usize) {
        let mut seen = s.claim.load(Acquire) >> 32;
        loop {
            let start = Instant::now();
            let mut spins = 0u32;
            let epoch = loop {
                let e = s.claim.load(Acquire) >> 32;
                if e != seen {
                    break e;
                }
                spins += 1;
                if spins % 64 != 0 || start.elapsed() < SPIN {
                    core::hint::spin_loop();
                    continue;
                }
                s.sleeping[index].store(true, SeqCst);
                if s.claim.load(SeqCst) >> 32 == seen {
                    std::thread::park();
                }
                s.sleeping[index].store(false, SeqCst);
            };
            seen = epoch;
            work(s, epoch);
        }
    }

    /// See [`super::run`].
    pub fn run(threads: usize, parts: usize, f: &(dyn Fn(usize) + Sync)) {
        if parts <= 1 || threads <= 1 {
            return serial(parts, f);
        }
        let p = pool(threads);
        let s = p.shared;
        if p.workers.is_empty()
            || s.busy
                .compare_exchange(false, true, Acquire, Relaxed)
                .is_err()
        {
            return serial(parts, f);
        }
        // SAFETY (of the lifetime erased here): workers only call the job for parts they
        // claim in this call's epoch, and we return only once every part is done.
        let words: [usize; 2] = unsafe { core::mem::transmute::<Job<'_>, [usize; 2]>(f) };
        s.job[0].store(words[0], Release);
        s.job[1].store(words[1], Release);
        s.parts.store(parts, Release);
        s.done.store(0, Release);
        let epoch = ((s.claim.load(Relaxed) >> 32) + 1) & LOW;
        s.claim.store(epoch << 32, SeqCst);
        for (w, sleeping) in p.workers.iter().zip(&s.sleeping) {
            if sleeping.load(SeqCst) {
                w.unpark();
            }
        }
        work(s, epoch);
        let mut spins = 0u32;
        while s.done.load(Acquire) != parts {
            spins += 1;
            if spins < 1 << 10 {
                core::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        let panicked = s.panicked.swap(false, SeqCst);
        s.busy.store(false, Release);
        assert!(!panicked, "a kernel part panicked");
    }

    fn serial(parts: usize, f: &(dyn Fn(usize) + Sync)) {
        for i in 0..parts.max(1) {
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
