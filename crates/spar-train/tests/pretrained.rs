//! Starting from a Hugging Face `save_pretrained` directory with fixed problem splits, as the
//! TRL comparison does: the model, the WordLevel vocabulary and the problems are the files'.
// Files: the `std` feature (on by default).
#![cfg(feature = "std")]
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

use spar_model::{block_on, checkpoint, CpuKernels};
use spar_train::rewards::verifier::AnswerCheck;
use spar_train::sampler::Sampler;
use spar_train::{TrainConfig, Trainer};
use std::path::{Path, PathBuf};

/// A Hugging Face WordLevel character tokenizer: <pad> 0, <eos> 1, <unk> 2, the digits, "+", "=".
const TOKENIZER: &str = r#"{"version":"1.0","truncation":null,"padding":null,
"added_tokens":[{"id":0,"content":"<pad>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
{"id":1,"content":"<eos>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
{"id":2,"content":"<unk>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
"normalizer":null,"pre_tokenizer":{"type":"Split","pattern":{"Regex":"."},"behavior":"Isolated","invert":false},
"post_processor":null,"decoder":{"type":"Fuse"},
"model":{"type":"WordLevel","vocab":{"<pad>":0,"<eos>":1,"<unk>":2,"0":3,"1":4,"2":5,"3":6,"4":7,"5":8,"6":9,"7":10,"8":11,"9":12,"+":13,"=":14},"unk_token":"<unk>"}}"#;

/// The parity fixture's tiny GPT2LMHeadModel (vocabulary 15, context 16) with a tokenizer,
/// and a problems file, in a fresh directory.
fn setup(name: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("spar-pretrained-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let model = dir.join("model");
    std::fs::create_dir_all(&model).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/trl_parity/init");
    for f in ["config.json", "model.safetensors"] {
        std::fs::copy(src.join(f), model.join(f)).unwrap();
    }
    std::fs::write(model.join("tokenizer.json"), TOKENIZER).unwrap();
    let problems = dir.join("problems.json");
    std::fs::write(
        &problems,
        r#"{"labelled": [[12, 34], [56, 11]], "unlabelled": [[10, 10], [20, 30], [45, 45], [77, 12]], "eval": [[99, 10], [31, 42], [60, 29]]}"#,
    )
    .unwrap();
    (model, problems)
}

fn config(model: &Path, problems: &Path) -> TrainConfig {
    let mut c = TrainConfig::default();
    c.model.init_from = model.display().to_string();
    c.task.problems_file = problems.display().to_string();
    c.task.answer_check = AnswerCheck::Strict;
    c.task.paraphrase_sft = false;
    c.sft.max_steps = 0;
    c.grpo.max_steps = 3;
    c.grpo.per_device_train_batch_size = 8;
    c.grpo.num_generations = 4;
    c.grpo.max_completion_length = 4;
    c.grpo.prompt_sampler = Sampler::Epoch;
    c.grpo.log_ref_kl = false;
    c.eval.num_samples = 4;
    c
}

#[test]
fn a_save_pretrained_directory_and_a_problems_file_are_the_start() {
    let (model, problems) = setup("start");
    let mut t = Trainer::new(config(&model, &problems), Box::new(CpuKernels::new)).unwrap();
    // The model is the checkpoint's, the shape and vocabulary too.
    let (cfg, params) = checkpoint::load(&model).unwrap();
    let mut got = vec![0.0f32; params.len()];
    block_on(t.model().read_params(&mut got)).unwrap();
    assert_eq!(got, params);
    assert_eq!(t.config().model.n_embd, cfg.n_embd);
    assert_eq!(t.vocab().vocab_size(), 15);
    assert_eq!(t.vocab().eos(), 1);
    assert_eq!(t.vocab().encode("12+34="), [4, 5, 13, 6, 7, 14]);
    // The problems are the file's: 2 labelled, 4 unlabelled, 3 held out.
    assert_eq!(t.data().num_labelled, 2);
    assert_eq!(t.data().pool.len(), 6);
    let eval: Vec<&str> = t.data().eval.iter().map(|p| p.prompt.as_str()).collect();
    assert_eq!(eval, ["99+10=", "31+42=", "60+29="]);
    let report = block_on(t.evaluate()).unwrap();
    assert_eq!(report.num_problems, 3);
    // RL runs from it (no SFT stage) and resumes exactly.
    let m0 = block_on(t.train_step()).unwrap();
    assert_eq!(m0.phase, "rl");
    let snap = block_on(t.snapshot()).unwrap();
    let rest: Vec<_> = (0..2).map(|_| block_on(t.train_step()).unwrap()).collect();
    let mut u = Trainer::new(config(&model, &problems), Box::new(CpuKernels::new)).unwrap();
    u.restore(&snap).unwrap();
    let again: Vec<_> = (0..2).map(|_| block_on(u.train_step()).unwrap()).collect();
    assert_eq!(rest, again);
}

#[test]
fn missing_or_mismatched_files_are_errors_that_name_them() {
    let (model, problems) = setup("errors");
    let mut c = config(&model, &problems);
    c.task.problems_file = "no/such/problems.json".into();
    let e = Trainer::<CpuKernels>::new(c, Box::new(CpuKernels::new))
        .err()
        .unwrap();
    assert!(e.to_string().contains("no/such/problems.json"), "{e}");
    let mut c = config(&model, &problems);
    c.model.init_from = "no/such/model".into();
    let e = Trainer::<CpuKernels>::new(c, Box::new(CpuKernels::new))
        .err()
        .unwrap();
    assert!(e.to_string().contains("no/such/model"), "{e}");
    let mut c = config(&model, &problems);
    c.task.name = "sort".into();
    c.task.levels = vec![0];
    let e = Trainer::<CpuKernels>::new(c, Box::new(CpuKernels::new))
        .err()
        .unwrap();
    assert!(e.to_string().contains("problems_file"), "{e}");
    // A tokenizer whose size differs from the model's.
    let short = TOKENIZER.replace(r#","=":14"#, "");
    std::fs::write(model.join("tokenizer.json"), short).unwrap();
    let e = Trainer::<CpuKernels>::new(config(&model, &problems), Box::new(CpuKernels::new))
        .err()
        .unwrap();
    assert!(e.to_string().contains("token ids"), "{e}");
}
