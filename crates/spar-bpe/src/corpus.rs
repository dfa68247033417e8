//! The bundled text corpus (feature `corpus`).
//!
//! About 2.1 MB of *The Rust Programming Language* and *The Cargo Book* as plain text (prose,
//! Rust code, shell sessions, TOML, numbers), licensed MIT OR Apache-2.0. It was extracted by
//! `scripts/extract_corpus.py`; `data/README.md` in this crate gives its provenance.

/// The whole corpus, UTF-8.
pub const RUST_DOCS: &str = include_str!("../data/rust-docs.txt");
