//! Exploitability of Kuhn self-play over seeds: `kuhn_probe MASK ENT LR STEPS`.
use spar_model::{block_on, CpuKernels};
use spar_train::kuhn_selfplay::{KuhnConfig, KuhnSelfPlay};
use spar_train::optim::OptimConfig;
fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
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
            spar_tasks::kuhn::exploitability(&p),
            curve.join(" ")
        );
    }
}
