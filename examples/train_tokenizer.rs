//! Trains a byte-level BPE tokenizer on the bundled corpus and shows what it does.
//!
//! `cargo run --release --example train_tokenizer [VOCAB_SIZE] [OUT.json]`
//!
//! Prints the training time, encode throughput, compression, and a few encode/decode
//! examples; with OUT.json it also writes the tokenizer in the `tokenizer.json` layout that
//! Hugging Face `tokenizers` loads.

use spar::bpe::{corpus::RUST_DOCS, EncodeCache, Tokenizer, Trainer, TrainerConfig};
use std::time::Instant;

fn show(tok: &Tokenizer, text: &str) -> Result<(), spar::bpe::BpeError> {
    let ids = tok.encode(text);
    // A token that holds part of a character is shown as its bytes.
    let pieces: Vec<String> = ids
        .iter()
        .map(|&id| {
            tok.decode_strict(&[id]).or_else(|_| {
                let bytes = tok.token_bytes(id)?;
                Ok::<_, spar::bpe::BpeError>(bytes.iter().map(|b| format!("<{b:02X}>")).collect())
            })
        })
        .collect::<Result<_, _>>()?;
    println!("  {text:?}");
    println!("    ids    {ids:?}");
    println!("    pieces {pieces:?}");
    let back = tok.decode(&ids)?;
    println!(
        "    decode {}",
        if back == text {
            "round-trips"
        } else {
            "DIFFERS"
        }
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let vocab_size: usize = match args.next() {
        Some(v) => v.parse().map_err(|e| format!("VOCAB_SIZE {v:?}: {e}"))?,
        None => 4096,
    };
    let out = args.next();

    let mb = RUST_DOCS.len() as f64 / 1e6;
    println!(
        "spar-bpe: training a {vocab_size}-token byte-level BPE on {mb:.2} MB of bundled text"
    );
    let t = Instant::now();
    let mut trainer = Trainer::new(TrainerConfig {
        vocab_size,
        ..Default::default()
    })?;
    trainer.feed(RUST_DOCS);
    let tok = trainer.finish()?;
    let train_s = t.elapsed().as_secs_f64();
    println!(
        "trained {} tokens ({} merges) in {train_s:.2} s",
        tok.vocab_size(),
        tok.num_merges()
    );

    // Throughput: best of three passes over the whole corpus, with and without the word cache.
    let mut best_plain = f64::INFINITY;
    let mut best_cached = f64::INFINITY;
    let mut n_ids = 0;
    for _ in 0..3 {
        let t = Instant::now();
        n_ids = tok.encode(RUST_DOCS).len();
        best_plain = best_plain.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let mut cache = EncodeCache::default();
        let mut ids = Vec::with_capacity(n_ids);
        tok.encode_with_cache(RUST_DOCS, &mut cache, &mut ids);
        best_cached = best_cached.min(t.elapsed().as_secs_f64());
    }
    println!(
        "encode: {:.1} MB/s ({:.1} MB/s with the word cache), {} ids, {:.2} bytes per token",
        mb / best_plain,
        mb / best_cached,
        n_ids,
        RUST_DOCS.len() as f64 / n_ids as f64
    );

    println!("examples:");
    for text in [
        "fn main() { println!(\"Hello, world!\"); }",
        "Ownership is Rust's most unique feature.",
        "cargo build --release 2>&1 | tee build.log",
        "naïve café 日本 🙂<|endoftext|>",
    ] {
        show(&tok, text)?;
    }
    if let Some(path) = out {
        tok.save(&path)?;
        println!("wrote {path}");
    }
    Ok(())
}
