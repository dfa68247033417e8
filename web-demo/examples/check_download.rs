//! Loads a checkpoint directory the page's Download produced (model.safetensors, config.json,
//! tokenizer.json, train.toml) the way `spar eval` does, and evaluates it on its held-out set;
//! checks that its Hugging Face files (config.json's token ids, generation_config.json,
//! tokenizer_config.json, special_tokens_map.json) are the ones `spar train` writes.
//!
//! ```text
//! cargo run --release --example check_download -- DIR
//! ```

use spar_model::{block_on, checkpoint, hf_config, CpuKernels};
use spar_train::native::load_model;
use spar_train::Trainer;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: check_download DIR")?;
    let dir = Path::new(&dir);
    let (cfg, vocab, params) = load_model(dir)?;
    let gcfg = hf_config::from_json(&std::fs::read(dir.join("config.json"))?)?;
    let again = checkpoint::from_bytes(&gcfg, &std::fs::read(dir.join("model.safetensors"))?)?;
    if again != params {
        return Err("checkpoint::from_bytes and load_model disagree".into());
    }
    let ids = vocab.token_ids();
    let hf_files = [
        ("config.json", hf_config::to_json_with_tokens(&gcfg, &ids)),
        (
            "generation_config.json",
            hf_config::generation_config_json(&gcfg, &ids),
        ),
        (
            "tokenizer_config.json",
            vocab.tokenizer_config_json(gcfg.n_positions),
        ),
        ("special_tokens_map.json", vocab.special_tokens_map_json()),
    ];
    for (file, want) in hf_files {
        if std::fs::read_to_string(dir.join(file))? != want {
            return Err(format!("{file} is not what spar train writes").into());
        }
    }
    let mut trainer = Trainer::new(cfg, Box::new(CpuKernels::new))?;
    if trainer.vocab().to_json() != vocab.to_json() {
        return Err("the tokenizer differs from the config's".into());
    }
    trainer.load_params(&params)?;
    let report = block_on(trainer.evaluate())?;
    println!(
        "loaded {} parameters; held-out accuracy {:.3} on {} problems",
        params.len(),
        report.accuracy,
        report.num_problems
    );
    Ok(())
}
