//! Evaluation: greedy play against the exact solver (uniform among its optimal moves, from
//! a seeded stream, so its openings vary) and against a uniformly random player, and the
//! worst case against the solver: every line of its optimal moves, exhaustively.

use super::{greedy, Game, Player, TicTacToeSelfPlay, EVAL_STREAM};
use crate::TrainError;
use alloc::collections::BTreeSet;
use alloc::vec;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};
use spar_model::Kernels;
use spar_tasks::tictactoe::{Board, Mark};

/// Win, draw and loss rates of the model against one opponent (both seats pooled), and
/// the fraction of games it forfeited.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Record {
    /// Games played.
    pub games: usize,
    /// Fraction won.
    pub win: f64,
    /// Fraction drawn.
    pub draw: f64,
    /// Fraction lost (forfeits included).
    pub loss: f64,
    /// Fraction lost by an illegal answer.
    pub forfeit: f64,
    /// Fraction of the model's decisions whose unrestricted most likely answer is illegal
    /// (with masking the restricted answer is played instead).
    pub illegal_argmax: f64,
    /// Games lost with the model as X (moving first), out of `games / 2`.
    #[serde(default)]
    pub lost_as_x: usize,
    /// Games lost with the model as O, out of `games / 2`.
    #[serde(default)]
    pub lost_as_o: usize,
}

/// The model's greedy play against every line of the solver's optimal moves, per seat
/// (index 0: the model plays X, 1: O). The solver branches over all its optimal moves, the
/// model answers its argmax (over the empty squares with masking; an illegal unrestricted
/// argmax forfeits without), so `lost == [0, 0]` means no opening the solver may choose
/// beats the model: the "never loses to the solver", without sampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct WorstCase {
    /// Lines (distinct move sequences to the end of the game) per seat.
    pub lines: [usize; 2],
    /// Of those, lines the model loses.
    pub lost: [usize; 2],
    /// Distinct positions the model answers on those lines.
    pub positions: [usize; 2],
    /// Of those, positions where its answer lowers the solver's value for it (a mistake).
    pub mistakes: [usize; 2],
}

/// The model's record against the solver and against the random player.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct TicTacToeEval {
    /// Against perfect play (a draw is the best result).
    pub vs_solver: Record,
    /// Against a uniformly random legal player.
    pub vs_random: Record,
    /// Against every line of perfect play.
    #[serde(default)]
    pub worst_case: WorstCase,
}

impl<K: Kernels> TicTacToeSelfPlay<K> {
    /// Greedy play against the solver and against the random player, `eval_games` games per
    /// seat each, from a random stream of its own (the same games for the same model).
    pub async fn evaluate(&mut self) -> Result<TicTacToeEval, TrainError> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(EVAL_STREAM);
        let mut out = TicTacToeEval::default();
        for opp in [Player::Solver, Player::Random] {
            let k = self.config.eval_games;
            let mut games: Vec<Game> = (0..2 * k)
                .map(|i| Game {
                    board: Board::new(),
                    seats: if i < k {
                        [Player::Model, opp]
                    } else {
                        [opp, Player::Model]
                    },
                    result: None,
                    forfeit: false,
                    moves: 0,
                })
                .collect();
            let ds = self.play(&mut games, 0.0, true, Some(&mut rng)).await?;
            let mut r = Record {
                games: games.len(),
                illegal_argmax: ds.iter().filter(|d| d.argmax_illegal).count() as f64
                    / ds.len().max(1) as f64,
                ..Record::default()
            };
            for (i, g) in games.iter().enumerate() {
                let x = g.result.expect("every game ended");
                let mine = if i < k { x } else { -x };
                if mine > 0.0 {
                    r.win += 1.0;
                } else if mine < 0.0 {
                    r.loss += 1.0;
                    if i < k {
                        r.lost_as_x += 1;
                    } else {
                        r.lost_as_o += 1;
                    }
                    if g.forfeit {
                        r.forfeit += 1.0;
                    }
                } else {
                    r.draw += 1.0;
                }
            }
            let nf = games.len() as f64;
            r.win /= nf;
            r.draw /= nf;
            r.loss /= nf;
            r.forfeit /= nf;
            match opp {
                Player::Solver => out.vs_solver = r,
                _ => out.vs_random = r,
            }
        }
        out.worst_case = self.worst_case().await?;
        Ok(out)
    }

    /// Greedy play against every line of the solver's optimal moves ([`WorstCase`]), one
    /// batch of model answers per ply.
    pub async fn worst_case(&mut self) -> Result<WorstCase, TrainError> {
        let mut out = WorstCase::default();
        for seat in 0..2 {
            // Every line in flight ends at a board; a board the model answers on several
            // lines is answered once per line (the answer is the same, greedy).
            let mine = if seat == 0 { Mark::X } else { Mark::O };
            let mut frontier = vec![Board::new()];
            let mut seen = BTreeSet::new();
            while !frontier.is_empty() {
                let mut next = Vec::new();
                let model_turn = frontier[0].to_move() == mine;
                if model_turn {
                    let dists = self.move_distributions(&frontier, 0.0).await?;
                    for (board, p) in frontier.iter().zip(&dists) {
                        let legal = board.legal_moves().into_iter().map(|m| self.square_tok[m]);
                        let tok = greedy(p, legal);
                        let forfeit =
                            !self.config.mask_illegal && greedy(p, 0..p.len() as u32) != tok;
                        let first = seen.insert(board.prompt(false));
                        if first {
                            out.positions[seat] += 1;
                        }
                        let best = self.tok_square(tok);
                        let after = board.play(best).expect("a legal square");
                        let mistake = forfeit
                            || self.solver.move_value(board, best).expect("a legal square")
                                < self.solver.value(board);
                        if first && mistake {
                            out.mistakes[seat] += 1;
                        }
                        if forfeit {
                            out.lines[seat] += 1;
                            out.lost[seat] += 1;
                        } else {
                            next.push(after);
                        }
                    }
                } else {
                    for board in &frontier {
                        for m in self.solver.optimal_moves(board) {
                            next.push(board.play(m).expect("a legal square"));
                        }
                    }
                }
                frontier = Vec::new();
                for b in next {
                    if b.is_over() {
                        out.lines[seat] += 1;
                        if b.winner().is_some_and(|w| w != mine) {
                            out.lost[seat] += 1;
                        }
                    } else {
                        frontier.push(b);
                    }
                }
            }
        }
        Ok(out)
    }
}
