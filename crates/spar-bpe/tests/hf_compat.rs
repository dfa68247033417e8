//! Compatibility with Hugging Face `tokenizers`, both ways, through committed fixtures made by
//! `scripts/bpe_fixture.py` (see its docstring to rerun it).

use serde_json::Value;
use spar_bpe::{BpeError, Tokenizer, Trainer, TrainerConfig};

const CORPUS: &str = include_str!("../data/rust-docs.txt");
const IDS: &str = include_str!("fixtures/ids.json");
const HF_PLAIN: &str = include_str!("fixtures/hf_plain.json");
const HF_DIGITS: &str = include_str!("fixtures/hf_digits.json");
const SPAR_PLAIN: &str = include_str!("fixtures/spar_plain.json");
const SPAR_DIGITS: &str = include_str!("fixtures/spar_digits.json");

fn fixture_ids() -> (Vec<String>, Value) {
    let v: Value = serde_json::from_str(IDS).unwrap();
    let texts = v["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    (texts, v)
}

fn expected(v: &Value, key: &str, i: usize) -> Vec<u32> {
    v[key][i]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

/// The settings `examples/export_fixture.rs` trains the spar fixtures with.
fn retrain(vocab_size: usize, split_digits: bool, len: usize) -> Tokenizer {
    let mut t = Trainer::new(TrainerConfig {
        vocab_size,
        split_digits,
        ..Default::default()
    })
    .unwrap();
    t.feed(&CORPUS[..len]);
    t.finish().unwrap()
}

#[test]
fn tokenizers_files_encode_like_tokenizers() {
    let (texts, v) = fixture_ids();
    for (json, key) in [(HF_PLAIN, "hf_plain"), (HF_DIGITS, "hf_digits")] {
        let tok = Tokenizer::from_json(json).unwrap();
        for (i, text) in texts.iter().enumerate() {
            assert_eq!(tok.encode(text), expected(&v, key, i), "{key} on {text:?}");
            assert_eq!(&tok.decode(&tok.encode(text)).unwrap(), text);
        }
    }
}

#[test]
fn spar_files_encode_in_tokenizers_like_in_spar() {
    let (texts, v) = fixture_ids();
    for (json, key) in [(SPAR_PLAIN, "spar_plain"), (SPAR_DIGITS, "spar_digits")] {
        let tok = Tokenizer::from_json(json).unwrap();
        for (i, text) in texts.iter().enumerate() {
            assert_eq!(tok.encode(text), expected(&v, key, i), "{key} on {text:?}");
        }
    }
}

#[test]
fn training_reproduces_the_committed_spar_files() {
    // If this fails, training changed: rerun the fixture script so that the tokenizers side
    // of the comparison is made from what spar writes now.
    assert_eq!(retrain(1000, false, 500_000).to_json(), SPAR_PLAIN);
    assert_eq!(retrain(600, true, 200_000).to_json(), SPAR_DIGITS);
}

#[test]
fn old_style_string_merges_read_the_same() {
    let mut v: Value = serde_json::from_str(HF_PLAIN).unwrap();
    let merges = v["model"]["merges"].as_array_mut().unwrap();
    for m in merges.iter_mut() {
        let pair = m.as_array().unwrap();
        *m = Value::String(format!(
            "{} {}",
            pair[0].as_str().unwrap(),
            pair[1].as_str().unwrap()
        ));
    }
    let old = Tokenizer::from_json(&v.to_string()).unwrap();
    let new = Tokenizer::from_json(HF_PLAIN).unwrap();
    let text = &CORPUS[600_000..640_000];
    assert_eq!(old.encode(text), new.encode(text));
    // Written back, merges are pairs again.
    assert!(old.to_json().contains("\"merges\": [\n      [\""));
}

/// Applies `edit` to the HF fixture and returns the reader's error.
fn error_after(edit: impl FnOnce(&mut Value)) -> BpeError {
    let mut v: Value = serde_json::from_str(HF_PLAIN).unwrap();
    edit(&mut v);
    Tokenizer::from_json(&v.to_string()).unwrap_err()
}

#[test]
fn malformed_files_are_named_errors() {
    assert!(matches!(
        Tokenizer::from_json("{\"model\": "),
        Err(BpeError::Json(_))
    ));
    assert!(matches!(
        Tokenizer::from_json("[]"),
        Err(BpeError::Invalid { .. })
    ));
    let field = |e: BpeError| match e {
        BpeError::Invalid { field, .. } => field,
        other => panic!("expected Invalid, got {other:?}"),
    };
    assert_eq!(
        field(error_after(|v| {
            v["model"].as_object_mut().unwrap().remove("merges");
        })),
        "model"
    );
    assert_eq!(
        field(error_after(|v| v["model"]["merges"][3] = Value::from(7))),
        "model.merges"
    );
    assert_eq!(
        field(error_after(
            |v| v["model"]["merges"][3] = Value::from("no-space")
        )),
        "model.merges"
    );
    assert_eq!(
        field(error_after(
            |v| v["model"]["merges"][0] = serde_json::json!(["Ġ", "not-a-token"])
        )),
        "model.merges"
    );
    assert_eq!(
        field(error_after(
            |v| v["model"]["vocab"]["Ġthe"] = Value::from(-1)
        )),
        "model.vocab"
    );
    assert_eq!(
        field(error_after(|v| v["model"]["vocab"]["€"] = Value::from(5000))),
        "model.vocab"
    );
    // A merge whose result is missing from the vocabulary.
    assert_eq!(
        field(error_after(|v| {
            let merged = {
                let m = v["model"]["merges"][0].as_array().unwrap();
                format!("{}{}", m[0].as_str().unwrap(), m[1].as_str().unwrap())
            };
            v["model"]["vocab"].as_object_mut().unwrap().remove(&merged);
        })),
        "model.merges"
    );
}

#[test]
fn unsupported_settings_are_refused_by_name() {
    let unsupported = |e: BpeError| matches!(e, BpeError::Unsupported(_));
    assert!(unsupported(error_after(
        |v| v["model"]["type"] = "WordPiece".into()
    )));
    assert!(unsupported(error_after(
        |v| v["model"]["dropout"] = 0.1.into()
    )));
    assert!(unsupported(error_after(
        |v| v["model"]["unk_token"] = "<unk>".into()
    )));
    assert!(unsupported(error_after(
        |v| v["normalizer"] = serde_json::json!({"type": "NFC"})
    )));
    assert!(unsupported(error_after(
        |v| v["pre_tokenizer"] = serde_json::json!({"type": "Whitespace"})
    )));
    assert!(unsupported(error_after(
        |v| v["decoder"] = serde_json::json!({"type": "WordPiece"})
    )));
    assert!(unsupported(error_after(
        |v| v["added_tokens"][0]["lstrip"] = true.into()
    )));
}

#[test]
fn prefix_space_and_no_regex_settings_are_honoured() {
    let mut v: Value = serde_json::from_str(HF_PLAIN).unwrap();
    v["pre_tokenizer"]["add_prefix_space"] = true.into();
    let tok = Tokenizer::from_json(&v.to_string()).unwrap();
    let plain = Tokenizer::from_json(HF_PLAIN).unwrap();
    // With a prefix space, "the" encodes as " the" does without one.
    assert_eq!(tok.encode("the"), plain.encode(" the"));
    assert_eq!(tok.encode(" the"), plain.encode(" the"));

    v["pre_tokenizer"]["add_prefix_space"] = false.into();
    v["pre_tokenizer"]["use_regex"] = false.into();
    let whole = Tokenizer::from_json(&v.to_string()).unwrap();
    let text = "the cat, the dog";
    assert_eq!(whole.decode(&whole.encode(text)).unwrap(), text);
}
