//! Properties of training, encoding and decoding that hold for any input.

use proptest::prelude::*;
use spar_bpe::{BpeError, EncodeCache, Tokenizer, Trainer, TrainerConfig};
use std::sync::OnceLock;

const CORPUS: &str = include_str!("../data/rust-docs.txt");

/// A 1,024-token vocabulary trained on the first 300 KB of the bundled corpus, with two
/// special tokens, one of which contains text that also appears in ordinary words.
fn tokenizer() -> &'static Tokenizer {
    static TOK: OnceLock<Tokenizer> = OnceLock::new();
    TOK.get_or_init(|| {
        let mut trainer = Trainer::new(TrainerConfig {
            vocab_size: 1024,
            min_frequency: 2,
            special_tokens: vec!["<|endoftext|>".into(), "<pad>".into()],
            split_digits: false,
        })
        .unwrap();
        let end = CORPUS.char_indices().nth(300_000).unwrap().0;
        trainer.feed(&CORPUS[..end]);
        trainer.finish().unwrap()
    })
}

fn digit_tokenizer() -> &'static Tokenizer {
    static TOK: OnceLock<Tokenizer> = OnceLock::new();
    TOK.get_or_init(|| {
        let mut trainer = Trainer::new(TrainerConfig {
            vocab_size: 600,
            split_digits: true,
            ..Default::default()
        })
        .unwrap();
        trainer.feed(&CORPUS[..100_000]);
        trainer.feed("12+34=46 100+200=300 999+1=1000 2024 3.14159");
        trainer.finish().unwrap()
    })
}

#[test]
fn training_reaches_the_requested_size_and_compresses() {
    let tok = tokenizer();
    assert_eq!(tok.vocab_size(), 1024);
    let sample = &CORPUS[400_000..420_000];
    let ids = tok.encode(sample);
    // Held-out text from the same books: at least 2.5 bytes per token at 1k vocab.
    assert!(
        sample.len() as f64 / ids.len() as f64 > 2.5,
        "only {:.2} bytes per token",
        sample.len() as f64 / ids.len() as f64
    );
    assert_eq!(tok.decode(&ids).unwrap(), sample);
}

#[test]
fn frequent_words_become_single_tokens() {
    let tok = tokenizer();
    for word in [" the", " Rust", " fn", " let"] {
        assert_eq!(tok.encode(word).len(), 1, "{word:?} is not one token");
    }
}

#[test]
fn digits_are_one_token_each_in_digit_mode() {
    let tok = digit_tokenizer();
    let text = "12+34=46 and 2024";
    let ids = tok.encode(text);
    let pieces: Vec<String> = ids.iter().map(|&i| tok.decode(&[i]).unwrap()).collect();
    for p in &pieces {
        assert!(
            !(p.chars().any(|c| c.is_ascii_digit()) && p.chars().count() > 1),
            "{p:?} mixes a digit with other characters"
        );
    }
    assert_eq!(pieces.concat(), text);
}

#[test]
fn min_frequency_stops_training_early() {
    let mut trainer = Trainer::new(TrainerConfig {
        vocab_size: 10_000,
        min_frequency: 3,
        special_tokens: vec![],
        split_digits: false,
    })
    .unwrap();
    trainer.feed("abab abab xyz");
    let tok = trainer.finish().unwrap();
    // "ab" occurs 4 times, then "abab" twice (< 3): one merge only.
    assert_eq!(tok.num_merges(), 1);
    assert_eq!(tok.encode("abab").len(), 2);
}

#[test]
fn bad_settings_and_ids_are_errors() {
    assert!(matches!(
        Trainer::new(TrainerConfig {
            vocab_size: 100,
            ..Default::default()
        }),
        Err(BpeError::Config(_))
    ));
    assert!(Trainer::new(TrainerConfig {
        vocab_size: 1000,
        special_tokens: vec!["<a>".into(), "<a>".into()],
        ..Default::default()
    })
    .is_err());
    let tok = tokenizer();
    assert_eq!(
        tok.decode(&[5, 1024]),
        Err(BpeError::UnknownId {
            id: 1024,
            vocab_size: 1024
        })
    );
    // A lone continuation byte decodes lossily, and strictly only with an error.
    let byte_0x80 = tok.encode_ordinary("\u{80}")[1];
    assert_eq!(tok.decode(&[byte_0x80]).unwrap(), "\u{fffd}");
    assert_eq!(
        tok.decode_strict(&[byte_0x80]),
        Err(BpeError::InvalidUtf8 { valid_up_to: 0 })
    );
}

#[test]
fn long_words_round_trip() {
    let tok = tokenizer();
    // Long single pieces take the heap path (its equivalence to the scan is a unit test).
    let long = "abcdefghijklmnopqrstuvwxyz".repeat(8);
    let ids = tok.encode(&long);
    assert_eq!(tok.decode(&ids).unwrap(), long);
    let spaced = "the the the the".repeat(10);
    assert_eq!(tok.decode(&tok.encode(&spaced)).unwrap(), spaced);
}

#[test]
fn cache_gives_the_same_ids() {
    let tok = tokenizer();
    let text = &CORPUS[1_000_000..1_050_000];
    let mut cache = EncodeCache::new(64);
    let mut out = Vec::new();
    tok.encode_with_cache(text, &mut cache, &mut out);
    assert_eq!(out, tok.encode(text));
}

#[test]
fn save_and_load_round_trip() {
    let tok = tokenizer();
    let dir = std::env::temp_dir().join(format!("spar-bpe-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokenizer.json");
    tok.save(&path).unwrap();
    let again = Tokenizer::load(&path).unwrap();
    let text = &CORPUS[2_000_000..2_020_000];
    assert_eq!(again.encode(text), tok.encode(text));
    assert_eq!(again.to_json(), tok.to_json());
    assert!(!dir.join("tokenizer.json.tmp").exists());
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(
        Tokenizer::load(dir.join("missing.json")),
        Err(BpeError::Io(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decode_inverts_encode(s in any::<String>()) {
        let tok = tokenizer();
        prop_assert_eq!(tok.decode_strict(&tok.encode(&s)).unwrap(), s.clone());
        prop_assert_eq!(tok.decode_strict(&tok.encode_ordinary(&s)).unwrap(), s.clone());
        let digits = digit_tokenizer();
        prop_assert_eq!(digits.decode_strict(&digits.encode(&s)).unwrap(), s);
    }

    #[test]
    fn special_tokens_are_never_split(a in any::<String>(), b in any::<String>()) {
        let tok = tokenizer();
        let eot = tok.token_id("<|endoftext|>").unwrap();
        let text = format!("{a}<|endoftext|>{b}");
        let ids = tok.encode(&text);
        let expected = a.matches("<|endoftext|>").count() + b.matches("<|endoftext|>").count() + 1;
        prop_assert_eq!(ids.iter().filter(|&&i| i == eot).count(), expected);
        prop_assert_eq!(tok.decode(&ids).unwrap(), text.clone());
        // Ordinary encoding never produces a special id.
        prop_assert!(tok.encode_ordinary(&text).iter().all(|&i| i != eot));
    }

    #[test]
    fn decoding_any_ids_never_panics(ids in proptest::collection::vec(0u32..1100, 0..64)) {
        let tok = tokenizer();
        let ok = ids.iter().all(|&i| i < 1024);
        prop_assert_eq!(tok.decode_bytes(&ids).is_ok(), ok);
        let _ = tok.decode(&ids);
        let _ = tok.decode_strict(&ids);
    }

    #[test]
    fn words_of_repeated_bytes_round_trip(c in any::<char>(), n in 1usize..200) {
        let tok = tokenizer();
        let s: String = std::iter::repeat_n(c, n).collect();
        prop_assert_eq!(tok.decode(&tok.encode(&s)).unwrap(), s);
    }
}
