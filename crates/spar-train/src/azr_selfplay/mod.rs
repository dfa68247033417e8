//! Proposer–solver self-play on spar-tasks' program language with the learnability reward
//! (Absolute Zero, Zhao et al. 2025, "Absolute Zero: Reinforced Self-play Reasoning with Zero
//! Data"; LeapLabTHU/Absolute-Zero-Reasoner `rewards/reward_managers.py`).
//!
//! One GPT plays both roles on three task types ([`AzrTaskType`]): **deduction** (program +
//! input → output), **abduction** (program + output → an input) and **induction** (input/output
//! pairs → a program). Each step:
//!
//! 1. *Propose.* For each task type the proposer sees one reference task drawn from that
//!    type's buffer, `"new ded like rev(x);[1,2,3]:"` ([`spar_tasks::proposer_prompt`]), and
//!    writes `PROGRAM;INPUT[;INPUT…]` ([`spar_tasks::proposal_text`]). The proposal must be
//!    valid ([`spar_tasks::check_proposal`]: the program parses, runs within the limits, is
//!    deterministic and is not a constant or the identity), and the solver's prompt and
//!    answer (and the task's own proposer prompt) must fit the context. A valid task enters
//!    the buffer.
//! 2. *Estimate.* The solver answers every valid proposal `n_samples` times (Monte Carlo, not
//!    trained on, as in the paper): `acc` is the fraction solved.
//! 3. *Solve.* The solver answers `solves_per_type` tasks drawn from each buffer, one rollout
//!    each; these rollouts and the proposals are the step's training batch.
//!
//! The task rules are spar-tasks': what a valid proposal is ([`spar_tasks::check_proposal`]),
//! how a solver's answer is graded ([`spar_tasks::grade_answer`]), and the rewards
//! (ALGORITHMS.md §4.2, the paper's eq. 4–6 with `one_minus` learnability):
//! `R_propose` = [`spar_tasks::proposer_reward`] of the solve rate `acc`, built on
//! [`spar_tasks::learnability`]`(acc)` = `0` if `acc ∈ {0, 1}` else `1 − acc`, with −1 for an
//! invalid proposal and −0.5 for a valid one the solver always or never solves;
//! `R_solve` = [`spar_tasks::solver_reward`]: 1 correct, −0.5 well formed but wrong, −1
//! malformed. This loop only schedules them.
//!
//! Advantages are Task-Relative REINFORCE++ ([`spar_losses::task_relative`]): with γ = 1 and
//! no KL every token's return is its completion's reward `R`, whitened separately in each of
//! the (task type × role) categories of the batch (six baselines),
//! `A = (R − mean_c) / sqrt(var_c + 1e-8)`. The loss is the on-policy policy loss of
//! [`spar_losses::ppo_clip::policy_loss`] (token mean, one update per batch, no KL) and the
//! optimiser AdamW.
//!
//! The paper starts from a pretrained coder; this model starts from random weights, so it
//! first reads the seed tasks for `warmup_steps` supervised steps ([`AzrSelfPlay::warm_start`]):
//! proposer prompts followed by a seed proposal, solver prompts followed by the seed answers.
//! The seeds ([`spar_tasks::seed_tasks`]) are six hand-written programs. Optionally
//! (`warmup_corpus_size`) the proposer also reads programs drawn from spar-tasks' generator,
//! without their outputs, as a stand-in for the code a pretrained model has seen. The solver's
//! held-out accuracy (greedy) on tasks drawn by [`spar_tasks::ProgramTasks`] at level 0 —
//! problems whose answers the model is never shown — shows whether self-play helps.
//!
//! Levers against the proposals' collapse onto a few programs (several reference tasks in
//! the proposer prompt, a novelty bonus, distinct buffers, a supervised solver term) are
//! config keys, off by default; see [`reference_prompt`] and [`diversity_terms`].

mod config;
mod levers;

pub use config::{AzrConfig, AzrDistinctBy, AzrEval, AzrMetrics, AzrState, AzrTaskType};
pub use levers::{diversity_terms, reference_prompt};

use crate::policy::Policy;
use crate::rollout::{Batch, Rollout};
use crate::selfplay::LoopSnapshot;
use crate::vocab::CharVocab;
use crate::TrainError;
use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use spar_model::{Gpt, Kernels, SampleConfig};
use spar_tasks::{
    check_proposal, grade_answer, learnability, proposer_prompt, proposer_reward, seed_tasks,
    solver_prompt, solver_reward, Instance, Limits, ProgramTask, ProgramTaskKind, ProgramTasks,
    SolveOutcome, Task, NUM_SEED_TASKS,
};

/// The text a proposer writes for a task (spar-tasks' rule, re-exported for the CLI).
pub use spar_tasks::proposal_text;

/// Characters of the program language, the proposer prompts and the solver prompts (one
/// token each, plus the end token).
pub const AZR_CHARSET: &str = "0123456789abdefghiklmnorstuvwx+-*/%<>=()[],;?: ";

/// Room a buffered task's proposer prompt must leave in the context for a proposal.
const MIN_PROPOSAL_ROOM: usize = 16;

/// The self-play loop over a backend `K`.
pub struct AzrSelfPlay<K: Kernels> {
    config: AzrConfig,
    policy: Policy<K>,
    vocab: CharVocab,
    limits: Limits,
    /// Per task type (config order): the seeds, then accepted proposals.
    buffers: Vec<Vec<ProgramTask>>,
    heldout: Vec<Vec<ProgramTask>>,
    /// Per task type: proposal texts the warm start's proposer reads besides the seeds.
    corpus: Vec<Vec<String>>,
    rng: ChaCha8Rng,
    step: u32,
    warmed_up: bool,
    /// Key of the sampling stream, one per generate call.
    draws: u32,
}

fn kind_index(kind: ProgramTaskKind) -> usize {
    match kind {
        ProgramTaskKind::Deduction => 0,
        ProgramTaskKind::Abduction => 1,
        ProgramTaskKind::Induction => 2,
    }
}

impl<K: Kernels> AzrSelfPlay<K> {
    /// A fresh model (initialised from the seed), seeded buffers and the held-out set.
    pub fn new(config: AzrConfig, kernels: K) -> Result<Self, TrainError> {
        config.validate()?;
        let vocab = CharVocab::new(&config.model.charset)?;
        let m = &config.model;
        let gpt = m.gpt_config(vocab.vocab_size());
        let k = config.task_types.len();
        let cap = k * (config.proposals_per_type + config.solves_per_type);
        let mut model = Gpt::new(kernels, gpt, cap, m.n_positions)?;
        model.init_params(config.seed);
        let policy = Policy::new(
            model,
            config.optim.merged(&config.warmup_optim),
            config.warmup_steps,
        );
        let limits = Limits::default();
        let mut sp = Self {
            buffers: Vec::new(),
            heldout: Vec::new(),
            corpus: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            step: 0,
            warmed_up: config.warmup_steps == 0,
            draws: 0,
            config,
            policy,
            vocab,
            limits,
        };
        if sp.warmed_up {
            sp.policy.begin_stage(sp.config.optim, sp.config.max_steps);
        }
        for &t in &sp.config.task_types {
            let seeds = seed_tasks(t.kind());
            if let Some(s) = seeds.iter().find(|s| !sp.fits(s)) {
                return Err(TrainError::Config(alloc::format!(
                    "`model.n_positions` too small for the seed task `{}`",
                    proposal_text(s)
                )));
            }
            sp.buffers.push(seeds);
        }
        sp.heldout = sp.make_heldout()?;
        sp.corpus = sp.make_corpus()?;
        Ok(sp)
    }

    /// Held-out tasks: spar-tasks' random programs at level 0, drawn from `eval_seed`, that
    /// fit the context.
    fn make_heldout(&self) -> Result<Vec<Vec<ProgramTask>>, TrainError> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.eval_seed);
        let mut out = Vec::new();
        for &t in &self.config.task_types {
            let gen = ProgramTasks {
                max_len: self.config.model.n_positions - 1,
                ..ProgramTasks::new(t.kind())
            };
            let mut tasks = Vec::new();
            while tasks.len() < self.config.eval_tasks_per_type {
                let p = gen.generate(0, &mut rng)?;
                let Instance::Program(task) = p.instance else {
                    unreachable!("program tasks hold program instances")
                };
                if self.fits(&task) {
                    tasks.push(*task);
                }
            }
            out.push(tasks);
        }
        Ok(out)
    }

    /// The warm-start corpus: `warmup_corpus_size` generated programs per type that fit.
    fn make_corpus(&self) -> Result<Vec<Vec<String>>, TrainError> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed.wrapping_add(1));
        let mut out = Vec::new();
        for &t in &self.config.task_types {
            let gen = ProgramTasks {
                max_len: self.config.model.n_positions - 1,
                ..ProgramTasks::new(t.kind())
            };
            let mut texts = Vec::new();
            while texts.len() < self.config.warmup_corpus_size {
                let level = (rng.next_u32() % 2) as usize;
                let p = gen.generate(level, &mut rng)?;
                let Instance::Program(task) = p.instance else {
                    unreachable!("program tasks hold program instances")
                };
                if self.fits(&task) {
                    texts.push(proposal_text(&task));
                }
            }
            out.push(texts);
        }
        Ok(out)
    }

    /// Whether `task` fits the context: its solver prompt, reference answer and end token,
    /// and its proposer prompt with room for a proposal.
    fn fits(&self, task: &ProgramTask) -> bool {
        let n = self.config.model.n_positions;
        let solver = self.vocab.encode(&solver_prompt(task)).len()
            + self.vocab.encode(&task.completion()).len()
            + 1;
        let proposer = self.vocab.encode(&proposer_prompt(task.kind, task)).len();
        solver <= n && proposer + MIN_PROPOSAL_ROOM <= n
    }

    /// Self-play steps done.
    pub fn step(&self) -> u32 {
        self.step
    }

    /// The config.
    pub fn config(&self) -> &AzrConfig {
        &self.config
    }

    /// The model.
    pub fn model(&mut self) -> &mut Gpt<K> {
        self.policy.model()
    }

    /// The policy (model and optimiser).
    pub fn policy(&mut self) -> &mut Policy<K> {
        &mut self.policy
    }

    /// The vocabulary.
    pub fn vocab(&self) -> &CharVocab {
        &self.vocab
    }

    /// The task buffers, one per task type in config order.
    pub fn buffers(&self) -> &[Vec<ProgramTask>] {
        &self.buffers
    }

    /// The held-out tasks, one list per task type in config order.
    pub fn heldout(&self) -> &[Vec<ProgramTask>] {
        &self.heldout
    }

    fn pick(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n as u64) as usize
    }

    /// Samples one completion per prompt; returns the new tokens, their text and whether the
    /// end token stopped them. Greedy decoding (temperature 0) reads no random stream and
    /// leaves the stream counter alone, so evaluations do not change a run.
    async fn sample(
        &mut self,
        prompts: &[Vec<u32>],
        max_new_tokens: usize,
        temperature: f32,
    ) -> Result<Vec<(Vec<u32>, String, bool)>, TrainError> {
        if prompts.is_empty() {
            return Ok(Vec::new());
        }
        let refs: Vec<&[u32]> = prompts.iter().map(|p| p.as_slice()).collect();
        let cfg = SampleConfig {
            max_new_tokens,
            temperature,
            stop_tokens: vec![self.vocab.eos()],
            seed: self.config.seed,
            ..SampleConfig::default()
        };
        let gens = self
            .policy
            .model()
            .generate(&refs, &cfg, self.draws)
            .await?;
        if temperature > 0.0 {
            self.draws = self.draws.wrapping_add(1);
        }
        Ok(gens
            .into_iter()
            .map(|g| {
                let text = self.vocab.decode(&g.tokens);
                (g.tokens, text, g.stopped)
            })
            .collect())
    }

    /// Greedy held-out accuracy of the solver.
    pub async fn evaluate(&mut self) -> Result<AzrEval, TrainError> {
        let tasks: Vec<(usize, ProgramTask)> = self
            .heldout
            .iter()
            .enumerate()
            .flat_map(|(k, ts)| ts.iter().map(move |t| (k, t.clone())))
            .collect();
        let prompts: Vec<Vec<u32>> = tasks
            .iter()
            .map(|(_, t)| self.vocab.encode(&solver_prompt(t)))
            .collect();
        // Temperature 0 is greedy: the answer does not depend on the sampling stream.
        let answers = self
            .sample(&prompts, self.config.max_answer_tokens, 0.0)
            .await?;
        let k = self.config.task_types.len();
        let (mut right, mut total) = (vec![0usize; k], vec![0usize; k]);
        for ((ki, task), (_, text, _)) in tasks.iter().zip(&answers) {
            total[*ki] += 1;
            if grade_answer(task, text, &self.limits) == SolveOutcome::Correct {
                right[*ki] += 1;
            }
        }
        let all = right.iter().sum::<usize>() as f64 / total.iter().sum::<usize>().max(1) as f64;
        Ok(AzrEval {
            accuracy: all,
            by_type: right
                .iter()
                .zip(&total)
                .map(|(&r, &n)| r as f64 / n.max(1) as f64)
                .collect(),
        })
    }

    /// The warm start: `warmup_steps` supervised steps on the seed tasks (does nothing once
    /// done). Each step holds, per task type, `proposals_per_type` proposer examples (a seed
    /// as reference, a seed's or a corpus program's proposal text as completion) and
    /// `solves_per_type` solver examples (seed tasks only).
    /// Returns the last step's loss (0 when nothing was done).
    pub async fn warm_start(&mut self) -> Result<f64, TrainError> {
        let mut loss = 0.0;
        if self.warmed_up {
            return Ok(loss);
        }
        let eos = self.vocab.eos();
        for _ in 0..self.config.warmup_steps {
            let mut seqs: Vec<(Vec<u32>, usize)> = Vec::new();
            for k in 0..self.buffers.len() {
                let n = self.buffers[k].len();
                let m = self.corpus[k].len();
                for _ in 0..self.config.proposals_per_type {
                    let prompt = self.draw_reference_prompt(k);
                    let c = self.pick(n + m);
                    let b = &self.buffers[k];
                    let mut s = self.vocab.encode(&prompt);
                    let p = s.len();
                    let target = if c < n {
                        proposal_text(&b[c])
                    } else {
                        self.corpus[k][c - n].clone()
                    };
                    s.extend(self.vocab.encode(&target));
                    s.push(eos);
                    seqs.push((s, p));
                }
                for _ in 0..self.config.solves_per_type {
                    let j = self.pick(n);
                    let t = &self.buffers[k][j];
                    let mut s = self.vocab.encode(&solver_prompt(t));
                    let p = s.len();
                    s.extend(self.vocab.encode(&t.completion()));
                    s.push(eos);
                    seqs.push((s, p));
                }
            }
            let batch = Batch::from_pairs(&seqs, self.config.model.n_positions);
            loss = self.policy.nll_backward(&batch, 1.0, self.step).await?;
            self.policy.step(self.step).await?;
        }
        self.policy
            .begin_stage(self.config.optim, self.config.max_steps);
        self.warmed_up = true;
        Ok(loss)
    }

    /// Validates a proposal of type `k` (config order): spar-tasks' [`check_proposal`], then
    /// the context.
    fn validate_proposal(&self, k: usize, text: &str, stopped: bool) -> Option<ProgramTask> {
        let kind = self.config.task_types[k].kind();
        let task = check_proposal(kind, text, stopped, &self.limits)?;
        self.fits(&task).then_some(task)
    }

    /// One self-play step (after the warm start, run first if not yet done): propose,
    /// validate, estimate the solve rates, solve buffer tasks, and one policy-gradient update
    /// with task-relative REINFORCE++ advantages.
    pub async fn train_step(&mut self) -> Result<AzrMetrics, TrainError> {
        self.warm_start().await?;
        let heldout = if self.config.eval_every > 0 && self.step % self.config.eval_every == 0 {
            Some(self.evaluate().await?)
        } else {
            None
        };
        let n_pos = self.config.model.n_positions;
        let ktypes = self.config.task_types.len();
        // 1. Propose.
        let mut prompts = Vec::new();
        let mut owner = Vec::new();
        for k in 0..ktypes {
            for _ in 0..self.config.proposals_per_type {
                let prompt = self.draw_reference_prompt(k);
                prompts.push(self.vocab.encode(&prompt));
                owner.push(k);
            }
        }
        let longest = prompts.iter().map(|p| p.len()).max().unwrap_or(0);
        let proposals = self
            .sample(
                &prompts,
                self.config
                    .max_proposal_tokens
                    .min(n_pos.saturating_sub(longest).max(1)),
                self.config.temperature,
            )
            .await?;
        let example_proposals: Vec<String> = (0..ktypes)
            .map(|k| proposals[k * self.config.proposals_per_type].1.clone())
            .collect();
        let tasks: Vec<Option<ProgramTask>> = proposals
            .iter()
            .zip(&owner)
            .map(|((_, text, stopped), &k)| self.validate_proposal(k, text, *stopped))
            .collect();
        // 2. Estimate each valid task's solve rate with n_samples solver attempts.
        let n = self.config.n_samples;
        let valid: Vec<usize> = (0..tasks.len()).filter(|&i| tasks[i].is_some()).collect();
        let mut solve_prompts = Vec::with_capacity(valid.len() * n);
        for &i in &valid {
            let t = tasks[i].as_ref().expect("filtered to valid tasks");
            let p = self.vocab.encode(&solver_prompt(t));
            for _ in 0..n {
                solve_prompts.push(p.clone());
            }
        }
        let estimates = self
            .sample(
                &solve_prompts,
                self.config.max_answer_tokens,
                self.config.temperature,
            )
            .await?;
        let mut acc: Vec<Option<f64>> = vec![None; tasks.len()];
        for (j, &i) in valid.iter().enumerate() {
            let t = tasks[i].as_ref().expect("filtered to valid tasks");
            let right = estimates[j * n..(j + 1) * n]
                .iter()
                .filter(|(_, text, _)| grade_answer(t, text, &self.limits) == SolveOutcome::Correct)
                .count();
            acc[i] = Some(right as f64 / n as f64);
        }
        // The novelty bonus, per task type against the type's buffer before this step.
        let mut bonus = vec![0.0f64; tasks.len()];
        if self.config.diversity_bonus > 0.0 {
            for k in 0..ktypes {
                let idx: Vec<usize> = (0..tasks.len()).filter(|&i| owner[i] == k).collect();
                let programs: Vec<Option<String>> = idx
                    .iter()
                    .map(|&i| tasks[i].as_ref().map(|t| self.program_key(t)))
                    .collect();
                // Scope "step": only this step's repeats count, never the buffer.
                let seen = if self.config.diversity_step_only {
                    BTreeSet::new()
                } else {
                    self.buffer_programs(k)
                };
                let terms = diversity_terms(&programs, &seen, self.config.diversity_bonus);
                for (&i, v) in idx.iter().zip(terms) {
                    bonus[i] = v;
                }
            }
        }
        let mut rollouts: Vec<Rollout> = Vec::new();
        for (i, (toks, _, _)) in proposals.iter().enumerate() {
            let mut seq = prompts[i].clone();
            let prompt_len = seq.len();
            seq.extend_from_slice(toks);
            rollouts.push(Rollout {
                role: 2 * kind_index(self.config.task_types[owner[i]].kind()),
                reward: proposer_reward(acc[i]) + bonus[i],
                ..Rollout::new(seq, prompt_len)
            });
        }
        // Metrics of the proposals.
        let np = tasks.len() as f64;
        let nv = valid.len();
        let distinct: BTreeSet<String> = valid
            .iter()
            .map(|&i| tasks[i].as_ref().expect("valid").program.to_string())
            .collect();
        let mean = |xs: &mut dyn Iterator<Item = f64>, d: usize| xs.sum::<f64>() / d.max(1) as f64;
        let mean_learn = mean(
            &mut valid.iter().map(|&i| learnability(acc[i].expect("valid"))),
            nv,
        );
        let prop_acc = mean(&mut valid.iter().map(|&i| acc[i].expect("valid")), nv);
        let mean_propose = mean(&mut rollouts.iter().map(|r| r.reward), tasks.len());
        // Valid tasks enter their buffers (the seeds stay; the oldest proposal leaves); with
        // `buffer_distinct` only programs the buffer does not hold yet.
        let mut held: Vec<BTreeSet<String>> = if self.config.buffer_distinct {
            (0..ktypes).map(|k| self.buffer_programs(k)).collect()
        } else {
            Vec::new()
        };
        for (i, t) in tasks.into_iter().enumerate() {
            if let Some(t) = t {
                if let Some(h) = held.get_mut(owner[i]) {
                    if !h.insert(self.program_key(&t)) {
                        continue;
                    }
                }
                let b = &mut self.buffers[owner[i]];
                if b.len() >= self.config.buffer_size {
                    b.remove(NUM_SEED_TASKS);
                }
                b.push(t);
            }
        }
        // 3. Solve buffer tasks, one rollout each.
        let mut solve_tasks = Vec::new();
        let mut solve_prompts = Vec::new();
        for k in 0..ktypes {
            for _ in 0..self.config.solves_per_type {
                let r = self.pick(self.buffers[k].len());
                let t = self.buffers[k][r].clone();
                solve_prompts.push(self.vocab.encode(&solver_prompt(&t)));
                solve_tasks.push((k, t));
            }
        }
        let answers = self
            .sample(
                &solve_prompts,
                self.config.max_answer_tokens,
                self.config.temperature,
            )
            .await?;
        let (mut correct, mut formed) = (0usize, 0usize);
        for (((k, t), p), toks_text) in solve_tasks.iter().zip(solve_prompts).zip(answers) {
            let (toks, text) = (toks_text.0, toks_text.1);
            let outcome = grade_answer(t, &text, &self.limits);
            correct += usize::from(outcome == SolveOutcome::Correct);
            formed += usize::from(outcome != SolveOutcome::Malformed);
            let prompt_len = p.len();
            let mut seq = p;
            seq.extend_from_slice(&toks);
            rollouts.push(Rollout {
                role: 2 * kind_index(self.config.task_types[*k].kind()) + 1,
                reward: solver_reward(outcome),
                ..Rollout::new(seq, prompt_len)
            });
        }
        let loss = self.update(&rollouts, &solve_tasks).await?;
        let ns = solve_tasks.len().max(1) as f64;
        let m = AzrMetrics {
            step: self.step,
            valid_proposal_rate: nv as f64 / np,
            mean_propose_reward: mean_propose,
            mean_learnability: mean_learn,
            proposed_task_accuracy: prop_acc,
            proposal_diversity: distinct.len() as f64 / np,
            solver_train_accuracy: correct as f64 / ns,
            solver_format_rate: formed as f64 / ns,
            heldout_accuracy: heldout.as_ref().map(|e| e.accuracy),
            heldout_by_type: heldout.map(|e| e.by_type),
            loss,
            buffer_len: self.buffers.iter().map(|b| b.len()).sum(),
            example_proposals,
        };
        self.step += 1;
        Ok(m)
    }

    /// Task-relative REINFORCE++ advantages and one on-policy policy-loss update (plus the
    /// supervised solver term on `solve_tasks` when `solver_sft_weight` > 0).
    async fn update(
        &mut self,
        rollouts: &[Rollout],
        solve_tasks: &[(usize, ProgramTask)],
    ) -> Result<f64, TrainError> {
        let max_t = self.config.model.n_positions;
        let loss = self
            .policy
            .task_relative_gradient(rollouts, max_t, self.step)
            .await?;
        self.solver_sft_backward(solve_tasks).await?;
        self.policy.step(self.step).await?;
        Ok(loss)
    }

    /// The full state (parameters, optimiser, buffers, random streams, step); refuses a
    /// non-finite parameter.
    pub async fn snapshot(&mut self) -> Result<LoopSnapshot<AzrState>, TrainError> {
        let (params, optimizer) = self.policy.snapshot(self.step).await?;
        Ok(LoopSnapshot {
            params,
            optimizer,
            tensors: Vec::new(),
            state: AzrState {
                step: self.step,
                warmed_up: self.warmed_up,
                draws: self.draws,
                rng_word_pos: crate::selfplay::rng_position(&self.rng),
                buffers: self
                    .buffers
                    .iter()
                    .map(|b| b.iter().map(proposal_text).collect())
                    .collect(),
            },
        })
    }

    /// Restores an [`AzrSelfPlay::snapshot`] taken from a run with the same config (buffer
    /// tasks are re-validated from their proposal texts).
    pub fn restore(&mut self, snap: &LoopSnapshot<AzrState>) -> Result<(), TrainError> {
        let st = &snap.state;
        if st.buffers.len() != self.config.task_types.len() {
            return Err(TrainError::Checkpoint(
                "the buffers' task types differ from the config's".into(),
            ));
        }
        let mut buffers = Vec::with_capacity(st.buffers.len());
        for (k, texts) in st.buffers.iter().enumerate() {
            let kind = self.config.task_types[k].kind();
            let tasks = texts
                .iter()
                .map(|t| {
                    check_proposal(kind, t, true, &self.limits).ok_or_else(|| {
                        TrainError::Checkpoint(alloc::format!("buffer task `{t}` is not valid"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            buffers.push(tasks);
        }
        crate::selfplay::restore_rng(&mut self.rng, &st.rng_word_pos)?;
        if st.warmed_up {
            self.policy
                .set_stage_options(self.config.optim, self.config.max_steps);
        }
        self.policy.restore(&snap.params, &snap.optimizer)?;
        self.buffers = buffers;
        self.step = st.step;
        self.warmed_up = st.warmed_up;
        self.draws = st.draws;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warm_start_corpus_holds_valid_fitting_proposals() {
        let cfg = AzrConfig {
            warmup_corpus_size: 20,
            eval_tasks_per_type: 2,
            ..AzrConfig::default()
        };
        let sp = AzrSelfPlay::new(cfg, spar_model::CpuKernels::new()).unwrap();
        let lim = Limits::default();
        for (k, texts) in sp.corpus.iter().enumerate() {
            assert_eq!(texts.len(), 20);
            let t = sp.config.task_types[k];
            for text in texts {
                let task = check_proposal(t.kind(), text, true, &lim).expect("valid");
                assert!(sp.fits(&task), "{text}");
            }
        }
        // Held-out tasks fit too.
        assert!(sp.heldout.iter().flatten().all(|t| sp.fits(t)));
    }

    #[test]
    fn config_errors_name_the_field() {
        let mut c = AzrConfig {
            n_samples: 0,
            ..AzrConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("n_samples"));
        c = AzrConfig {
            task_types: vec![AzrTaskType::Deduction, AzrTaskType::Deduction],
            ..AzrConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("task_types"));
        c = AzrConfig {
            buffer_size: NUM_SEED_TASKS,
            ..AzrConfig::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("buffer_size"));
        c = AzrConfig::default();
        c.model.n_positions = 40;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("model.n_positions"));
    }
}
