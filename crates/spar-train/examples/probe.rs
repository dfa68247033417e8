//! Runs a config given as TOML on the command line's first argument and prints the held-out
//! evaluation before RL and at the end: `cargo run --release -p spar-train --example probe -- run.toml`.
use spar_model::{block_on, CpuKernels};
use spar_train::{TrainConfig, Trainer};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: probe CONFIG.toml")?;
    let cfg = TrainConfig::from_toml(&std::fs::read_to_string(path)?)?;
    let mut t = Trainer::new(cfg, Box::new(CpuKernels::new))?;
    let t0 = Instant::now();
    while t.step() < t.total_steps() {
        let at_rl = t.step() == t.config().sft.max_steps;
        if at_rl {
            let r = block_on(t.evaluate())?;
            if std::env::var("DBG").is_ok() {
                let probs: Vec<_> = t.data().pool[t.data().num_labelled..]
                    .iter()
                    .take(20)
                    .cloned()
                    .collect();
                let prompts: Vec<&str> = probs
                    .iter()
                    .flat_map(|p| std::iter::repeat_n(p.prompt.as_str(), 8))
                    .collect();
                let sc = spar_model::SampleConfig {
                    max_new_tokens: 4,
                    temperature: 1.0,
                    stop_tokens: vec![t.vocab().eos()],
                    ..Default::default()
                };
                let outs = block_on(t.sample(&prompts, &sc))?;
                let mut c = 0.0;
                for (i, o) in outs.iter().enumerate() {
                    c += t.task().verify(&probs[i / 8], o);
                    if i < 16 {
                        print!("{}{:?} ", prompts[i], o);
                    }
                }
                println!("\npool sampled acc {}", c / outs.len() as f64);
            }
            println!(
                "[{:.1}s] before RL: acc {:.3} pass {:?}",
                t0.elapsed().as_secs_f64(),
                r.accuracy,
                r.pass_at_k
            );
        }
        let m = block_on(t.train_step())?;
        if m.step % 25 == 0 {
            println!("[{:.1}s] {} step {} loss {:.4} reward {:.3} acc {:.3} lab {:?} ent {:.3} kl {:.4} len {:.2} gap {:.2e} clip {:.3} zs {:.2}", t0.elapsed().as_secs_f64(), m.phase, m.step, m.loss, m.reward, m.accuracy, m.label_accuracy, m.entropy, m.kl, m.completion_length, m.max_logprob_gap, m.clip_fraction, m.zero_spread_fraction);
        }
    }
    let r = block_on(t.evaluate())?;
    println!(
        "[{:.1}s] final: acc {:.3} pass {:?} rep {:.3}",
        t0.elapsed().as_secs_f64(),
        r.accuracy,
        r.pass_at_k,
        r.repetition_rate
    );
    Ok(())
}
