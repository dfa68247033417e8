//! Addition traces: the parser never panics; what it accepts prints and re-parses to the
//! same trace; the checker finds no error exactly in the correct trace; a step planted in a
//! correct trace is the one the checker reports.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rand_core::RngCore;
use spar_tasks::*;

/// SplitMix64: a tiny seeded generator for the corruptor.
struct SplitMix(u64);

impl RngCore for SplitMix {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // First 8 bytes: the corruptor's seed; the rest is the text.
    let Some((head, rest)) = data.split_first_chunk::<8>() else {
        return;
    };
    let mut rng = SplitMix(u64::from_le_bytes(*head));
    let text = String::from_utf8_lossy(rest);
    let _ = (
        extract_trace(&text, 12, 39),
        AddTrace::parse_body(12, 39, &text),
    );
    let task = AdditionTrace::default();
    let p = task.problem(12, 39, 2).expect("valid operands");
    let score = task.verify(&p, &text);
    assert!(score == 0.0 || score == 1.0);
    let Ok(t) = AddTrace::parse(&text) else {
        return;
    };
    assert_eq!(AddTrace::parse(&t.to_string()).as_ref(), Ok(&t), "{t}");
    assert_eq!(AddTrace::parse_body(t.a, t.b, &t.body()).as_ref(), Ok(&t));
    let correct = AddTrace::new(t.a, t.b).expect("parsed operands are in range");
    match check_trace(&t) {
        None => assert_eq!(t, correct),
        Some(step) => {
            assert!(step < t.num_steps());
            assert_ne!(t, correct);
        }
    }
    let (bad, step) = corrupt_trace(&correct, &mut rng);
    assert_eq!(check_trace(&bad), Some(step), "{correct} -> {bad}");
    assert_eq!(AddTrace::parse(&bad.to_string()).as_ref(), Ok(&bad));
    // Planted into a trace that may already be wrong: the first error is no later.
    let planted = corrupt_step(&t, step, &mut rng).expect("step < num_steps");
    assert!(check_trace(&planted).is_some_and(|e| e <= step));
});
