//! Training and sampling give the same bits for any kernel thread count: the test re-runs
//! itself in child processes with `SPAR_KERNEL_THREADS` = 1, 2 and 3 (the thread count is
//! read once per process) and compares what each child prints.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spar_model::{block_on, AdamWConfig, CpuKernels, Gpt, GptConfig, SampleConfig};

const CHILD: &str = "SPAR_THREADS_TEST_CHILD";

/// FNV-1a over the bits of the floats.
fn digest(xs: &[f32]) -> u64 {
    xs.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
        (h ^ x.to_bits() as u64).wrapping_mul(0x100_0000_01b3)
    })
}

#[test]
#[ignore = "run by train_and_sample_bits_do_not_depend_on_threads in a child process"]
fn child_prints_digests() {
    if std::env::var(CHILD).is_err() {
        return;
    }
    // Large enough that every split kernel splits: 512 rows, GELU over 262k elements, and
    // a 16-row decode product of 16 · 128 · 384 multiply-adds.
    let cfg = GptConfig {
        vocab_size: 96,
        n_positions: 32,
        n_embd: 128,
        n_layer: 2,
        n_head: 4,
        layer_norm_epsilon: 1e-5,
    };
    let (b, t) = (16, 32);
    let mut m = Gpt::new(CpuKernels::new(), cfg, b, t).unwrap();
    m.init_params(3);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let opt = AdamWConfig::default();
    let mut losses = Vec::new();
    for _ in 0..3 {
        let data: Vec<u32> = (0..b * (t + 1)).map(|_| rng.next_u32() % 96).collect();
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for row in data.chunks(t + 1) {
            x.extend_from_slice(&row[..t]);
            y.extend_from_slice(&row[1..]);
        }
        losses.push(block_on(m.train_step_sft(&x, &y, b, &opt, 1e-3)).unwrap());
    }
    let mut params = vec![0.0f32; m.layout().len()];
    block_on(m.read_params(&mut params)).unwrap();
    let prompts: Vec<Vec<u32>> = (0..16).map(|i| vec![i as u32 + 1, 7, 9]).collect();
    let refs: Vec<&[u32]> = prompts.iter().map(|p| p.as_slice()).collect();
    let sc = SampleConfig {
        max_new_tokens: 12,
        temperature: 1.0,
        ..SampleConfig::default()
    };
    let gens = block_on(m.generate(&refs, &sc, 11)).unwrap();
    let lp: Vec<f32> = gens.iter().flat_map(|g| g.logprobs.clone()).collect();
    let toks: Vec<f32> = gens
        .iter()
        .flat_map(|g| g.tokens.iter().map(|&t| t as f32))
        .collect();
    println!(
        "DIGEST losses {} params {:016x} tokens {:016x} logprobs {:016x}",
        digest(&losses),
        digest(&params),
        digest(&toks),
        digest(&lp)
    );
}

#[test]
fn train_and_sample_bits_do_not_depend_on_threads() {
    let exe = std::env::current_exe().unwrap();
    let mut seen = Vec::new();
    for threads in ["1", "2", "3"] {
        let out = std::process::Command::new(&exe)
            .args([
                "--exact",
                "child_prints_digests",
                "--include-ignored",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .env("SPAR_KERNEL_THREADS", threads)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "child with {threads} threads failed: {text}"
        );
        let line = text
            .lines()
            .find(|l| l.starts_with("DIGEST"))
            .unwrap_or_else(|| panic!("no digest from the child with {threads} threads: {text}"))
            .to_string();
        seen.push((threads, line));
    }
    for (threads, line) in &seen[1..] {
        assert_eq!(line, &seen[0].1, "{threads} threads against 1");
    }
}
