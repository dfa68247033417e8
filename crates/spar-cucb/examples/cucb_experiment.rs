//! The Contrastive UCB experiment.
//!
//! 1. Combination lock (A = 4 actions, 4 distractor noise coordinates, latent noise 0.1):
//!    episodes until the played policy is ε-optimal (mean return of 10 greedy rollouts ≥ 0.9,
//!    V* = 1) as the horizon H grows, for
//!    (a) contrastive UCB with learned features (LSVI backup),
//!    (a') contrastive UCB with learned features and the model-based backup,
//!    (b) LSVI-UCB with the true features φ* = e_(z,a),
//!    (c) ε-greedy (ε = 0.1, no bonus) on learned features.
//! 2. Low-rank zero-sum Markov game: duality gap of the ULCB/CCE agent's marginal policies over
//!    episodes, learned vs true features.
//!
//! Run: `cargo run -p spar-cucb --release --example cucb_experiment` (add `quick` for a smoke
//! run). Prints markdown tables and writes `docs/plots/cucb-lock.svg` and
//! `docs/plots/cucb-game.svg`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use spar_cucb::contrastive::{ContrastiveConfig, ContrastiveLoss};
use spar_cucb::contrastive_ucb::{AgentConfig, Backup, ContrastiveUcb, Exploration, FeatureSource};
use spar_cucb::encoder::EncoderKind;
use spar_cucb::env::{CombinationLock, LowRankMarkovGame};
use spar_cucb::ulcb_game::{ContrastiveUlcb, GameAgentConfig};

const ACTIONS: usize = 4;
const NOISE_DIMS: usize = 4;
const LATENT_NOISE: f64 = 0.1;
const EVAL_ROLLOUTS: usize = 10;
const EPSILON_OPT: f64 = 0.1;

fn learned_features() -> ContrastiveConfig {
    ContrastiveConfig {
        feature_dim: 3,
        loss: ContrastiveLoss::Logistic,
        encoder: EncoderKind::Linear,
        learning_rate: 0.03,
        weight_decay: 0.1,
        init_scale: 3.0,
    }
}

fn lock_config(method: usize) -> AgentConfig {
    let base = AgentConfig {
        features: FeatureSource::Learned(learned_features()),
        backup: Backup::Lsvi,
        exploration: Exploration::Ucb,
        lambda: 0.1,
        beta: 0.1,
        train_steps: 5,
        batch_size: 32,
        negatives_per_positive: 1,
    };
    match method {
        0 => base,
        1 => AgentConfig {
            backup: Backup::ModelBased { samples: 64 },
            ..base
        },
        2 => AgentConfig {
            features: FeatureSource::True,
            ..base
        },
        _ => AgentConfig {
            exploration: Exploration::EpsilonGreedy { epsilon: 0.1 },
            ..base
        },
    }
}

const METHODS: [&str; 4] = [
    "(a) contrastive UCB",
    "(a') contrastive UCB, model-based backup",
    "(b) LSVI-UCB, true features",
    "(c) ε-greedy, learned features",
];

/// Episodes until the played policy is ε-optimal, or `None` within `budget`.
fn lock_run(horizon: usize, method: usize, seed: u64, budget: usize) -> Option<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let env = CombinationLock::new(horizon, ACTIONS, NOISE_DIMS, LATENT_NOISE, &mut rng).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1000).wrapping_add(method as u64));
    let mut agent = ContrastiveUcb::new(&env, lock_config(method), &mut rng).unwrap();
    for k in 1..=budget {
        agent.run_episode(&env, &mut rng).unwrap();
        if agent.evaluate(&env, EVAL_ROLLOUTS, &mut rng).unwrap() >= 1.0 - EPSILON_OPT {
            return Some(k);
        }
    }
    None
}

/// Duality gap every `every` episodes for the game agent.
fn game_run(learned: bool, seed: u64, episodes: usize, every: usize) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let game = LowRankMarkovGame::new(5, 6, 3, 3, 3, &mut rng).unwrap();
    let features = if learned {
        FeatureSource::Learned(ContrastiveConfig {
            feature_dim: 3,
            loss: ContrastiveLoss::Logistic,
            encoder: EncoderKind::Linear,
            learning_rate: 0.03,
            weight_decay: 0.0,
            init_scale: 1.0,
        })
    } else {
        FeatureSource::True
    };
    let config = GameAgentConfig {
        features,
        lambda: 0.1,
        beta: 1.0,
        train_steps: 5,
        batch_size: 32,
    };
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1000).wrapping_add(u64::from(learned)));
    let mut agent = ContrastiveUlcb::new(&game, config, &mut rng).unwrap();
    let mut gaps = Vec::new();
    for k in 0..=episodes {
        if k % every == 0 {
            agent.plan(&game).unwrap();
            gaps.push(agent.duality_gap(&game).unwrap());
        }
        if k < episodes {
            agent.run_episode(&game, &mut rng).unwrap();
        }
    }
    gaps
}

/// Run `jobs` on two threads (the build machine has two cores); results in job order.
fn parallel<T: Send, F: Fn(usize) -> T + Sync>(n: usize, f: F) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    break;
                }
                let r = f(i);
                out.lock().unwrap()[i] = Some(r);
            });
        }
    });
    out.into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let started = std::time::Instant::now();
    let horizons: Vec<usize> = if quick {
        vec![3, 5]
    } else {
        vec![3, 5, 10, 15, 20]
    };
    let seeds: Vec<u64> = if quick { vec![1] } else { vec![1, 2, 3] };
    let budget = if quick { 200 } else { 600 };
    // (a') is the slowest per episode (64 value look-ups per step); run it up to H = 10.
    let mut jobs = Vec::new();
    for &h in &horizons {
        for method in 0..4 {
            if method == 1 && h > 10 {
                continue;
            }
            for &seed in &seeds {
                jobs.push((h, method, seed));
            }
        }
    }
    let results = parallel(jobs.len(), |i| {
        let (h, m, s) = jobs[i];
        lock_run(h, m, s, budget)
    });

    println!("## Combination lock: episodes to an ε-optimal policy (ε = {EPSILON_OPT}, budget {budget})\n");
    println!("A = {ACTIONS}, {NOISE_DIMS} distractor coordinates, latent noise {LATENT_NOISE}; seeds {seeds:?}; entries: median [per seed], `>{budget}` = not reached.\n");
    print!("| H |");
    for m in METHODS {
        print!(" {m} |");
    }
    println!();
    println!("|---|---|---|---|---|");
    let mut series: Vec<Vec<(f64, f64)>> = vec![Vec::new(); 4];
    for &h in &horizons {
        print!("| {h} |");
        for (method, line) in series.iter_mut().enumerate() {
            let runs: Vec<Option<usize>> = jobs
                .iter()
                .zip(&results)
                .filter(|((jh, jm, _), _)| *jh == h && *jm == method)
                .map(|(_, r)| *r)
                .collect();
            if runs.is_empty() {
                print!(" – |");
                continue;
            }
            let values: Vec<f64> = runs
                .iter()
                .map(|r| r.map_or(budget as f64 + 1.0, |k| k as f64))
                .collect();
            let med = median(values);
            let per: Vec<String> = runs
                .iter()
                .map(|r| r.map_or(format!(">{budget}"), |k| k.to_string()))
                .collect();
            let med_s = if med > budget as f64 {
                format!(">{budget}")
            } else {
                format!("{med}")
            };
            print!(" {med_s} [{}] |", per.join(", "));
            line.push((h as f64, med.min(budget as f64 + 1.0)));
        }
        println!();
    }

    // Markov game: duality gap over episodes.
    let (episodes, every) = if quick { (50, 25) } else { (400, 25) };
    let game_seeds: Vec<u64> = if quick { vec![1] } else { vec![1, 2, 3] };
    let game_jobs: Vec<(bool, u64)> = [true, false]
        .iter()
        .flat_map(|&l| game_seeds.iter().map(move |&s| (l, s)))
        .collect();
    let gaps = parallel(game_jobs.len(), |i| {
        game_run(game_jobs[i].0, game_jobs[i].1, episodes, every)
    });
    println!("\n## Zero-sum low-rank Markov game: duality gap of the CCE marginals\n");
    println!("H = 5, S = 6, A = B = 3, d = 3, λ = 0.1, β = 1; mean over seeds {game_seeds:?}.\n");
    print!("| episodes |");
    let checkpoints: Vec<usize> = (0..=episodes).step_by(every).collect();
    for k in &checkpoints {
        print!(" {k} |");
    }
    println!();
    println!("|---|{}", "---|".repeat(checkpoints.len()));
    let mut game_series = Vec::new();
    let reference: Vec<(f64, f64)> = game_seeds
        .iter()
        .map(|&s| {
            let mut rng = ChaCha8Rng::seed_from_u64(s);
            let g = LowRankMarkovGame::new(5, 6, 3, 3, 3, &mut rng).unwrap();
            let uniform = vec![1.0 / 3.0; 5 * 6 * 3];
            (
                g.nash_value().unwrap(),
                g.duality_gap(&uniform, &uniform).unwrap(),
            )
        })
        .collect();
    for (label, learned) in [
        ("contrastive ULCB (learned)", true),
        ("ULCB (true features)", false),
    ] {
        print!("| {label} |");
        let runs: Vec<&Vec<f64>> = game_jobs
            .iter()
            .zip(&gaps)
            .filter(|((l, _), _)| *l == learned)
            .map(|(_, g)| g)
            .collect();
        let mut pts = Vec::new();
        for (i, k) in checkpoints.iter().enumerate() {
            let mean = runs.iter().map(|g| g[i]).sum::<f64>() / runs.len() as f64;
            print!(" {mean:.3} |");
            pts.push((*k as f64, mean));
        }
        println!();
        game_series.push((label, pts));
    }
    println!("\nPer seed (Nash value, duality gap of uniform play): {reference:.3?}");

    // The smoke run keeps the committed plots untouched.
    let dir = if quick {
        std::env::temp_dir()
    } else {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/plots")
    };
    std::fs::create_dir_all(&dir).unwrap();
    let mut plot = spar_plot::LinePlot::new(
        "Combination lock: episodes to an ε-optimal policy (median over seeds)",
    )
    .x_label("horizon H")
    .y_label("episodes (capped at budget + 1)");
    for (m, pts) in METHODS.iter().zip(&series) {
        if !pts.is_empty() {
            plot = plot.series(m, pts);
        }
    }
    std::fs::write(dir.join("cucb-lock.svg"), plot.to_svg()).unwrap();
    let mut plot = spar_plot::LinePlot::new("Low-rank zero-sum Markov game: duality gap")
        .x_label("episodes")
        .y_label("duality gap of the CCE marginals");
    for (label, pts) in &game_series {
        plot = plot.series(label, pts);
    }
    std::fs::write(dir.join("cucb-game.svg"), plot.to_svg()).unwrap();
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
}
