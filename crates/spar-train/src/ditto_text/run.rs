//! The loop of DITTO on real text: the start (MLE from scratch), then one arm (MLE or DITTO)
//! from a snapshot of the start, and the evaluation (seq-rep-n of greedy continuations,
//! held-out perplexity). See the [module docs](super).

use super::data::{PseudoRepetition, TextData};
use super::metrics::{mean_seq_rep_n, perplexity};
use super::DittoTextConfig;
use crate::policy::{OptimizerSnapshot, Policy};
use crate::rollout::Batch;
use crate::vocab::CharVocab;
use crate::TrainError;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use spar_losses::ditto::ditto_loss;
use spar_model::{Gpt, GptConfig, Kernels, SampleConfig};

/// Stream of the start's training windows.
const START_STREAM: u64 = 0x7374_6172;
/// Stream of an arm's training windows (both arms draw the same ones).
const WINDOW_STREAM: u64 = 0x7769_6e64;
/// Stream of the DITTO arm's coin flips and pseudo-repetitive sequences.
const PSEUDO_STREAM: u64 = 0x7073_6575;
/// Continuations kept as text in each evaluation.
const SHOWN_SAMPLES: usize = 3;

/// The two ways to continue from the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// Plain MLE on the corpus (the baseline).
    Mle,
    /// MLE steps and, with probability `sequence_level_train_rate`, DITTO steps.
    Ditto,
}

impl Arm {
    /// The arm's name in metrics and directories.
    pub fn name(self) -> &'static str {
        match self {
            Arm::Mle => "mle",
            Arm::Ditto => "ditto",
        }
    }
}

/// What one training step reports.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    /// Steps done in this stage before this one.
    pub step: u32,
    /// Whether it was a pseudo-repetition (DITTO) step; otherwise an MLE step.
    pub pseudo: bool,
    /// The step's loss: mean token NLL, or the DITTO loss on a pseudo step.
    pub loss: f64,
    /// On a pseudo step, the mean probability of the penalised tokens (0 otherwise).
    pub repeated_prob: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f32,
    /// The learning rate used.
    pub learning_rate: f32,
}

/// What an evaluation reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalMetrics {
    /// Mean seq-rep-2 of the greedy continuations of the held-out prompts.
    pub seq_rep_2: f64,
    /// Mean seq-rep-4 of the same continuations.
    pub seq_rep_4: f64,
    /// Held-out perplexity (per BPE token).
    pub perplexity: f64,
    /// The first few `(prompt, greedy continuation)` pairs as text.
    pub samples: Vec<(String, String)>,
}

/// Parameters and optimiser state: the start both arms continue from.
#[derive(Debug, Clone, PartialEq)]
pub struct TextSnapshot {
    /// Parameters (flat layout).
    pub params: Vec<f32>,
    /// The optimiser.
    pub optimizer: OptimizerSnapshot,
}

/// A DITTO-on-text run: data, model and optimiser, and the random streams.
pub struct DittoText<K: Kernels> {
    config: DittoTextConfig,
    data: TextData,
    policy: Policy<K>,
    /// Training windows (the start's, then the arm's).
    windows: ChaCha8Rng,
    /// The DITTO arm's coin flips and pseudo-repetitive sequences.
    pseudo: ChaCha8Rng,
    arm: Option<Arm>,
    /// Steps done in the current stage.
    stage_step: u32,
    /// Held-out prompts (`prompt_len` ids).
    prompts: Vec<Vec<u32>>,
    /// The held-out text's own continuations of the prompts (`continuation_len` ids).
    references: Vec<Vec<u32>>,
    perplexity_windows: Vec<Vec<u32>>,
}

fn stream(seed: u64, id: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(id);
    rng
}

/// `seqs` as a batch whose every position is a target.
fn full_batch(seqs: &[Vec<u32>], t: usize) -> Batch {
    let pairs: Vec<(&[u32], usize)> = seqs.iter().map(|s| (s.as_slice(), 1)).collect();
    Batch::pad(&pairs, t)
}

impl<K: Kernels> DittoText<K> {
    /// Learns the vocabulary on `text`'s training part, encodes it and builds a freshly
    /// initialised model (from `config.seed`) on `kernels`.
    pub fn new(config: DittoTextConfig, text: &str, kernels: K) -> Result<Self, TrainError> {
        config.validate()?;
        let n = config.model.n_positions;
        let min_tokens = (n + 1) * 2;
        let data = TextData::new(
            text,
            config.corpus_bytes,
            config.vocab_size,
            config.heldout_fraction,
            min_tokens,
        )?;
        let m = &config.model;
        let gpt_config = GptConfig::new(data.vocab.vocab_size(), n, m.n_embd, m.n_layer, m.n_head);
        let capacity = config.batch_size.max(config.perplexity_windows.min(64));
        let mut gpt = Gpt::new(kernels, gpt_config, capacity, n)?;
        gpt.init_params(config.seed);
        let policy = Policy::new(gpt, config.start_optim, config.start_steps);
        let (prompts, references) = data
            .heldout_windows(
                config.eval_prompts,
                config.prompt_len + config.continuation_len,
            )
            .into_iter()
            .map(|mut w| {
                let rest = w.split_off(config.prompt_len);
                (w, rest)
            })
            .unzip();
        let perplexity_windows = data.heldout_windows(config.perplexity_windows, n + 1);
        Ok(Self {
            windows: stream(config.seed, START_STREAM),
            pseudo: stream(config.seed, PSEUDO_STREAM),
            arm: None,
            stage_step: 0,
            config,
            data,
            policy,
            prompts,
            references,
            perplexity_windows,
        })
    }

    /// The run's config.
    pub fn config(&self) -> &DittoTextConfig {
        &self.config
    }

    /// The vocabulary.
    pub fn vocab(&self) -> &CharVocab {
        &self.data.vocab
    }

    /// The token streams.
    pub fn data(&self) -> &TextData {
        &self.data
    }

    /// seq-rep-n of the held-out text's own continuations of the prompts: the level of
    /// repetition in real text, for comparison with the model's.
    pub fn reference_seq_rep(&self, n: usize) -> f64 {
        mean_seq_rep_n(&self.references, n)
    }

    /// The model and optimiser.
    pub fn policy(&mut self) -> &mut Policy<K> {
        &mut self.policy
    }

    /// The arm being trained (`None` during the start).
    pub fn arm(&self) -> Option<Arm> {
        self.arm
    }

    /// Steps done in the current stage.
    pub fn stage_step(&self) -> u32 {
        self.stage_step
    }

    /// One MLE step of the start (stage 1).
    pub async fn start_step(&mut self) -> Result<StepMetrics, TrainError> {
        if self.arm.is_some() {
            return Err(TrainError::Config(
                "the start is over: an arm has begun".into(),
            ));
        }
        self.mle_step().await
    }

    /// The current parameters and optimiser state.
    pub async fn snapshot(&mut self) -> Result<TextSnapshot, TrainError> {
        let (params, optimizer) = self.policy.snapshot(self.stage_step).await?;
        Ok(TextSnapshot { params, optimizer })
    }

    /// Restores `start` and begins `arm`: a fresh optimiser over `config.steps` steps
    /// (\[CODE\] `--reset-optimizer`), and the arm's random streams from their beginning, so
    /// that both arms draw the same training windows.
    pub fn begin_arm(&mut self, arm: Arm, start: &TextSnapshot) -> Result<(), TrainError> {
        self.policy.restore(&start.params, &start.optimizer)?;
        self.policy
            .begin_stage(self.config.optim, self.config.steps);
        self.windows = stream(self.config.seed, WINDOW_STREAM);
        self.pseudo = stream(self.config.seed, PSEUDO_STREAM);
        self.arm = Some(arm);
        self.stage_step = 0;
        Ok(())
    }

    /// One step of the current arm. Every step draws the same training windows in both
    /// arms; the DITTO arm replaces the MLE step by a pseudo-repetition step with probability
    /// `sequence_level_train_rate`.
    pub async fn arm_step(&mut self) -> Result<StepMetrics, TrainError> {
        let arm = self
            .arm
            .ok_or_else(|| TrainError::Config("no arm has begun: call begin_arm".into()))?;
        let coin = (self.pseudo.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        if arm == Arm::Ditto && coin < self.config.sequence_level_train_rate {
            // The windows are drawn all the same, so that the next MLE step reads the
            // windows the baseline reads at that step.
            self.draw_windows();
            self.ditto_step().await
        } else {
            self.mle_step().await
        }
    }

    fn draw_windows(&mut self) -> Vec<Vec<u32>> {
        let len = self.config.model.n_positions + 1;
        (0..self.config.batch_size)
            .map(|_| self.data.train_window(len, &mut self.windows))
            .collect()
    }

    async fn mle_step(&mut self) -> Result<StepMetrics, TrainError> {
        let windows = self.draw_windows();
        let batch = full_batch(&windows, self.config.model.n_positions);
        let loss = self
            .policy
            .nll_backward(&batch, 1.0, self.stage_step)
            .await?;
        self.finish_step(false, loss, 0.0).await
    }

    /// A batch of pseudo-repetitive sequences, the DITTO loss's per-token weights
    /// back-propagated.
    async fn ditto_step(&mut self) -> Result<StepMetrics, TrainError> {
        let n = self.config.model.n_positions;
        let seqs: Vec<PseudoRepetition> = (0..self.config.batch_size)
            .map(|_| self.data.pseudo_sequence(n + 1, &mut self.pseudo))
            .collect::<Result<_, _>>()?;
        let tokens: Vec<Vec<u32>> = seqs.iter().map(|s| s.tokens.clone()).collect();
        let batch = full_batch(&tokens, n);
        let (lp, _) = self.policy.logprobs(&batch, false, self.stage_step).await?;
        let lp: Vec<f64> = lp.iter().map(|&x| x as f64).collect();
        // Target `t` predicts token `t + 1`: token `j` of the sequence is target `j − 1`, so
        // the first copy starts at target `prefix_len − 1` and every token of the later
        // copies is penalised against the one a period earlier.
        let prefix: Vec<usize> = seqs.iter().map(|s| s.prefix_len - 1).collect();
        let periods: Vec<usize> = seqs.iter().map(|s| s.period).collect();
        let mut grad = vec![0.0f64; lp.len()];
        let loss = ditto_loss(
            &lp,
            &batch.mask,
            batch.b,
            batch.t,
            &prefix,
            &periods,
            &self.config.ditto(),
            &mut grad,
        )?;
        let repeated_prob = repeated_prob(&lp, &batch, &prefix, &periods);
        let weights: Vec<f32> = grad.iter().map(|&g| g as f32).collect();
        self.policy.backward(&weights, None)?;
        self.finish_step(true, loss, repeated_prob).await
    }

    async fn finish_step(
        &mut self,
        pseudo: bool,
        loss: f64,
        repeated_prob: f64,
    ) -> Result<StepMetrics, TrainError> {
        let out = self.policy.step(self.stage_step).await?;
        let m = StepMetrics {
            step: self.stage_step,
            pseudo,
            loss,
            repeated_prob,
            grad_norm: out.grad_norm,
            learning_rate: out.learning_rate,
        };
        self.stage_step += 1;
        Ok(m)
    }

    /// The DITTO loss of the current model on `seq` (no gradient is kept).
    pub async fn ditto_loss_on(&mut self, seq: &PseudoRepetition) -> Result<f64, TrainError> {
        let n = self.config.model.n_positions;
        let batch = full_batch(core::slice::from_ref(&seq.tokens), n);
        let (lp, _) = self.policy.logprobs(&batch, false, self.stage_step).await?;
        let lp: Vec<f64> = lp.iter().map(|&x| x as f64).collect();
        let mut grad = vec![0.0f64; lp.len()];
        Ok(ditto_loss(
            &lp,
            &batch.mask,
            1,
            batch.t,
            &[seq.prefix_len - 1],
            &[seq.period],
            &self.config.ditto(),
            &mut grad,
        )?)
    }

    /// Held-out perplexity and seq-rep-2/4 of the greedy continuations of the held-out
    /// prompts (`continuation_len` new tokens each, or fewer if the end token comes).
    pub async fn evaluate(&mut self) -> Result<EvalMetrics, TrainError> {
        let n = self.config.model.n_positions;
        let capacity = self.policy.model_ref().capacity().0;
        let (mut sum, mut count) = (0.0f64, 0usize);
        for chunk in self.perplexity_windows.chunks(capacity) {
            let batch = full_batch(chunk, n);
            let (lp, _) = self.policy.logprobs(&batch, false, self.stage_step).await?;
            sum += lp.iter().map(|&x| x as f64).sum::<f64>();
            count += batch.num_tokens();
        }
        let eos = self.data.vocab.eos();
        let sc = SampleConfig {
            max_new_tokens: self.config.continuation_len,
            temperature: 0.0,
            top_k: 0,
            top_p: 1.0,
            stop_tokens: vec![eos],
            seed: self.config.seed,
        };
        let prompts: Vec<&[u32]> = self.prompts.iter().map(|p| p.as_slice()).collect();
        let gens = self.policy.model().generate(&prompts, &sc, 0).await?;
        let continuations: Vec<Vec<u32>> = gens
            .into_iter()
            .map(|g| g.tokens.into_iter().take_while(|&t| t != eos).collect())
            .collect();
        let vocab = &self.data.vocab;
        let samples = self
            .prompts
            .iter()
            .zip(&continuations)
            .take(SHOWN_SAMPLES)
            .map(|(p, c)| (vocab.decode(p), vocab.decode(c)))
            .collect();
        Ok(EvalMetrics {
            seq_rep_2: mean_seq_rep_n(&continuations, 2),
            seq_rep_4: mean_seq_rep_n(&continuations, 4),
            perplexity: perplexity(sum, count),
            samples,
        })
    }
}

/// The mean probability of the tokens the DITTO loss penalises (target layout as in
/// [`ditto_loss`]; 0 when none is).
fn repeated_prob(lp: &[f64], batch: &Batch, prefix: &[usize], periods: &[usize]) -> f64 {
    let (mut sum, mut count) = (0.0, 0usize);
    for i in 0..batch.b {
        for t in prefix[i] + periods[i]..batch.t {
            if batch.mask[i * batch.t + t] {
                sum += libm::exp(lp[i * batch.t + t]);
                count += 1;
            }
        }
    }
    if count == 0 {
        0.0
    } else {
        sum / count as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ditto_text::data::pseudo_repetition;
    use spar_model::{block_on, CpuKernels};

    fn text() -> String {
        "The cat sat. A dog ran. It was warm. Birds sang. We ate. The river ran. ".repeat(40)
    }

    fn run(cfg: DittoTextConfig) -> DittoText<CpuKernels> {
        DittoText::new(cfg, &text(), CpuKernels::new()).unwrap()
    }

    #[test]
    fn a_ditto_step_lowers_the_ditto_loss_on_a_repeated_sequence() {
        let mut cfg = DittoTextConfig::tiny();
        cfg.sequence_level_train_rate = 1.0;
        cfg.optim.learning_rate = 1e-2;
        cfg.batch_size = 1;
        let mut r = run(cfg);
        // Train the start a little so repeated tokens are likely (a loss to lower).
        for _ in 0..20 {
            block_on(r.start_step()).unwrap();
        }
        let start = block_on(r.snapshot()).unwrap();
        r.begin_arm(Arm::Ditto, &start).unwrap();
        // The sequence the first DITTO step will train on: same stream, same draws.
        let mut pseudo = stream(r.config.seed, PSEUDO_STREAM);
        pseudo.next_u64();
        let seq = r.data.pseudo_sequence(25, &mut pseudo).unwrap();
        let before = block_on(r.ditto_loss_on(&seq)).unwrap();
        let m = block_on(r.arm_step()).unwrap();
        assert!(m.pseudo);
        assert!((m.loss - before).abs() < 1e-4, "{} vs {before}", m.loss);
        let after = block_on(r.ditto_loss_on(&seq)).unwrap();
        assert!(before > 0.0 && after < before, "{before} → {after}");
    }

    #[test]
    fn both_arms_start_from_the_same_point_and_mle_reads_the_same_windows() {
        let mut cfg = DittoTextConfig::tiny();
        cfg.sequence_level_train_rate = 0.0; // DITTO arm with rate 0 is the MLE arm
        let mut r = run(cfg);
        block_on(r.start_step()).unwrap();
        let start = block_on(r.snapshot()).unwrap();
        let mut ends = Vec::new();
        for arm in [Arm::Mle, Arm::Ditto] {
            r.begin_arm(arm, &start).unwrap();
            for _ in 0..3 {
                assert!(!block_on(r.arm_step()).unwrap().pseudo);
            }
            ends.push(block_on(r.snapshot()).unwrap().params);
        }
        assert_eq!(ends[0], ends[1]);
        assert_ne!(ends[0], start.params);
        assert!(block_on(r.start_step()).is_err());
    }

    #[test]
    fn learning_mle_lowers_perplexity_and_evaluation_is_deterministic() {
        let mut cfg = DittoTextConfig::tiny();
        cfg.start_optim.learning_rate = 1e-2;
        cfg.start_steps = 30;
        let mut r = run(cfg);
        let e0 = block_on(r.evaluate()).unwrap();
        for _ in 0..30 {
            block_on(r.start_step()).unwrap();
        }
        let e1 = block_on(r.evaluate()).unwrap();
        assert!(e1.perplexity < 0.7 * e0.perplexity, "{e0:?} → {e1:?}");
        assert_eq!(block_on(r.evaluate()).unwrap(), e1);
        assert_eq!(e1.samples.len(), 3);
        assert!((0.0..=1.0).contains(&e1.seq_rep_2) && e1.seq_rep_4 <= e1.seq_rep_2);
    }

    #[test]
    fn repeated_prob_averages_the_penalised_tokens_only() {
        let p = pseudo_repetition(&[1], &[2, 3], 6); // 1 2 3 2 3 2 → targets 2 3 2 3 2
        let batch = full_batch(&[p.tokens], 5);
        let lp = [0.0, 0.0, (0.5f64).ln(), (0.25f64).ln(), (0.75f64).ln()];
        // prefix 0 (target layout), period 2: targets 2, 3, 4 are penalised.
        assert!((repeated_prob(&lp, &batch, &[0], &[2]) - 0.5).abs() < 1e-12);
    }
}
