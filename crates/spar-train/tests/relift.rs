//! ReLIFT (`grpo.relift`): only problems whose groups all fail enter the buffer, the SFT step
//! comes exactly when the buffer holds a batch and clears it, with ReLIFT off the loop is bit
//! for bit the loop without the keys, a run resumes bit for bit with a non-empty buffer, bad
//! keys are errors naming them, and (ignored, run by hand) the experiment of EXPERIMENTS.md.
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

mod common;

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use spar_model::{block_on, CpuKernels};
use spar_train::config::{HintName, RewardSource};
use spar_train::eval::evaluate;
use spar_train::rollout::Batch;
use spar_train::{EvalOptions, StepMetrics, TrainConfig, Trainer};

/// 2-digit addition from an untrained 1 × 16 GPT (every group fails), 4 prompts × 4
/// completions per RL step, an SFT step whenever 3 demonstrations are buffered.
fn tiny() -> TrainConfig {
    let mut c = common::tiny_addition(1, 5);
    c.task.num_eval_problems = 10;
    c.sft.max_steps = 2;
    c.grpo.max_steps = 8;
    c.grpo.relift = true;
    c.grpo.relift_batch_size = 6;
    c.grpo.relift_buffer_size = 8;
    c
}

fn trainer(c: TrainConfig) -> Trainer<CpuKernels> {
    Trainer::new(c, Box::new(CpuKernels::new)).unwrap()
}

/// Every step's metrics of a run of `c`, and its final snapshot.
fn run(c: &TrainConfig) -> (Vec<StepMetrics>, spar_train::Snapshot) {
    let mut t = trainer(c.clone());
    let mut out = Vec::new();
    while t.step() < t.total_steps() {
        out.push(block_on(t.train_step()).unwrap());
    }
    let snap = block_on(t.snapshot()).unwrap();
    (out, snap)
}

#[test]
fn a_group_enters_the_buffer_only_when_all_its_completions_fail() {
    // One RL problem, so every group is of that problem: the untrained model fails it, and it
    // enters once (a problem in the buffer is not added again).
    let mut c = tiny();
    c.sft.max_steps = 0;
    c.grpo.max_steps = 2;
    c.grpo.rl_pool_size = 1;
    let mut t = trainer(c);
    let only = t.rl_pool()[0][0] as u32;
    let m = block_on(t.train_step()).unwrap();
    assert_eq!(m.accuracy, 0.0, "an untrained model fails");
    assert_eq!((m.relift_added, m.relift_buffered), (Some(1), Some(1)));
    assert_eq!(t.relift_buffer(), &[only]);
    let m = block_on(t.train_step()).unwrap();
    assert_eq!(m.relift_added, Some(0), "already buffered");
    // A group with a right completion never enters: make the one problem's groups solvable
    // by training on its reference until greedy and sampled completions are right.
    let mut c = tiny();
    c.sft.max_steps = 0;
    c.grpo.max_steps = 1;
    c.grpo.rl_pool_size = 1;
    c.grpo.temperature = 0.05;
    let mut t = trainer(c.clone());
    let p = t.data().pool[t.rl_pool()[0][0]].clone();
    let mut seq = t.vocab().encode(&p.prompt);
    let prompt_len = seq.len();
    seq.extend(t.vocab().encode(&p.completion));
    seq.push(t.vocab().eos());
    let batch = Batch::from_pairs(&[(seq, prompt_len)], c.model.n_positions);
    for s in 0..300 {
        block_on(t.policy().nll_backward(&batch, 1.0, s)).unwrap();
        block_on(t.policy().step(s)).unwrap();
    }
    let m = block_on(t.train_step()).unwrap();
    assert!(m.accuracy > 0.0, "the memorised problem is solved: {m:?}");
    assert_eq!(m.relift_added, Some(0));
    assert!(t.relift_buffer().is_empty());
}

#[test]
fn the_sft_step_comes_exactly_when_the_buffer_holds_a_batch_and_clears_it() {
    let (metrics, _) = run(&tiny());
    let rl: Vec<&StepMetrics> = metrics.iter().filter(|m| m.phase == "rl").collect();
    let mut buffered = 0;
    let mut sft_steps = 0;
    for m in &rl {
        if buffered >= 6 {
            assert_eq!(m.relift_trained, Some(buffered), "{m:?}");
            assert_eq!(m.num_groups, 0, "an SFT step samples nothing");
            assert_eq!(m.relift_buffered, Some(0), "cleared");
            assert!(m.loss > 0.0 && m.loss.is_finite());
            sft_steps += 1;
        } else {
            assert_eq!(m.relift_trained, None, "{m:?}");
            assert_eq!(m.num_groups, 4);
            let added = m.relift_added.unwrap();
            assert!(added <= 4, "at most one per group");
            assert_eq!(m.relift_buffered, Some((buffered + added).min(8)));
        }
        buffered = m.relift_buffered.unwrap();
    }
    assert!(sft_steps >= 2, "the run takes SFT steps: {sft_steps}");
    assert!(rl.iter().any(|m| m.relift_trained.is_none()));
}

#[test]
fn with_relift_off_the_loop_is_the_loop_without_the_keys() {
    let mut base = tiny();
    base.grpo.relift = false;
    base.grpo.relift_batch_size = 16;
    base.grpo.relift_buffer_size = 64;
    let without = TrainConfig::from_toml(
        &base
            .to_toml()
            .lines()
            .filter(|l| !l.starts_with("relift"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    assert!(!without.to_toml().contains("relift = true"));
    let mut off = without.clone();
    off.grpo.relift_batch_size = 2;
    off.grpo.relift_buffer_size = 3;
    off.grpo.relift_sft_coef = 7.0;
    let (a, sa) = run(&without);
    let (b, sb) = run(&off);
    assert_eq!(a, b);
    assert_eq!(sa, sb, "the same parameters, moments and state");
    assert!(a.iter().all(|m| m.relift_added.is_none()
        && m.relift_trained.is_none()
        && m.relift_buffered.is_none()));
    assert!(!serde_json::to_string(&a[3]).unwrap().contains("relift"));
    // On, the first RL step samples what the run without it samples (then they part).
    let (on, _) = run(&tiny());
    let first = base.sft.max_steps as usize;
    assert_eq!(on[first].accuracy, a[first].accuracy);
    assert_eq!(on[first].loss, a[first].loss);
    assert_ne!(on, a);
}

#[test]
fn a_relift_run_resumes_bit_for_bit_with_a_buffer_in_the_checkpoint() {
    let cfg = tiny();
    let total = cfg.sft.max_steps + cfg.grpo.max_steps;
    let (expected, end) = run(&cfg);
    let half = cfg.sft.max_steps + cfg.grpo.max_steps / 2;
    let mut first = trainer(cfg.clone());
    let mut got = Vec::new();
    while first.step() < half {
        got.push(block_on(first.train_step()).unwrap());
    }
    let snap = block_on(first.snapshot()).unwrap();
    assert!(!snap.state.relift.is_empty(), "a buffer to carry over");
    // Through the checkpoint's text form too.
    let json = serde_json::to_string(&snap.state).unwrap();
    let state: spar_train::TrainState = serde_json::from_str(&json).unwrap();
    assert_eq!(state, snap.state);
    let snap = spar_train::Snapshot { state, ..snap };
    drop(first);
    let mut second = trainer(cfg);
    second.restore(&snap).unwrap();
    while second.step() < total {
        got.push(block_on(second.train_step()).unwrap());
    }
    assert!(expected.iter().any(|m| m.relift_trained.is_some()));
    assert!(got[half as usize..]
        .iter()
        .any(|m| m.relift_trained.is_some()));
    assert_eq!(got, expected);
    assert_eq!(block_on(second.snapshot()).unwrap(), end);
    // A checkpoint naming a problem outside the pool is refused.
    let mut bad = snap.clone();
    bad.state.relift.buffer.push(1_000_000);
    let mut t = trainer(tiny());
    let e = t.restore(&bad).unwrap_err().to_string();
    assert!(e.contains("relift"), "{e}");
}

#[test]
fn bad_relift_keys_are_errors_naming_them() {
    let err = |c: TrainConfig| match Trainer::new(c, Box::new(CpuKernels::new)) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    };
    let mut c = tiny();
    c.grpo.relift_batch_size = 0;
    assert!(err(c).contains("grpo.relift_batch_size"));
    let mut c = tiny();
    c.grpo.relift_buffer_size = 5;
    let e = err(c);
    assert!(
        e.contains("grpo.relift_buffer_size") && e.contains("relift_batch_size"),
        "{e}"
    );
    let mut c = tiny();
    c.grpo.relift_buffer_size = 17;
    let e = err(c);
    assert!(
        e.contains("grpo.relift_buffer_size") && e.contains("allocated"),
        "{e}"
    );
    for x in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let mut c = tiny();
        c.grpo.relift_sft_coef = x;
        assert!(err(c).contains("grpo.relift_sft_coef"));
    }
    let mut c = tiny();
    c.grpo.reward = RewardSource::MajorityVote;
    let e = err(c);
    assert!(e.contains("grpo.relift") && e.contains("verifier"), "{e}");
    let mut c = tiny();
    c.grpo.hint = HintName::Fixed;
    let e = err(c);
    assert!(e.contains("grpo.relift") && e.contains("grpo.hint"), "{e}");
    // Off, only the sizes and the coefficient are read.
    let mut c = tiny();
    c.grpo.relift = false;
    c.grpo.reward = RewardSource::MajorityVote;
    c.grpo.relift_buffer_size = 1000;
    assert!(c.validate_relift().is_ok());
    // set_grpo checks them too.
    let mut t = trainer(tiny());
    let mut g = tiny().grpo;
    g.relift_batch_size = 0;
    let e = t.set_grpo(g).unwrap_err().to_string();
    assert!(e.contains("grpo.relift_batch_size"), "{e}");
    // The shipped config parses and is valid.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("configs/relift.toml")).unwrap();
    let c = TrainConfig::from_toml(&text).unwrap();
    assert!(c.grpo.relift);
    c.validate_relift().unwrap();
}

// ---------------------------------------------------------------------------------------
// The experiment (ignored).

/// Greedy held-out accuracy of the current model on each level's eval problems (levels with
/// none held out are left out), and (when `samples > 0`) pass@`samples` on the last (hardest)
/// level.
fn eval_levels(t: &mut Trainer<CpuKernels>, samples: usize) -> (Vec<f64>, Option<f64>) {
    let c = t.config().clone();
    let vocab = t.vocab().clone();
    let task = spar_tasks::task_by_name(&c.task.name, spar_tasks::Format::Compact).unwrap();
    let eval = t.data().eval.clone();
    let opts = |n: usize| EvalOptions {
        num_samples: n,
        temperature: c.eval.temperature,
        top_p: c.eval.top_p,
        max_new_tokens: c.grpo.max_completion_length,
        seed: c.seed ^ 0x5eed_e7a1,
        answer_check: c.task.answer_check,
    };
    let mut acc = Vec::new();
    let mut pass = None;
    // Levels with held-out problems (1-digit sums are all in the pool: none held out).
    let levels: Vec<Vec<_>> = c
        .task
        .levels
        .iter()
        .map(|&l| {
            eval.iter()
                .filter(|p| p.level == l)
                .cloned()
                .collect::<Vec<_>>()
        })
        .filter(|probs| !probs.is_empty())
        .collect();
    let n_levels = levels.len();
    for (arm, probs) in levels.iter().enumerate() {
        let n = if arm + 1 == n_levels { samples } else { 0 };
        let r = block_on(evaluate(t.model(), &vocab, task.as_ref(), probs, &opts(n))).unwrap();
        acc.push(r.accuracy);
        if n > 0 {
            pass = r.pass_at(n);
        }
    }
    (acc, pass)
}

/// The experiment of EXPERIMENTS.md: per seed, one SFT start (`configs/relift.toml`'s SFT);
/// from it, five arms of `grpo.max_steps` loop steps each: `rl` (the config with
/// `relift = false`: plain verifier GRPO), `sft` (continued SFT on the reference completions
/// of the RL pool's problems, `relift_batch_size` of them per step, levels drawn uniformly,
/// the RL stage's optimiser), `relift` (the config) and `sft_matched` (SFT on random
/// reference completions of the RL pool, as many as `relift` trained on and at the same
/// steps, no RL steps: ReLIFT's SFT budget without its choice of problems and without RL)
/// and `sft_same` (SFT on exactly ReLIFT's SFT batches, the same problems at the same steps,
/// no RL steps: ReLIFT without its RL steps).
/// Held-out greedy accuracy per level and pass@8 on the hardest level every `EVERY` steps.
/// Writes the per-evaluation rows to `OUT` (JSON lines) when set. Environment: `SEEDS` (default
/// `1,2,3`), `RL_STEPS`, `EVERY` (default 50), `SFT_STEPS`, `LABELLED` (the labelled
/// fraction), `LEVELS` (e.g. `1,2,3`),
/// `COMPLETION_LEN` (`grpo.max_completion_length`), `ARMS` (default
/// `rl,sft,relift,sft_matched,sft_same`), `PROBE=1` (the SFT starts only).
#[test]
#[ignore = "the experiment: minutes of CPU; run by hand with --ignored --nocapture"]
fn experiment_relift() {
    use std::io::Write;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("configs/relift.toml")).unwrap();
    let mut base = TrainConfig::from_toml(&text).unwrap();
    let env = |k: &str| std::env::var(k).ok();
    if let Some(s) = env("RL_STEPS") {
        base.grpo.max_steps = s.parse().unwrap();
    }
    if let Some(s) = env("SFT_STEPS") {
        base.sft.max_steps = s.parse().unwrap();
    }
    if let Some(s) = env("LABELLED") {
        base.task.labelled_fraction = s.parse().unwrap();
    }
    if let Some(s) = env("LEVELS") {
        base.task.levels = s.split(',').map(|l| l.trim().parse().unwrap()).collect();
    }
    if let Some(s) = env("COMPLETION_LEN") {
        base.grpo.max_completion_length = s.parse().unwrap();
    }
    let every: u32 = env("EVERY").map_or(50, |e| e.parse().unwrap());
    let seeds: Vec<u64> = env("SEEDS")
        .unwrap_or_else(|| "1,2,3".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let mut out = env("OUT").map(|p| std::fs::File::create(p).unwrap());
    // The arms differ only in the intended key.
    let relift = base.grpo.clone();
    assert!(relift.relift);
    let mut rl = relift.clone();
    rl.relift = false;
    let mut check = rl.clone();
    check.relift = true;
    assert_eq!(
        check, relift,
        "the RL arm is the config with relift = false, nothing else"
    );
    let steps = base.grpo.max_steps;
    let b = base.grpo.relift_batch_size;
    // `sft_matched` and `sft_same` follow the `relift` arm's schedule, so they come after it.
    let arms: Vec<String> = env("ARMS")
        .unwrap_or_else(|| "rl,sft,relift,sft_matched,sft_same".into())
        .split(',')
        .map(str::to_string)
        .collect();
    for seed in seeds {
        let mut cfg = base.clone();
        cfg.seed = seed;
        let mut t = trainer(cfg.clone());
        while t.step() < cfg.sft.max_steps {
            block_on(t.train_step()).unwrap();
        }
        let start = block_on(t.snapshot()).unwrap();
        let (acc0, pass0) = eval_levels(&mut t, 8);
        println!("seed {seed} SFT start: greedy per level {acc0:?} hardest pass@8 {pass0:?}");
        if env("PROBE").is_some() {
            continue;
        }
        // ReLIFT's SFT steps (loop step, demonstrations), for the matched SFT arm.
        let mut relift_schedule: Vec<(u32, usize)> = Vec::new();
        // ReLIFT's SFT batches (loop step, problems), for the `sft_same` arm.
        let mut relift_batches: Vec<(u32, Vec<u32>)> = Vec::new();
        for arm in arms.iter().map(String::as_str) {
            let mut t = trainer(cfg.clone());
            t.restore(&start).unwrap();
            t.set_grpo(if arm == "rl" {
                rl.clone()
            } else {
                relift.clone()
            })
            .unwrap();
            let pool: Vec<Vec<usize>> = t.rl_pool().to_vec();
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5f7);
            let sft_only = arm.starts_with("sft");
            if sft_only {
                t.policy().begin_stage(cfg.grpo_optim(), steps);
            }
            let (mut demos, mut sft_steps, mut rl_steps) = (0usize, 0u32, 0u32);
            // ReLIFT's demonstrations per level of `task.levels`.
            let mut demos_by_level = vec![0usize; cfg.task.levels.len()];
            let mut row = |done: u32,
                           t: &mut Trainer<CpuKernels>,
                           demos,
                           sft_steps,
                           rl_steps,
                           by_level: &[usize]| {
                let (acc, pass) = eval_levels(t, 8);
                let overall = acc.iter().sum::<f64>() / acc.len() as f64;
                let line = serde_json::json!({
                    "seed": seed, "arm": arm, "step": done, "accuracy_by_level": acc,
                    "accuracy": overall, "hardest_pass_at_8": pass, "demonstrations": demos,
                    "sft_steps": sft_steps, "rl_steps": rl_steps,
                    "relift_demonstrations_by_level": by_level,
                });
                println!("{line}");
                if let Some(f) = out.as_mut() {
                    writeln!(f, "{line}").unwrap();
                }
            };
            row(0, &mut t, 0, 0, 0, &demos_by_level);
            for s in 0..steps {
                // `sft`: `relift_batch_size` demonstrations every step; `sft_matched`: as many
                // as ReLIFT trained at the steps where it took its SFT steps, none elsewhere.
                let same: Vec<usize> = match arm {
                    "sft_same" => relift_batches
                        .iter()
                        .find(|(at, _)| *at == s)
                        .map_or(Vec::new(), |x| x.1.iter().map(|&i| i as usize).collect()),
                    _ => Vec::new(),
                };
                let n = match arm {
                    "sft" => b,
                    "sft_matched" => relift_schedule
                        .iter()
                        .find(|(at, _)| *at == s)
                        .map_or(0, |x| x.1),
                    _ => same.len(),
                };
                if sft_only && n > 0 {
                    let picks: Vec<usize> = if arm == "sft_same" {
                        same
                    } else {
                        (0..n)
                            .map(|_| {
                                let lvl = &pool[(rng.next_u64() % pool.len() as u64) as usize];
                                lvl[(rng.next_u64() % lvl.len() as u64) as usize]
                            })
                            .collect()
                    };
                    let mut seqs = Vec::with_capacity(n);
                    for i in picks {
                        let p = &t.data().pool[i];
                        let mut seq = t.vocab().encode(&p.prompt);
                        let len = seq.len();
                        seq.extend(t.vocab().encode(&p.completion));
                        seq.push(t.vocab().eos());
                        seqs.push((seq, len));
                    }
                    let batch = Batch::from_pairs(&seqs, cfg.model.n_positions);
                    block_on(t.policy().nll_backward(&batch, 1.0, s)).unwrap();
                    block_on(t.policy().step(s)).unwrap();
                    demos += n;
                    sft_steps += 1;
                } else if !sft_only {
                    let buffered = t.relift_buffer().to_vec();
                    let m = block_on(t.train_step()).unwrap();
                    match m.relift_trained {
                        Some(n) => {
                            demos += n;
                            sft_steps += 1;
                            relift_schedule.push((s, n));
                            relift_batches.push((s, buffered.clone()));
                            for i in buffered {
                                let level = t.data().pool[i as usize].level;
                                let arm = cfg.task.levels.iter().position(|&l| l == level);
                                demos_by_level[arm.unwrap()] += 1;
                            }
                        }
                        None => rl_steps += 1,
                    }
                }
                if (s + 1) % every == 0 || s + 1 == steps {
                    row(s + 1, &mut t, demos, sft_steps, rl_steps, &demos_by_level);
                }
            }
        }
    }
}
