//! Exploitability of Kuhn self-play over seeds, two modes:
//!
//! * `kuhn_probe MASK ENT LR STEPS [LEGAL_COEF]`: the first runs' sweep (seeds 0–2, the
//!   default config with those values, the first published runs' optimiser).
//! * `kuhn_probe --config FILE [--config FILE …] [--seeds 0,1,2] [--plot OUT.svg]`: each
//!   config (a `configs/kuhn_selfplay.toml`-style file) on each seed: the current and the
//!   average policy's exploitability every 100 steps, distillation's result when the config
//!   asks for it, the equilibrium check of the final model, the games needed to reach 0.05
//!   and 0.02, and CFR's games' worth for the same levels. `--plot` draws exploitability
//!   against games played (log-log) beside CFR's and CFR+'s reference curves: the current
//!   policy of a config without distillation, the average policy of one with it.
use spar_model::{block_on, CpuKernels};
use spar_tasks::kuhn::cfr::{exploitability_curve, iterations_to, CfrVariant};
use spar_tasks::kuhn::{equilibrium_check, exploitability, information_sets};
use spar_train::kuhn_selfplay::{KuhnConfig, KuhnSelfPlay};
use spar_train::optim::OptimConfig;

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.first().is_some_and(|x| x == "--config") {
        return configs(&a);
    }
    for seed in 0..3 {
        let cfg = KuhnConfig {
            seed,
            mask_illegal: a[0] == "1",
            entropy_coef: a[1].parse().unwrap(),
            optim: OptimConfig::first_wave(a[2].parse().unwrap()),
            max_steps: a[3].parse().unwrap(),
            legal_coef: a.get(4).map_or(1.0, |v| v.parse().unwrap()),
            ..KuhnConfig::default()
        };
        let mut sp = KuhnSelfPlay::new(cfg, CpuKernels::new()).unwrap();
        let before = block_on(sp.exploitability()).unwrap();
        let mut curve = vec![];
        while sp.step() < sp.config().max_steps {
            let m = block_on(sp.train_step()).unwrap();
            if m.step % 100 == 0 {
                curve.push(format!("{:.3}", m.exploitability));
            }
        }
        let (p, legal) = block_on(sp.induced_policy()).unwrap();
        println!(
            "seed {seed}: {before:.3} -> {:.3} legal {legal:.2} curve {}",
            exploitability(&p),
            curve.join(" ")
        );
    }
}

/// The first number of games after which `series` (games, exploitability) stays ≤ `level`
/// up to its end.
fn games_to_stay(series: &[(f64, f64)], level: f64) -> Option<f64> {
    let last_above = series.iter().rposition(|p| p.1 > level);
    match last_above {
        None => series.first().map(|p| p.0),
        Some(i) => series.get(i + 1).map(|p| p.0),
    }
}

/// About 150 points of `series`, evenly spaced on a log scale of the index (for the plot).
fn thin(series: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let n = series.len();
    let mut keep: Vec<usize> = (0..150)
        .map(|k| (libm::pow(n as f64, k as f64 / 149.0) as usize).clamp(1, n) - 1)
        .collect();
    keep.dedup();
    keep.into_iter().map(|i| series[i]).collect()
}

fn configs(a: &[String]) {
    let mut files = vec![];
    let mut seeds: Vec<u64> = vec![0, 1, 2];
    let mut plot = None;
    let mut it = a.iter();
    while let Some(flag) = it.next() {
        let v = it.next().expect("every flag takes a value");
        match flag.as_str() {
            "--config" => files.push(v.clone()),
            "--seeds" => seeds = v.split(',').map(|s| s.parse().unwrap()).collect(),
            "--plot" => plot = Some(v.clone()),
            f => panic!("unknown flag {f}"),
        }
    }
    let mut svg = spar_plot::LinePlot::new("Kuhn poker: exploitability against games played")
        .x_label("games played (CFR: games' worth of tree walked)")
        .y_label("exploitability")
        .log_x(true)
        .log_y(true);
    for v in [CfrVariant::Vanilla, CfrVariant::Plus] {
        let c = exploitability_curve(v, 20_000, 1);
        let pts: Vec<(f64, f64)> = c
            .iter()
            .filter(|p| p.exploitability > 0.0)
            .map(|p| (p.games as f64, p.exploitability))
            .collect();
        svg.push_series(&format!("{v:?} CFR (average)"), &thin(&pts));
        for level in [0.05, 0.02] {
            if let Some(p) = iterations_to(v, level, 1_000_000) {
                println!(
                    "{v:?} CFR to {level}: {} iterations, {} games' worth",
                    p.iterations, p.games
                );
            }
        }
    }
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let name = std::path::Path::new(file)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for &seed in &seeds {
            let cfg = KuhnConfig {
                seed,
                ..KuhnConfig::from_toml(&text).unwrap()
            };
            let games = cfg.games_per_step as f64;
            let distill = cfg.distill_steps > 0;
            let mut sp = KuhnSelfPlay::new(cfg, CpuKernels::new()).unwrap();
            let before = block_on(sp.exploitability()).unwrap();
            let (mut cur, mut avg, mut log) = (vec![], vec![], vec![]);
            let mut report = None;
            while sp.step() < sp.config().max_steps {
                let m = block_on(sp.train_step()).unwrap();
                report = m.distill;
                let g = (m.step as f64 + 1.0) * games;
                cur.push((g, m.exploitability));
                avg.push((g, m.average_exploitability));
                if m.step % 100 == 0 {
                    log.push(format!(
                        "{:.3}/{:.3}",
                        m.exploitability, m.average_exploitability
                    ));
                }
            }
            // The model after the last step (and distillation, when the config asks for it).
            let (model, legal) = block_on(sp.induced_policy()).unwrap();
            let end_avg = exploitability(&sp.average_policy());
            let last_current = cur.last().map_or(before, |p| p.1);
            if !distill {
                cur.push(((sp.step() as f64 + 1.0) * games, exploitability(&model)));
            }
            println!(
                "{name} seed {seed}: {before:.3} -> current at the last step {last_current:.4}, average {end_avg:.4}, legal {legal:.3}; every 100 steps current/average {}",
                log.join(" ")
            );
            if let Some(r) = report {
                println!("  distilled: {r:?}");
            }
            let e = exploitability(&model);
            println!(
                "  model {e:.4}; {:?}; games to stay ≤ 0.05: current {:?}, average {:?}; ≤ 0.02: current {:?}, average {:?}",
                equilibrium_check(&model),
                games_to_stay(&cur, 0.05),
                games_to_stay(&avg, 0.05),
                games_to_stay(&cur, 0.02),
                games_to_stay(&avg, 0.02),
            );
            let bets: Vec<String> = information_sets()
                .map(|(h, c)| format!("{c:?}{h:?} {:.3}", model.prob_bet(c, h)))
                .collect();
            println!("  P(bet): {}", bets.join(", "));
            if distill {
                svg.push_series(&format!("{name} seed {seed} average"), &thin(&avg));
            } else {
                svg.push_series(&format!("{name} seed {seed}"), &thin(&cur));
            }
        }
    }
    if let Some(out) = plot {
        std::fs::write(&out, svg.to_svg()).unwrap();
        println!("plot: {out}");
    }
}
