//! The reverse direction of the HF parity check, run by hand (CI has no Python):
//!
//! ```text
//! SPAR_EXPORT_DIR=/tmp/spar-export cargo test -p spar-model --release --test checkpoint_export -- --ignored
//! python3 scripts/model_fixture.py check /tmp/spar-export
//! ```
//!
//! The test takes the HF fixture's parameters, moves every one of them (so the file
//! holds numbers `transformers` never wrote), saves them with spar's writer
//! (`model.safetensors` + `config.json`), and writes the logits spar's forward computes for
//! the fixture's tokens as `spar_logits.json`. The script loads the directory with
//! `GPT2LMHeadModel.from_pretrained` and compares its logits with spar's.
#![cfg(feature = "std")]

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spar_model::checkpoint;
use spar_model::cpu::CpuKernels;
use spar_model::gpt::Gpt;
use spar_model::kernels::block_on;

#[test]
#[ignore = "writes files for scripts/model_fixture.py check; set SPAR_EXPORT_DIR"]
fn export_for_transformers() {
    let Ok(out) = std::env::var("SPAR_EXPORT_DIR") else {
        panic!("set SPAR_EXPORT_DIR to the directory to write");
    };
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hf_tiny");
    let (cfg, mut params) = checkpoint::load(fixture).unwrap();
    let layout = spar_model::ParamLayout::new(&cfg).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for t in layout.tensors() {
        for x in &mut params[t.range()] {
            *x += (rng.next_u32() as f32 / u32::MAX as f32 - 0.5) * 0.2;
        }
    }
    checkpoint::save(&out, &cfg, &params).unwrap();

    let parity: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{fixture}/parity.json")).unwrap()).unwrap();
    let inputs: Vec<Vec<u32>> = serde_json::from_value(parity["inputs"].clone()).unwrap();
    let (b, t, v) = (inputs.len(), inputs[0].len(), cfg.vocab_size);
    let mut gpt = Gpt::new(CpuKernels::new(), cfg, b, t).unwrap();
    gpt.write_params(&params).unwrap();
    // logits (B, T, V): position j's logits are the next-token logits of the prefix ..=j.
    let mut logits = vec![0.0f32; b * t * v];
    for j in 0..t {
        let prefixes: Vec<u32> = inputs.iter().flat_map(|row| row[..=j].to_vec()).collect();
        let mut last = vec![0.0f32; b * v];
        block_on(gpt.next_token_logits(&prefixes, b, &mut last)).unwrap();
        for i in 0..b {
            logits[(i * t + j) * v..][..v].copy_from_slice(&last[i * v..][..v]);
        }
    }
    let json = serde_json::json!({ "inputs": inputs, "logits": logits });
    std::fs::write(format!("{out}/spar_logits.json"), json.to_string()).unwrap();
}
