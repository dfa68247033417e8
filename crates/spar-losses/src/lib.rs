//! Advantages, policy-gradient and preference losses with exact gradients for LM reinforcement learning.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;
