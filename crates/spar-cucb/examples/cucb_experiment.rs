//! Quick probe (to be replaced by the full experiment).
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use spar_cucb::contrastive::ContrastiveConfig;
use spar_cucb::contrastive_ucb::*;
use spar_cucb::env::CombinationLock;

fn main() {
    let ev = |k: &str, d: f64| {
        std::env::var(k)
            .ok()
            .map(|s| s.parse::<f64>().unwrap())
            .unwrap_or(d)
    };
    let h = ev("H", 5.0) as usize;
    let which = ev("W", 0.0) as usize;
    let beta = ev("BETA", 0.1);
    let lambda = ev("LAM", 0.1);
    let noise = ev("NOISE", 8.0) as usize;
    let steps = ev("STEPS", 5.0) as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(ev("SEED", 1.0) as u64);
    let env = CombinationLock::new(h, 4, noise, 0.1, &mut rng).unwrap();
    let learned = FeatureSource::Learned(ContrastiveConfig {
        feature_dim: ev("D", 12.0) as usize,
        init_scale: ev("INIT", 1.0),
        learning_rate: ev("LR", 0.03),
        weight_decay: ev("WD", 0.0),
        ..Default::default()
    });
    let base = AgentConfig {
        features: learned,
        beta,
        lambda,
        train_steps: steps,
        batch_size: ev("BATCH", 32.0) as usize,
        ..Default::default()
    };
    let config = match which {
        0 => base,
        1 => AgentConfig {
            features: FeatureSource::True,
            ..base
        },
        _ => AgentConfig {
            exploration: Exploration::EpsilonGreedy { epsilon: 0.1 },
            ..base
        },
    };
    let mut agent = ContrastiveUcb::new(&env, config, &mut rng).unwrap();
    let t = std::time::Instant::now();
    for k in 0..ev("K", 400.0) as usize {
        let r = agent.run_episode(&env, &mut rng).unwrap();
        let score = agent.evaluate(&env, 10, &mut rng).unwrap();
        if k % 50 == 0 || score >= 0.9 {
            println!(
                "k {k} ret {r} eval {score} t {:.2}",
                t.elapsed().as_secs_f64()
            );
        }
        if score >= 0.9 {
            break;
        }
        if ev("DIAG", 0.0) > 0.0 && k % 100 == 99 {
            use spar_cucb::env::LatentMdp;
            for lvl in [0usize, 2, h - 1] {
                println!(
                    "level {lvl} good actions {} {}",
                    env.good_action(lvl, 0),
                    env.good_action(lvl, 1)
                );
                for z in 0..3 {
                    let mut o = vec![0.0; env.obs_dim()];
                    env.observe(lvl, z, &mut rng, &mut o);
                    let mut q = vec![0.0; 4];
                    agent.q_values(&env, lvl, &o, &mut q).unwrap();
                    let mut line = format!("  z{z} q {:.3?}", q);
                    if let Some(m) = agent.model(lvl) {
                        for a in 0..4 {
                            let mut f = vec![0.0; m.feature_dim()];
                            m.phi(&o, a, &mut f).unwrap();
                            let b = agent.gram(lvl).unwrap().bonus(&f, 1.0).unwrap();
                            line += &format!(" | a{a} b {b:.2} phi {:.2?}", f);
                        }
                    }
                    println!("{line}");
                }
            }
        }
    }
}
