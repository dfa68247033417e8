//! What the page needs from a trainer, generic over the backend: the parity batch and its
//! log-probabilities, sampled completions for the panel, the downloadable checkpoint, a C0
//! training-step benchmark, and the policy panel of Kuhn-poker self-play.

use serde::Serialize;
use spar_model::{checkpoint, hf_config, AdamWConfig, Gpt, GptConfig, Kernels, SampleConfig};
use spar_tasks::kuhn::{exploitability, information_sets, History, KuhnPolicy};
use spar_train::kuhn_selfplay::{KuhnConfig, KuhnSelfPlay};
use spar_train::{TrainConfig, TrainError, Trainer};

/// The tiny run the browser test trains (also the page's "tiny" preset): 20 SFT steps and one
/// RL step of a 1-layer, 32-wide GPT on 1-digit addition.
pub const TINY_CONFIG_JSON: &str = include_str!("../tests/tiny.json");

/// Parses a run configuration from JSON (the `TrainConfig` fields; missing ones default).
pub fn parse_config(json: &str) -> Result<TrainConfig, String> {
    let cfg: TrainConfig = serde_json::from_str(json).map_err(|e| format!("config: {e}"))?;
    cfg.validate().map_err(|e| e.to_string())?;
    Ok(cfg)
}

/// A fixed batch for the parity check: the first (up to) four labelled problems, prompt then
/// reference completion then the end token, padded to the longest. Returns
/// `(tokens, targets, mask, batch)`, `batch × T` row-major.
pub fn parity_batch<K: Kernels>(trainer: &Trainer<K>) -> (Vec<u32>, Vec<u32>, Vec<bool>, usize) {
    let vocab = trainer.vocab();
    let seqs: Vec<Vec<u32>> = trainer
        .data()
        .pool
        .iter()
        .take(4)
        .map(|p| {
            let mut ids = vocab.encode(&p.prompt);
            ids.extend(vocab.encode(&p.completion));
            ids.push(vocab.eos());
            ids.truncate(trainer.config().model.n_positions + 1);
            ids
        })
        .collect();
    let t = seqs.iter().map(|s| s.len() - 1).max().unwrap_or(1).max(1);
    let b = seqs.len();
    let mut tokens = vec![0u32; b * t];
    let mut targets = vec![0u32; b * t];
    let mut mask = vec![false; b * t];
    for (i, s) in seqs.iter().enumerate() {
        let n = s.len() - 1;
        tokens[i * t..][..n].copy_from_slice(&s[..n]);
        targets[i * t..][..n].copy_from_slice(&s[1..]);
        mask[i * t..][..n].fill(true);
    }
    (tokens, targets, mask, b)
}

/// The model's per-token log-probabilities of [`parity_batch`] (masked positions are 0).
pub async fn parity_logprobs<K: Kernels>(trainer: &mut Trainer<K>) -> Result<Vec<f32>, String> {
    let (tokens, targets, mask, b) = parity_batch(trainer);
    let mut out = vec![0.0f32; tokens.len()];
    trainer
        .model()
        .logprobs(&tokens, &targets, Some(&mask), b, &mut out, None)
        .await
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// One row of the samples panel.
#[derive(Debug, Clone, Serialize)]
pub struct SampleRow {
    /// The held-out prompt.
    pub prompt: String,
    /// The greedy completion.
    pub completion: String,
    /// The reference completion.
    pub reference: String,
    /// Whether the task's verifier accepts the completion.
    pub correct: bool,
}

/// Greedy completions of the first `n` held-out problems.
pub async fn sample_rows<K: Kernels>(
    trainer: &mut Trainer<K>,
    n: usize,
) -> Result<Vec<SampleRow>, TrainError> {
    let problems: Vec<_> = trainer.data().eval.iter().take(n).cloned().collect();
    let prompts: Vec<&str> = problems.iter().map(|p| p.prompt.as_str()).collect();
    let cfg = SampleConfig {
        max_new_tokens: trainer.config().grpo.max_completion_length,
        temperature: 0.0,
        stop_tokens: vec![trainer.vocab().eos()],
        seed: 7,
        ..SampleConfig::default()
    };
    let outs = trainer.sample(&prompts, &cfg).await?;
    Ok(problems
        .iter()
        .zip(outs)
        .map(|(p, completion)| SampleRow {
            correct: trainer.task().verify(p, &completion) > 0.5,
            prompt: p.prompt.clone(),
            reference: p.completion.clone(),
            completion,
        })
        .collect())
}

/// The files of a checkpoint directory that `spar eval` loads, and Hugging Face
/// `AutoModelForCausalLM`/`AutoTokenizer` with them (the files `spar train` writes).
#[derive(Debug, Clone)]
pub struct ExportFiles {
    /// `model.safetensors` (GPT-2 names).
    pub model_safetensors: Vec<u8>,
    /// `config.json` (Hugging Face GPT-2 config, with the vocabulary's special token ids).
    pub config_json: String,
    /// `generation_config.json` (the token ids and greedy decoding, for `generate`).
    pub generation_config_json: String,
    /// `tokenizer.json` (byte-level BPE layout, one token per character).
    pub tokenizer_json: String,
    /// `tokenizer_config.json` (what `AutoTokenizer` reads beside `tokenizer.json`).
    pub tokenizer_config_json: String,
    /// `special_tokens_map.json` (the special tokens by role).
    pub special_tokens_map_json: String,
    /// `train.toml` (the run's config).
    pub train_toml: String,
    /// `state.json` (step counters; marks the directory as a checkpoint for `spar eval`).
    pub state_json: String,
}

/// The trainer's current model as checkpoint files.
pub async fn export<K: Kernels>(trainer: &mut Trainer<K>) -> Result<ExportFiles, String> {
    let cfg = *trainer.model().config();
    // The snapshot refuses non-finite parameters, so a download never holds one.
    let snap = trainer.snapshot().await.map_err(|e| e.to_string())?;
    let model_safetensors = checkpoint::to_bytes(&cfg, &snap.params).map_err(|e| e.to_string())?;
    let state_json = serde_json::to_string_pretty(&snap.state).map_err(|e| e.to_string())?;
    let ids = trainer.vocab().token_ids();
    Ok(ExportFiles {
        model_safetensors,
        config_json: hf_config::to_json_with_tokens(&cfg, &ids),
        generation_config_json: hf_config::generation_config_json(&cfg, &ids),
        tokenizer_json: trainer.vocab().to_json(),
        tokenizer_config_json: trainer.vocab().tokenizer_config_json(cfg.n_positions),
        special_tokens_map_json: trainer.vocab().special_tokens_map_json(),
        train_toml: train_toml(trainer.config()),
        state_json,
    })
}

/// The run's config as TOML (what `spar eval` reads beside the model).
pub fn train_toml(cfg: &TrainConfig) -> String {
    cfg.to_toml()
}

/// A GPT of the C0 reference shape (BASELINES.md: V 64, T 64, C 64, 2 layers, 2 heads,
/// batch 32) on `kernels`, initialised from seed 0, with a fixed random batch.
pub struct C0Bench<K: Kernels> {
    gpt: Gpt<K>,
    tokens: Vec<u32>,
    targets: Vec<u32>,
    batch: usize,
}

impl<K: Kernels> C0Bench<K> {
    /// Builds the model and its batch.
    pub fn new(kernels: K) -> Result<Self, String> {
        let cfg = GptConfig::C0;
        let batch = 32;
        let mut gpt = Gpt::new(kernels, cfg, batch, cfg.n_positions).map_err(|e| e.to_string())?;
        gpt.init_params(0);
        // A small LCG: the batch only needs to be fixed, not good randomness.
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let n = batch * cfg.n_positions + 1;
        let ids: Vec<u32> = (0..n)
            .map(|_| {
                s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                ((s >> 33) % cfg.vocab_size as u64) as u32
            })
            .collect();
        Ok(Self {
            gpt,
            tokens: ids[..n - 1].to_vec(),
            targets: ids[1..].to_vec(),
            batch,
        })
    }

    /// One forward + backward + AdamW step; returns the loss.
    pub async fn step(&mut self) -> Result<f32, String> {
        let opt = AdamWConfig::default();
        self.gpt
            .train_step_sft(&self.tokens, &self.targets, self.batch, &opt, 1e-3)
            .await
            .map_err(|e| e.to_string())
    }

    /// The model (for backend checks).
    pub fn gpt(&mut self) -> &mut Gpt<K> {
        &mut self.gpt
    }
}

/// The Kuhn-poker self-play run of the page's "tiny" size (and of the browser test): the
/// average-policy recipe's levers (half the games against the average policy, quadratic
/// averaging, the entropy schedule, a decaying learning rate, distillation of the average at
/// the end) on the library's default model, with few steps and games.
pub const KUHN_TINY_CONFIG_JSON: &str = include_str!("../tests/kuhn_tiny.json");

/// The page's "tiny" Kuhn run as complete `KuhnConfig` JSON ([`KUHN_TINY_CONFIG_JSON`] with
/// the library's defaults filled in).
pub fn kuhn_tiny_config_json() -> Result<String, String> {
    let cfg = parse_kuhn_config(KUHN_TINY_CONFIG_JSON)?;
    serde_json::to_string(&cfg).map_err(|e| e.to_string())
}

/// The average-policy recipe (`configs/kuhn_selfplay_average.toml`, EXPERIMENTS.md "Kuhn: the
/// average policy"), the page's "small" Kuhn size.
pub const KUHN_AVERAGE_TOML: &str = include_str!("../../configs/kuhn_selfplay_average.toml");

/// The page's "small" Kuhn run as `KuhnConfig` JSON: [`KUHN_AVERAGE_TOML`] as shipped.
pub fn kuhn_small_config_json() -> Result<String, String> {
    let cfg = KuhnConfig::from_toml(KUHN_AVERAGE_TOML).map_err(|e| e.to_string())?;
    serde_json::to_string(&cfg).map_err(|e| e.to_string())
}

/// Parses a Kuhn self-play configuration from JSON (the `KuhnConfig` fields; missing ones
/// take the library's defaults).
pub fn parse_kuhn_config(json: &str) -> Result<KuhnConfig, String> {
    let cfg: KuhnConfig = serde_json::from_str(json).map_err(|e| format!("config: {e}"))?;
    cfg.validate().map_err(|e| e.to_string())?;
    Ok(cfg)
}

/// One information set of the policy panel.
#[derive(Debug, Clone, Serialize)]
pub struct KuhnPolicyRow {
    /// The player to move there (1 or 2).
    pub player: u8,
    /// The card held: `J`, `Q` or `K`.
    pub card: char,
    /// The public history in the prompt protocol (`-`, `p`, `b`, `pb`).
    pub history: &'static str,
    /// What `b` means there: `"bet"` or `"call"`.
    pub bet_means: &'static str,
    /// The model's P(bet | legal answer) there.
    pub p_bet: f64,
    /// The average policy's P(bet) there (absent before the first step).
    pub p_bet_average: Option<f64>,
    /// The range of P(bet) over the game's equilibria (player 1's bluffing frequency
    /// `α ∈ [0, 1/3]`; a single value where every equilibrium agrees).
    pub nash: [f64; 2],
}

/// The policy the model induces, what the page's policy panel shows.
#[derive(Debug, Clone, Serialize)]
pub struct KuhnPolicyView {
    /// Self-play steps done when it was read.
    pub step: u32,
    /// Exploitability of the model's policy (0 exactly at an equilibrium).
    pub exploitability: f64,
    /// Exploitability of the average of the policies played so far (absent before the first
    /// step); after distillation the model's policy is this average.
    pub average_exploitability: Option<f64>,
    /// Mean probability of a legal answer (`b` or `p`) over the 12 information sets.
    pub legal_mass: f64,
    /// The 12 information sets, player 1's first.
    pub rows: Vec<KuhnPolicyRow>,
}

/// Reads the model's induced policy at every information set, beside the run's average
/// policy (none before the first step).
pub async fn kuhn_policy<K: Kernels>(
    sp: &mut KuhnSelfPlay<K>,
) -> Result<KuhnPolicyView, TrainError> {
    let (policy, legal_mass) = sp.induced_policy().await?;
    let average = (sp.step() > 0).then(|| sp.average_policy());
    Ok(policy_view(
        sp.step(),
        &policy,
        legal_mass,
        average.as_ref(),
    ))
}

/// The panel's view of `policy` and, if given, the `average` policy (in player order: player
/// 1's opening and facing-a-bet sets, then player 2's).
pub fn policy_view(
    step: u32,
    policy: &KuhnPolicy,
    legal_mass: f64,
    average: Option<&KuhnPolicy>,
) -> KuhnPolicyView {
    let (lo, hi) = (
        KuhnPolicy::equilibrium(0.0).expect("0 is a valid alpha"),
        KuhnPolicy::equilibrium(1.0 / 3.0).expect("1/3 is a valid alpha"),
    );
    let mut rows = Vec::with_capacity(12);
    for h in [History::Start, History::PB, History::P, History::B] {
        for (h2, c) in information_sets() {
            if h2 != h {
                continue;
            }
            let (player, history, bet_means) = match h {
                History::Start => (1, "-", "bet"),
                History::PB => (1, "pb", "call"),
                History::P => (2, "p", "bet"),
                History::B => (2, "b", "call"),
            };
            let (a, b) = (lo.prob_bet(c, h), hi.prob_bet(c, h));
            rows.push(KuhnPolicyRow {
                player,
                card: ['J', 'Q', 'K'][c as usize],
                history,
                bet_means,
                p_bet: policy.prob_bet(c, h),
                p_bet_average: average.map(|a| a.prob_bet(c, h)),
                nash: [a.min(b), a.max(b)],
            });
        }
    }
    KuhnPolicyView {
        step,
        exploitability: exploitability(policy),
        average_exploitability: average.map(exploitability),
        legal_mass,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spar_model::{block_on, CpuKernels};

    #[test]
    fn policy_view_of_an_equilibrium_is_unexploitable_and_inside_the_nash_ranges() {
        let eq = KuhnPolicy::equilibrium(0.2).unwrap();
        let v = policy_view(0, &eq, 1.0, None);
        assert_eq!(v.rows.len(), 12);
        assert!(v.exploitability.abs() < 1e-12);
        for r in &v.rows {
            assert!(
                r.nash[0] - 1e-12 <= r.p_bet && r.p_bet <= r.nash[1] + 1e-12,
                "{r:?}"
            );
        }
        // Player 2 holding the king always calls a bet: every equilibrium agrees.
        let k_call = v
            .rows
            .iter()
            .find(|r| r.history == "b" && r.card == 'K')
            .unwrap();
        assert_eq!(k_call.nash, [1.0, 1.0]);
        assert_eq!(k_call.player, 2);
    }

    #[test]
    fn tiny_kuhn_run_steps_and_reads_a_finite_policy() {
        let cfg = parse_kuhn_config(KUHN_TINY_CONFIG_JSON).unwrap();
        let mut sp = KuhnSelfPlay::new(cfg, CpuKernels::new()).unwrap();
        let before = block_on(kuhn_policy(&mut sp)).unwrap();
        let m = block_on(sp.train_step()).unwrap();
        assert!((m.exploitability - before.exploitability).abs() < 1e-9);
        let after = block_on(kuhn_policy(&mut sp)).unwrap();
        assert_eq!(after.step, 1);
        assert!(after.exploitability.is_finite() && after.exploitability >= 0.0);
        assert!(after.legal_mass > 0.0 && after.legal_mass <= 1.0 + 1e-9);
        assert!(after.rows.iter().all(|r| (0.0..=1.0).contains(&r.p_bet)));
        assert_ne!(
            before.rows.iter().map(|r| r.p_bet).collect::<Vec<_>>(),
            after.rows.iter().map(|r| r.p_bet).collect::<Vec<_>>(),
            "one step moves the policy"
        );
    }

    #[test]
    fn policy_view_shows_the_average_beside_the_model() {
        let (model, avg) = (
            KuhnPolicy::always_bet(),
            KuhnPolicy::equilibrium(0.1).unwrap(),
        );
        let v = policy_view(3, &model, 0.9, Some(&avg));
        assert!((v.exploitability - 1.0 / 3.0).abs() < 1e-12);
        assert!(v.average_exploitability.unwrap().abs() < 1e-12);
        for r in &v.rows {
            assert_eq!(r.p_bet, 1.0);
            let a = r.p_bet_average.unwrap();
            assert!(r.nash[0] - 1e-12 <= a && a <= r.nash[1] + 1e-12, "{r:?}");
        }
        let json = serde_json::to_value(policy_view(0, &model, 0.9, None)).unwrap();
        assert!(json["average_exploitability"].is_null());
        assert!(json["rows"][0]["p_bet_average"].is_null());
    }

    #[test]
    fn the_small_kuhn_size_is_the_average_policy_recipe() {
        let cfg = parse_kuhn_config(&kuhn_small_config_json().unwrap()).unwrap();
        assert_eq!(cfg, KuhnConfig::from_toml(KUHN_AVERAGE_TOML).unwrap());
        assert!(cfg.opponent_average_fraction > 0.0 && cfg.distill_steps > 0);
        assert!(cfg.entropy_coef_end.unwrap() < cfg.entropy_coef);
        assert_eq!(
            cfg.average_weighting,
            spar_train::kuhn_selfplay::AverageWeighting::Quadratic
        );
        assert_eq!(
            cfg.optim.lr_scheduler_type,
            spar_train::optim::SchedulerType::Linear
        );
    }

    #[test]
    fn the_tiny_kuhn_run_uses_the_levers_and_its_average_falls_and_is_distilled() {
        let cfg = parse_kuhn_config(KUHN_TINY_CONFIG_JSON).unwrap();
        assert_eq!(
            parse_kuhn_config(&kuhn_tiny_config_json().unwrap()).unwrap(),
            cfg
        );
        let small = parse_kuhn_config(&kuhn_small_config_json().unwrap()).unwrap();
        // The recipe's levers, with fewer steps, games and distillation steps.
        assert_eq!(
            cfg.opponent_average_fraction,
            small.opponent_average_fraction
        );
        assert_eq!(cfg.average_weighting, small.average_weighting);
        assert_eq!(cfg.entropy_coef_end, small.entropy_coef_end);
        assert_eq!(cfg.optim, small.optim);
        assert!(cfg.distill_steps > 0);
        // The browser test's run: the tiny size cut to 12 steps.
        let cfg = KuhnConfig {
            max_steps: 12,
            ..cfg
        };
        let mut sp = KuhnSelfPlay::new(cfg, CpuKernels::new()).unwrap();
        let before = block_on(kuhn_policy(&mut sp)).unwrap();
        assert!(before.average_exploitability.is_none());
        let mut last = None;
        for _ in 0..12 {
            last = Some(block_on(sp.train_step()).unwrap());
        }
        let m = last.unwrap();
        let d = m.distill.expect("the last step distils");
        let after = block_on(kuhn_policy(&mut sp)).unwrap();
        let avg = after.average_exploitability.unwrap();
        assert_eq!(avg, m.average_exploitability);
        assert!(avg < before.exploitability - 0.03, "{avg}");
        // The model's policy is the average's after distillation.
        assert!((after.exploitability - avg).abs() < 0.005, "{after:?}");
        assert!((d.exploitability - after.exploitability).abs() < 1e-9);
        assert!(d.max_gap < 0.01 && after.legal_mass > 0.99, "{d:?}");
    }

    #[test]
    fn kuhn_config_rejects_a_charset_without_the_protocol() {
        let e = parse_kuhn_config(r#"{"model": {"n_layer": 1, "n_embd": 16, "n_head": 2, "n_positions": 12, "charset": "0123"}}"#)
            .unwrap_err();
        assert!(e.contains("charset"), "{e}");
    }
}
