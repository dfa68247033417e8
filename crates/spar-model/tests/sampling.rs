//! Sampling: the KV-cache decoder against full recomputation, top-k/top-p definitions, the
//! counter-based stream.

use proptest::prelude::*;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spar_model::kernels::SampleArgs;
use spar_model::sampling::{hash, sample_row, uniform};
use spar_model::{block_on, CpuKernels, Gpt, GptConfig, ModelError, SampleConfig};

const CFG: GptConfig = GptConfig::new(23, 24, 16, 2, 2);

fn model() -> Gpt<CpuKernels> {
    let mut m = Gpt::new(CpuKernels::new(), CFG, 4, 24).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut p = vec![0.0f32; m.layout().len()];
    for t in m.layout().tensors() {
        let ln = t.name.contains("ln_") && t.name.ends_with(".weight");
        for x in &mut p[t.range()] {
            let u = (rng.next_u32() >> 8) as f32 / 16777216.0 - 0.5;
            *x = if ln { 1.0 } else { 0.8 * u };
        }
    }
    m.write_params(&p).unwrap();
    m
}

#[test]
fn kv_cache_greedy_equals_full_recomputation() {
    let mut m = model();
    let prompts: Vec<Vec<u32>> = vec![vec![1, 2, 3], vec![7], vec![4, 4, 4, 4, 4, 9], vec![22, 0]];
    let refs: Vec<&[u32]> = prompts.iter().map(|p| p.as_slice()).collect();
    let cfg = SampleConfig {
        max_new_tokens: 12,
        temperature: 0.0,
        ..Default::default()
    };
    let gens = block_on(m.generate(&refs, &cfg, 0)).unwrap();
    for (p, g) in prompts.iter().zip(&gens) {
        assert_eq!(g.tokens.len(), 12);
        let mut seq = p.clone();
        let mut logits = vec![0.0; CFG.vocab_size];
        for (j, &tok) in g.tokens.iter().enumerate() {
            block_on(m.next_token_logits(&seq, 1, &mut logits)).unwrap();
            let mut best = 0;
            for (i, &z) in logits.iter().enumerate() {
                if z > logits[best] {
                    best = i;
                }
            }
            assert_eq!(tok, best as u32, "prompt {p:?}, new token {j}");
            let mx = logits[best];
            let lse = mx + logits.iter().map(|z| (z - mx).exp()).sum::<f32>().ln();
            assert!((g.logprobs[j] - (logits[best] - lse)).abs() < 1e-4);
            seq.push(tok);
        }
    }
}

#[test]
fn sampled_logprobs_match_the_training_forward_and_seeds_reproduce() {
    let mut m = model();
    let prompts: [&[u32]; 3] = [&[5, 6], &[1, 1, 1], &[9]];
    let cfg = SampleConfig {
        max_new_tokens: 10,
        temperature: 1.0,
        seed: 7,
        ..Default::default()
    };
    let a = block_on(m.generate(&prompts, &cfg, 3)).unwrap();
    let b = block_on(m.generate(&prompts, &cfg, 3)).unwrap();
    assert_eq!(a, b);
    let c = block_on(m.generate(
        &prompts,
        &SampleConfig {
            seed: 8,
            ..cfg.clone()
        },
        3,
    ))
    .unwrap();
    assert_ne!(a, c);
    // The returned log-probs are the ones the training forward computes (old-policy logps).
    for (p, g) in prompts.iter().zip(&a) {
        let full: Vec<u32> = p.iter().chain(&g.tokens).copied().collect();
        let (inp, tgt) = (&full[..full.len() - 1], &full[1..]);
        let mut lp = vec![0.0; inp.len()];
        block_on(m.logprobs(inp, tgt, None, 1, &mut lp, None)).unwrap();
        for (j, &l) in g.logprobs.iter().enumerate() {
            assert!((lp[p.len() - 1 + j] - l).abs() < 1e-4);
        }
    }
}

#[test]
fn stop_tokens_and_context_end_generation() {
    let mut m = model();
    let greedy = SampleConfig {
        max_new_tokens: 30,
        temperature: 0.0,
        ..Default::default()
    };
    let free = block_on(m.generate(&[&[3, 4]], &greedy, 0)).unwrap();
    // The context (24) bounds the completion: 22 new tokens.
    assert_eq!(free[0].tokens.len(), 22);
    assert!(!free[0].stopped);
    let stop = free[0].tokens[4];
    let first = free[0].tokens.iter().position(|&t| t == stop).unwrap();
    let cfg = SampleConfig {
        stop_tokens: vec![stop],
        ..greedy
    };
    let g = block_on(m.generate(&[&[3, 4]], &cfg, 0)).unwrap();
    assert!(g[0].stopped);
    assert_eq!(g[0].tokens, free[0].tokens[..=first].to_vec());
}

#[test]
fn generate_rejects_bad_input() {
    let mut m = model();
    let cfg = SampleConfig::default();
    let r = block_on(m.generate(&[&[1, 23]], &cfg, 0));
    assert_eq!(
        r,
        Err(ModelError::TokenOutOfRange {
            token: 23,
            vocab_size: 23
        })
    );
    let long = vec![0u32; 25];
    assert!(matches!(
        block_on(m.generate(&[&long], &cfg, 0)),
        Err(ModelError::SequenceTooLong { len: 25, max: 24 })
    ));
    assert!(block_on(m.generate(&[&[]], &cfg, 0)).is_err());
    assert!(block_on(m.generate(&[], &cfg, 0)).is_err());
    let bad = SampleConfig {
        top_p: 0.0,
        ..SampleConfig::default()
    };
    assert!(block_on(m.generate(&[&[1]], &bad, 0)).is_err());
    let bad = SampleConfig {
        temperature: -1.0,
        ..SampleConfig::default()
    };
    assert!(block_on(m.generate(&[&[1]], &bad, 0)).is_err());
}

#[test]
fn the_stream_is_pinned_and_uniform() {
    // Pinned values, computed by an independent Python transcription of the documented
    // function: a WGSL twin must reproduce these bits.
    assert_eq!(hash(0, 0, 0, 0), 0x7c11_1966);
    assert_eq!(hash(0x1234_5678_9abc_def0, 7, 3, 100), 0xf939_b2b8);
    let n = 20000;
    let mut bins = [0u32; 10];
    for i in 0..n {
        let u = uniform(42, 1, i % 16, i / 16);
        assert!((0.0..1.0).contains(&u));
        bins[(u * 10.0) as usize] += 1;
    }
    // χ² with 9 degrees of freedom: 27.9 is the 0.999 quantile.
    let chi2: f64 = bins
        .iter()
        .map(|&b| (b as f64 - 2000.0).powi(2) / 2000.0)
        .sum();
    assert!(chi2 < 27.9, "chi2 {chi2}");
}

fn args(v: usize, temperature: f32, top_k: usize, top_p: f32) -> SampleArgs {
    SampleArgs {
        b: 1,
        v,
        pos: 0,
        t_cap: 1,
        seed: 0,
        step: 0,
        temperature,
        top_k,
        top_p,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn top_k_and_top_p_respect_their_definitions(
        z in prop::collection::vec(-4.0f32..4.0, 2..30),
        u in 0.0f32..1.0,
        k in 0usize..12,
        top_p in 0.05f32..1.0,
        temperature in 0.3f32..2.0,
    ) {
        let v = z.len();
        let mut order = vec![0u32; v];
        let (tok, lp) = sample_row(&z, u, &args(v, temperature, k, top_p), &mut order);
        let t = tok as usize;
        // top-k: fewer than k tokens rank strictly above the draw (ties by lower index).
        let above: Vec<usize> = (0..v).filter(|&j| z[j] > z[t] || (z[j] == z[t] && j < t)).collect();
        if k > 0 {
            prop_assert!(above.len() < k);
        }
        // top-p: the tokens ranked above the draw hold less than top_p of the (top-k) mass.
        let kk = if k == 0 { v } else { k.min(v) };
        let p = |j: usize| ((z[j] - z.iter().cloned().fold(f32::MIN, f32::max)) / temperature).exp();
        let mut ranked: Vec<usize> = (0..v).collect();
        ranked.sort_by(|&a, &b| z[b].total_cmp(&z[a]).then(a.cmp(&b)));
        let mass: f32 = ranked[..kk].iter().map(|&j| p(j)).sum();
        let before: f32 = above.iter().map(|&j| p(j)).sum();
        prop_assert!(before < top_p * mass * (1.0 + 1e-5));
        // The log-prob is the unfiltered model log-prob.
        let mx = z.iter().cloned().fold(f32::MIN, f32::max);
        let lse = mx + z.iter().map(|x| (x - mx).exp()).sum::<f32>().ln();
        prop_assert!((lp - (z[t] - lse)).abs() < 1e-5);
    }

    #[test]
    fn top_k_one_and_zero_temperature_are_greedy(
        z in prop::collection::vec(-4.0f32..4.0, 2..30),
        u in 0.0f32..1.0,
    ) {
        let v = z.len();
        let mut order = vec![0u32; v];
        let best = (0..v).fold(0, |b, j| if z[j] > z[b] { j } else { b }) as u32;
        prop_assert_eq!(sample_row(&z, u, &args(v, 1.0, 1, 1.0), &mut order).0, best);
        prop_assert_eq!(sample_row(&z, u, &args(v, 0.0, 0, 1.0), &mut order).0, best);
    }
}
