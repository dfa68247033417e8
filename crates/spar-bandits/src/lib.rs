//! Bandit algorithms and self-evolving curricula for choosing what a model practises next.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;
