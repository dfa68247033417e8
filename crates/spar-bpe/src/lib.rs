//! Byte-level BPE tokenizer: train, encode, decode, and `tokenizer.json` import and export.
//!
//! The tokenizer of GPT-2, written from scratch and without `std` (with `alloc`): text is cut
//! into pieces by GPT-2's pre-tokenization pattern ([`pretokenize`]), each piece is turned
//! into bytes, and learned merges join adjacent tokens in rank order. Every string encodes
//! and every byte sequence is reachable, so `decode(encode(s)) == s` for any `s`.
//!
//! ```
//! use spar_bpe::{Trainer, TrainerConfig};
//!
//! let config = TrainerConfig { vocab_size: 400, split_digits: true, ..Default::default() };
//! let mut trainer = Trainer::new(config)?;
//! trainer.feed("12+34=46\nthe sum of twelve and thirty-four is forty-six\n");
//! let tok = trainer.finish()?;
//!
//! let ids = tok.encode("12+34=46<|endoftext|>");
//! assert_eq!(tok.decode(&ids)?, "12+34=46<|endoftext|>");
//! assert_eq!(*ids.last().unwrap(), tok.token_id("<|endoftext|>").unwrap());
//! // One token per digit, as arithmetic tasks need.
//! assert_eq!(tok.decode(&ids[..2])?, "12");
//!
//! // Unknown ids are errors, not panics.
//! assert!(tok.decode(&[u32::MAX]).is_err());
//!
//! // Save as tokenizer.json and read it back.
//! let again = spar_bpe::Tokenizer::from_json(&tok.to_json())?;
//! assert_eq!(again.encode("twelve and 12"), tok.encode("twelve and 12"));
//! # Ok::<(), spar_bpe::BpeError>(())
//! ```
//!
//! # Compatibility promise
//!
//! A `tokenizer.json` written by [`Tokenizer::to_json`] loads in Hugging Face `tokenizers`
//! and gives the same ids as spar on any text; a byte-level BPE `tokenizer.json` written by
//! `tokenizers` (the settings listed in [`json`]) loads here and gives the same ids as
//! `tokenizers`. Both directions are held by tests against committed fixtures made with the
//! real `tokenizers` package (`scripts/bpe_fixture.py`). What is not supported is refused
//! with an error that names the field, never approximated.
//!
//! # Features
//!
//! - `std` (default): file helpers ([`Tokenizer::load`], [`Tokenizer::save`], which writes
//!   atomically) and `std::error::Error` for [`BpeError`].
//! - `corpus`: the bundled text (about 2 MB of the Rust and Cargo books, MIT OR Apache-2.0)
//!   as `corpus::RUST_DOCS`, for training a tokenizer or a small model without downloads.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

// The README's examples are doctests too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod bytes;
#[cfg(feature = "corpus")]
pub mod corpus;
pub mod json;
pub mod pretokenize;
mod tokenizer;
mod train;

use alloc::string::String;

pub use pretokenize::PreTokenizer;
pub use tokenizer::{AddedToken, EncodeCache, Tokenizer};
pub use train::{Trainer, TrainerConfig};

/// What can go wrong when training, loading or decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BpeError {
    /// An id that is not in the vocabulary.
    UnknownId {
        /// The id.
        id: u32,
        /// The vocabulary size.
        vocab_size: usize,
    },
    /// Decoded bytes are not UTF-8 (only from [`Tokenizer::decode_strict`]).
    InvalidUtf8 {
        /// Length of the valid prefix, in bytes.
        valid_up_to: usize,
    },
    /// The file is not JSON.
    Json(String),
    /// A field of `tokenizer.json` is missing or wrong.
    Invalid {
        /// Where: a dotted path such as `model.merges`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The file uses a feature this crate does not implement.
    Unsupported(String),
    /// A training setting is out of range.
    Config(String),
    /// Reading or writing a file failed.
    Io(String),
}

impl BpeError {
    pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Self {
        BpeError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl core::fmt::Display for BpeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BpeError::UnknownId { id, vocab_size } => {
                write!(f, "token id {id} is not in the vocabulary of {vocab_size}")
            }
            BpeError::InvalidUtf8 { valid_up_to } => {
                write!(f, "decoded bytes are not UTF-8 after byte {valid_up_to}")
            }
            BpeError::Json(e) => write!(f, "tokenizer.json is not valid JSON: {e}"),
            BpeError::Invalid { field, reason } => {
                write!(f, "tokenizer.json field `{field}`: {reason}")
            }
            BpeError::Unsupported(what) => write!(f, "tokenizer.json uses unsupported {what}"),
            BpeError::Config(e) => write!(f, "invalid tokenizer training setting: {e}"),
            BpeError::Io(e) => write!(f, "{e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for BpeError {}

#[cfg(feature = "std")]
impl Tokenizer {
    /// Reads a `tokenizer.json` file.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Tokenizer, BpeError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| BpeError::Io(alloc::format!("reading {}: {e}", path.display())))?;
        Tokenizer::from_json(&text)
    }

    /// Writes a `tokenizer.json` file atomically: a temporary file in the same directory,
    /// flushed to disk, then renamed over `path`.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<(), BpeError> {
        use std::io::Write;
        let path = path.as_ref();
        let io =
            |e: std::io::Error| BpeError::Io(alloc::format!("writing {}: {e}", path.display()));
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        let mut file = std::fs::File::create(&tmp).map_err(io)?;
        file.write_all(self.to_json().as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(io)
    }
}
