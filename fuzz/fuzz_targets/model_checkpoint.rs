//! Feeds arbitrary bytes to spar-model's checkpoint readers: the safetensors parser, the
//! GPT-2 checkpoint loader and the `config.json` reader. None may panic; whatever the
//! loader accepts must save and load back to the same bits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spar_model::safetensors::SafeTensors;
use spar_model::{checkpoint, hf_config, GptConfig};

/// The smallest GPT: V 3, T 2, C 2, one layer, one head (a valid file is about 1.5 kB).
const CFG: GptConfig = GptConfig::new(3, 2, 2, 1, 1);

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = SafeTensors::parse(data) {
        for t in file.tensors() {
            let _ = t.to_f32();
        }
    }
    if let Ok(params) = checkpoint::from_bytes(&CFG, data) {
        let bytes = checkpoint::to_bytes(&CFG, &params).expect("loaded parameters save");
        let again = checkpoint::from_bytes(&CFG, &bytes).expect("saved parameters load");
        assert!(params
            .iter()
            .zip(&again)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }
    let _ = hf_config::from_json(data);
});
