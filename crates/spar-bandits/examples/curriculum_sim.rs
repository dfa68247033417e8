//! Bandits and curricula on the simulation harness, over fixed seeds.
//!
//! Prints (as Markdown tables) the mean cumulative pseudo-regret of every bandit on four
//! problems — stationary two-arm and ten-arm Bernoulli, an abrupt change, a slow drift —
//! and the training steps each curriculum needs to bring the simulated student to mastery,
//! against uniform sampling. Writes SVG plots to `docs/plots/bandits-*.svg`.
//!
//! Run: `cargo run --release -p spar-bandits --example curriculum_sim`

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use spar_bandits::sim::{
    run_bandit, run_curriculum, AbruptChange, Environment, SlowDrift, StationaryBernoulli, Student,
    StudentConfig,
};
use spar_bandits::{
    Bandit, Boltzmann, Curriculum, DiscountedThompson, DiscountedUcb, DiscountedUcbConfig,
    EpsilonGreedy, Exp3, Learnability, LearnabilityConfig, RegretConfig, RegretPrioritization, Sec,
    SecConfig, SlidingWindowUcb, SlidingWindowUcbConfig, SuccessBand, SuccessBandConfig, Thompson,
    Ucb1, Uniform, WeaknessConfig, WeaknessTracker,
};
use spar_plot::LinePlot;
use std::path::PathBuf;

const BANDIT_SEEDS: [u64; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const CURRICULUM_SEEDS: [u64; 20] = [
    100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118,
    119,
];
const HORIZON: u64 = 10_000;
const BATCH: usize = 16;
const MAX_STEPS: usize = 5_000;

fn bandit_names() -> [&'static str; 8] {
    [
        "ε-greedy (ε=0.1)",
        "Boltzmann (τ=0.1)",
        "UCB1",
        "D-UCB (γ=0.9975)",
        "SW-UCB (W=600)",
        "EXP3 (γ=0.1)",
        "Thompson",
        "D-Thompson (γ=0.99)",
    ]
}

fn make_bandit(i: usize, k: usize) -> Box<dyn Bandit> {
    match i {
        0 => Box::new(EpsilonGreedy::new(k, 0.1).unwrap()),
        1 => Box::new(Boltzmann::new(k, 0.1).unwrap()),
        2 => Box::new(Ucb1::new(k).unwrap()),
        // Garivier & Moulines' tuning for horizon T and Υ breakpoints (here T = 10⁴, Υ = 1):
        // γ = 1 − ¼√(Υ/T) and W = 2√(T ln T / Υ).
        3 => Box::new(
            DiscountedUcb::new(
                k,
                DiscountedUcbConfig {
                    gamma: 0.9975,
                    ..DiscountedUcbConfig::default()
                },
            )
            .unwrap(),
        ),
        4 => Box::new(
            SlidingWindowUcb::new(
                k,
                SlidingWindowUcbConfig {
                    window: 600,
                    ..SlidingWindowUcbConfig::default()
                },
            )
            .unwrap(),
        ),
        5 => Box::new(Exp3::new(k, 0.1).unwrap()),
        6 => Box::new(Thompson::new(k).unwrap()),
        _ => Box::new(DiscountedThompson::new(k, 0.99).unwrap()),
    }
}

fn curriculum_names() -> [&'static str; 7] {
    [
        "uniform",
        "SEC (α=0.5, τ=1)",
        "SEC (α=0.5, τ=0.2)",
        "learnability",
        "success band [0.05, 0.75]",
        "regret (max−min)",
        "weakness (SwS)",
    ]
}

fn make_curriculum(i: usize, k: usize) -> Box<dyn Curriculum> {
    match i {
        0 => Box::new(Uniform::new(k).unwrap()),
        1 => Box::new(Sec::new(k, SecConfig::default()).unwrap()),
        2 => Box::new(
            Sec::new(
                k,
                SecConfig {
                    alpha: 0.5,
                    temperature: 0.2,
                },
            )
            .unwrap(),
        ),
        3 => Box::new(Learnability::new(k, LearnabilityConfig::default()).unwrap()),
        4 => Box::new(SuccessBand::new(k, SuccessBandConfig::default()).unwrap()),
        5 => Box::new(RegretPrioritization::new(k, RegretConfig::default()).unwrap()),
        _ => Box::new(WeaknessTracker::new(k, WeaknessConfig::default()).unwrap()),
    }
}

fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, v.sqrt())
}

fn plots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/plots");
    std::fs::create_dir_all(&dir).expect("create docs/plots");
    dir
}

/// One bandit's results on one problem.
struct RegretResult {
    /// Mean cumulative regret over seeds, sampled every 100 steps.
    curve: Vec<(f64, f64)>,
    /// Final cumulative regret of each seed.
    finals: Vec<f64>,
}

/// The results of every bandit on `env`.
fn regret_curves(env: &dyn Environment) -> Vec<RegretResult> {
    (0..bandit_names().len())
        .map(|i| {
            let mut curve = vec![0.0; HORIZON as usize];
            let mut finals = Vec::new();
            for &seed in &BANDIT_SEEDS {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let mut bandit = make_bandit(i, env.num_arms());
                let run = run_bandit(bandit.as_mut(), env, HORIZON, &mut rng).unwrap();
                for (c, r) in curve.iter_mut().zip(&run.cumulative_regret) {
                    *c += r / BANDIT_SEEDS.len() as f64;
                }
                finals.push(*run.cumulative_regret.last().unwrap());
            }
            let curve = (0..HORIZON as usize)
                .step_by(100)
                .chain(std::iter::once(HORIZON as usize - 1))
                .map(|t| ((t + 1) as f64, curve[t]))
                .collect();
            RegretResult { curve, finals }
        })
        .collect()
}

fn main() {
    let ten = vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.05];
    let mut ten_after = ten.clone();
    ten_after[9] = 0.95; // the worst arm (0.05) becomes the best
    let problems: Vec<(&str, &str, Box<dyn Environment>)> = vec![
        (
            "2 arms, 0.9 / 0.1",
            "two-arm",
            Box::new(StationaryBernoulli::new(vec![0.9, 0.1]).unwrap()),
        ),
        (
            "10 arms, 0.05–0.8",
            "ten-arm",
            Box::new(StationaryBernoulli::new(ten.clone()).unwrap()),
        ),
        (
            "10 arms, worst arm jumps 0.05 → 0.95 at t=5000",
            "abrupt",
            Box::new(AbruptChange::new(ten.clone(), ten_after, 5000).unwrap()),
        ),
        (
            "2 arms drifting 0.9/0.1 → 0.1/0.9 over 10 000 steps",
            "drift",
            Box::new(SlowDrift::new(vec![0.9, 0.1], vec![0.1, 0.9], HORIZON).unwrap()),
        ),
    ];

    println!(
        "## Bandits: cumulative pseudo-regret after {HORIZON} steps (mean ± sd over {} seeds)\n",
        BANDIT_SEEDS.len()
    );
    let mut header = String::from("| bandit |");
    let mut rule = String::from("|---|");
    for (title, _, _) in &problems {
        header.push_str(&format!(" {title} |"));
        rule.push_str("---:|");
    }
    println!("{header}\n{rule}");
    let results: Vec<_> = problems
        .iter()
        .map(|(_, _, env)| regret_curves(env.as_ref()))
        .collect();
    for (i, name) in bandit_names().iter().enumerate() {
        let mut row = format!("| {name} |");
        for res in &results {
            let (m, s) = mean_std(&res[i].finals);
            row.push_str(&format!(" {m:.1} ± {s:.1} |"));
        }
        println!("{row}");
    }
    let dir = plots_dir();
    for ((title, slug, _), res) in problems.iter().zip(&results) {
        let mut plot = LinePlot::new(&format!("Cumulative regret: {title}"))
            .x_label("step")
            .y_label("cumulative pseudo-regret (mean of 10 seeds)");
        for (name, result) in bandit_names().iter().zip(res) {
            plot.push_series(name, &result.curve);
        }
        let path = dir.join(format!("bandits-regret-{slug}.svg"));
        std::fs::write(&path, plot.to_svg()).unwrap();
    }

    let config = StudentConfig::default();
    let k = config.num_levels;
    println!(
        "\n## Curricula: steps to mastery of the simulated student ({} seeds, batch {BATCH}, \
         G = {}, {k} levels, mastery = every level ≥ {})\n",
        CURRICULUM_SEEDS.len(),
        config.num_generations,
        config.mastery
    );
    println!(
        "| curriculum | mean steps ± sd | min | max | mastered | vs uniform | \
         slots at solve rate 0.2–0.8 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut uniform_mean = 0.0;
    let mut plot = LinePlot::new("Simulated student: mean solve rate over levels")
        .x_label("training step (batch of 16 problems)")
        .y_label("mean solve rate (mean of 20 seeds)");
    for (i, name) in curriculum_names().iter().enumerate() {
        let mut steps = Vec::new();
        let mut mastered = 0;
        let mut intermediate = 0.0;
        let mut curve = vec![0.0; MAX_STEPS];
        let mut longest = 0;
        for &seed in &CURRICULUM_SEEDS {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut student = Student::new(config).unwrap();
            let mut c = make_curriculum(i, k);
            let run = run_curriculum(c.as_mut(), &mut student, BATCH, MAX_STEPS, &mut rng).unwrap();
            let n = run.steps_to_mastery.unwrap_or(MAX_STEPS);
            if run.steps_to_mastery.is_some() {
                mastered += 1;
            }
            steps.push(n as f64);
            intermediate += run.intermediate_slots as f64 / run.total_slots as f64;
            longest = longest.max(run.mean_solve_rate.len());
            // After mastery the run stops; its curve holds its last value.
            let last = *run.mean_solve_rate.last().unwrap();
            for (t, c) in curve.iter_mut().enumerate() {
                *c += run.mean_solve_rate.get(t).copied().unwrap_or(last)
                    / CURRICULUM_SEEDS.len() as f64;
            }
        }
        let (m, s) = mean_std(&steps);
        if i == 0 {
            uniform_mean = m;
        }
        let min = steps.iter().copied().fold(f64::MAX, f64::min);
        let max = steps.iter().copied().fold(f64::MIN, f64::max);
        println!(
            "| {name} | {m:.0} ± {s:.0} | {min:.0} | {max:.0} | {mastered}/{} | {:.2}× | {:.0} % |",
            CURRICULUM_SEEDS.len(),
            m / uniform_mean,
            100.0 * intermediate / CURRICULUM_SEEDS.len() as f64
        );
        let points: Vec<(f64, f64)> = curve[..longest]
            .iter()
            .enumerate()
            .step_by(5)
            .map(|(t, &y)| ((t + 1) as f64, y))
            .collect();
        plot.push_series(name, &points);
    }
    std::fs::write(dir.join("bandits-curricula.svg"), plot.to_svg()).unwrap();
    println!("\n(unmastered runs count as {MAX_STEPS} steps)");
}
