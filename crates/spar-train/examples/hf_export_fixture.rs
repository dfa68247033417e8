//! Makes the checkpoint of the Hugging Face export fixture,
//! `crates/spar-train/tests/fixtures/hf_export/`: a tiny GPT (2 layers, width 48, context
//! 16) trained by SFT on two-digit addition until it answers and then emits its end token,
//! saved as `spar train` saves a checkpoint; only the files Hugging Face reads are kept
//! (`model.safetensors`, `config.json`, `generation_config.json`, `tokenizer.json`,
//! `tokenizer_config.json`, `special_tokens_map.json`). `scripts/hf_export_fixture.py` then
//! records what `transformers` generates from it.
//!
//! ```text
//! cargo run --release -p spar-train --example hf_export_fixture
//! ```

#![allow(clippy::field_reassign_with_default)] // the config reads best as edits of the defaults

use spar_model::{block_on, CpuKernels};
use spar_train::{native, TrainConfig, Trainer};
use std::path::Path;

/// The files copied into the fixture.
const FILES: [&str; 6] = [
    "model.safetensors",
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
];

/// The fixture run's config: small enough to train in seconds, trained enough to stop.
fn config() -> TrainConfig {
    let mut c = TrainConfig::default();
    c.seed = 7;
    c.model.n_layer = 2;
    c.model.n_embd = 48;
    c.model.n_head = 2;
    c.model.n_positions = 16;
    c.task.num_train_problems = 2000;
    c.task.labelled_fraction = 0.5;
    c.task.num_eval_problems = 100;
    c.task.paraphrase_sft = false;
    c.sft.max_steps = 1500;
    c.sft.per_device_train_batch_size = 32;
    c.sft.optim.learning_rate = Some(3e-3);
    c.grpo.max_steps = 0;
    c
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("tests/fixtures/hf_export");
    let mut t = Trainer::new(config(), Box::new(CpuKernels::new))?;
    while t.step() < t.total_steps() {
        let m = block_on(t.train_step())?;
        if t.step() % 100 == 0 {
            println!("step {} loss {:.4}", t.step(), m.loss);
        }
    }
    let report = block_on(t.evaluate())?;
    println!("held-out greedy accuracy {:.3}", report.accuracy);
    let tmp = std::env::temp_dir().join(format!("spar-hf-export-{}", std::process::id()));
    let dir = block_on(native::save_checkpoint(&mut t, &tmp))?;
    std::fs::create_dir_all(&out)?;
    for f in FILES {
        std::fs::copy(dir.join(f), out.join(f))?;
    }
    std::fs::remove_dir_all(&tmp)?;
    println!("wrote {}", out.display());
    Ok(())
}
