//! Tic-tac-toe self-play with role-conditioned advantages (SPIRAL, Liu et al. 2025,
//! "SPIRAL: Self-Play on Zero-Sum Games Incentivizes Reasoning via Multi-Agent Multi-Turn
//! Reinforcement Learning").
//!
//! One GPT plays both seats through spar-tasks' compact text protocol: the player to move
//! sees the board, `"ttt X.O.X...O x:"` ([`Board::prompt`]), and answers with one token, a
//! square `1`–`9` (as [`spar_tasks::tictactoe::parse_move`] reads it). An answer that is not
//! a digit or names a taken square forfeits: the mover loses. The game outcome (+1 win, 0 draw, −1 loss; zero-sum) is
//! the only reward. Advantages are role-conditioned (RAE,
//! [`spar_losses::rae::RoleBaselines`], one EMA baseline per seat, X and O):
//!
//! ```text
//! A_p = R_p − b_p          b_p ← γ b_p + (1 − γ) R_p     (γ = 0.95, per game, per seat)
//! ```
//! given to every move token of that seat in that game and trained with GRPO's clipped
//! policy loss ([`spar_losses::ppo_clip::policy_loss`], on-policy: one update per batch of
//! games) plus an optional entropy bonus on the move tokens.
//!
//! By default (`mask_illegal`) the answer is drawn from the model's distribution restricted
//! to the empty squares' digits, `q = p / Σ_legal p`, the policy gradient is that of `log q`
//! (estimated with a second draw from `q`, see `masked_update`), and a term
//! `− legal_coef · log Σ_legal p` makes the unrestricted answer legal too. Without masking
//! the whole vocabulary is sampled and an illegal answer forfeits: the mover loses.
//!
//! Evaluation plays `eval_games` games per seat against the exact solver (perfect play, ties
//! broken at random; a draw is the best result) and against a uniformly random player; the
//! model answers greedily (over the legal squares with masking, else over its whole
//! vocabulary, where an illegal answer forfeits), and the fraction of decisions whose
//! unrestricted most likely answer is illegal is reported.

use crate::pg::PgSpec;
use crate::policy::Policy;
use crate::rollout::{Batch, Rollout};
use crate::selfplay::{role_advantages, LoopSnapshot};
use crate::vocab::CharVocab;
use crate::TrainError;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use spar_losses::ppo_clip::{Advantages, PolicyLossConfig};
use spar_losses::rae::RoleBaselines;
use spar_model::{Gpt, Kernels};
use spar_tasks::tictactoe::{Board, Mark, Solver};

/// Characters of the tic-tac-toe protocol (one token each, plus the end token).
pub const TTT_CHARSET: &str = "tXO.xo: 123456789";

/// Length of every prompt, `"ttt " + 9 squares + " x:"`.
pub const PROMPT_LEN: usize = 16;

mod config;
mod credit;
mod eval;
pub use config::{SolverCreditMode, TicTacToeConfig};
use credit::all_moves_weights;
pub use eval::{Record, TicTacToeEval, WorstCase};

/// Stream of the evaluation's draws, apart from the training games'.
const EVAL_STREAM: u64 = 0x7474_7465;

/// One self-play step's metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TicTacToeMetrics {
    /// The step (0-based).
    pub step: u32,
    /// X's mean reward over the step's games.
    pub mean_reward_x: f64,
    /// Fraction of games X won.
    pub x_win_fraction: f64,
    /// Fraction of games O won.
    pub o_win_fraction: f64,
    /// Fraction of drawn games.
    pub draw_fraction: f64,
    /// Fraction of games ended by an illegal answer.
    pub forfeit_fraction: f64,
    /// Mean moves per game (the forfeiting answer included).
    pub mean_game_length: f64,
    /// The policy loss (entropy bonus included).
    pub loss: f64,
    /// Mean entropy of the move tokens' distributions.
    pub entropy: f64,
    /// The two seats' baselines after the step (X, O).
    pub baselines: [f64; 2],
    /// Games of the step against the solver, the random player and a past snapshot (the
    /// rest are self-play).
    #[serde(default)]
    pub opponent_games: [usize; 3],
    /// Snapshots in the opponent pool.
    #[serde(default)]
    pub pool: usize,
}

/// Who sits in a seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Player {
    /// The model: sampling at the temperature, or greedy.
    Model,
    /// The exact solver, uniform among its optimal moves.
    Solver,
    /// Uniform among the legal moves.
    Random,
    /// A past snapshot of the model from the pool, sampling at the temperature (its moves
    /// are not trained on).
    Past,
}

/// One game in flight.
struct Game {
    board: Board,
    seats: [Player; 2],
    /// X's reward once the game is over.
    result: Option<f64>,
    forfeit: bool,
    moves: usize,
}

/// One model decision on its way to the loss.
struct Decision {
    seq: Vec<u32>,
    seat: usize,
    game: usize,
    /// With masking: a second, independent draw from the restricted distribution (its
    /// log-prob row estimates `∇ log Σ_legal p`).
    alt: Option<u32>,
    /// With masking: `log q(answer)` and `log Σ_legal p` at sampling time.
    log_q: f64,
    log_legal: f64,
    /// Whether the unrestricted most likely answer is illegal.
    argmax_illegal: bool,
    /// The solver's value for the mover after the move minus before (0 when
    /// `solver_credit` is off or the answer forfeits).
    credit: f64,
    /// With an all-squares [`SolverCreditMode`]: each empty square's token and the
    /// derivative of the decision's credit term with respect to its logit.
    all_moves: Vec<(u32, f64)>,
    /// With an all-squares mode: the credit term's value at sampling time.
    credit_value: f64,
}

/// The candidate token with the highest probability in `p` (the first of equals): the
/// greedy answer.
fn greedy(p: &[f64], cands: impl IntoIterator<Item = u32>) -> u32 {
    cands
        .into_iter()
        .reduce(|b, c| if p[c as usize] > p[b as usize] { c } else { b })
        .expect("at least one candidate")
}

fn seat_of(board: &Board) -> usize {
    if board.to_move() == Mark::X {
        0
    } else {
        1
    }
}

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// The self-play loop over a backend `K`.
pub struct TicTacToeSelfPlay<K: Kernels> {
    config: TicTacToeConfig,
    policy: Policy<K>,
    vocab: CharVocab,
    solver: Solver,
    rae: RoleBaselines,
    rng: ChaCha8Rng,
    step: u32,
    /// Token id of each square's digit (square 0 is `1`).
    square_tok: [u32; 9],
    /// The opponent pool's past parameter snapshots, oldest first.
    pool: Vec<Vec<f32>>,
    /// The pool entry the current step's past-snapshot games face.
    pool_pick: usize,
}

impl<K: Kernels> TicTacToeSelfPlay<K> {
    /// A fresh model (initialised from the seed) and zero baselines.
    pub fn new(config: TicTacToeConfig, kernels: K) -> Result<Self, TrainError> {
        config.validate()?;
        let vocab = CharVocab::new(&config.model.charset)?;
        let m = &config.model;
        let gpt = m.gpt_config(vocab.vocab_size());
        // Room for every decision of a step (at most nine per game, two rows each masked).
        let cap = (18 * config.games_per_step).max(2 * config.eval_games);
        let mut model = Gpt::new(kernels, gpt, cap, m.n_positions)?;
        model.init_params(config.seed);
        let roles = if config.opponent_baselines { 8 } else { 2 };
        let rae = RoleBaselines::new(roles, config.role_baseline_ema_gamma)?;
        let rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut square_tok = [0u32; 9];
        for (i, t) in square_tok.iter_mut().enumerate() {
            *t = vocab.encode(&alloc::format!("{}", i + 1))[0];
        }
        let policy = Policy::new(model, config.optim, config.max_steps);
        Ok(Self {
            config,
            policy,
            vocab,
            solver: Solver::new(),
            rae,
            rng,
            step: 0,
            square_tok,
            pool: Vec::new(),
            pool_pick: 0,
        })
    }

    /// The square (0–8) a digit token names.
    fn tok_square(&self, tok: u32) -> usize {
        self.square_tok
            .iter()
            .position(|&t| t == tok)
            .expect("a legal answer is a square's digit")
    }

    /// Steps done.
    pub fn step(&self) -> u32 {
        self.step
    }
    /// The config.
    pub fn config(&self) -> &TicTacToeConfig {
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

    /// The model's next-token probabilities (at `temperature`; 0 gives the plain softmax,
    /// used for greedy play) after each board's prompt.
    pub async fn move_distributions(
        &mut self,
        boards: &[Board],
        temperature: f32,
    ) -> Result<Vec<Vec<f64>>, TrainError> {
        let v = self.vocab.vocab_size();
        let cap = self.policy.model_ref().capacity().0;
        let mut out = Vec::with_capacity(boards.len());
        for chunk in boards.chunks(cap) {
            let ids: Vec<u32> = chunk
                .iter()
                .flat_map(|b| self.vocab.encode(&b.prompt(false)))
                .collect();
            if ids.len() != chunk.len() * PROMPT_LEN {
                return Err(TrainError::Config(
                    "a prompt does not encode to 16 tokens".into(),
                ));
            }
            let mut logits = vec![0.0f32; chunk.len() * v];
            self.policy
                .model()
                .next_token_logits(&ids, chunk.len(), &mut logits)
                .await?;
            let t = if temperature > 0.0 {
                temperature as f64
            } else {
                1.0
            };
            for row in logits.chunks_exact(v) {
                let z: Vec<f64> = row.iter().map(|&x| x as f64 / t).collect();
                if z.iter().any(|x| !x.is_finite()) {
                    return Err(TrainError::NonFinite {
                        step: self.step,
                        what: "logits",
                    });
                }
                let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = z.iter().map(|&x| libm::exp(x - m)).collect();
                let s: f64 = e.iter().sum();
                out.push(e.into_iter().map(|x| x / s).collect());
            }
        }
        Ok(out)
    }

    /// The move distributions of the pool's current pick: its parameters are swapped in for
    /// the forward pass and the current ones (with the optimiser's state) put back exactly.
    async fn past_distributions(
        &mut self,
        boards: &[Board],
        temperature: f32,
    ) -> Result<Vec<Vec<f64>>, TrainError> {
        let mut current = vec![0.0f32; self.policy.model_ref().layout().len()];
        self.policy.model().read_params(&mut current).await?;
        let opt = self.policy.optimizer_snapshot().await;
        let past = core::mem::take(&mut self.pool[self.pool_pick]);
        let swapped = self.policy.model().write_params(&past);
        self.pool[self.pool_pick] = past;
        swapped?;
        let dists = self.move_distributions(boards, temperature).await;
        self.policy.model().write_params(&current)?;
        self.policy.restore_optimizer(&opt)?;
        dists
    }

    /// Plays `games` to the end; the model samples at `temperature` (0: greedy). Returns the
    /// model's decisions (token sequences with seat and game).
    async fn play(
        &mut self,
        games: &mut [Game],
        temperature: f32,
        rng_eval: bool,
        mut eval_rng: Option<&mut ChaCha8Rng>,
    ) -> Result<Vec<Decision>, TrainError> {
        let mut decisions = Vec::new();
        loop {
            let active: Vec<usize> = (0..games.len())
                .filter(|&g| games[g].result.is_none())
                .collect();
            if active.is_empty() {
                break;
            }
            let model_turn: Vec<usize> = active
                .iter()
                .copied()
                .filter(|&g| games[g].seats[seat_of(&games[g].board)] == Player::Model)
                .collect();
            let boards: Vec<Board> = model_turn.iter().map(|&g| games[g].board).collect();
            let dists = if boards.is_empty() {
                Vec::new()
            } else {
                self.move_distributions(&boards, temperature).await?
            };
            let mut d_iter = dists.into_iter();
            let past_boards: Vec<Board> = active
                .iter()
                .filter(|&&g| games[g].seats[seat_of(&games[g].board)] == Player::Past)
                .map(|&g| games[g].board)
                .collect();
            let past_dists = if past_boards.is_empty() {
                Vec::new()
            } else {
                self.past_distributions(&past_boards, temperature).await?
            };
            let mut past_iter = past_dists.into_iter();
            for &g in &active {
                let board = games[g].board;
                let seat = seat_of(&board);
                let rng: &mut ChaCha8Rng = match (rng_eval, eval_rng.as_deref_mut()) {
                    (true, Some(r)) => r,
                    _ => &mut self.rng,
                };
                let pos = match games[g].seats[seat] {
                    Player::Model => {
                        let p = d_iter.next().expect("one distribution per model turn");
                        let legal: Vec<u32> = board
                            .legal_moves()
                            .into_iter()
                            .map(|m| self.square_tok[m])
                            .collect();
                        let argmax = greedy(&p, 0..p.len() as u32);
                        let argmax_illegal = !legal.contains(&argmax);
                        // The answer is drawn from `cands` with weights `p` (restricted to
                        // the legal squares with masking).
                        let cands: Vec<u32> = if self.config.mask_illegal {
                            legal.clone()
                        } else {
                            (0..p.len() as u32).collect()
                        };
                        let mass: f64 = cands.iter().map(|&c| p[c as usize]).sum();
                        let draw = |rng: &mut ChaCha8Rng| -> u32 {
                            let u = uniform(rng) * mass;
                            let mut acc = 0.0;
                            for &c in &cands {
                                acc += p[c as usize];
                                if u < acc {
                                    return c;
                                }
                            }
                            *cands.last().expect("a game not over has a legal move")
                        };
                        let (tok, alt) = if temperature > 0.0 {
                            let tok = draw(rng);
                            let alt = self.config.mask_illegal.then(|| draw(rng));
                            (tok, alt)
                        } else {
                            (greedy(&p, cands.iter().copied()), None)
                        };
                        let legal_mass: f64 = legal.iter().map(|&c| p[c as usize]).sum();
                        let credit = match legal.iter().position(|&c| c == tok) {
                            Some(_) if self.config.solver_credit > 0.0 && temperature > 0.0 => {
                                let before = self.solver.value(&board);
                                let after = self.solver.move_value(&board, self.tok_square(tok));
                                (after.expect("a legal square") - before) as f64
                            }
                            _ => 0.0,
                        };
                        let (all_moves, credit_value) = match self.config.solver_credit_mode {
                            _ if temperature == 0.0 => (Vec::new(), 0.0),
                            SolverCreditMode::Played => (Vec::new(), 0.0),
                            mode => {
                                let qs: Vec<(u32, f64, f64)> = legal
                                    .iter()
                                    .map(|&c| {
                                        let v = self.solver.move_value(&board, self.tok_square(c));
                                        (c, p[c as usize] / mass, v.expect("a legal square") as f64)
                                    })
                                    .collect();
                                all_moves_weights(&qs, mode)
                            }
                        };
                        let mut seq = self.vocab.encode(&board.prompt(false));
                        seq.push(tok);
                        decisions.push(Decision {
                            seq,
                            seat,
                            game: g,
                            alt,
                            log_q: libm::log((p[tok as usize] / mass).max(1e-300)),
                            log_legal: libm::log(legal_mass.max(1e-300)),
                            argmax_illegal,
                            credit,
                            all_moves,
                            credit_value,
                        });
                        legal
                            .iter()
                            .position(|&c| c == tok)
                            .map(|_| self.tok_square(tok))
                    }
                    Player::Solver => {
                        let opt = self.solver.optimal_moves(&board);
                        Some(opt[(rng.next_u64() % opt.len() as u64) as usize])
                    }
                    Player::Random => {
                        let legal = board.legal_moves();
                        Some(legal[(rng.next_u64() % legal.len() as u64) as usize])
                    }
                    Player::Past => {
                        let p = past_iter.next().expect("one distribution per past turn");
                        let legal = board.legal_moves();
                        let mass: f64 = legal.iter().map(|&m| p[self.square_tok[m] as usize]).sum();
                        let u = uniform(rng) * mass;
                        let mut acc = 0.0;
                        let mut pick = *legal.last().expect("a game not over has a legal move");
                        for &m in &legal {
                            acc += p[self.square_tok[m] as usize];
                            if u < acc {
                                pick = m;
                                break;
                            }
                        }
                        Some(pick)
                    }
                };
                let game = &mut games[g];
                game.moves += 1;
                match pos {
                    None => {
                        // Forfeit: the mover loses.
                        game.forfeit = true;
                        game.result = Some(if seat == 0 { -1.0 } else { 1.0 });
                    }
                    Some(m) => {
                        game.board = game.board.play(m).expect("the move is legal");
                        if game.board.is_over() {
                            game.result = Some(match game.board.winner() {
                                Some(Mark::X) => 1.0,
                                Some(_) => -1.0,
                                None => 0.0,
                            });
                        }
                    }
                }
            }
        }
        Ok(decisions)
    }

    /// Plays `games_per_step` games against itself and takes one policy-gradient step.
    pub async fn train_step(&mut self) -> Result<TicTacToeMetrics, TrainError> {
        let n = self.config.games_per_step;
        let cfg = &self.config;
        if cfg.past_share > 0.0 && self.step > 0 && self.step % cfg.pool_every == 0 {
            let (params, _) = self.policy.snapshot(self.step).await?;
            if self.pool.len() == self.config.pool_size {
                self.pool.remove(0);
            }
            self.pool.push(params);
        }
        let [n_solver, n_random, n_past] = self.config.opponent_games(!self.pool.is_empty());
        if n_past > 0 {
            self.pool_pick = (self.rng.next_u64() % self.pool.len() as u64) as usize;
        }
        let n_self = n - n_solver - n_random - n_past;
        // Self-play games first, then each opponent's, the model taking X and O in turn.
        let opponents = core::iter::repeat_n(Player::Solver, n_solver)
            .chain(core::iter::repeat_n(Player::Random, n_random))
            .chain(core::iter::repeat_n(Player::Past, n_past));
        let seats = core::iter::repeat_n([Player::Model, Player::Model], n_self).chain(
            opponents.enumerate().map(|(i, o)| {
                if i % 2 == 0 {
                    [Player::Model, o]
                } else {
                    [o, Player::Model]
                }
            }),
        );
        let mut games: Vec<Game> = seats
            .map(|seats| Game {
                board: Board::new(),
                seats,
                result: None,
                forfeit: false,
                moves: 0,
            })
            .collect();
        let decisions = self
            .play(&mut games, self.config.temperature, false, None)
            .await?;
        let payoffs: Vec<f64> = games
            .iter()
            .map(|g| g.result.expect("every game ended"))
            .collect();
        let acted: Vec<(usize, usize)> = decisions.iter().map(|d| (d.game, d.seat)).collect();
        let adv = if self.config.opponent_baselines {
            // The opponent kind of each game (self-play, solver, random, past: the games
            // come in that order), then seat baselines 2·kind + seat, updated game by game
            // as `role_advantages` does.
            let ends = [n_self, n_self + n_solver, n_self + n_solver + n_random];
            let kind = |g: usize| ends.iter().filter(|&&e| g >= e).count();
            let mut acted_in = vec![[false; 2]; n];
            for &(g, seat) in &acted {
                acted_in[g][seat] = true;
            }
            let mut adv_of = vec![[0.0f64; 2]; n];
            for (g, &x) in payoffs.iter().enumerate() {
                for seat in 0..2 {
                    if acted_in[g][seat] {
                        let r = if seat == 0 { x } else { -x };
                        adv_of[g][seat] = self.rae.advantage(2 * kind(g) + seat, r)?;
                    }
                }
            }
            acted.iter().map(|&(g, s)| adv_of[g][s]).collect()
        } else {
            role_advantages(&mut self.rae, &payoffs, &acted)?
        };
        let k = self.config.solver_credit;
        // With an all-squares credit the answer's own credit is not added.
        let played = self.config.solver_credit_mode == SolverCreditMode::Played;
        let adv: Vec<f64> = if k > 0.0 && played {
            adv.iter()
                .zip(&decisions)
                .map(|(a, d)| a + k * d.credit)
                .collect()
        } else {
            adv
        };
        let (loss, entropy) = if self.config.mask_illegal {
            self.masked_update(&decisions, &adv).await?
        } else {
            self.update(&decisions, &adv).await?
        };
        let nf = n as f64;
        let frac = |f: &dyn Fn(&Game) -> bool| games.iter().filter(|g| f(g)).count() as f64 / nf;
        let m = TicTacToeMetrics {
            step: self.step,
            mean_reward_x: games.iter().map(|g| g.result.unwrap_or(0.0)).sum::<f64>() / nf,
            x_win_fraction: frac(&|g| g.result == Some(1.0)),
            o_win_fraction: frac(&|g| g.result == Some(-1.0)),
            draw_fraction: frac(&|g| g.result == Some(0.0)),
            forfeit_fraction: frac(&|g| g.forfeit),
            mean_game_length: games.iter().map(|g| g.moves as f64).sum::<f64>() / nf,
            loss,
            entropy,
            baselines: [self.rae.baseline(0), self.rae.baseline(1)],
            opponent_games: [n_solver, n_random, n_past],
            pool: self.pool.len(),
        };
        self.step += 1;
        Ok(m)
    }

    /// The policy loss on the move tokens' full-vocabulary log-probs, with the entropy bonus.
    async fn update(
        &mut self,
        decisions: &[Decision],
        adv: &[f64],
    ) -> Result<(f64, f64), TrainError> {
        if decisions.is_empty() {
            return Ok((0.0, 0.0));
        }
        let rollouts: Vec<Rollout> = decisions
            .iter()
            .map(|d| Rollout {
                group: d.game,
                role: d.seat,
                ..Rollout::new(d.seq.clone(), PROMPT_LEN)
            })
            .collect();
        let refs: Vec<&Rollout> = rollouts.iter().collect();
        let loss = PolicyLossConfig {
            epsilon: self.config.epsilon,
            epsilon_high: self.config.epsilon,
            ..PolicyLossConfig::default()
        };
        let spec = PgSpec {
            entropy_coef: self.config.entropy_coef_at(self.step),
            ..PgSpec::on_policy(loss, Advantages::PerSequence(adv))
        };
        let out = self
            .policy
            .policy_gradient(&refs, &spec, None, self.config.model.n_positions, self.step)
            .await?;
        self.policy.step(self.step).await?;
        Ok((out.loss, out.entropy))
    }

    /// The update with masking. With `q = p / Σ_L p` over the legal set `L`,
    ///
    /// ```text
    /// ∇ log q(a) = ∇ log p(a) − ∇ log Σ_L p,     ∇ log Σ_L p = E_{a'∼q}[∇ log p(a')]
    /// ```
    /// so a second, independent draw `a'` from `q` makes the policy gradient
    /// `A (∇ log p(a) − ∇ log p(a'))` unbiased, and the legal-mass term
    /// `− λ log Σ_L p` contributes `− λ ∇ log p(a)` (the answer itself is a draw from `q`).
    /// Per decision that is a weight `−(A + λ)/N` on `log p(a)` and `+A/N` on `log p(a')`
    /// through the model's log-prob seam: two rows per decision.
    async fn masked_update(
        &mut self,
        decisions: &[Decision],
        adv: &[f64],
    ) -> Result<(f64, f64), TrainError> {
        if decisions.is_empty() {
            return Ok((0.0, 0.0));
        }
        let nd = decisions.len();
        let alts: Vec<Vec<u32>> = decisions
            .iter()
            .map(|d| {
                let mut s = d.seq.clone();
                s[PROMPT_LEN] = d.alt.expect("a masked training decision has a second draw");
                s
            })
            .collect();
        // With all-moves credit: one more row per decision and empty square.
        let k = self.config.solver_credit;
        let credit_rows: Vec<(Vec<u32>, f64)> = decisions
            .iter()
            .flat_map(|d| {
                d.all_moves.iter().map(|&(tok, w)| {
                    let mut s = d.seq.clone();
                    s[PROMPT_LEN] = tok;
                    (s, w)
                })
            })
            .collect();
        let refs: Vec<(&[u32], usize)> = decisions
            .iter()
            .map(|d| d.seq.as_slice())
            .chain(alts.iter().map(|s| s.as_slice()))
            .map(|s| (s, PROMPT_LEN))
            .collect();
        let batch = Batch::pad(&refs, self.config.model.n_positions);
        let (b, t) = (batch.b, batch.t);
        let (_, ent) = self.policy.logprobs(&batch, true, self.step).await?;
        // The answer sits at position PROMPT_LEN − 1 of every row.
        let pos = |row: usize| row * t + PROMPT_LEN - 1;
        let lam = self.config.legal_coef;
        let inv = 1.0 / nd as f64;
        let c = self.config.entropy_coef_at(self.step);
        let mut weights = vec![0.0f32; b * t];
        let mut ent_w = vec![0.0f32; b * t];
        let (mut loss, mut entropy) = (0.0, 0.0);
        for (i, (d, &a)) in decisions.iter().zip(adv).enumerate() {
            weights[pos(i)] = (-(a + lam) * inv) as f32;
            weights[pos(nd + i)] = (a * inv) as f32;
            ent_w[pos(i)] = (-c * inv) as f32;
            entropy += ent[pos(i)] as f64 * inv;
            loss -= (a * d.log_q + lam * d.log_legal + k * d.credit_value) * inv;
        }

        let loss = loss - c * entropy;
        if !loss.is_finite() {
            return Err(self.policy.non_finite(self.step, "loss"));
        }
        self.policy
            .backward(&weights, (c > 0.0).then_some(ent_w.as_slice()))?;
        // The weights are ∂/∂z_a over the legal logits and sum to 0, so
        // Σ_a w_a ∇ log q(a) = Σ_a w_a ∇ log p(a): one row per square, in batches the model
        // holds (the gradients accumulate).
        let cap = self.policy.model_ref().capacity().0;
        for chunk in credit_rows.chunks(cap) {
            let refs: Vec<(&[u32], usize)> = chunk
                .iter()
                .map(|(s, _)| (s.as_slice(), PROMPT_LEN))
                .collect();
            let batch = Batch::pad(&refs, self.config.model.n_positions);
            self.policy.logprobs(&batch, false, self.step).await?;
            let mut w = vec![0.0f32; batch.b * batch.t];
            for (j, (_, wa)) in chunk.iter().enumerate() {
                w[j * batch.t + PROMPT_LEN - 1] = (-k * wa * inv) as f32;
            }
            self.policy.backward(&w, None)?;
        }
        self.policy.step(self.step).await?;
        Ok((loss, entropy))
    }

    /// The full state (parameters, optimiser, baselines, random stream, step); refuses a
    /// non-finite parameter.
    pub async fn snapshot(&mut self) -> Result<LoopSnapshot<TicTacToeState>, TrainError> {
        let (params, optimizer) = self.policy.snapshot(self.step).await?;
        Ok(LoopSnapshot {
            params,
            optimizer,
            tensors: self
                .pool
                .iter()
                .enumerate()
                .map(|(i, p)| (alloc::format!("pool.{i:04}"), p.clone()))
                .collect(),
            state: TicTacToeState {
                step: self.step,
                rng_word_pos: crate::selfplay::rng_position(&self.rng),
                baselines: self.rae.baselines().to_vec(),
                pool: self.pool.len(),
            },
        })
    }

    /// Restores a [`TicTacToeSelfPlay::snapshot`] taken from a run with the same config.
    pub fn restore(&mut self, snap: &LoopSnapshot<TicTacToeState>) -> Result<(), TrainError> {
        crate::selfplay::restore_rng(&mut self.rng, &snap.state.rng_word_pos)?;
        self.rae.set_baselines(&snap.state.baselines)?;
        self.policy.restore(&snap.params, &snap.optimizer)?;
        let mut pool: Vec<(&String, &Vec<f32>)> = snap
            .tensors
            .iter()
            .filter(|(n, _)| n.starts_with("pool."))
            .map(|(n, p)| (n, p))
            .collect();
        pool.sort_by(|a, b| a.0.cmp(b.0));
        if pool.len() != snap.state.pool {
            return Err(TrainError::Checkpoint(alloc::format!(
                "state.json names {} pool snapshots, the checkpoint holds {}",
                snap.state.pool,
                pool.len()
            )));
        }
        let n = self.policy.model_ref().layout().len();
        if let Some((name, _)) = pool.iter().find(|(_, p)| p.len() != n) {
            return Err(TrainError::Checkpoint(alloc::format!(
                "{name} does not have the model's {n} values"
            )));
        }
        self.pool = pool.into_iter().map(|(_, p)| p.clone()).collect();
        self.step = snap.state.step;
        Ok(())
    }
}

/// A tic-tac-toe run's own state besides the policy's tensors (a checkpoint's `state.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicTacToeState {
    /// Steps done.
    pub step: u32,
    /// Position of the random stream (u128 as decimal text).
    pub rng_word_pos: String,
    /// The seats' RAE baselines.
    pub baselines: Vec<f64>,
    /// Past snapshots in the opponent pool (`pool.NNNN` tensors, oldest first).
    #[serde(default)]
    pub pool: usize,
}
