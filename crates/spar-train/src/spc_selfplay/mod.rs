//! SPC: an adversarial critic trained by self-play on addition traces (Chen et al. 2025,
//! "SPC: Evolving Self-Play Critic via Adversarial Games for LLM Reasoning").
//!
//! One GPT plays two roles on spar-tasks' checkable traces (`12+39: 2+9=11 c1; 1+3+1=5; =
//! 51`, [`spar_tasks::AddTrace`]):
//!
//! * the **sneaky** role sees a correct trace and a step index, `sneak TRACE @k:`
//!   ([`sneaky_prompt`]), and writes a wrong version of step `k` as the step is written in a
//!   trace (`1+3=4`, or `= 41` for the result line). The proposal is valid only when the
//!   trace with step `k` replaced parses and the checker finds exactly one wrong step, step
//!   `k` ([`sneaky_trace`]);
//! * the **critic** sees a trace, `critic TRACE?` ([`critic_prompt`]), and names its first
//!   wrong step (`1`) or says `none` ([`parse_verdict`]).
//!
//! Rewards ([`sneaky_reward`], [`critic_reward`]): on a valid sneaky trace the game is
//! zero-sum, sneaky `+1` / critic `−1` when the critic misses the step, sneaky `−1` / critic
//! `+1` when it names it \[PAPER\] (the paper's adversarial game, there on single steps of
//! math solutions judged by a verifier; here the critic locates the step in a whole trace).
//! An invalid proposal earns `invalid_reward` (default −2) and is not shown to the critic;
//! the paper keeps only sneaky steps that really are wrong, and this penalty is this loop's
//! own choice, set below the caught reward so that writing a real error pays. On a correct
//! trace, or a random corruption with no sneaky author, the critic earns `+1` right / `−1`
//! wrong or malformed (own choice).
//!
//! A step: `sneaks_per_step` sneaky proposals (random correct traces, step uniform), one
//! critic answer for each valid one, random corruptions ([`spar_tasks::corrupt_trace`]) to
//! fill the critic's `critic_per_step` corrupted traces, and `clean_per_step` correct traces.
//! Both roles train in one update with REINFORCE and a per-role batch baseline
//! (task-relative REINFORCE++, [`spar_losses::task_relative`], γ = 1, no KL):
//! `A = (R − mean_role) / sqrt(var_role + 1e-8)`, broadcast to every completion token, with the
//! on-policy clipped loss (ratio 1) and AdamW. Arm `random` is the baseline: the same critic
//! budget, every corrupted trace a random corruption, no sneaky role.
//!
//! The warm start (the paper's SFT stage) reads correct traces (`12+39:` → body), critic
//! examples on random corruptions and correct traces (`critic TRACE?` → `k` / `none`), and
//! sneaky examples (`sneak TRACE @k:` → a random wrong step `k`, [`spar_tasks::corrupt_step`]).
//! The critic is then evaluated greedily on fixed held-out sets ([`SpcEval`]): random
//! corruptions, correct traces, and corruptions the warm-started sneaky role wrote (made
//! once after the warm start, so the same in both arms).

mod config;
mod game;

pub use config::{SpcArm, SpcConfig, SpcEval, SpcMetrics, SpcState};
pub use game::{
    critic_prompt, critic_reward, draw_trace, parse_verdict, sneaky_prompt, sneaky_reward,
    sneaky_trace, trace_steps, verdict_is_right, verdict_text, wrong_steps, Verdict, SPC_CHARSET,
};

use crate::policy::Policy;
use crate::rollout::{Batch, Rollout};
use crate::selfplay::LoopSnapshot;
use crate::vocab::CharVocab;
use crate::TrainError;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use spar_model::{Gpt, Kernels, SampleConfig};
use spar_tasks::{check_trace, corrupt_step, corrupt_trace, AddTrace};

/// Most prompts one generate call holds (evaluations run in chunks of this).
const EVAL_CHUNK: usize = 64;
/// Sneaky attempts per wanted held-out sneaky trace.
const SNEAKY_EVAL_TRIES: usize = 4;

/// The sneaky–critic loop over a backend `K`.
pub struct SpcSelfPlay<K: Kernels> {
    config: SpcConfig,
    policy: Policy<K>,
    vocab: CharVocab,
    rng: ChaCha8Rng,
    step: u32,
    warmed_up: bool,
    draws: u32,
    cap: usize,
    heldout_random: Vec<AddTrace>,
    heldout_clean: Vec<AddTrace>,
    heldout_sneaky: Vec<AddTrace>,
}

impl<K: Kernels> SpcSelfPlay<K> {
    /// A fresh model (initialised from the seed) and the held-out random and correct traces.
    pub fn new(config: SpcConfig, kernels: K) -> Result<Self, TrainError> {
        config.validate()?;
        let vocab = CharVocab::new(&config.model.charset)?;
        let m = &config.model;
        let cap = config
            .warmup_batch
            .max(config.sneaks_per_step + config.critic_per_step + config.clean_per_step)
            .max(EVAL_CHUNK);
        let mut model = Gpt::new(
            kernels,
            m.gpt_config(vocab.vocab_size()),
            cap,
            m.n_positions,
        )?;
        model.init_params(config.seed);
        let policy = Policy::new(
            model,
            config.optim.merged(&config.warmup_optim),
            config.warmup_steps,
        );
        let mut eval_rng = ChaCha8Rng::seed_from_u64(config.eval_seed);
        let d = config.max_digits;
        let heldout_random = (0..config.eval_traces)
            .map(|_| corrupt_trace(&draw_trace(&mut eval_rng, d), &mut eval_rng).0)
            .collect();
        let heldout_clean = (0..config.eval_traces)
            .map(|_| draw_trace(&mut eval_rng, d))
            .collect();
        Ok(Self {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            step: 0,
            warmed_up: false,
            draws: 0,
            cap,
            heldout_random,
            heldout_clean,
            heldout_sneaky: Vec::new(),
            config,
            policy,
            vocab,
        })
    }

    /// Self-play steps done.
    pub fn step(&self) -> u32 {
        self.step
    }

    /// The config.
    pub fn config(&self) -> &SpcConfig {
        &self.config
    }

    /// The model.
    pub fn model(&mut self) -> &mut Gpt<K> {
        self.policy.model()
    }

    /// The vocabulary.
    pub fn vocab(&self) -> &CharVocab {
        &self.vocab
    }

    /// The held-out sneaky corruptions (empty before the warm start ends).
    pub fn heldout_sneaky(&self) -> &[AddTrace] {
        &self.heldout_sneaky
    }

    /// Switches the arm (the shared warm start of both arms is taken once, then each arm
    /// goes on from a copy).
    pub fn set_arm(&mut self, arm: SpcArm) {
        self.config.arm = arm;
    }

    fn pick(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n.max(1) as u64) as usize
    }

    /// Samples one completion per prompt, in chunks of the model's batch; returns the new
    /// tokens and their text. Greedy decoding reads no random stream and leaves the stream
    /// counter alone, so evaluations do not change a run.
    async fn sample(
        &mut self,
        prompts: &[Vec<u32>],
        max_new_tokens: usize,
        temperature: f32,
    ) -> Result<Vec<(Vec<u32>, String)>, TrainError> {
        let mut out = Vec::with_capacity(prompts.len());
        for chunk in prompts.chunks(self.cap) {
            let refs: Vec<&[u32]> = chunk.iter().map(|p| p.as_slice()).collect();
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
            out.extend(gens.into_iter().map(|g| {
                let text = self.vocab.decode(&g.tokens);
                (g.tokens, text)
            }));
        }
        Ok(out)
    }

    /// The warm start: `warmup_steps` supervised steps (does nothing once done), then the
    /// held-out sneaky set. Returns the last step's loss (0 when nothing was done).
    pub async fn warm_start(&mut self) -> Result<f64, TrainError> {
        let mut loss = 0.0;
        if self.warmed_up {
            return Ok(loss);
        }
        let d = self.config.max_digits;
        for s in 0..self.config.warmup_steps {
            let mut seqs = Vec::with_capacity(self.config.warmup_batch);
            for i in 0..self.config.warmup_batch {
                let t = draw_trace(&mut self.rng, d);
                let ex = match i % 3 {
                    0 => self
                        .vocab
                        .encode_example(&alloc::format!("{}+{}:", t.a, t.b), &t.body()),
                    1 => {
                        let clean = (self.rng.next_u64() % 1_000_000) as f64 / 1e6
                            < self.config.warmup_clean_fraction;
                        let shown = if clean {
                            t
                        } else {
                            corrupt_trace(&t, &mut self.rng).0
                        };
                        self.vocab.encode_example(
                            &critic_prompt(&shown),
                            &verdict_text(check_trace(&shown)),
                        )
                    }
                    _ => {
                        let k = self.pick(t.num_steps());
                        let bad = corrupt_step(&t, k, &mut self.rng).unwrap_or_else(|| t.clone());
                        let target = trace_steps(&bad).swap_remove(k);
                        self.vocab.encode_example(&sneaky_prompt(&t, k), &target)
                    }
                };
                seqs.push(ex);
            }
            let batch = Batch::from_pairs(&seqs, self.config.model.n_positions);
            loss = self.policy.nll_backward(&batch, 1.0, s).await?;
            self.policy.step(s).await?;
        }
        self.finish_warm_start().await?;
        Ok(loss)
    }

    /// Starts the self-play stage and writes the held-out sneaky set: the warm-started
    /// sneaky role (sampled) on traces drawn from `eval_seed + 1`, valid proposals only, up
    /// to `eval_traces` of them.
    async fn finish_warm_start(&mut self) -> Result<(), TrainError> {
        self.policy
            .begin_stage(self.config.optim, self.config.max_steps);
        self.warmed_up = true;
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.eval_seed.wrapping_add(1));
        let n = self.config.eval_traces * SNEAKY_EVAL_TRIES;
        let mut asks = Vec::with_capacity(n);
        for _ in 0..n {
            let t = draw_trace(&mut rng, self.config.max_digits);
            let k = (rng.next_u64() % t.num_steps() as u64) as usize;
            asks.push((t, k));
        }
        let prompts: Vec<Vec<u32>> = asks
            .iter()
            .map(|(t, k)| self.vocab.encode(&sneaky_prompt(t, *k)))
            .collect();
        let outs = self
            .sample(&prompts, self.config.max_step_tokens, 1.0)
            .await?;
        self.heldout_sneaky = asks
            .iter()
            .zip(&outs)
            .filter_map(|((t, k), (_, text))| sneaky_trace(t, *k, text))
            .take(self.config.eval_traces)
            .collect();
        Ok(())
    }

    /// Greedy held-out accuracies of the critic.
    pub async fn evaluate(&mut self) -> Result<SpcEval, TrainError> {
        let sets = [
            self.heldout_random.clone(),
            self.heldout_sneaky.clone(),
            self.heldout_clean.clone(),
        ];
        let mut acc = [0.0f64; 3];
        for (a, set) in acc.iter_mut().zip(&sets) {
            let prompts: Vec<Vec<u32>> = set
                .iter()
                .map(|t| self.vocab.encode(&critic_prompt(t)))
                .collect();
            let outs = self
                .sample(&prompts, self.config.max_verdict_tokens, 0.0)
                .await?;
            let right = set
                .iter()
                .zip(&outs)
                .filter(|(t, (_, text))| verdict_is_right(parse_verdict(text), t))
                .count();
            *a = right as f64 / set.len().max(1) as f64;
        }
        Ok(SpcEval {
            random_accuracy: acc[0],
            sneaky_accuracy: acc[1],
            clean_accuracy: acc[2],
        })
    }

    /// One self-play step (after the warm start, run first if not yet done): sneaky
    /// proposals (arm `spc`), the critic's answers, and one policy-gradient update.
    pub async fn train_step(&mut self) -> Result<SpcMetrics, TrainError> {
        self.warm_start().await?;
        let heldout = if self.config.eval_every > 0 && self.step % self.config.eval_every == 0 {
            Some(self.evaluate().await?)
        } else {
            None
        };
        let d = self.config.max_digits;
        let temp = self.config.temperature;
        let mut rollouts: Vec<Rollout> = Vec::new();
        // 1. Sneaky proposals.
        let mut asks = Vec::new();
        if self.config.arm == SpcArm::Spc {
            for _ in 0..self.config.sneaks_per_step {
                let t = draw_trace(&mut self.rng, d);
                let k = self.pick(t.num_steps());
                asks.push((t, k));
            }
        }
        let sneak_prompts: Vec<Vec<u32>> = asks
            .iter()
            .map(|(t, k)| self.vocab.encode(&sneaky_prompt(t, *k)))
            .collect();
        let sneaks = self
            .sample(&sneak_prompts, self.config.max_step_tokens, temp)
            .await?;
        let proposed: Vec<Option<AddTrace>> = asks
            .iter()
            .zip(&sneaks)
            .map(|((t, k), (_, text))| sneaky_trace(t, *k, text))
            .collect();
        // 2. The critic's traces: valid sneaky ones (with their author), random
        // corruptions up to the budget, then correct traces.
        let mut shown: Vec<(AddTrace, Option<usize>)> = proposed
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.clone().map(|t| (t, Some(i))))
            .take(self.config.critic_per_step)
            .collect();
        while shown.len() < self.config.critic_per_step {
            let t = draw_trace(&mut self.rng, d);
            shown.push((corrupt_trace(&t, &mut self.rng).0, None));
        }
        for _ in 0..self.config.clean_per_step {
            shown.push((draw_trace(&mut self.rng, d), None));
        }
        let critic_prompts: Vec<Vec<u32>> = shown
            .iter()
            .map(|(t, _)| self.vocab.encode(&critic_prompt(t)))
            .collect();
        let verdicts = self
            .sample(&critic_prompts, self.config.max_verdict_tokens, temp)
            .await?;
        let mut caught = vec![None; asks.len()];
        let (mut bad_right, mut clean_right) = (0usize, 0usize);
        for (j, (((t, author), (toks, text)), p)) in
            shown.iter().zip(&verdicts).zip(&critic_prompts).enumerate()
        {
            let right = verdict_is_right(parse_verdict(text), t);
            if let Some(i) = author {
                caught[*i] = Some(right);
            }
            if j < self.config.critic_per_step {
                bad_right += usize::from(right);
            } else {
                clean_right += usize::from(right);
            }
            let mut seq = p.clone();
            seq.extend_from_slice(toks);
            rollouts.push(Rollout {
                role: 1,
                reward: critic_reward(right),
                ..Rollout::new(seq, p.len())
            });
        }
        // 3. Sneaky rewards (their rollouts go first in the batch order below).
        let mut sneaky_rollouts = Vec::with_capacity(asks.len());
        let (mut valid, mut fooled, mut sneaky_sum) = (0usize, 0usize, 0.0f64);
        for (i, ((toks, _), p)) in sneaks.iter().zip(&sneak_prompts).enumerate() {
            let ok = proposed[i].is_some() && caught[i].is_some();
            let right = caught[i].unwrap_or(true);
            let r = sneaky_reward(ok, right, self.config.invalid_reward);
            valid += usize::from(ok);
            fooled += usize::from(ok && !right);
            sneaky_sum += r;
            let mut seq = p.clone();
            seq.extend_from_slice(toks);
            sneaky_rollouts.push(Rollout {
                role: 0,
                reward: r,
                ..Rollout::new(seq, p.len())
            });
        }
        sneaky_rollouts.extend(rollouts);
        let loss = self.update(&sneaky_rollouts).await?;
        let n_sneak = asks.len();
        let m = SpcMetrics {
            step: self.step,
            sneaky_valid_rate: valid as f64 / n_sneak.max(1) as f64,
            sneaky_fool_rate: fooled as f64 / valid.max(1) as f64,
            mean_sneaky_reward: sneaky_sum / n_sneak.max(1) as f64,
            critic_train_accuracy: bad_right as f64 / self.config.critic_per_step as f64,
            critic_clean_accuracy: clean_right as f64 / self.config.clean_per_step.max(1) as f64,
            loss,
            heldout,
            example_sneak: sneaks.first().map(|s| s.1.clone()).unwrap_or_default(),
        };
        self.step += 1;
        Ok(m)
    }

    /// Per-role whitened advantages and one on-policy policy-loss update.
    async fn update(&mut self, rollouts: &[Rollout]) -> Result<f64, TrainError> {
        let max_t = self.config.model.n_positions;
        let loss = self
            .policy
            .task_relative_gradient(rollouts, max_t, self.step)
            .await?;
        self.policy.step(self.step).await?;
        Ok(loss)
    }

    /// The full state (parameters, optimiser, random streams, held-out sneaky set, step);
    /// refuses a non-finite parameter.
    pub async fn snapshot(&mut self) -> Result<LoopSnapshot<SpcState>, TrainError> {
        let (params, optimizer) = self.policy.snapshot(self.step).await?;
        Ok(LoopSnapshot {
            params,
            optimizer,
            tensors: Vec::new(),
            state: SpcState {
                step: self.step,
                warmed_up: self.warmed_up,
                draws: self.draws,
                rng_word_pos: crate::selfplay::rng_position(&self.rng),
                heldout_sneaky: self.heldout_sneaky.iter().map(|t| t.to_string()).collect(),
            },
        })
    }

    /// Restores an [`SpcSelfPlay::snapshot`] taken from a run with the same config (the arm
    /// may differ: both arms go on from one warm start).
    pub fn restore(&mut self, snap: &LoopSnapshot<SpcState>) -> Result<(), TrainError> {
        let st = &snap.state;
        let sneaky = st
            .heldout_sneaky
            .iter()
            .map(|s| {
                AddTrace::parse(s).map_err(|e| {
                    TrainError::Checkpoint(alloc::format!("held-out trace `{s}`: {e}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        crate::selfplay::restore_rng(&mut self.rng, &st.rng_word_pos)?;
        if st.warmed_up {
            self.policy
                .set_stage_options(self.config.optim, self.config.max_steps);
        }
        self.policy.restore(&snap.params, &snap.optimizer)?;
        self.heldout_sneaky = sneaky;
        self.step = st.step;
        self.warmed_up = st.warmed_up;
        self.draws = st.draws;
        Ok(())
    }
}
