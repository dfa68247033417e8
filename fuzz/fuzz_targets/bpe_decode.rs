//! Decodes arbitrary id sequences: unknown ids are errors, known ones always give bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spar_bpe::{Tokenizer, Trainer, TrainerConfig};
use std::sync::OnceLock;

fn tokenizer() -> &'static Tokenizer {
    static TOK: OnceLock<Tokenizer> = OnceLock::new();
    TOK.get_or_init(|| {
        let mut t = Trainer::new(TrainerConfig {
            vocab_size: 400,
            ..Default::default()
        })
        .expect("valid config");
        t.feed(&include_str!("../../crates/spar-bpe/data/rust-docs.txt")[..20_000]);
        t.finish().expect("training succeeds")
    })
}

fuzz_target!(|data: &[u8]| {
    let tok = tokenizer();
    let ids: Vec<u32> = data
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]) as u32)
        .collect();
    let known = ids.iter().all(|&i| (i as usize) < tok.vocab_size());
    assert_eq!(tok.decode_bytes(&ids).is_ok(), known);
    if let Ok(s) = tok.decode_strict(&ids) {
        assert_eq!(tok.decode(&ids).expect("known ids"), s);
    }
});
