//! The program parser: never panics, and whatever parses prints to canonical text that
//! parses back to the same tree (when within the source length limit).
#![no_main]

use libfuzzer_sys::fuzz_target;
use spar_tasks::{Program, Value, MAX_SOURCE_LEN};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = Program::parse(&text) {
        let canonical = p.to_string();
        // Spaces around keywords may lengthen a source that omitted them past the limit.
        if canonical.len() <= MAX_SOURCE_LEN {
            assert_eq!(Program::parse(&canonical).as_ref(), Ok(&p), "{canonical}");
        }
    }
    if let Some(v) = Value::parse(&text) {
        assert_eq!(Value::parse(&v.to_string()), Some(v));
    }
});
