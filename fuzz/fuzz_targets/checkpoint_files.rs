//! The small files of a checkpoint directory as `--resume` reads them: `state.json` (the
//! trainer's and a loop's), `manifest.json` and `tokenizer.json` (a character vocabulary,
//! spar's or Hugging Face's WordLevel): every reader returns a value or an error, never
//! panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spar_train::checkpoint_dir::Manifest;
use spar_train::native::LoopStateFile;
use spar_train::trainer::TrainState;
use spar_train::CharVocab;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<TrainState>(data);
    let _ = serde_json::from_slice::<Manifest>(data);
    let _ = serde_json::from_slice::<LoopStateFile<serde_json::Value>>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = CharVocab::from_json(text);
        let eos = data.first().map(|&b| u32::from(b));
        let _ = CharVocab::from_json_with_eos(text, eos);
    }
});
