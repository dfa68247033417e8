//! A GPT-2 in f32 on the CPU: forward and backward over a Kernels seam, KV-cache sampling, safetensors checkpoints.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;
