//! Parity with Hugging Face `transformers`: spar loads the `GPT2LMHeadModel` checkpoint in
//! `tests/fixtures/hf_tiny` (written by `scripts/model_fixture.py`, which also dumped the
//! reference numbers, computed in float64 from the same f32 parameters) and must reproduce
//! its logits, per-token log-probabilities and the gradient of `J = Σ w_t·logp_t` with
//! respect to every parameter.
//!
//! Tolerance: 1e-4 absolute on logits and log-probs (they are O(1)-O(10); spar computes in
//! f32, so the expected error is a few f32 ulps of the largest intermediate), and 1e-4
//! absolute plus 1e-4 relative on each gradient element. Measured on the CPU backend: at
//! most 1.2e-6 on logits and log-probs and 2.7e-6 on gradients (`--nocapture` prints it).
#![cfg(feature = "std")]

use serde::Deserialize;
use spar_model::cpu::CpuKernels;
use spar_model::gpt::Gpt;
use spar_model::kernels::block_on;
use spar_model::{checkpoint, ParamLayout};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hf_tiny");
const TOL: f32 = 1e-4;

/// `parity.json` as the script writes it (arrays flattened row-major).
#[derive(Deserialize)]
struct Parity {
    batch: usize,
    seq_len: usize,
    vocab_size: usize,
    inputs: Vec<Vec<u32>>,  // (B, T)
    targets: Vec<Vec<u32>>, // (B, T): the next token of each position
    weights: Vec<f32>,      // (B, T)
    logits: Vec<f32>,       // (B, T, V)
    logprobs: Vec<f32>,     // (B, T)
    objective: f64,         // Σ weights·logprobs
}

fn fixture() -> (Parity, Gpt<CpuKernels>) {
    let parity: Parity =
        serde_json::from_slice(&std::fs::read(format!("{FIXTURE}/parity.json")).unwrap()).unwrap();
    let (cfg, params) = checkpoint::load(FIXTURE).unwrap();
    assert_eq!(cfg.vocab_size, parity.vocab_size);
    let mut gpt = Gpt::new(CpuKernels::new(), cfg, parity.batch, parity.seq_len).unwrap();
    gpt.write_params(&params).unwrap();
    (parity, gpt)
}

fn flat(rows: &[Vec<u32>]) -> Vec<u32> {
    rows.concat()
}

fn assert_close(what: &str, got: &[f32], want: &[f32], abs: f32, rel: f32) -> f32 {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let mut worst = 0.0f32;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs();
        assert!(
            err <= abs + rel * w.abs(),
            "{what}[{i}]: spar {g}, transformers {w} (|diff| {err})"
        );
        worst = worst.max(err);
    }
    eprintln!("{what}: max |spar - transformers| = {worst:.2e}");
    worst
}

#[test]
fn logprobs_match_transformers() {
    let (p, mut gpt) = fixture();
    let mut logprobs = vec![0.0; p.batch * p.seq_len];
    block_on(gpt.logprobs(
        &flat(&p.inputs),
        &flat(&p.targets),
        None,
        p.batch,
        &mut logprobs,
        None,
    ))
    .unwrap();
    assert_close("logprobs", &logprobs, &p.logprobs, TOL, 0.0);
    let j: f64 = logprobs
        .iter()
        .zip(&p.weights)
        .map(|(&l, &w)| f64::from(l) * f64::from(w))
        .sum();
    assert!(
        (j - p.objective).abs() < 1e-3,
        "J: spar {j}, transformers {}",
        p.objective
    );
}

#[test]
fn logits_match_transformers_at_every_position() {
    let (p, mut gpt) = fixture();
    let v = p.vocab_size;
    // The logits at position t are the next-token logits of the prefix of length t + 1.
    for t in 0..p.seq_len {
        let prefixes: Vec<u32> = p.inputs.iter().flat_map(|row| row[..=t].to_vec()).collect();
        let mut logits = vec![0.0; p.batch * v];
        block_on(gpt.next_token_logits(&prefixes, p.batch, &mut logits)).unwrap();
        for b in 0..p.batch {
            let want = &p.logits[(b * p.seq_len + t) * v..][..v];
            assert_close(
                &format!("logits[{b}, {t}]"),
                &logits[b * v..][..v],
                want,
                TOL,
                0.0,
            );
        }
    }
}

#[test]
fn gradients_match_transformers_for_every_parameter() {
    let (p, mut gpt) = fixture();
    let n = p.batch * p.seq_len;
    let mut logprobs = vec![0.0; n];
    block_on(gpt.logprobs(
        &flat(&p.inputs),
        &flat(&p.targets),
        None,
        p.batch,
        &mut logprobs,
        None,
    ))
    .unwrap();
    // The chain rule starts here: dJ/dlogp_t = w_t.
    gpt.backward(&p.weights, None).unwrap();
    let layout: ParamLayout = gpt.layout().clone();
    let mut grads = vec![0.0; layout.len()];
    block_on(gpt.read_grads(&mut grads)).unwrap();

    // grads.safetensors names tensors as spar's layout does; it loads like a checkpoint.
    let want = checkpoint::from_bytes(
        gpt.config(),
        &std::fs::read(format!("{FIXTURE}/grads.safetensors")).unwrap(),
    )
    .unwrap();
    for t in layout.tensors() {
        let reference = &want[t.range()];
        assert!(
            reference.iter().any(|&g| g != 0.0),
            "{}: reference gradient is all zero",
            t.name
        );
        assert_close(&t.name, &grads[t.range()], reference, TOL, TOL);
    }
}
