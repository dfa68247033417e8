//! On-CPU time of one GRPO policy-loss call (the `grpo_loss_64x8x512` bench batch: 64 groups ×
//! 8 completions × 512 slots, off-policy with k3 KL, and the same batch on-policy) and of one
//! DPO call over 512 pairs.
//!
//! Criterion measures wall time, which on a shared machine includes time spent waiting for a
//! core; this program also reads the time the process was actually scheduled
//! (`/proc/thread-self/schedstat` for one thread, utime + stime from `/proc/self/stat` for all
//! threads), so the cost on an idle core can be estimated on a busy one. Linux only.
//!
//! `cargo run --release -p spar-losses --example policy_loss_timing [--features threads] [calls [groups]]`

use std::hint::black_box;
use std::time::Instant;

// The bench's batch, so the two measure the same work.
#[path = "../benches/common/mod.rs"]
mod common;

/// Nanoseconds this thread has run on a CPU.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Nanoseconds all threads of the process (dead ones included) have run, at clock-tick
/// resolution (assumes 100 ticks per second, the Linux default).
fn process_cpu_ns() -> u64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|x| x.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|x| x.parse().ok()).unwrap_or(0);
    ticks * 10_000_000
}

fn time(name: &str, calls: usize, mut f: impl FnMut()) {
    f();
    let (w0, t0, p0) = (Instant::now(), thread_cpu_ns(), process_cpu_ns());
    for _ in 0..calls {
        f();
    }
    let wall = w0.elapsed().as_nanos() as f64 / calls as f64;
    let thread = (thread_cpu_ns() - t0) as f64 / calls as f64;
    let process = (process_cpu_ns() - p0) as f64 / calls as f64;
    println!(
        "{name:<22} wall {:>9.1} us  cpu(this thread) {:>9.1} us  cpu(all threads) {:>9.1} us",
        wall / 1e3,
        thread / 1e3,
        process / 1e3
    );
}

fn main() {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    // Optional second argument: number of groups (default 64, the bench's batch).
    let groups: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let mut batch = common::Batch::new(groups);
    let tokens = batch.mask.iter().filter(|&&m| m).count();
    println!(
        "GRPO batch: {} completions x {} slots, {tokens} real tokens; {calls} calls each",
        batch.b,
        common::T
    );
    for on_policy in [false, true] {
        let name = if on_policy {
            "grpo on-policy"
        } else {
            "grpo off-policy"
        };
        time(name, calls, || {
            black_box(batch.grpo(on_policy));
        });
    }
    time("dpo 512 pairs", calls * 10, || {
        black_box(batch.dpo());
    });
}
