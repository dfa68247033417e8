//! Looks inside a label-free RL run on the learning-bar setting (three-digit sorting, the
//! `sort3` config of `tests/learning_bars.rs`): after SFT and every few RL steps it prints the
//! step's metrics, a few sampled groups (completions, extracted answers, the group's majority
//! answer and ratio, whether it is the true answer) and a census of the greedy answers on the
//! held-out problems (distinct answers, the most common one, unparsable, wrong length, not a
//! permutation of the input).
//!
//! `cargo run --release -p spar-train --example labelfree_diag -- REWARD RL_STEPS [SEED] [KEY=VALUE...]`
//! with REWARD one of `verifier`, `majority_vote`, `co_reward`; KEY=VALUE sets a `[grpo]`
//! option given as TOML (e.g. `min_majority_ratio=0.75`). The environment variable `CONFIG`
//! names a TOML config to use instead of the built-in one (the seed still comes from the
//! command line).
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults
use spar_model::{block_on, CpuKernels, SampleConfig};
use spar_tasks::{majority_vote, Answer, Instance, Problem};
use spar_train::config::RewardSource;
use spar_train::{TrainConfig, Trainer};
use std::collections::HashMap;

fn items(p: &Problem) -> Vec<i64> {
    match &p.instance {
        Instance::Sequence { items, .. } => items.clone(),
        _ => Vec::new(),
    }
}

fn is_perm(a: &[i64], items: &[i64]) -> bool {
    let (mut x, mut y) = (a.to_vec(), items.to_vec());
    x.sort_unstable();
    y.sort_unstable();
    x == y
}

fn census(t: &mut Trainer<CpuKernels>, label: &str) -> Result<(), Box<dyn std::error::Error>> {
    let probs: Vec<Problem> = t.data().eval.clone();
    let prompts: Vec<&str> = probs.iter().map(|p| p.prompt.as_str()).collect();
    let sc = SampleConfig {
        max_new_tokens: t.config().grpo.max_completion_length,
        temperature: 0.0,
        stop_tokens: vec![t.vocab().eos()],
        ..Default::default()
    };
    let outs = block_on(t.sample(&prompts, &sc))?;
    let mut counts: HashMap<String, usize> = HashMap::new();
    let (mut unparsable, mut badlen, mut notperm, mut right, mut sorted_wrong) = (0, 0, 0, 0, 0);
    for (p, o) in probs.iter().zip(&outs) {
        let a = t.task().extract_answer(o);
        *counts.entry(format!("{a:?}")).or_default() += 1;
        match &a {
            None => unparsable += 1,
            Some(Answer::List(l)) => {
                let it = items(p);
                if l.len() != it.len() {
                    badlen += 1;
                } else if !is_perm(l, &it) {
                    notperm += 1;
                    if l.windows(2).all(|w| w[0] <= w[1]) {
                        sorted_wrong += 1;
                    }
                }
            }
            Some(_) => unparsable += 1,
        }
        if t.task().verify(p, o) > 0.0 {
            right += 1;
        }
    }
    let mut top: Vec<(String, usize)> = counts.into_iter().collect();
    top.sort_by_key(|e| std::cmp::Reverse(e.1));
    println!(
        "  census {label}: held-out greedy right {right}/{} distinct answers {} top {:?} | unparsable {unparsable} wrong length {badlen} not a permutation {notperm} (of which sorted {sorted_wrong})",
        probs.len(),
        top.len(),
        &top[..top.len().min(4)]
    );
    println!(
        "    first greedy completions: {:?}",
        outs.iter()
            .zip(&probs)
            .take(6)
            .map(|(o, p)| format!("{} {o:?}", p.prompt))
            .collect::<Vec<_>>()
    );
    Ok(())
}

fn groups(t: &mut Trainer<CpuKernels>) -> Result<(), Box<dyn std::error::Error>> {
    let n = t.data().num_labelled;
    let probs: Vec<Problem> = t.data().pool[n..n + 4].to_vec();
    let g = 8;
    let prompts: Vec<&str> = probs
        .iter()
        .flat_map(|p| std::iter::repeat_n(p.prompt.as_str(), g))
        .collect();
    let sc = SampleConfig {
        max_new_tokens: t.config().grpo.max_completion_length,
        temperature: 1.0,
        stop_tokens: vec![t.vocab().eos()],
        ..Default::default()
    };
    let outs = block_on(t.sample(&prompts, &sc))?;
    for (k, p) in probs.iter().enumerate() {
        let o = &outs[k * g..][..g];
        let a: Vec<Option<Answer>> = o.iter().map(|c| t.task().extract_answer(c)).collect();
        let v = majority_vote(&a);
        println!(
            "    {:?} (truth {:?}): {:?} -> vote {:?} ratio {:.2} right {}",
            p.prompt,
            p.answer,
            o,
            v.as_ref().map(|v| &v.answer),
            v.as_ref().map_or(0.0, |v| v.ratio),
            v.as_ref().is_some_and(|v| v.answer == p.answer)
        );
    }
    Ok(())
}

/// Label accuracy of the group votes against the vote's ratio, over the whole unlabelled pool
/// (G = 8 samples at temperature 1 of each prompt and of one paraphrase).
fn vote_stats(t: &mut Trainer<CpuKernels>, label: &str) -> Result<(), Box<dyn std::error::Error>> {
    use rand_core::SeedableRng;
    let n = t.data().num_labelled;
    let probs: Vec<Problem> = t.data().pool[n..].to_vec();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let paras: Vec<Problem> = probs
        .iter()
        .map(|p| t.task().paraphrase(p, &mut rng))
        .collect::<Result<_, _>>()?;
    let g = 8;
    let sc = SampleConfig {
        max_new_tokens: t.config().grpo.max_completion_length,
        temperature: 1.0,
        stop_tokens: vec![t.vocab().eos()],
        ..Default::default()
    };
    let mut votes = Vec::new();
    for set in [&probs, &paras] {
        let prompts: Vec<&str> = set
            .iter()
            .flat_map(|p| std::iter::repeat_n(p.prompt.as_str(), g))
            .collect();
        let outs = block_on(t.sample(&prompts, &sc))?;
        let v: Vec<Option<spar_tasks::Vote>> = outs
            .chunks(g)
            .map(|o| {
                let a: Vec<Option<Answer>> = o.iter().map(|c| t.task().extract_answer(c)).collect();
                majority_vote(&a)
            })
            .collect();
        votes.push(v);
    }
    // Majority vote: label accuracy per ratio bin.
    let mut bins = [(0usize, 0usize); 9];
    for (p, v) in probs.iter().zip(&votes[0]) {
        let (k, right) = v
            .as_ref()
            .map_or((0, false), |v| (v.count, v.answer == p.answer));
        bins[k].0 += 1;
        bins[k].1 += right as usize;
    }
    let row: Vec<String> = bins
        .iter()
        .enumerate()
        .filter(|(_, b)| b.0 > 0)
        .map(|(k, b)| format!("{k}/8: {}/{} = {:.2}", b.1, b.0, b.1 as f64 / b.0 as f64))
        .collect();
    println!(
        "  votes {label}: majority-vote label accuracy by count {}",
        row.join(", ")
    );
    // Co-Reward: the paraphrase group's vote as the label; split by whether the two votes agree.
    let (mut agree, mut agree_right, mut differ, mut differ_right) = (0, 0, 0, 0);
    let mut cross = [(0usize, 0usize); 9];
    for ((p, vo), vp) in probs.iter().zip(&votes[0]).zip(&votes[1]) {
        let Some(vp) = vp else { continue };
        let right = vp.answer == p.answer;
        let same = vo.as_ref().is_some_and(|vo| vo.answer == vp.answer);
        if same {
            agree += 1;
            agree_right += right as usize;
            let k = vo.as_ref().map_or(0, |v| v.count).min(vp.count);
            cross[k].0 += 1;
            cross[k].1 += right as usize;
        } else {
            differ += 1;
            differ_right += right as usize;
        }
    }
    let row: Vec<String> = cross
        .iter()
        .enumerate()
        .filter(|(_, b)| b.0 > 0)
        .map(|(k, b)| format!("{k}/8: {}/{}", b.1, b.0))
        .collect();
    println!(
        "  votes {label}: co-reward label right when both votes agree {agree_right}/{agree}, when they differ {differ_right}/{differ}; agreeing by min count {}",
        row.join(", ")
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: labelfree_diag REWARD RL_STEPS [SEED] [KEY=VALUE...]";
    let reward: RewardSource =
        serde_json::from_str(&format!("\"{}\"", args.first().ok_or(usage)?))?;
    let steps: u32 = args.get(1).ok_or(usage)?.parse()?;
    let mut rest = &args[2.min(args.len())..];
    let mut seed = 1;
    if let Some(Ok(s)) = rest.first().map(|s| s.parse::<u64>()) {
        seed = s;
        rest = &rest[1..];
    }
    let mut cfg = match std::env::var("CONFIG") {
        Ok(path) => {
            let mut c = TrainConfig::from_toml(&std::fs::read_to_string(path)?)?;
            c.seed = seed;
            c
        }
        Err(_) => TrainConfig::sort3(seed),
    };
    cfg.grpo.reward = reward;
    cfg.grpo.max_steps = steps;
    if !rest.is_empty() {
        let kvs: Vec<&str> = rest.iter().map(|s| s.as_str()).collect();
        cfg.grpo = spar_train::config::with_overrides(&cfg.grpo, &kvs)?;
    }
    let mut t = Trainer::new(cfg.clone(), Box::new(CpuKernels::new))?;
    while t.step() < cfg.sft.max_steps {
        block_on(t.train_step())?;
    }
    println!("seed {seed} reward {reward:?} grpo {rest:?}");
    census(&mut t, "after SFT")?;
    vote_stats(&mut t, "after SFT")?;
    groups(&mut t)?;
    while t.step() < t.total_steps() {
        let m = block_on(t.train_step())?;
        let done = t.step() - cfg.sft.max_steps;
        if done % 10 == 0 || done <= 3 {
            println!(
                "  rl {done}: reward {:.3} sampled acc {:.3} label acc {:?} majority ratio {:?} entropy {:.3} len {:.2} zero-spread {:.2} gap {:.1e}",
                m.reward, m.accuracy, m.label_accuracy, m.majority_ratio, m.entropy, m.completion_length, m.zero_spread_fraction, m.max_logprob_gap
            );
        }
        if done % 25 == 0 {
            let acc = block_on(t.evaluate())?.accuracy;
            println!("  rl {done}: held-out acc {acc:.3}");
            census(&mut t, &format!("rl {done}"))?;
            if done % 50 == 0 {
                vote_stats(&mut t, &format!("rl {done}"))?;
                groups(&mut t)?;
            }
        }
    }
    Ok(())
}
