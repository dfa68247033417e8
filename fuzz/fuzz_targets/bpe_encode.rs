//! Encodes arbitrary strings (cut at a special-token boundary byte) with a small trained
//! tokenizer: encoding never panics and decoding gives the string back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spar_bpe::{Tokenizer, Trainer, TrainerConfig};
use std::sync::OnceLock;

fn tokenizer() -> &'static Tokenizer {
    static TOK: OnceLock<Tokenizer> = OnceLock::new();
    TOK.get_or_init(|| {
        let mut t = Trainer::new(TrainerConfig {
            vocab_size: 500,
            min_frequency: 1,
            ..Default::default()
        })
        .expect("valid config");
        t.feed(&include_str!("../../crates/spar-bpe/data/rust-docs.txt")[..50_000]);
        t.finish().expect("training succeeds")
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let tok = tokenizer();
    let ids = tok.encode(&text);
    assert_eq!(tok.decode_strict(&ids).expect("ids are known"), text);
    let ids = tok.encode_ordinary(&text);
    assert_eq!(tok.decode_strict(&ids).expect("ids are known"), text);
});
