//! The headline kernels in one place, on the CPU: the matmul, one train step (forward to
//! log-probs, backward, AdamW), KV-cache sampling, the GRPO loss with its gradient, and BPE
//! encoding. Each crate's own benches go further (`crates/*/benches`); `gpt_bench.py`
//! beside this file times the same GPT in PyTorch for the ratios in BENCHMARKS.md.
//!
//! ```text
//! cargo bench --bench kernels                 # all five groups
//! cargo bench --bench kernels -- grpo_loss    # one group
//! ```

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spar::bpe::{Trainer, TrainerConfig};
use spar::losses::aggregation::LossType;
use spar::losses::ppo_clip::{policy_loss, Advantages, PolicyBatch, PolicyLossConfig};
use spar::model::cpu::matmul::matmul_forward;
use spar::model::kernels::MatmulShape;
use spar::model::{block_on, AdamWConfig, CpuKernels, Gpt, GptConfig, SampleConfig};
use std::hint::black_box;

fn random_ids(rng: &mut ChaCha8Rng, n: usize, v: usize) -> Vec<u32> {
    (0..n).map(|_| rng.next_u32() % v as u32).collect()
}

/// A uniform draw in [0, 1).
fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn matmul(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmul");
    let s = MatmulShape {
        rows: 2048,
        k: 256,
        n: 1024,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let x: Vec<f32> = (0..s.rows * s.k)
        .map(|_| uniform(&mut rng) as f32)
        .collect();
    let w: Vec<f32> = (0..s.k * s.n).map(|_| uniform(&mut rng) as f32).collect();
    let bias = vec![0.1; s.n];
    let mut out = vec![0.0; s.rows * s.n];
    g.throughput(Throughput::Elements((2 * s.rows * s.k * s.n) as u64));
    g.bench_function("forward 2048x256x1024", |b| {
        b.iter(|| matmul_forward(black_box(&mut out), &x, &w, Some(&bias), s))
    });
    g.finish();
}

fn train_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("train_step");
    g.sample_size(10);
    let p = GptConfig::preset("C1").expect("C1 is a preset");
    let (b, t) = (p.batch, p.config.n_positions);
    let mut model = Gpt::new(CpuKernels::new(), p.config, b, t).expect("valid shape");
    model.init_params(0);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let x = random_ids(&mut rng, b * t, p.config.vocab_size);
    let y = random_ids(&mut rng, b * t, p.config.vocab_size);
    let opt = AdamWConfig::default();
    g.throughput(Throughput::Elements((b * t) as u64));
    g.bench_function("C1 16x128", |bench| {
        bench.iter(|| block_on(model.train_step_sft(&x, &y, b, &opt, 1e-4)).expect("finite"))
    });
    g.finish();
}

fn sampling(c: &mut Criterion) {
    let mut g = c.benchmark_group("sampling");
    g.sample_size(10);
    let cfg = GptConfig::C1;
    let mut model = Gpt::new(CpuKernels::new(), cfg, 1, 1).expect("valid shape");
    model.init_params(0);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let prompts: Vec<Vec<u32>> = (0..16).map(|_| random_ids(&mut rng, 16, 256)).collect();
    let refs: Vec<&[u32]> = prompts.iter().map(|p| p.as_slice()).collect();
    let sc = SampleConfig {
        max_new_tokens: 64,
        ..SampleConfig::default()
    };
    g.throughput(Throughput::Elements(16 * 64));
    g.bench_function("C1 KV cache 16x64", |bench| {
        bench.iter(|| block_on(model.generate(&refs, &sc, 0)).expect("valid prompts"))
    });
    g.finish();
}

fn grpo_loss(c: &mut Criterion) {
    let mut g = c.benchmark_group("grpo_loss");
    // 64 prompts x 8 completions x 512 tokens, off-policy ratios, k3 KL, `dapo` aggregation.
    let (groups, gen, t) = (64, 8, 512);
    let n = groups * gen;
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let logprobs: Vec<f64> = (0..n * t).map(|_| -3.0 * uniform(&mut rng)).collect();
    let old: Vec<f64> = logprobs
        .iter()
        .map(|&x| x + 0.1 * (uniform(&mut rng) - 0.5))
        .collect();
    let reference: Vec<f64> = logprobs
        .iter()
        .map(|&x| x + 0.2 * (uniform(&mut rng) - 0.5))
        .collect();
    let lens: Vec<usize> = (0..n).map(|_| 1 + (rng.next_u32() as usize) % t).collect();
    let mask: Vec<bool> = (0..n * t).map(|k| k % t < lens[k / t]).collect();
    let advantages: Vec<f64> = (0..n).map(|_| uniform(&mut rng) - 0.5).collect();
    let config = PolicyLossConfig {
        beta: 0.04,
        loss_type: LossType::Dapo,
        max_completion_length: t,
        ..PolicyLossConfig::default()
    };
    let batch = PolicyBatch {
        num_sequences: n,
        max_len: t,
        num_generations: gen,
        logprobs: &logprobs,
        old_logprobs: Some(&old),
        ref_logprobs: Some(&reference),
        mask: &mask,
        advantages: Advantages::PerSequence(&advantages),
    };
    let mut grad = vec![0.0; n * t];
    g.throughput(Throughput::Elements((n * t) as u64));
    g.bench_function("64x8x512 with gradient", |b| {
        b.iter(|| policy_loss(&config, &batch, black_box(&mut grad)).expect("valid batch"))
    });
    g.finish();
}

fn bpe_encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("bpe_encode");
    g.sample_size(10);
    // The bundled text (the Rust and Cargo books): train on a slice, encode a larger one.
    let corpus = spar::bpe::corpus::RUST_DOCS;
    let cut = |len: usize| {
        let mut end = len.min(corpus.len());
        while !corpus.is_char_boundary(end) {
            end -= 1;
        }
        &corpus[..end]
    };
    let mut trainer = Trainer::new(TrainerConfig {
        vocab_size: 2048,
        ..Default::default()
    })
    .expect("valid config");
    trainer.feed(cut(300_000));
    let tok = trainer.finish().expect("training succeeds");
    let text = cut(1_000_000);
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("1 MB, vocab 2048", |b| {
        b.iter(|| tok.encode(black_box(text)).len())
    });
    g.finish();
}

criterion_group!(benches, matmul, train_step, sampling, grpo_loss, bpe_encode);
criterion_main!(benches);
