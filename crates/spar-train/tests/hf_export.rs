//! The Hugging Face export: a checkpoint directory spar writes loads in `transformers` with
//! no extra arguments and `generate` stops at the end token with the same output as spar.
//!
//! The fixture `tests/fixtures/hf_export/` holds the Hugging Face files of a checkpoint spar
//! wrote (`examples/hf_export_fixture.rs`) and `generate.json`, what
//! `AutoModelForCausalLM.from_pretrained(dir).generate(**AutoTokenizer.from_pretrained(dir)(prompt))`
//! produced from it (`scripts/hf_export_fixture.py`). Here: the files say what transformers
//! needs, spar writes the same files again for the same model, and spar's greedy sampling
//! gives exactly the recorded ids and texts.
#![cfg(feature = "std")]
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

use serde_json::{json, Value};
use spar_model::{block_on, CpuKernels, Gpt, SampleConfig};
use spar_train::native::{load_pretrained, save_loop_checkpoint};
use spar_train::policy::{OptimizerCounters, OptimizerSnapshot};
use spar_train::selfplay::LoopSnapshot;
use spar_train::vocab::CharVocab;
use spar_train::{TrainConfig, Trainer};
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hf_export")
}

fn json(dir: &Path, file: &str) -> Value {
    let p = dir.join(file);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

/// What transformers generated for one prompt.
struct Recorded {
    prompt: String,
    prompt_ids: Vec<u32>,
    completion_ids: Vec<u32>,
    stopped_at_eos: bool,
    text: String,
}

/// What transformers generated, prompt by prompt.
fn recorded() -> Vec<Recorded> {
    let g = json(&fixture(), "generate.json");
    let ids = |v: &Value| -> Vec<u32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect()
    };
    g["generations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Recorded {
            prompt: r["prompt"].as_str().unwrap().to_string(),
            prompt_ids: ids(&r["prompt_ids"]),
            completion_ids: ids(&r["completion_ids"]),
            stopped_at_eos: r["stopped_at_eos"].as_bool().unwrap(),
            text: r["text"].as_str().unwrap().to_string(),
        })
        .collect()
}

#[test]
fn the_exported_files_carry_the_special_tokens() {
    let dir = fixture();
    let (cfg, vocab, _) = load_pretrained(&dir).unwrap();
    let eos = vocab.eos() as u64;
    assert_eq!(json(&dir, "generate.json")["eos_token_id"], eos);
    let config = json(&dir, "config.json");
    for key in ["bos_token_id", "eos_token_id", "pad_token_id"] {
        assert_eq!(config[key], eos, "config.json {key}");
    }
    let generation = json(&dir, "generation_config.json");
    assert_eq!(generation["eos_token_id"], eos);
    assert_eq!(generation["pad_token_id"], eos);
    assert_eq!(generation["do_sample"], false);
    assert_eq!(generation["max_length"], cfg.n_positions as u64);
    let tokenizer = json(&dir, "tokenizer_config.json");
    assert_eq!(tokenizer["tokenizer_class"], "PreTrainedTokenizerFast");
    assert_eq!(tokenizer["model_max_length"], cfg.n_positions as u64);
    assert_eq!(
        tokenizer["added_tokens_decoder"][eos.to_string()]["special"],
        true
    );
    let map = json(&dir, "special_tokens_map.json");
    for key in ["bos_token", "eos_token", "pad_token"] {
        assert_eq!(
            tokenizer[key], "<|endoftext|>",
            "tokenizer_config.json {key}"
        );
        assert_eq!(map[key], "<|endoftext|>", "special_tokens_map.json {key}");
    }
}

#[test]
fn spar_writes_the_same_files_again() {
    let dir = fixture();
    let (cfg, vocab, params) = load_pretrained(&dir).unwrap();
    let out = std::env::temp_dir().join(format!("spar-hf-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let snap = LoopSnapshot {
        optimizer: OptimizerSnapshot {
            m: vec![0.0; params.len()],
            v: vec![0.0; params.len()],
            counters: OptimizerCounters::default(),
        },
        params,
        tensors: Vec::new(),
        state: (),
    };
    let written = save_loop_checkpoint(&out, 1, &cfg, &vocab, "", &snap).unwrap();
    for file in [
        "model.safetensors",
        "config.json",
        "generation_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
    ] {
        let again = std::fs::read(written.join(file)).unwrap();
        assert!(
            again == std::fs::read(dir.join(file)).unwrap(),
            "{file} differs"
        );
    }
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn greedy_sampling_matches_transformers_generate() {
    let (cfg, vocab, params) = load_pretrained(&fixture()).unwrap();
    let records = recorded();
    assert!(
        records.iter().any(|r| r.stopped_at_eos),
        "no prompt stopped at the end token"
    );
    let mut gpt = Gpt::new(CpuKernels::new(), cfg, records.len(), cfg.n_positions).unwrap();
    gpt.write_params(&params).unwrap();
    let prompts: Vec<Vec<u32>> = records.iter().map(|r| vocab.encode(&r.prompt)).collect();
    let refs: Vec<&[u32]> = prompts.iter().map(|p| p.as_slice()).collect();
    // transformers' generation_config: greedy, stop at the end token, at most n_positions
    // tokens in all (spar stops at the context by itself).
    let sc = SampleConfig {
        max_new_tokens: cfg.n_positions,
        temperature: 0.0,
        top_k: 0,
        top_p: 1.0,
        stop_tokens: vec![vocab.eos()],
        seed: 0,
    };
    let out = block_on(gpt.generate(&refs, &sc, 0)).unwrap();
    for (r, (ids, g)) in records.iter().zip(prompts.iter().zip(&out)) {
        let prompt = &r.prompt;
        assert_eq!(ids, &r.prompt_ids, "{prompt:?}: the tokenizers disagree");
        assert_eq!(g.tokens, r.completion_ids, "{prompt:?}");
        assert_eq!(g.stopped, r.stopped_at_eos, "{prompt:?}");
        assert_eq!(vocab.decode(&g.tokens), r.text, "{prompt:?}");
    }

    // The same through the trainer, as `spar sample` does it (the checkpoint as `init_from`).
    let mut config = TrainConfig::default();
    config.model.init_from = fixture().display().to_string();
    config.task.num_train_problems = 20;
    config.task.num_eval_problems = 4;
    let mut trainer = Trainer::new(config, Box::new(CpuKernels::new)).unwrap();
    let texts: Vec<&str> = records.iter().map(|r| r.prompt.as_str()).collect();
    let sampled = block_on(trainer.sample(&texts, &sc)).unwrap();
    let expected: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(sampled, expected);
}

/// A Hugging Face WordLevel character tokenizer with `<pad>` 0, `<eos>` 1, `<unk>` 2.
const WORD_LEVEL: &str = r#"{"version":"1.0","truncation":null,"padding":null,
"added_tokens":[{"id":0,"content":"<pad>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
{"id":1,"content":"<eos>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
{"id":2,"content":"<unk>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
"normalizer":null,"pre_tokenizer":{"type":"Split","pattern":{"Regex":"."},"behavior":"Isolated","invert":false},
"post_processor":null,"decoder":{"type":"Fuse"},
"model":{"type":"WordLevel","vocab":{"<pad>":0,"<eos>":1,"<unk>":2,"0":3,"1":4,"+":5,"=":6},"unk_token":"<unk>"}}"#;

#[test]
fn a_word_level_vocabulary_names_its_own_pad_and_unk() {
    let v = CharVocab::from_json(WORD_LEVEL).unwrap();
    let ids = v.token_ids();
    // No start token in the file: the end token starts sequences, as in GPT-2.
    assert_eq!((ids.bos, ids.eos, ids.pad), (Some(1), Some(1), Some(0)));
    let map: Value = serde_json::from_str(&v.special_tokens_map_json()).unwrap();
    assert_eq!(
        map,
        json!({"bos_token": "<eos>", "eos_token": "<eos>", "pad_token": "<pad>",
               "unk_token": "<unk>"})
    );
    let config: Value = serde_json::from_str(&v.tokenizer_config_json(8)).unwrap();
    let added = config["added_tokens_decoder"].as_object().unwrap();
    let keys: Vec<&str> = added.keys().map(|k| k.as_str()).collect();
    assert_eq!(keys, ["0", "1", "2"]);
    assert_eq!(added["2"]["content"], "<unk>");
    assert_eq!(config["unk_token"], "<unk>");
    assert_eq!(config["model_max_length"], 8);
}

#[test]
fn a_start_token_is_used_when_the_file_has_one() {
    let with_bos = WORD_LEVEL
        .replace(r#""<unk>":2"#, r#""<s>":2"#)
        .replace(r#""content":"<unk>""#, r#""content":"<s>""#)
        .replace(r#""unk_token":"<unk>""#, r#""unk_token":null"#);
    let v = CharVocab::from_json(&with_bos).unwrap();
    assert_eq!(v.token_ids().bos, Some(2));
    assert!(!v.special_tokens_map_json().contains("unk_token"));
}
