//! Behaviour priming on Countdown (Gandhi et al. 2025, "Cognitive behaviors that enable
//! self-improving reasoners, or, Four habits of highly effective STaRs"): fine-tune on
//! completions that try steps, back up from dead ends and check their answer, then run the
//! ordinary verifier GRPO; the claim is that a model primed with these behaviours improves
//! under RL where one fine-tuned on plain answers plateaus, and that priming with *wrong*
//! solutions that still show the behaviours works about as well as with right ones.
//!
//! Two stages over one [`Trainer`]:
//!
//! 1. **SFT** (`train.sft`: steps, batch size, optimiser) on the labelled problems
//!    (`train.task.labelled_fraction` of the pool), each written as the [`PrimingKind`]
//!    asks by [`spar_tasks::countdown_trace`]: `plain` (the search's answer alone),
//!    `behaviour` (dead ends marked ` no;`, the answer checked ` ok`, then `=>`), or
//!    `wrong_behaviour` (the same behaviours, a near miss checked as if right). All kinds
//!    train on the same problems: those for which both behaviour kinds have a trace of at
//!    most `max_trace_chars` that fits the context; the plain answer is the behaviour
//!    trace's final expression, so the arms differ only in what is written before it.
//!    The loss is the completion tokens' NLL (the M-step of expert iteration,
//!    [`crate::expert_iteration::sft_m_step`]):
//!    ```text
//!    min_θ  E_{(x, y) ∈ D_kind} [ −log π_θ(y | x) ]          [PAPER] (their SFT stage)
//!    ```
//! 2. **RL**: the trainer's own verifier GRPO from that model (`train.grpo`), reward 1 when
//!    the expression after the last `=>` (or the last expression, without one) solves the
//!    problem. The same RL for every kind.
//!
//! Behaviour statistics ([`BehaviourStats`]) read the markers of completions sampled with
//! RL's sampling settings on fixed pool problems: the share that back up from a dead end,
//! that check an answer, and that answer after `=>`. The loop is deterministic from the seed
//! and resumes bit for bit from a snapshot taken after SFT ([`BehaviourPriming::snapshot`]).

use crate::config::TrainConfig;
use crate::selfplay::LoopSnapshot;
use crate::trainer::{StepMetrics, Trainer};
use crate::{EvalReport, TrainError};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};
use spar_model::{Kernels, SampleConfig};
use spar_tasks::{countdown_trace, Instance, TraceKind, TraceLimits, TraceStats};

/// Stream of the SFT batches' draws, apart from the trainer's.
const PRIMING_STREAM: u64 = 0x7072_696d;
/// First stream of the traces' search orders (problem `i` uses this plus `i`).
const TRACE_STREAM: u64 = 0x7472_0000_0000;
/// Key of the behaviour statistics' samples, apart from the trainer's and the evaluation's.
const BEHAVIOUR_SAMPLE_KEY: u32 = 0xB000_0000;
/// The characters the traces and the Countdown prompts are written in.
pub const TRACE_CHARSET: &str = "0123456789+-*/()=>;, :nok";

/// What the SFT stage trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PrimingKind {
    /// The answer expression only.
    Plain,
    /// Search traces that back up from dead ends and check the answer, answer right.
    #[default]
    Behaviour,
    /// Search traces with the same behaviours whose check and answer are wrong.
    WrongBehaviour,
}

impl From<PrimingKind> for TraceKind {
    fn from(k: PrimingKind) -> Self {
        match k {
            PrimingKind::Plain => TraceKind::Plain,
            PrimingKind::Behaviour => TraceKind::Behaviour,
            PrimingKind::WrongBehaviour => TraceKind::WrongBehaviour,
        }
    }
}

/// A behaviour-priming run (`configs/behaviour_priming.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrimingConfig {
    /// The model, the task (`countdown`) with its labelled split (the SFT problems), the SFT
    /// stage (`sft.max_steps`, batch size, optimiser), the RL stage (`grpo`) and the
    /// evaluation.
    pub train: TrainConfig,
    /// What SFT trains on.
    pub kind: PrimingKind,
    /// Most dead ends a trace writes.
    pub max_dead_ends: usize,
    /// Most characters of a trace (problems without a trace this short are left out of SFT).
    pub max_trace_chars: usize,
    /// RL steps between held-out evaluations of [`BehaviourPriming::run`] (0: at the start
    /// and the end only).
    pub eval_every: u32,
    /// Pool problems sampled (`grpo.num_generations` times each) for the behaviour
    /// statistics at the start and the end of RL.
    pub behaviour_prompts: usize,
}

impl Default for PrimingConfig {
    fn default() -> Self {
        let mut train = TrainConfig {
            output_dir: "runs/behaviour_priming".into(),
            ..TrainConfig::default()
        };
        train.task.name = "countdown".into();
        train.model.charset = TRACE_CHARSET.into();
        train.model.n_positions = 80;
        train.grpo.max_completion_length = 66;
        Self {
            train,
            kind: PrimingKind::Behaviour,
            max_dead_ends: 2,
            max_trace_chars: 64,
            eval_every: 10,
            behaviour_prompts: 32,
        }
    }
}

impl PrimingConfig {
    /// Checks the values a run depends on; the error names the field.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |f: &str, why: &str| Err(TrainError::Config(alloc::format!("`{f}` {why}")));
        self.train.validate()?;
        if self.train.task.name != "countdown" {
            return bad(
                "train.task.name",
                "must be countdown (the traces are Countdown's)",
            );
        }
        if let Some(c) = TRACE_CHARSET
            .chars()
            .find(|&c| !self.train.model.charset.contains(c))
        {
            return bad(
                "train.model.charset",
                &alloc::format!("lacks {c:?}, which the traces are written in"),
            );
        }
        if self.max_trace_chars == 0 {
            return bad("max_trace_chars", "must be at least 1");
        }
        if self.max_trace_chars >= self.train.grpo.max_completion_length {
            return bad(
                "max_trace_chars",
                "must be below `train.grpo.max_completion_length` (the end token follows)",
            );
        }
        if self.max_trace_chars >= self.train.model.n_positions {
            return bad(
                "max_trace_chars",
                "must be below `train.model.n_positions` (the prompt precedes it)",
            );
        }
        if self.behaviour_prompts == 0 {
            return bad("behaviour_prompts", "must be at least 1");
        }
        if self.train.sft.max_steps == 0 {
            return bad(
                "train.sft.max_steps",
                "must be at least 1 (the priming stage)",
            );
        }
        Ok(())
    }

    /// Parses and validates a TOML config.
    #[cfg(feature = "std")]
    pub fn from_toml(text: &str) -> Result<Self, TrainError> {
        crate::config::read_toml(text, Self::validate)
    }

    /// The trainer config: `train` without the trainer's own SFT stage (this loop runs it on
    /// the traces), so that the trainer's first step is RL's.
    fn trainer_config(&self) -> TrainConfig {
        let mut c = self.train.clone();
        c.sft.max_steps = 0;
        c
    }

    fn limits(&self) -> TraceLimits {
        TraceLimits {
            max_dead_ends: self.max_dead_ends,
            max_chars: self.max_trace_chars,
        }
    }
}

/// What the SFT stage trained on and where it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SftSummary {
    /// Labelled problems trained on.
    pub examples: usize,
    /// Labelled problems left out (no trace of both behaviour kinds within the limits).
    pub left_out: usize,
    /// Share of the SFT completions that back up from a dead end.
    pub backtrack_share: f64,
    /// Mean characters of the SFT completions.
    pub mean_chars: f64,
    /// Mean NLL of the last SFT batch.
    pub final_nll: f64,
}

/// Markers of completions sampled from the policy with RL's sampling settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct BehaviourStats {
    /// Completions read.
    pub samples: usize,
    /// Share that back up from at least one marked dead end (` no;`).
    pub backtrack: f64,
    /// Share that check an answer (` ok`).
    pub verify: f64,
    /// Of the completions that check an answer, the share whose answer the verifier accepts
    /// (how often the check's ` ok` is right; 0 when none checks).
    #[serde(default)]
    pub verify_right: f64,
    /// Share that answer after `=>`.
    pub answer: f64,
    /// Share the verifier accepts (ended with the end token and solving the problem).
    pub accuracy: f64,
    /// Mean characters.
    pub mean_chars: f64,
}

impl BehaviourStats {
    /// The statistics of `(completion, graded right)` pairs.
    pub fn of<'a>(completions: impl IntoIterator<Item = (&'a str, bool)>) -> Self {
        let mut s = Self::default();
        for (text, right) in completions {
            let t = TraceStats::of(text);
            s.samples += 1;
            s.backtrack += f64::from(u8::from(t.backtracks > 0));
            s.verify += f64::from(u8::from(t.verifies));
            s.answer += f64::from(u8::from(t.answers));
            s.accuracy += f64::from(u8::from(right));
            s.verify_right += f64::from(u8::from(right && t.verifies));
            s.mean_chars += text.len() as f64;
        }
        let checks = s.verify;
        s.verify_right /= checks.max(1.0);
        let n = s.samples.max(1) as f64;
        for x in [
            &mut s.backtrack,
            &mut s.verify,
            &mut s.answer,
            &mut s.accuracy,
            &mut s.mean_chars,
        ] {
            *x /= n;
        }
        s
    }
}

/// A finished run: the SFT stage, the held-out curve over RL and the behaviours at RL's
/// start and end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PrimingReport {
    /// The SFT stage.
    pub sft: SftSummary,
    /// `(RL step, held-out greedy accuracy)`, from step 0 (after SFT) to the last.
    pub curve: Vec<(u32, f64)>,
    /// Per RL step, the share of its trained completions the verifier accepts.
    pub train_accuracy: Vec<f64>,
    /// Behaviours after SFT, before RL.
    pub behaviour_start: BehaviourStats,
    /// Behaviours after RL.
    pub behaviour_end: BehaviourStats,
}

impl PrimingReport {
    /// Held-out accuracy after SFT (the curve's first point).
    pub fn after_sft(&self) -> f64 {
        self.curve.first().map_or(0.0, |p| p.1)
    }
    /// Held-out accuracy after RL (the curve's last point).
    pub fn after_rl(&self) -> f64 {
        self.curve.last().map_or(0.0, |p| p.1)
    }
}

/// The loop's own state besides its tensors (a checkpoint's `state.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrimingState {
    /// The SFT stage's summary.
    pub sft: SftSummary,
    /// Position of the loop's random stream (u128 as decimal text).
    pub rng_word_pos: String,
    /// The trainer's state (its step counts RL steps).
    pub trainer: crate::TrainState,
}

/// The behaviour-priming loop over a backend `K`.
pub struct BehaviourPriming<K: Kernels> {
    config: PrimingConfig,
    trainer: Trainer<K>,
    rng: ChaCha8Rng,
    sft: Option<SftSummary>,
}

impl<K: Kernels> BehaviourPriming<K> {
    /// Builds the trainer (vocabulary, problems, a freshly initialised model from the seed:
    /// the same for every kind).
    pub fn new(
        config: PrimingConfig,
        make_kernels: Box<dyn FnMut() -> K>,
    ) -> Result<Self, TrainError> {
        config.validate()?;
        let trainer = Trainer::new(config.trainer_config(), make_kernels)?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.train.seed);
        rng.set_stream(PRIMING_STREAM);
        Ok(Self {
            config,
            trainer,
            rng,
            sft: None,
        })
    }

    /// The config.
    pub fn config(&self) -> &PrimingConfig {
        &self.config
    }
    /// The trainer (its model is the current one; its step counts RL steps).
    pub fn trainer(&mut self) -> &mut Trainer<K> {
        &mut self.trainer
    }
    /// The SFT stage's summary, once it has run.
    pub fn sft_summary(&self) -> Option<&SftSummary> {
        self.sft.as_ref()
    }

    /// The SFT texts: per labelled problem that has traces of both behaviour kinds within
    /// the limits, its prompt and its completion of the config's kind; and how many were
    /// left out.
    pub fn sft_texts(&self) -> Result<(Vec<(String, String)>, usize), TrainError> {
        let data = self.trainer.data();
        let limits = self.config.limits();
        let n_pos = self.config.train.model.n_positions;
        let mut out = Vec::new();
        let mut left_out = 0;
        for (i, p) in data.pool[..data.num_labelled].iter().enumerate() {
            let Instance::Countdown { numbers, target } = &p.instance else {
                return Err(TrainError::Config(
                    "`train.task.name`: behaviour priming needs Countdown problems".into(),
                ));
            };
            let mut rng = ChaCha8Rng::seed_from_u64(self.config.train.seed);
            rng.set_stream(TRACE_STREAM + i as u64);
            let write = |kind: TraceKind| {
                countdown_trace(numbers, *target, kind, &limits, &mut rng.clone())
            };
            let (Ok(right), Ok(wrong)) = (
                write(TraceKind::Behaviour),
                write(TraceKind::WrongBehaviour),
            ) else {
                left_out += 1;
                continue;
            };
            let longest = right.len().max(wrong.len());
            let text = match self.config.kind {
                PrimingKind::Behaviour => right,
                PrimingKind::WrongBehaviour => wrong,
                PrimingKind::Plain => write(TraceKind::Plain)
                    .map_err(|e| TrainError::Config(alloc::format!("plain trace: {e}")))?,
            };
            // Prompt, completion and end token, less the last (a target only), in context.
            if p.prompt.len() + longest > n_pos {
                left_out += 1;
                continue;
            }
            out.push((p.prompt.clone(), text));
        }
        Ok((out, left_out))
    }

    /// Runs the SFT stage on the config's kind of completion; returns its summary.
    pub async fn run_sft(&mut self) -> Result<SftSummary, TrainError> {
        if self.sft.is_some() {
            return Err(TrainError::Config("the SFT stage has run".into()));
        }
        let (texts, left_out) = self.sft_texts()?;
        if texts.is_empty() {
            return Err(TrainError::Config(
                "`train.task.labelled_fraction`: no labelled problem has a trace within \
                 `max_trace_chars`"
                    .into(),
            ));
        }
        let vocab = self.trainer.vocab();
        let data: Vec<(Vec<u32>, usize)> = texts
            .iter()
            .map(|(prompt, completion)| vocab.encode_example(prompt, completion))
            .collect();
        let t = &self.config.train;
        let final_nll = crate::expert_iteration::sft_m_step(
            self.trainer.policy(),
            &data,
            t.sft_optim(),
            t.sft.max_steps,
            t.sft.per_device_train_batch_size,
            t.model.n_positions,
            &mut self.rng,
        )
        .await?;
        let n = texts.len() as f64;
        let summary = SftSummary {
            examples: texts.len(),
            left_out,
            backtrack_share: texts
                .iter()
                .filter(|(_, c)| TraceStats::of(c).backtracks > 0)
                .count() as f64
                / n,
            mean_chars: texts.iter().map(|(_, c)| c.len() as f64).sum::<f64>() / n,
            final_nll,
        };
        self.sft = Some(summary.clone());
        Ok(summary)
    }

    /// One RL step of the trainer's verifier GRPO (runs the SFT stage first if it has not).
    pub async fn rl_step(&mut self) -> Result<StepMetrics, TrainError> {
        if self.sft.is_none() {
            self.run_sft().await?;
        }
        self.trainer.train_step().await
    }

    /// RL steps done.
    pub fn rl_steps_done(&self) -> u32 {
        self.trainer.step()
    }

    /// Held-out evaluation of the current model (greedy accuracy, and pass@k per `train.eval`).
    pub async fn evaluate(&mut self) -> Result<EvalReport, TrainError> {
        self.trainer.evaluate().await
    }

    /// The behaviours of the current policy: `behaviour_prompts` pool problems after the
    /// labelled ones (the same every time), each sampled `grpo.num_generations` times with
    /// RL's temperature and nucleus mass.
    pub async fn behaviour_stats(&mut self) -> Result<BehaviourStats, TrainError> {
        let data = self.trainer.data();
        let start = data.num_labelled.min(data.pool.len());
        let problems: Vec<spar_tasks::Problem> = data.pool[start..]
            .iter()
            .chain(&data.pool[..start])
            .take(self.config.behaviour_prompts)
            .cloned()
            .collect();
        let vocab = self.trainer.vocab().clone();
        let prompts: Vec<Vec<u32>> = problems.iter().map(|p| vocab.encode(&p.prompt)).collect();
        let g = &self.config.train.grpo;
        let k = g.num_generations;
        let cfg = SampleConfig {
            max_new_tokens: g.max_completion_length,
            temperature: g.temperature,
            top_k: g.top_k,
            top_p: g.top_p,
            stop_tokens: vec![vocab.eos()],
            seed: self.config.train.seed,
        };
        let key = BEHAVIOUR_SAMPLE_KEY.wrapping_add(self.trainer.step().wrapping_mul(0x100));
        let samples =
            crate::eval::complete(self.trainer.model(), &vocab, &prompts, k, &cfg, key).await?;
        let task = self.trainer.task();
        let graded: Vec<(&str, bool)> = samples
            .iter()
            .enumerate()
            .map(|(j, (text, _, stopped))| {
                let right = *stopped && task.verify(&problems[j / k], text) >= 1.0;
                (text.as_str(), right)
            })
            .collect();
        Ok(BehaviourStats::of(graded))
    }

    /// The whole run: SFT (if it has not run), the behaviours, the held-out accuracy at RL
    /// step 0 and every `eval_every` steps and at the end, the behaviours again.
    pub async fn run(&mut self) -> Result<PrimingReport, TrainError> {
        if self.sft.is_none() {
            self.run_sft().await?;
        }
        let mut report = PrimingReport {
            behaviour_start: self.behaviour_stats().await?,
            ..PrimingReport::default()
        };
        let max = self.config.train.grpo.max_steps;
        report
            .curve
            .push((self.rl_steps_done(), self.evaluate().await?.accuracy));
        while self.rl_steps_done() < max {
            let m = self.rl_step().await?;
            report.train_accuracy.push(m.accuracy);
            let done = self.rl_steps_done();
            let e = self.config.eval_every;
            if done == max || (e > 0 && done % e == 0) {
                report.curve.push((done, self.evaluate().await?.accuracy));
            }
        }
        report.behaviour_end = self.behaviour_stats().await?;
        report.sft = self.sft.clone().unwrap_or_default();
        Ok(report)
    }

    /// The state after the SFT stage (or any RL step after it): the model, its optimiser,
    /// the loop's random stream and the trainer's state. Refuses before the SFT stage.
    pub async fn snapshot(&mut self) -> Result<LoopSnapshot<PrimingState>, TrainError> {
        let Some(sft) = self.sft.clone() else {
            return Err(TrainError::Config(
                "a behaviour-priming run is checkpointed after its SFT stage".into(),
            ));
        };
        let t = self.trainer.snapshot().await?;
        let rng_word_pos = crate::selfplay::rng_position(&self.rng);
        Ok(crate::selfplay::trainer_loop_snapshot(
            t,
            Vec::new(),
            |trainer| PrimingState {
                sft,
                rng_word_pos,
                trainer,
            },
        ))
    }

    /// Restores a [`BehaviourPriming::snapshot`] taken from a run with the same config.
    pub fn restore(&mut self, snap: &LoopSnapshot<PrimingState>) -> Result<(), TrainError> {
        self.trainer
            .restore(&crate::selfplay::trainer_part(snap, &snap.state.trainer))?;
        crate::selfplay::restore_rng(&mut self.rng, &snap.state.rng_word_pos)?;
        self.sft = Some(snap.state.sft.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviour_stats_are_shares_of_the_markers() {
        let s = BehaviourStats::of([
            ("5+3=8,8+7=15 no;5*3=15,15+7=22 5*3+7=22 ok=>5*3+7", true),
            ("5*3=15,15+7=22 5*3+7=22 ok=>5*3+7", true),
            ("5*3+7", false),
            ("8+7=15 no", false),
        ]);
        assert_eq!(s.samples, 4);
        assert_eq!(
            (s.backtrack, s.verify, s.answer, s.accuracy),
            (0.25, 0.5, 0.5, 0.5)
        );
        assert_eq!(s.verify_right, 1.0, "both checks are right");
        let wrong = BehaviourStats::of([
            ("5*3=15,15+7=22 5*3+7=22 ok=>5*3+7", true),
            ("5+3=8,8+7=15 8+7=22 ok=>5+3+7", false),
            ("5*3+7", true),
        ]);
        assert_eq!(wrong.verify_right, 0.5, "one check of two is right");
        assert_eq!(BehaviourStats::of([]), BehaviourStats::default());
    }

    #[test]
    fn bad_values_are_refused_by_name() {
        type Edit = fn(&mut PrimingConfig);
        for (key, f) in [
            (
                "train.task.name",
                (|c| c.train.task.name = "addition".into()) as Edit,
            ),
            ("train.model.charset", |c| {
                c.train.model.charset = "0123456789+-*=>:".into()
            }),
            ("max_trace_chars", |c| c.max_trace_chars = 0),
            ("max_trace_chars", |c| c.max_trace_chars = 66),
            ("max_trace_chars", |c| {
                c.train.model.n_positions = 40;
            }),
            ("behaviour_prompts", |c| c.behaviour_prompts = 0),
            ("train.sft.max_steps", |c| c.train.sft.max_steps = 0),
        ] {
            let mut c = PrimingConfig::default();
            f(&mut c);
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains(key), "{key}: {e}");
        }
        assert!(PrimingConfig::default().validate().is_ok());
    }
}
