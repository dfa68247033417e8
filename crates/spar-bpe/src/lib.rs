//! Byte-level BPE tokenizer: train, encode, decode, tokenizer.json import and export.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;
