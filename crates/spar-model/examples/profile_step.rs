//! Runs a fixed amount of one workload, for profilers and instruction counters
//! (`perf stat -e instructions,cycles`, `perf record`), without the timing harness:
//!
//! ```text
//! cargo run --release -p spar-model --example profile_step -- train C1 10
//! cargo run --release -p spar-model --example profile_step -- sample C1 5
//! ```
//! `train`: that many SFT steps on random tokens at the preset's bench batch; `sample`: that
//! many generations of 16 prompts × 64 new tokens (temperature 1). Threads: as for
//! `bench_table`, `SPAR_KERNEL_THREADS` or `MATMUL_NUM_THREADS` (default: all cores).

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spar_model::{block_on, AdamWConfig, CpuKernels, Gpt, GptConfig, SampleConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map_or("train", |s| s.as_str());
    let p = GptConfig::preset(args.get(1).map_or("C1", |s| s.as_str())).expect("preset");
    let reps: usize = args.get(2).map_or(5, |s| s.parse().expect("count"));
    let cfg = p.config;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut ids = |n: usize| -> Vec<u32> {
        (0..n)
            .map(|_| rng.next_u32() % cfg.vocab_size as u32)
            .collect()
    };
    if mode == "train" {
        let (b, t) = (p.batch, cfg.n_positions);
        let mut m = Gpt::new(CpuKernels::new(), cfg, b, t).unwrap();
        m.init_params(0);
        let (x, y) = (ids(b * t), ids(b * t));
        let mut loss = 0.0;
        for _ in 0..reps {
            loss = block_on(m.train_step_sft(&x, &y, b, &AdamWConfig::default(), 3e-4)).unwrap();
        }
        println!("loss {loss}");
    } else {
        let mut m = Gpt::new(CpuKernels::new(), cfg, 1, 1).unwrap();
        m.init_params(0);
        let prompts: Vec<Vec<u32>> = (0..16).map(|_| ids(16)).collect();
        let refs: Vec<&[u32]> = prompts.iter().map(|p| p.as_slice()).collect();
        let sc = SampleConfig {
            max_new_tokens: 64,
            ..SampleConfig::default()
        };
        let mut n = 0;
        for i in 0..reps {
            n += block_on(m.generate(&refs, &sc, i as u32)).unwrap()[0]
                .tokens
                .len();
        }
        println!("tokens {n}");
    }
}
