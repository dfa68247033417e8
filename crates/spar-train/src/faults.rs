//! Fault injection for the reliability tests (RELIABILITY.md): a loop step whose gradient is
//! made NaN, a loop step during which the device is reported lost, a byte budget after which
//! checkpoint writes fail as on a full disk, and a pause after each checkpoint file (so that
//! a kill lands inside a checkpoint write). All are off unless set, programmatically
//! ([`inject_nan_at`], [`lose_device_at`], [`limit_checkpoint_bytes`],
//! [`pause_checkpoint_writes`]) or, in a program, from the environment ([`from_env`]:
//! `SPAR_FAULT_NAN_STEP`, `SPAR_FAULT_DEVICE_LOST_STEP`, `SPAR_FAULT_CHECKPOINT_BYTES`,
//! `SPAR_FAULT_CHECKPOINT_PAUSE_MS`), which is how the tests of the `spar` binary set them.
//! Only the NaN changes what is computed.
//! Process-wide: a test that sets one must not share its process with a test that does
//! not expect it (the integration tests that use them spawn the binary).
//!
//! ```
//! use spar_train::faults;
//! faults::inject_nan_at(Some(7));
//! assert!(faults::nan_due(7) && !faults::nan_due(6));
//! faults::inject_nan_at(None);
//! assert!(!faults::nan_due(7));
//! ```

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// `u32::MAX`: no NaN is injected.
static NAN_STEP: AtomicU32 = AtomicU32::new(u32::MAX);
/// `u32::MAX`: the device is never reported lost.
static DEVICE_LOST_STEP: AtomicU32 = AtomicU32::new(u32::MAX);
/// Checkpoint bytes that may still be written; `u64::MAX`: unlimited.
static CHECKPOINT_BYTES: AtomicU64 = AtomicU64::new(u64::MAX);
/// Milliseconds to wait after writing each checkpoint file; 0: none.
static CHECKPOINT_PAUSE_MS: AtomicU32 = AtomicU32::new(0);

/// The environment variable naming the loop step (0-based, as in `metrics.jsonl`) whose
/// gradients [`crate::policy::Policy::step`] turns NaN before checking them.
pub const NAN_STEP_ENV: &str = "SPAR_FAULT_NAN_STEP";
/// The environment variable naming the loop step during whose work the backend reports
/// its device lost (on any backend, the CPU included, so the recovery path is testable
/// without a GPU).
pub const DEVICE_LOST_STEP_ENV: &str = "SPAR_FAULT_DEVICE_LOST_STEP";
/// The message of an injected device loss.
pub const DEVICE_LOST_MESSAGE: &str = "device lost (injected by SPAR_FAULT_DEVICE_LOST_STEP)";
/// The environment variable holding how many bytes of checkpoint files may be written in
/// this process before writes fail with "no space left on device".
pub const CHECKPOINT_BYTES_ENV: &str = "SPAR_FAULT_CHECKPOINT_BYTES";
/// The environment variable holding how long (ms) to wait after each checkpoint file.
pub const CHECKPOINT_PAUSE_ENV: &str = "SPAR_FAULT_CHECKPOINT_PAUSE_MS";

/// Waits `ms` milliseconds after each checkpoint file is written (`None` or 0: no wait),
/// widening the window in which a kill finds a checkpoint half-written.
pub fn pause_checkpoint_writes(ms: Option<u32>) {
    CHECKPOINT_PAUSE_MS.store(ms.unwrap_or(0), Ordering::Relaxed);
}

/// The wait after each checkpoint file, in milliseconds (0: none).
pub fn checkpoint_pause_ms() -> u32 {
    CHECKPOINT_PAUSE_MS.load(Ordering::Relaxed)
}

/// Makes the gradients of loop step `step` NaN (`None`: no injection).
pub fn inject_nan_at(step: Option<u32>) {
    NAN_STEP.store(step.unwrap_or(u32::MAX), Ordering::Relaxed);
}

/// Whether loop step `step`'s gradients are to be made NaN.
pub fn nan_due(step: u32) -> bool {
    step != u32::MAX && NAN_STEP.load(Ordering::Relaxed) == step
}

/// Reports the device lost during the work of loop step `step` (`None`: never).
pub fn lose_device_at(step: Option<u32>) {
    DEVICE_LOST_STEP.store(step.unwrap_or(u32::MAX), Ordering::Relaxed);
}

/// Whether the device is to be reported lost during the work of loop step `step`.
pub fn device_lost_due(step: u32) -> bool {
    step != u32::MAX && DEVICE_LOST_STEP.load(Ordering::Relaxed) == step
}

/// Lets checkpoint writes use `bytes` more bytes in all (`None`: unlimited); past that,
/// they fail as on a full disk.
pub fn limit_checkpoint_bytes(bytes: Option<u64>) {
    CHECKPOINT_BYTES.store(bytes.unwrap_or(u64::MAX), Ordering::Relaxed);
}

/// Takes `len` bytes from the checkpoint budget: returns how many of them may be written
/// (all of them when the budget is unlimited or large enough; fewer when the "disk" fills).
pub fn charge_checkpoint_bytes(len: u64) -> u64 {
    let mut granted = len;
    let _ = CHECKPOINT_BYTES.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
        let (g, rest) = grant(left, len)?;
        granted = g;
        Some(rest)
    });
    granted
}

/// `len` bytes asked of a budget with `left` bytes: what is granted and what is left, or
/// `None` when the budget is unlimited (`u64::MAX`; everything is granted).
fn grant(left: u64, len: u64) -> Option<(u64, u64)> {
    if left == u64::MAX {
        return None;
    }
    let granted = len.min(left);
    Some((granted, left - granted))
}

/// Sets the faults from [`NAN_STEP_ENV`], [`DEVICE_LOST_STEP_ENV`], [`CHECKPOINT_BYTES_ENV`]
/// and [`CHECKPOINT_PAUSE_ENV`] when they hold a number (unset or unparsable: off). Returns a line describing what was set, if anything,
/// for the program to print (so an injected fault is never silent).
#[cfg(feature = "std")]
pub fn from_env() -> Option<alloc::string::String> {
    let read = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let nan = read(NAN_STEP_ENV).and_then(|s| u32::try_from(s).ok());
    let lost = read(DEVICE_LOST_STEP_ENV).and_then(|s| u32::try_from(s).ok());
    let bytes = read(CHECKPOINT_BYTES_ENV);
    let pause = read(CHECKPOINT_PAUSE_ENV).and_then(|s| u32::try_from(s).ok());
    inject_nan_at(nan);
    lose_device_at(lost);
    limit_checkpoint_bytes(bytes);
    pause_checkpoint_writes(pause);
    let mut set = alloc::vec::Vec::new();
    if let Some(s) = nan {
        set.push(alloc::format!("{NAN_STEP_ENV}={s}"));
    }
    if let Some(s) = lost {
        set.push(alloc::format!("{DEVICE_LOST_STEP_ENV}={s}"));
    }
    if let Some(b) = bytes {
        set.push(alloc::format!("{CHECKPOINT_BYTES_ENV}={b}"));
    }
    if let Some(ms) = pause {
        set.push(alloc::format!("{CHECKPOINT_PAUSE_ENV}={ms}"));
    }
    (!set.is_empty()).then(|| alloc::format!("fault injection on: {}", set.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The process-wide budget itself is exercised by the spar binary's tests (their own
    // processes); here, the arithmetic, so no test races another's checkpoint writes.
    #[test]
    fn the_budget_grants_what_is_left_then_nothing() {
        assert_eq!(grant(u64::MAX, 1 << 40), None, "unlimited");
        assert_eq!(grant(100, 60), Some((60, 40)));
        assert_eq!(grant(40, 60), Some((40, 0)), "the disk fills mid-write");
        assert_eq!(grant(0, 1), Some((0, 0)));
    }

    #[test]
    fn no_fault_is_due_unless_asked() {
        assert!(!nan_due(0) && !nan_due(u32::MAX));
        assert!(!device_lost_due(0) && !device_lost_due(u32::MAX));
    }
}
