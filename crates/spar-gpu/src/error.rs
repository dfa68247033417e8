//! The crate's error type: everything that can go wrong on the GPU comes back as a
//! [`GpuError`], so a trainer can fall back to the CPU backend.

use std::fmt;

/// An error of the GPU backend.
#[derive(Debug, Clone, PartialEq)]
pub enum GpuError {
    /// No adapter (no GPU, no driver, or WebGPU disabled).
    NoAdapter(String),
    /// The adapter refused the device (features or limits it cannot give).
    RequestDevice(String),
    /// The adapter's limits are below what the kernels need.
    AdapterTooSmall {
        /// The limit that is too small.
        what: &'static str,
        /// What the kernels need.
        needed: u64,
        /// What the adapter offers.
        limit: u64,
    },
    /// A shape needs more than a device limit allows (a binding, a dispatch, a buffer).
    LimitExceeded {
        /// The limit.
        what: &'static str,
        /// The size the call needs.
        needed: u64,
        /// The device's limit.
        limit: u64,
    },
    /// The device ran out of memory.
    OutOfMemory(String),
    /// The device was lost (driver reset, GPU removed, browser tab backgrounded).
    DeviceLost(String),
    /// wgpu rejected a call (a bug in this crate: please report it).
    Validation(String),
    /// Mapping a buffer for reading failed.
    ReadbackFailed,
    /// Two storage bindings of one dispatch would cover overlapping bytes of one buffer
    /// (every binding here is writable, and WebGPU forbids a writable binding to overlap any
    /// other binding of the same dispatch). The dispatch is dropped: the kernel was handed
    /// overlapping slices, or a slice layout is not padded to the offset alignment.
    BindingOverlap {
        /// The kernel (entry point).
        kernel: &'static str,
        /// The two binding indices.
        bindings: (u32, u32),
        /// The shared byte range's start and end.
        bytes: (u64, u64),
    },
}

impl fmt::Display for GpuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoAdapter(m) => write!(f, "no GPU adapter: {m}"),
            Self::RequestDevice(m) => write!(f, "the GPU adapter refused the device: {m}"),
            Self::AdapterTooSmall {
                what,
                needed,
                limit,
            } => write!(
                f,
                "adapter limit {what} = {limit} is below the {needed} needed"
            ),
            Self::LimitExceeded {
                what,
                needed,
                limit,
            } => write!(f, "{what}: {needed} exceeds the device limit {limit}"),
            Self::OutOfMemory(m) => write!(f, "GPU out of memory: {m}"),
            Self::DeviceLost(m) => write!(f, "GPU device lost: {m}"),
            Self::Validation(m) => write!(f, "GPU validation error: {m}"),
            Self::ReadbackFailed => write!(f, "mapping a GPU buffer for reading failed"),
            Self::BindingOverlap {
                kernel,
                bindings,
                bytes,
            } => write!(
                f,
                "{kernel}: storage bindings {} and {} overlap in bytes {}..{} of one buffer",
                bindings.0, bindings.1, bytes.0, bytes.1
            ),
        }
    }
}

impl std::error::Error for GpuError {}
