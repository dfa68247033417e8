//! Trains the tokenizers that the compatibility fixtures are made from and writes them as
//! tokenizer.json files: `cargo run -p spar-bpe --release --example export_fixture -- DIR`.
//!
//! - `spar_plain.json`: vocabulary 1,000 from the first 500,000 bytes of the bundled corpus;
//! - `spar_digits.json`: vocabulary 600, one token per digit, from the first 200,000 bytes;
//! - `spar_4096.json`: vocabulary 4,096 from the whole corpus (for the speed comparison).
//!
//! `scripts/bpe_fixture.py` then loads them in Hugging Face `tokenizers` and records its ids.
//! The compatibility test retrains the first two and checks they equal the committed files.

use spar_bpe::{Trainer, TrainerConfig};

const CORPUS: &str = include_str!("../data/rust-docs.txt");

/// The settings the fixtures are made with; the compatibility test uses the same.
pub fn fixture_config(name: &str) -> (TrainerConfig, usize) {
    match name {
        "plain" => (
            TrainerConfig {
                vocab_size: 1000,
                ..Default::default()
            },
            500_000,
        ),
        "digits" => (
            TrainerConfig {
                vocab_size: 600,
                split_digits: true,
                ..Default::default()
            },
            200_000,
        ),
        _ => (
            TrainerConfig {
                vocab_size: 4096,
                ..Default::default()
            },
            CORPUS.len(),
        ),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: export_fixture OUT_DIR")?;
    std::fs::create_dir_all(&dir)?;
    for name in ["plain", "digits", "4096"] {
        let (config, len) = fixture_config(name);
        let start = std::time::Instant::now();
        let mut trainer = Trainer::new(config)?;
        trainer.feed(&CORPUS[..len]);
        let tok = trainer.finish()?;
        let path = std::path::Path::new(&dir).join(format!("spar_{name}.json"));
        tok.save(&path)?;
        println!(
            "{}: {} tokens from {} bytes in {:.2} s",
            path.display(),
            tok.vocab_size(),
            len,
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
