//! Is there a competence threshold above which label-free rewards help? Trains the learning-bar
//! setting (three-digit sorting, the `sort3` config of `tests/learning_bars.rs`) to a stronger
//! SFT start, by changing only the SFT side (more labelled problems, longer SFT, a wider
//! model), then measures at that start
//!
//! * the label accuracy of the pseudo-labels over the unlabelled pool, split by whether the
//!   group carries a GRPO signal (majority vote: the group is not unanimous; Co-Reward: the
//!   group is neither all-agreeing nor all-disagreeing with the other wording's vote), and
//! * held-out greedy accuracy every `EVERY` RL steps of each variant, every variant run from
//!   the same SFT snapshot on the unlabelled rest of the pool only (`unlabelled_only = true`).
//!
//! `cargo run --release -p spar-train --example competence_threshold -- RL_STEPS [VARIANT...]`
//!
//! A variant is `verifier`, `mv` (majority vote) or `co` (Co-Reward), optionally followed by
//! `+KEY=VALUE` `[grpo]` options in TOML syntax (e.g. `mv+temperature=0.7`). With no variant
//! only the SFT start and its vote statistics are printed (the no-RL control).
//!
//! Environment: `SEEDS` (comma-separated, default `1`); `SET` (whitespace-separated config
//! overrides `SECTION.KEY=VALUE`, e.g. `task.labelled_fraction=0.4 sft.max_steps=800
//! model.n_embd=64`); `EVERY` (evaluation interval, default 50); `VOTE_T` (comma-separated
//! sampling temperatures of the vote statistics, default `1`); `TRACE=1` prints the RL step
//! metrics every 10 steps. With `SET=eval.num_samples=8` the held-out curve also shows pass@1
//! of samples at `eval.temperature` (sampled accuracy, the figure majority vote sharpens).
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults
use rand_core::SeedableRng;
use spar_model::{block_on, CpuKernels, SampleConfig};
use spar_tasks::{majority_vote, Answer, Problem};
use spar_train::config::RewardSource;
use spar_train::{TrainConfig, Trainer};
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Applies `SECTION.KEY=VALUE` overrides (values in TOML syntax) to the whole config.
fn apply_overrides(cfg: TrainConfig, sets: &str) -> Res<TrainConfig> {
    let kvs: Vec<&str> = sets.split_whitespace().collect();
    Ok(spar_train::config::with_overrides(&cfg, &kvs)?)
}

/// The `[grpo]` section of a variant (`verifier`, `mv` or `co`, then `+KEY=VALUE` options).
fn variant(name: &str, cfg: &TrainConfig) -> Res<spar_train::config::GrpoSection> {
    let mut g = cfg.grpo.clone();
    let mut parts = name.split('+');
    g.reward = match parts.next() {
        Some("verifier") => RewardSource::Verifier,
        Some("mv") => RewardSource::MajorityVote,
        Some("co") => RewardSource::CoReward,
        _ => return Err(format!("unknown variant {name}").into()),
    };
    let kvs: Vec<&str> = parts.collect();
    Ok(spar_train::config::with_overrides(&g, &kvs)?)
}

/// Counts of right labels among groups, split by whether the group carries a GRPO signal.
#[derive(Default)]
struct Tally {
    signal: (usize, usize),
    flat: (usize, usize),
}

impl Tally {
    fn add(&mut self, has_signal: bool, right: bool) {
        let t = if has_signal {
            &mut self.signal
        } else {
            &mut self.flat
        };
        t.0 += right as usize;
        t.1 += 1;
    }

    fn show(&self) -> String {
        let acc = |t: (usize, usize)| t.0 as f64 / t.1.max(1) as f64;
        let all = (self.signal.0 + self.flat.0, self.signal.1 + self.flat.1);
        format!(
            "label acc {:.3} (all {}), with signal {:.3} ({}/{}), without {:.3} ({}/{})",
            acc(all),
            all.1,
            acc(self.signal),
            self.signal.0,
            self.signal.1,
            acc(self.flat),
            self.flat.0,
            self.flat.1
        )
    }
}

/// Vote statistics over the unlabelled pool at sampling temperature `temp`: G samples of
/// each prompt and of one paraphrase. Returns the label accuracy of the signal-carrying groups
/// (majority vote, Co-Reward).
fn vote_stats(t: &mut Trainer<CpuKernels>, temp: f32) -> Res<(f64, f64)> {
    let n = t.data().num_labelled;
    let probs: Vec<Problem> = t.data().pool[n..].to_vec();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let paras: Vec<Problem> = probs
        .iter()
        .map(|p| t.task().paraphrase(p, &mut rng))
        .collect::<Result<_, _>>()?;
    let g = t.config().grpo.num_generations;
    let sc = SampleConfig {
        max_new_tokens: t.config().grpo.max_completion_length,
        temperature: temp,
        stop_tokens: vec![t.vocab().eos()],
        ..Default::default()
    };
    let mut answers = Vec::new();
    for set in [&probs, &paras] {
        let prompts: Vec<&str> = set
            .iter()
            .flat_map(|p| std::iter::repeat_n(p.prompt.as_str(), g))
            .collect();
        let outs = block_on(t.sample(&prompts, &sc))?;
        let a: Vec<Option<Answer>> = outs.iter().map(|c| t.task().extract_answer(c)).collect();
        answers.push(a);
    }
    // Greedy answers: the vote can only lift greedy accuracy where it is right and greedy wrong.
    let greedy_sc = SampleConfig {
        temperature: 0.0,
        ..sc.clone()
    };
    let prompts: Vec<&str> = probs.iter().map(|p| p.prompt.as_str()).collect();
    let greedy = block_on(t.sample(&prompts, &greedy_sc))?;
    let (mut fixes, mut breaks) = (0, 0);
    let (mut mv, mut co) = (Tally::default(), Tally::default());
    for (i, p) in probs.iter().enumerate() {
        let groups = [&answers[0][i * g..][..g], &answers[1][i * g..][..g]];
        let greedy_right = t.task().extract_answer(&greedy[i]).as_ref() == Some(&p.answer);
        // Majority vote on the original wording: a unanimous group (or one with no parsable
        // answer) has equal rewards, so zero advantage.
        if let Some(v) = majority_vote(groups[0]) {
            mv.add(v.count < g, v.answer == p.answer);
            if v.count < g {
                fixes += (v.answer == p.answer && !greedy_right) as usize;
                breaks += (v.answer != p.answer && greedy_right) as usize;
            }
        } else {
            mv.add(false, false);
        }
        // Co-Reward: each group graded by the other's vote.
        for (me, other) in [(0, 1), (1, 0)] {
            match majority_vote(groups[other]) {
                Some(v) => {
                    let hits = groups[me]
                        .iter()
                        .filter(|a| a.as_ref() == Some(&v.answer))
                        .count();
                    co.add(0 < hits && hits < g, v.answer == p.answer);
                }
                None => co.add(false, false),
            }
        }
    }
    println!("  votes at T {temp}: majority vote {}", mv.show());
    println!("  votes at T {temp}: Co-Reward     {}", co.show());
    println!(
        "  votes at T {temp}: greedy right on the pool {}/{}; signal-carrying majority votes right where greedy is wrong {fixes}, wrong where greedy is right {breaks}",
        probs
            .iter()
            .zip(&greedy)
            .filter(|(p, o)| t.task().extract_answer(o).as_ref() == Some(&p.answer))
            .count(),
        probs.len()
    );
    let acc = |t: &Tally| t.signal.0 as f64 / t.signal.1.max(1) as f64;
    Ok((acc(&mv), acc(&co)))
}

/// ` (pass@1 x)` when the evaluation sampled (`eval.num_samples > 0`), else nothing.
fn show_p1(p1: Option<f64>) -> String {
    p1.map_or(String::new(), |p| format!(" (pass@1 {p:.3})"))
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rl_steps: u32 = args
        .first()
        .ok_or("usage: competence_threshold RL_STEPS [VARIANT...]")?
        .parse()?;
    let names = &args[1..];
    let seeds: Vec<u64> = spar_train::config::env_seeds(&[1])?;
    let sets = std::env::var("SET").unwrap_or_default();
    let every: u32 = std::env::var("EVERY").map_or(Ok(50), |e| e.parse())?;
    let temps: Vec<f32> = std::env::var("VOTE_T")
        .unwrap_or_else(|_| "1".into())
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let trace = std::env::var("TRACE").is_ok_and(|v| v == "1");
    let t0 = Instant::now();
    for &seed in &seeds {
        let mut cfg = apply_overrides(TrainConfig::sort3(seed), &sets)?;
        cfg.grpo.max_steps = rl_steps;
        // Allocate for Co-Reward, which rolls out each prompt in two wordings.
        let mut alloc = cfg.clone();
        alloc.grpo.per_device_train_batch_size *= 2;
        let mut t = Trainer::new(alloc, Box::new(CpuKernels::new))?;
        while t.step() < cfg.sft.max_steps {
            block_on(t.train_step())?;
        }
        let report = block_on(t.evaluate())?;
        let (start, start_p1) = (report.accuracy, report.pass_at(1));
        println!(
            "[{:.0}s] seed {seed} [{sets}] labelled {} unlabelled {}: SFT {} steps, held-out acc {start:.3}{}",
            t0.elapsed().as_secs_f64(),
            t.data().num_labelled,
            t.data().pool.len() - t.data().num_labelled,
            cfg.sft.max_steps,
            show_p1(start_p1)
        );
        let mut signal_acc = Vec::new();
        for &temp in &temps {
            signal_acc.push(vote_stats(&mut t, temp)?);
        }
        let snap = block_on(t.snapshot())?;
        for name in names {
            let mut g = variant(name, &cfg)?;
            g.max_steps = rl_steps;
            t.restore(&snap)?;
            t.set_grpo(g)?;
            let mut curve = vec![format!("{start:.3}{}", show_p1(start_p1))];
            let (mut lab, mut lab_n, mut ratio) = (0.0, 0, 0.0);
            let (mut end, mut end_p1) = (start, start_p1);
            while t.step() < t.total_steps() {
                let m = block_on(t.train_step())?;
                if let Some(l) = m.label_accuracy {
                    lab += l;
                    lab_n += 1;
                }
                ratio += m.majority_ratio.unwrap_or(0.0);
                let done = t.step() - cfg.sft.max_steps;
                if trace && (done % 10 == 0 || done <= 2) {
                    println!(
                        "    rl {done}: reward {:.3} sampled acc {:.3} label acc {:?} majority ratio {:?} entropy {:.3} len {:.2} zero-spread {:.2} grad norm {:.3} gap {:.1e}",
                        m.reward, m.accuracy, m.label_accuracy, m.majority_ratio, m.entropy, m.completion_length, m.zero_spread_fraction, m.grad_norm, m.max_logprob_gap
                    );
                }
                if done % every == 0 || done == rl_steps {
                    let report = block_on(t.evaluate())?;
                    (end, end_p1) = (report.accuracy, report.pass_at(1));
                    curve.push(format!("{end:.3}{}", show_p1(end_p1)));
                }
            }
            println!(
                "[{:.0}s] seed {seed} {name}: held-out acc every {every} steps {} | mean over RL: label acc {:.3} majority ratio {:.3}",
                t0.elapsed().as_secs_f64(),
                curve.join(" → "),
                lab / lab_n.max(1) as f64,
                ratio / rl_steps.max(1) as f64,
            );
            println!(
                "ROW seed {seed} start {start:.3} signal-label-acc mv {:.3} co {:.3} {name} end {end:.3} delta {:+.3}{}",
                signal_acc[0].0,
                signal_acc[0].1,
                end - start,
                match (start_p1, end_p1) {
                    (Some(a), Some(b)) => format!(" pass@1 {a:.3} → {b:.3}"),
                    _ => String::new(),
                }
            );
        }
    }
    Ok(())
}
