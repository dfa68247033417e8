//! The reverse direction of the HF parity check, run by hand (CI has no Python):
//!
//! ```text
//! SPAR_EXPORT_DIR=/tmp/spar-export cargo test -p spar-model --release --test checkpoint_export -- --ignored
//! python3 scripts/model_fixture.py check /tmp/spar-export
//! ```
//!
//! The test writes the HF fixture's parameters back out with spar's own writer
//! (`model.safetensors` + `config.json`) and the fixture's logits as `spar_logits.json`; the
//! script loads the directory with `GPT2LMHeadModel.from_pretrained` and compares.

use spar_model::checkpoint;

#[test]
#[ignore = "writes files for scripts/model_fixture.py check; set SPAR_EXPORT_DIR"]
fn export_for_transformers() {
    let Ok(out) = std::env::var("SPAR_EXPORT_DIR") else {
        panic!("set SPAR_EXPORT_DIR to the directory to write");
    };
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hf_tiny");
    let (cfg, params) = checkpoint::load(fixture).unwrap();
    checkpoint::save(&out, &cfg, &params).unwrap();
    let parity: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{fixture}/parity.json")).unwrap()).unwrap();
    let logits = serde_json::json!({ "inputs": parity["inputs"], "logits": parity["logits"] });
    std::fs::write(format!("{out}/spar_logits.json"), logits.to_string()).unwrap();
}
