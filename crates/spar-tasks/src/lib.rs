//! Verifiable tasks, robust answer parsing, games with exact solvers and a sandboxed program language.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;
