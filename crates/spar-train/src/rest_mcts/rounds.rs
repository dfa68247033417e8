//! The self-training rounds: both arms (search, best-of-N) from the same SFT start, on the
//! same draw of unlabelled problems each round, at the same token budget per problem.
//!
//! Per round:
//! * **search arm**: search every problem with the arm's policy and the value head
//!   ([`crate::rest_mcts::search`]); keep each verified trace found; fine-tune the policy
//!   (expert iteration's M-step, [`crate::expert_iteration::sft_m_step`]) on the kept traces
//!   and train the value head on the inferred values of every step prefix the searches
//!   sampled ([`crate::rest_mcts::targets`]);
//! * **best-of-N arm**: best-of-N on the same problems with the arm's own policy
//!   ([`crate::rest_mcts::best_of_n`]); keep the verified samples; the same M-step.
//!
//! The value head enters a node's value only once it has been trained (from round 2): before
//! that its estimate is an untrained network's noise, and the rollouts alone value a node.

use super::best_of_n::best_of_n;
use super::config::RestMctsConfig;
use super::models::PolicyAndValue;
use super::search::{search, SearchParams};
use super::targets::{step_value_targets, TraceRecord};
use super::value::ValueHead;
use crate::expert_iteration::{labelled_examples, sft_m_step};
use crate::trainer::Trainer;
use crate::{EvalReport, TrainError};
use alloc::boxed::Box;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};
use spar_model::Kernels;
use spar_tasks::{Instance, Problem};

/// Stream of the problem draws.
const DRAW_STREAM: u64 = 0x6d63_7473;
/// Streams of the two arms' M-step batches and of the value head's batches.
const SEARCH_STREAM: u64 = 0x6d63_7474;
const BON_STREAM: u64 = 0x6d63_7475;
const VALUE_STREAM: u64 = 0x6d63_7476;
/// Keys of the two arms' samples, apart from the trainer's and the evaluation's.
const SEARCH_KEY: u32 = 0xB000_0000;
const BON_KEY: u32 = 0xC000_0000;

/// What one arm did in a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ArmMetrics {
    /// Share of the round's problems with a verified trace found within the budget.
    pub found: f64,
    /// Mean tokens charged per problem.
    pub mean_tokens: f64,
    /// Traces in this round's M-step data (kept traces, and labelled examples if included).
    pub m_step_examples: usize,
    /// Mean NLL of the M-step's last batch.
    pub final_nll: f64,
    /// Held-out evaluation after the M-step.
    pub eval: EvalReport,
}

/// What one round did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RoundMetrics {
    /// The round (1-based).
    pub round: u32,
    /// The search arm.
    pub search: ArmMetrics,
    /// The best-of-N arm.
    pub best_of_n: ArmMetrics,
    /// Mean expansions per searched problem.
    pub expansions: f64,
    /// The value head's weight the searches used (0 before it was trained).
    pub value_weight_used: f64,
    /// Value targets gathered so far (prefixes with an inferred value).
    pub value_targets: usize,
    /// Mean loss of the value head's last batch this round.
    pub value_loss: f64,
    /// How well the value head, as it stood when this round's searches ran, predicts the
    /// values this round's searches then inferred: the Pearson correlation over this round's
    /// new prefixes (`None` before the head was trained, or when either side is constant).
    pub value_correlation: Option<f64>,
}

/// The Pearson correlation of `xs` and `ys` (`None` when either is constant or empty).
pub fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len().min(ys.len());
    if n == 0 {
        return None;
    }
    let (mx, my) = (
        xs[..n].iter().sum::<f64>() / n as f64,
        ys[..n].iter().sum::<f64>() / n as f64,
    );
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / libm::sqrt(sxx * syy))
}

/// The final answer of a trace (the number on its last step, `= r`) is `a + b`.
pub fn final_answer_right(problem: &Problem, text: &str) -> bool {
    let Instance::AddTrace { a, b } = problem.instance else {
        return false;
    };
    let last = text.rsplit(';').next().unwrap_or("").trim();
    last.strip_prefix('=')
        .and_then(|r| r.trim().parse::<u64>().ok())
        .is_some_and(|r| Some(r) == a.checked_add(b))
}

/// The ReST-MCTS\* experiment over a backend `K`: the search arm and the best-of-N arm.
pub struct RestMcts<K: Kernels> {
    config: RestMctsConfig,
    trainer: Trainer<K>,
    value: ValueHead<K>,
    base: Vec<f32>,
    arm_params: [Vec<f32>; 2],
    kept: [Vec<(Vec<u32>, usize)>; 2],
    value_data: Vec<(Vec<u32>, f64)>,
    draw_rng: ChaCha8Rng,
    arm_rngs: [ChaCha8Rng; 2],
    value_rng: ChaCha8Rng,
    round: u32,
    sft_done: bool,
}

fn stream(seed: u64, s: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(s);
    r
}

impl<K: Kernels> RestMcts<K> {
    /// Builds the trainer (vocabulary, problems, a freshly initialised policy) and the value
    /// head (on a backend of its own from `make_kernels`).
    pub fn new(
        config: RestMctsConfig,
        mut make_kernels: Box<dyn FnMut() -> K>,
    ) -> Result<Self, TrainError> {
        config.validate()?;
        let value_kernels = make_kernels();
        let trainer = Trainer::new(config.trainer_config(), make_kernels)?;
        let delim = alloc::string::String::from(config.step_delimiter);
        if trainer.vocab().encode(&delim).len() != 1 {
            return Err(TrainError::Config(alloc::format!(
                "`step_delimiter` `{delim}` is not one token of the task's vocabulary"
            )));
        }
        let value = ValueHead::new(value_kernels, &config, trainer.vocab())?;
        let seed = config.train.seed;
        Ok(Self {
            trainer,
            value,
            base: Vec::new(),
            arm_params: [Vec::new(), Vec::new()],
            kept: [Vec::new(), Vec::new()],
            value_data: Vec::new(),
            draw_rng: stream(seed, DRAW_STREAM),
            arm_rngs: [stream(seed, SEARCH_STREAM), stream(seed, BON_STREAM)],
            value_rng: stream(seed, VALUE_STREAM),
            round: 0,
            sft_done: false,
            config,
        })
    }

    /// The config.
    pub fn config(&self) -> &RestMctsConfig {
        &self.config
    }
    /// The trainer (its model is the arm last trained).
    pub fn trainer(&mut self) -> &mut Trainer<K> {
        &mut self.trainer
    }
    /// Rounds done.
    pub fn round(&self) -> u32 {
        self.round
    }

    /// Runs the SFT stage; both arms start from its model. Returns its held-out evaluation.
    pub async fn run_sft(&mut self) -> Result<EvalReport, TrainError> {
        while self.trainer.step() < self.config.train.sft.max_steps {
            self.trainer.train_step().await?;
        }
        self.base = self.trainer.snapshot().await?.params;
        self.arm_params = [self.base.clone(), self.base.clone()];
        if self.config.value.init_from_policy {
            self.value.load(&self.base)?;
        }
        self.sft_done = true;
        self.trainer.evaluate().await
    }

    /// The search's settings this round (the value head's weight is 0 until it is trained).
    pub fn search_params(&self) -> SearchParams {
        let c = &self.config;
        let vocab = self.trainer.vocab();
        SearchParams {
            expand_k: c.expand_k,
            rollouts_m: c.rollouts_m,
            value_weight: if self.value.steps_taken() > 0 {
                c.value_weight
            } else {
                0.0
            },
            c_puct: c.c_puct,
            max_expansions: c.max_expansions,
            max_step_tokens: c.max_step_tokens,
            max_completion_length: c.max_completion_length,
            budget_tokens: c.budget_tokens,
            delimiter: vocab.encode(&alloc::string::String::from(c.step_delimiter))[0],
            eos: vocab.eos(),
        }
    }

    /// One round of both arms (module docs). Runs the SFT stage first if it has not run.
    pub async fn run_round(&mut self) -> Result<RoundMetrics, TrainError> {
        if !self.sft_done {
            self.run_sft().await?;
        }
        if self.round >= self.config.rounds {
            return Err(TrainError::Config("every round is done".into()));
        }
        let crate::selfplay::DrawnPrompts {
            problems, prompts, ..
        } = crate::selfplay::draw_unlabelled_prompts(
            &self.trainer,
            self.config.problems_per_round,
            &mut self.draw_rng,
        )?;
        let n = problems.len() as f64;
        let round_key = self.round.wrapping_mul(0x0010_0000);

        // The search arm.
        let params = self.search_params();
        self.trainer.load_params(&self.arm_params[0])?;
        let vocab = self.trainer.vocab().clone();
        let task =
            spar_tasks::task_by_name(&self.config.train.task.name, spar_tasks::Format::Compact)?;
        let (mut found, mut tokens, mut expansions) = (Vec::new(), 0usize, 0usize);
        let mut traces: Vec<(usize, Vec<TraceRecord>)> = Vec::new();
        {
            let use_value = params.value_weight > 0.0;
            let mut models = PolicyAndValue {
                policy: self.trainer.model(),
                value: use_value.then_some(&mut self.value),
                temperature: self.config.temperature,
                seed: self.config.train.seed,
            };
            for (u, (problem, prompt)) in problems.iter().zip(&prompts).enumerate() {
                let judge = |c: &[u32]| {
                    let text = vocab.decode(c);
                    (
                        final_answer_right(problem, &text),
                        task.verify(problem, &text) >= 1.0,
                    )
                };
                let key = SEARCH_KEY
                    .wrapping_add(round_key)
                    .wrapping_add((u as u32).wrapping_mul(0x1000));
                let out = search(&mut models, prompt, &params, &judge, key).await?;
                tokens += out.tokens_used;
                expansions += out.expansions;
                if let Some(c) = out.found {
                    found.push((u, c));
                }
                traces.push((u, out.traces));
            }
        }
        let search_found = found.len() as f64 / n;
        let search_tokens = tokens as f64 / n;
        let eos = vocab.eos();
        let new_kept = |found: Vec<(usize, Vec<u32>)>| -> Vec<(Vec<u32>, usize)> {
            found
                .into_iter()
                .map(|(u, c)| {
                    let mut s = prompts[u].clone();
                    s.extend_from_slice(&c);
                    s.push(eos);
                    (s, prompts[u].len())
                })
                .collect()
        };
        let kept = new_kept(found);
        let first_new = self.value_data.len();
        for (u, ts) in &traces {
            for (prefix, v) in step_value_targets(ts) {
                let mut s = prompts[*u].clone();
                s.extend_from_slice(&prefix);
                self.value_data.push((s, v));
            }
        }
        let value_correlation = if params.value_weight > 0.0 {
            let fresh = &self.value_data[first_new..];
            let seqs: Vec<Vec<u32>> = fresh.iter().map(|(s, _)| s.clone()).collect();
            let targets: Vec<f64> = fresh.iter().map(|(_, v)| *v).collect();
            pearson(&self.value.estimate(&seqs).await?, &targets)
        } else {
            None
        };
        let (search_examples, search_nll) = self.m_step(0, kept).await?;
        let search_eval = self.trainer.evaluate().await?;
        self.arm_params[0] = self.trainer.snapshot().await?.params;
        let value_loss = self
            .value
            .train(
                &self.value_data,
                self.config.value.train_steps,
                &mut self.value_rng,
            )
            .await?;

        // The best-of-N arm.
        self.trainer.load_params(&self.arm_params[1])?;
        let outcomes = {
            let mut models = PolicyAndValue {
                policy: self.trainer.model(),
                value: None,
                temperature: self.config.temperature,
                seed: self.config.train.seed,
            };
            let judge = |u: usize, c: &[u32]| task.verify(&problems[u], &vocab.decode(c)) >= 1.0;
            best_of_n(
                &mut models,
                &prompts,
                self.config.best_of_n_batch,
                self.config.max_completion_length,
                self.config.budget_tokens,
                eos,
                &judge,
                BON_KEY.wrapping_add(round_key),
            )
            .await?
        };
        let bon_tokens = outcomes.iter().map(|o| o.tokens_used).sum::<usize>() as f64 / n;
        let bon_found: Vec<(usize, Vec<u32>)> = outcomes
            .into_iter()
            .enumerate()
            .filter_map(|(u, o)| o.found.map(|c| (u, c)))
            .collect();
        let bon_share = bon_found.len() as f64 / n;
        let kept = new_kept(bon_found);
        let (bon_examples, bon_nll) = self.m_step(1, kept).await?;
        let bon_eval = self.trainer.evaluate().await?;
        self.arm_params[1] = self.trainer.snapshot().await?.params;

        self.round += 1;
        Ok(RoundMetrics {
            round: self.round,
            search: ArmMetrics {
                found: search_found,
                mean_tokens: search_tokens,
                m_step_examples: search_examples,
                final_nll: search_nll,
                eval: search_eval,
            },
            best_of_n: ArmMetrics {
                found: bon_share,
                mean_tokens: bon_tokens,
                m_step_examples: bon_examples,
                final_nll: bon_nll,
                eval: bon_eval,
            },
            expansions: expansions as f64 / n,
            value_weight_used: params.value_weight,
            value_targets: self.value_data.len(),
            value_loss,
            value_correlation,
        })
    }

    /// Arm `arm`'s M-step on its kept traces (this round's, or all so far with
    /// `accumulate`) and the labelled examples (with `include_labelled`), from the SFT start
    /// (with `restart_from_base`) or the arm's current model (already loaded). Returns the
    /// data size and the last batch's NLL.
    async fn m_step(
        &mut self,
        arm: usize,
        new: Vec<(Vec<u32>, usize)>,
    ) -> Result<(usize, f64), TrainError> {
        if !self.config.accumulate {
            self.kept[arm].clear();
        }
        self.kept[arm].extend(new);
        let mut data = self.kept[arm].clone();
        if self.config.include_labelled {
            data.extend(labelled_examples(&self.trainer));
        }
        if self.config.restart_from_base {
            self.trainer.load_params(&self.base)?;
        }
        let nll = sft_m_step(
            self.trainer.policy(),
            &data,
            self.config.m_step_optim(),
            self.config.sft_steps,
            self.config.batch_size,
            self.config.train.model.n_positions,
            &mut self.arm_rngs[arm],
        )
        .await?;
        Ok((data.len(), nll))
    }
}
