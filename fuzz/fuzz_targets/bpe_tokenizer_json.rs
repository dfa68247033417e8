//! Feeds arbitrary bytes to the `tokenizer.json` reader. It may refuse them, never panic;
//! whatever it accepts must write out and read back to the same tokenizer, and must encode
//! and decode a fixed text without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spar_bpe::Tokenizer;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tok) = Tokenizer::from_json(text) {
        let json = tok.to_json();
        let again = Tokenizer::from_json(&json).expect("a written tokenizer reads back");
        assert_eq!(again.to_json(), json);
        let ids = tok.encode("Hello, wörld! 12 345\n\t🙂");
        let _ = tok.decode(&ids);
    }
});
