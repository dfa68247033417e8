//! The GRPO options against vanishing advantages (`grpo.replay = "ssr" | "spear"`,
//! `grpo.oversample_factor`, `grpo.entropy_coef`): their mechanics on a tiny model, their
//! validation, and (ignored, run by hand) the experiment of EXPERIMENTS.md.
// The experiment reads the shipped configs: the `std` feature (on by default).
#![cfg(feature = "std")]
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

use spar_model::{block_on, CpuKernels};
use spar_train::config::{GrpoSection, ObjectiveName, ReplayName};
use spar_train::trainer::{ReplayItem, ReplayState};
use spar_train::{Snapshot, StepMetrics, TrainConfig, Trainer};

mod common;
use common::{after_sft, small, trainer};

/// A buffer item: pool problem `i`'s labelled completion with `reward` and `advantage`
/// (sampler log-probs −1 per completion token).
fn item(t: &Trainer<CpuKernels>, i: usize, reward: f64, advantage: f64) -> ReplayItem {
    let p = &t.data().pool[i];
    let mut tokens = t.vocab().encode(&p.prompt);
    let prompt_len = tokens.len();
    tokens.extend(t.vocab().encode(&p.completion));
    tokens.push(t.vocab().eos());
    let mut rollout = spar_train::rollout::Rollout::new(tokens, prompt_len);
    rollout.old_logprobs = vec![-1.0; rollout.completion_len()];
    rollout.reward = reward;
    ReplayItem { rollout, advantage }
}

/// One RL step from `snap` (with `replay` as its replay state) under `grpo`.
fn rl_step(
    t: &mut Trainer<CpuKernels>,
    snap: &Snapshot,
    replay: ReplayState,
    grpo: GrpoSection,
) -> (StepMetrics, Snapshot) {
    let mut s = snap.clone();
    s.state.replay = replay;
    t.restore(&s).unwrap();
    t.set_grpo(grpo).unwrap();
    let m = block_on(t.train_step()).unwrap();
    (m, block_on(t.snapshot()).unwrap())
}

/// Near-greedy sampling: every group's completions are identical, so no group has spread.
fn unanimous(c: &TrainConfig) -> GrpoSection {
    let mut g = c.grpo.clone();
    g.temperature = 1e-4;
    g
}

#[test]
fn with_replay_a_step_whose_groups_all_have_zero_spread_still_trains() {
    let c = small();
    let (mut t, snap) = after_sft(&c);
    // Plain GRPO: no group has spread, so every advantage is 0 and nothing is learnt.
    let (plain, _) = rl_step(&mut t, &snap, ReplayState::default(), unanimous(&c));
    assert_eq!(plain.zero_spread_fraction, 1.0);
    assert_eq!(plain.grad_norm, 0.0);
    assert_eq!(plain.replayed, 0);
    assert_eq!(plain.sampled_zero_spread_fraction, None);
    let buffer = vec![item(&t, 0, 1.0, 1.5), item(&t, 1, 0.0, -0.5)];
    for kind in [ReplayName::Ssr, ReplayName::Spear] {
        let mut g = unanimous(&c);
        g.replay = kind;
        let state = ReplayState {
            buffer: buffer.clone(),
            recent_rewards: vec![0.0; 40],
        };
        let (m, after) = rl_step(&mut t, &snap, state, g);
        assert_eq!(m.sampled_zero_spread_fraction, Some(1.0), "{kind:?}");
        assert_eq!(m.replayed, 16, "{kind:?}: every slot replayed");
        // SSR trains with the stored advantages (1.5, −0.5), SPEAR with R − median = 1 for
        // the reward-1 item only: none is 0.
        assert_eq!(m.zero_advantage_fraction, Some(0.0), "{kind:?}");
        assert!(
            m.grad_norm > 0.0,
            "{kind:?}: the replayed completions carry a gradient"
        );
        // Nothing of this step had an advantage: the buffer is as it was.
        assert_eq!(after.state.replay.buffer, buffer, "{kind:?}");
        let recent = if kind == ReplayName::Spear { 56 } else { 40 };
        assert_eq!(after.state.replay.recent_rewards.len(), recent, "{kind:?}");
    }
    // SPEAR with a baseline at the top keeps nothing: the step trains as sampled.
    let mut g = unanimous(&c);
    g.replay = ReplayName::Spear;
    let state = ReplayState {
        buffer,
        recent_rewards: vec![1.0; 40],
    };
    let (m, _) = rl_step(&mut t, &snap, state, g);
    assert_eq!((m.replayed, m.grad_norm), (0, 0.0));
    assert_eq!(m.zero_advantage_fraction, Some(1.0));
}

#[test]
fn replay_fills_its_buffer_with_the_steps_signal_and_caps_it() {
    let mut c = small();
    c.sft.max_steps = 60; // enough that some sums come out right, some wrong
    c.grpo.max_steps = 6;
    c.grpo.replay = ReplayName::Ssr;
    c.grpo.replay_buffer_size = 20;
    let mut t = trainer(&c);
    let mut replayed = 0;
    let mut last = 0;
    while t.step() < t.total_steps() {
        let m = block_on(t.train_step()).unwrap();
        if m.phase == "sft" {
            continue;
        }
        replayed += m.replayed;
        let snap = block_on(t.snapshot()).unwrap();
        let buf = &snap.state.replay.buffer;
        assert!(buf.len() <= 20);
        assert!(buf.iter().all(|it| it.advantage != 0.0));
        assert!(
            snap.state.replay.recent_rewards.is_empty(),
            "SSR keeps no rewards"
        );
        last = buf.len();
    }
    assert!(last > 0, "some group had spread");
    assert!(replayed > 0, "some zero-spread group was replaced");
}

#[test]
fn oversampling_trains_the_configured_group_and_keeps_spread_where_it_was_sampled() {
    let mut c = small();
    c.grpo.oversample_factor = 4;
    let (mut t, snap) = after_sft(&c);
    for _ in 0..3 {
        let m = block_on(t.train_step()).unwrap();
        assert_eq!(m.num_groups, 4, "16 completions trained, groups of 4");
        // A trained group has spread exactly when its 16 sampled completions had.
        assert_eq!(m.sampled_zero_spread_fraction, Some(m.zero_spread_fraction));
        assert_eq!(m.replayed, 0);
    }
    // The entropy bonus: with no group spread the policy loss is 0, the loss is −c·H and it
    // alone moves the parameters.
    for coef in [0.0, 0.05] {
        let mut g = unanimous(&c);
        g.oversample_factor = 2;
        g.entropy_coef = coef;
        let (m, _) = rl_step(&mut t, &snap, ReplayState::default(), g);
        assert_eq!(m.zero_spread_fraction, 1.0);
        assert!(
            (m.loss + coef * m.entropy).abs() < 1e-12,
            "{coef}: {}",
            m.loss
        );
        assert_eq!(m.grad_norm > 0.0, coef > 0.0, "{coef}");
    }
}

#[test]
fn bad_option_values_are_refused_by_name() {
    type Edit = fn(&mut GrpoSection);
    let cases: [(&str, Edit); 9] = [
        ("grpo.replay_buffer_size", |g| {
            g.replay = ReplayName::Ssr;
            g.replay_buffer_size = 0;
        }),
        ("grpo.replay", |g| {
            g.replay = ReplayName::Spear;
            g.objective = ObjectiveName::Nft;
        }),
        ("grpo.spear_percentile", |g| g.spear_percentile = 1.5),
        ("grpo.spear_reward_window", |g| {
            g.replay = ReplayName::Spear;
            g.spear_reward_window = 0;
        }),
        ("grpo.oversample_factor", |g| g.oversample_factor = 0),
        ("grpo.oversample_factor", |g| g.oversample_factor = 17),
        ("grpo.entropy_coef", |g| g.entropy_coef = -0.1),
        ("grpo.clip_cov_fraction", |g| g.clip_cov_fraction = 1.5),
        ("grpo.clip_cov_high", |g| {
            g.clip_cov_low = 5.0;
            g.clip_cov_high = 1.0;
        }),
    ];
    for (key, edit) in cases {
        let mut c = small();
        edit(&mut c.grpo);
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains(key), "{key}: {e}");
    }
    let e = TrainConfig::from_toml("[grpo]\nreplay = \"sil\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("replay") || e.contains("sil"), "{e}");
    // The defaults leave every option off.
    let d = GrpoSection::default();
    assert_eq!(d.replay, ReplayName::None);
    assert_eq!((d.oversample_factor, d.entropy_coef), (1, 0.0));
    assert!(d.clip_cov().is_none());
}

/// Clip-Cov in the policy-gradient backward: with a band that holds every covariance and a
/// share of 1, every token that had a gradient loses it (gradient norm 0); with a share of
/// ½ about half of them do (the norm falls but stays above 0); off, the backward is the
/// plain one.
#[test]
fn clip_cov_removes_the_gradient_of_the_selected_tokens() {
    use spar_losses::clip_cov::ClipCovConfig;
    use spar_losses::ppo_clip::{Advantages, PolicyLossConfig};
    use spar_model::{Gpt, GptConfig};
    use spar_train::optim::OptimConfig;
    use spar_train::pg::{ClipCovSpec, PgSpec};
    use spar_train::policy::Policy;
    use spar_train::rollout::Rollout;
    let norm = |fraction: Option<f64>| {
        let mut gpt = Gpt::new(CpuKernels::new(), GptConfig::new(8, 8, 8, 1, 2), 4, 8).unwrap();
        gpt.init_params(0);
        let mut policy = Policy::new(gpt, OptimConfig::default(), 10);
        let rollouts = [
            Rollout::new(vec![1, 2, 3, 4, 5], 2),
            Rollout::new(vec![1, 2, 4, 4, 6], 2),
            Rollout::new(vec![1, 3, 5, 2, 7], 2),
            Rollout::new(vec![1, 3, 6, 6, 1], 2),
        ];
        let refs: Vec<&Rollout> = rollouts.iter().collect();
        let adv = [1.0, -1.0, 0.5, -0.5];
        let mut spec =
            PgSpec::on_policy(PolicyLossConfig::default(), Advantages::PerSequence(&adv));
        spec.clip_cov = fraction.map(|fraction| ClipCovSpec {
            config: ClipCovConfig {
                fraction,
                low: -1e9,
                high: 1e9,
            },
            seed: 3,
        });
        let out = block_on(policy.policy_gradient(&refs, &spec, None, 8, 0)).unwrap();
        let step = block_on(policy.step(0)).unwrap();
        (step.grad_norm, out.clip_cov)
    };
    let (plain, none) = norm(None);
    assert!(plain > 0.0 && none.is_none());
    let (all, stats) = norm(Some(1.0));
    let stats = stats.unwrap();
    assert_eq!(all, 0.0);
    assert_eq!(
        (stats.num_tokens, stats.in_band, stats.selected),
        (12, 12, 12)
    );
    let (half, stats) = norm(Some(0.5));
    assert_eq!(stats.unwrap().selected, 6);
    assert!(half > 0.0 && half < plain, "{half} against {plain}");
}

/// A run with Clip-Cov reports its share and covariance every RL step and resumes bit for bit
/// (the draw is seeded by the run's seed and step).
#[test]
fn a_clip_cov_run_reports_and_resumes_exactly() {
    let mut c = small();
    c.grpo.clip_cov_fraction = 0.2;
    c.grpo.clip_cov_low = -1e9;
    c.grpo.clip_cov_high = 1e9;
    let metrics = common::assert_resumes_exactly(&c, c.sft.max_steps + 1);
    for m in metrics.iter().filter(|m| m.phase == "rl") {
        let share = m.clip_cov_fraction.unwrap();
        assert!(
            (0.0..=0.2 + 1e-12).contains(&share) || m.zero_spread_fraction == 1.0,
            "{m:?}"
        );
        assert!(m.token_covariance.unwrap().is_finite());
    }
    assert!(metrics
        .iter()
        .all(|m| m.phase == "rl" || m.clip_cov_fraction.is_none()));
}

/// The experiment of EXPERIMENTS.md ("replay, recalibration and oversampling as GRPO
/// options"): per seed one SFT start from `configs/verifier.toml`, then plain verifier GRPO
/// and the `[grpo]` sections of `configs/grpo_ssr.toml`, `grpo_spear.toml`, `grpo_t1.toml`,
/// `grpo_spear_clip_cov.toml` (which must otherwise equal the plain config) from that start. Prints per arm the mean
/// over RL of the sampled groups' zero-spread share and of the trained completions'
/// zero-advantage share, and held-out greedy accuracy every `EVERY` steps with the final
/// sampled pass@1. Environment: `SEEDS` (default `1,2,3`), `RL_STEPS` (default the config's),
/// `EVERY` (default 100), `ARMS` (a comma list of the arms to run), `EXTRA` (more arms,
/// `NAME:KEY=VALUE+KEY=VALUE;…` as `[grpo]` overrides of the plain config).
#[test]
#[ignore = "the experiment: minutes of CPU; run by hand with --ignored --nocapture"]
fn experiment_grpo_options() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let read = |name: &str| {
        let text = std::fs::read_to_string(root.join("configs").join(name)).unwrap();
        TrainConfig::from_toml(&text).unwrap()
    };
    let plain = read("verifier.toml");
    let mut arms: Vec<(String, GrpoSection)> = [
        ("plain", "verifier.toml"),
        ("ssr", "grpo_ssr.toml"),
        ("spear", "grpo_spear.toml"),
        ("t1", "grpo_t1.toml"),
        ("spear_clip_cov", "grpo_spear_clip_cov.toml"),
    ]
    .into_iter()
    .map(|(arm, file)| {
        let mut c = read(file);
        let g = c.grpo.clone();
        c.grpo = plain.grpo.clone();
        c.output_dir = plain.output_dir.clone();
        assert_eq!(c, plain, "{file} differs from verifier.toml outside [grpo]");
        (arm.to_string(), g)
    })
    .collect();
    let env = |k: &str| std::env::var(k).ok();
    // More arms: `EXTRA="NAME:KEY=VALUE+KEY=VALUE;NAME:…"`, `[grpo]` overrides of the plain config.
    for spec in env("EXTRA")
        .unwrap_or_default()
        .split(';')
        .filter(|s| !s.is_empty())
    {
        let (name, parts) = spec.split_once(':').expect("EXTRA arm is NAME:KEY=VALUE+…");
        let parts: Vec<&str> = parts.split('+').collect();
        let g = spar_train::config::with_overrides(&plain.grpo, &parts).unwrap();
        arms.push((name.to_string(), g));
    }
    if let Some(only) = env("ARMS") {
        let only: Vec<&str> = only.split(',').collect();
        arms.retain(|(a, _)| only.contains(&a.as_str()));
    }
    let seeds: Vec<u64> = env("SEEDS")
        .unwrap_or_else(|| "1,2,3".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let every: u32 = env("EVERY").map_or(100, |e| e.parse().unwrap());
    let rl_steps: u32 = env("RL_STEPS").map_or(plain.grpo.max_steps, |e| e.parse().unwrap());
    for seed in seeds {
        let mut cfg = plain.clone();
        cfg.seed = seed;
        cfg.grpo.max_steps = rl_steps;
        let (mut t, start) = after_sft(&cfg);
        let sft = block_on(t.evaluate()).unwrap();
        println!(
            "seed {seed} SFT: greedy {:.3} pass@1 {:.3}",
            sft.accuracy,
            sft.pass_at(1).unwrap_or(f64::NAN)
        );
        for (arm, g) in &arms {
            let mut g = g.clone();
            g.max_steps = rl_steps;
            t.restore(&start).unwrap();
            t.set_grpo(g).unwrap();
            let mut curve = vec![format!("0:{:.3}", sft.accuracy)];
            let (mut sampled, mut trained, mut replayed, mut entropy) = (0.0, 0.0, 0usize, 0.0);
            // Clip-Cov's detached share and the token covariance (0 with it off), and the
            // entropy of the last 50 steps (the collapse Clip-Cov is meant to hold off).
            let (mut detached, mut covariance, mut late_entropy) = (0.0, 0.0, 0.0);
            let mut end = None;
            while t.step() < t.total_steps() {
                let m = block_on(t.train_step()).unwrap();
                // Without replay or oversampling both shares are the trained groups' (for
                // 0/1 rewards a group without spread is exactly one of zero advantages).
                sampled += m
                    .sampled_zero_spread_fraction
                    .unwrap_or(m.zero_spread_fraction);
                trained += m.zero_advantage_fraction.unwrap_or(m.zero_spread_fraction);
                replayed += m.replayed;
                entropy += m.entropy;
                detached += m.clip_cov_fraction.unwrap_or(0.0);
                covariance += m.token_covariance.unwrap_or(0.0);
                let done = t.step() - cfg.sft.max_steps;
                if done + 50 > rl_steps {
                    late_entropy += m.entropy / 50f64.min(rl_steps as f64);
                }
                if done % every == 0 || done == rl_steps {
                    let r = block_on(t.evaluate()).unwrap();
                    curve.push(format!("{done}:{:.3}", r.accuracy));
                    end = Some(r);
                }
            }
            let r = end.unwrap();
            let n = rl_steps as f64;
            println!(
                "seed {seed} arm {arm}: sampled zero-spread {:.3} trained zero-advantage {:.3} \
                 replayed/step {:.1} entropy {:.3} (last 50 steps {:.3}) clip-cov share {:.4} \
                 token covariance {:.4} | greedy {:.3} pass@1 {:.3} | curve {}",
                sampled / n,
                trained / n,
                replayed as f64 / n,
                entropy / n,
                late_entropy,
                detached / n,
                covariance / n,
                r.accuracy,
                r.pass_at(1).unwrap_or(f64::NAN),
                curve.join(",")
            );
        }
    }
}

/// T1's refreshed reference: every `ref_refresh_steps` RL steps the reference is the current
/// policy again, so the step's KL to it is exactly 0; without the refresh it has grown.
#[test]
fn a_refreshed_reference_restarts_the_kl_at_zero() {
    let kls = |refresh: u32| {
        let mut c = small();
        c.grpo.beta = 0.04;
        c.grpo.max_steps = 4;
        c.grpo.ref_refresh_steps = refresh;
        c.grpo.optim.learning_rate = Some(1e-2);
        c.grpo.entropy_coef = 0.5; // moves the policy whether or not groups have spread
        let mut t = trainer(&c);
        let mut kl = Vec::new();
        while t.step() < t.total_steps() {
            let m = block_on(t.train_step()).unwrap();
            if m.phase == "rl" {
                kl.push(m.kl);
            }
        }
        kl
    };
    let (off, on) = (kls(0), kls(2));
    assert_eq!(off[..2], on[..2], "the same run before the first refresh");
    assert_eq!((off[0], on[0], on[2]), (0.0, 0.0, 0.0), "{off:?} {on:?}");
    assert!(off[2] > 0.0 && on[3] > 0.0, "{off:?} {on:?}");
}

/// A run with a refreshed reference resumes bit for bit across a refresh.
#[test]
fn a_refreshed_reference_resumes_exactly() {
    let mut c = small();
    c.grpo.beta = 0.04;
    c.grpo.max_steps = 4;
    c.grpo.ref_refresh_steps = 2;
    c.grpo.entropy_coef = 0.5;
    common::assert_resumes_exactly(&c, c.sft.max_steps + 2);
}
