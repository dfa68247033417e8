//! Evaluation: greedy play against the exact solver (uniform among its optimal moves, from
//! a seeded stream, so its openings vary) and against a uniformly random player.

use super::{Game, Player, TicTacToeSelfPlay, EVAL_STREAM};
use crate::TrainError;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};
use spar_model::Kernels;
use spar_tasks::tictactoe::Board;

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

/// The model's record against the solver and against the random player.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct TicTacToeEval {
    /// Against perfect play (a draw is the best result).
    pub vs_solver: Record,
    /// Against a uniformly random legal player.
    pub vs_random: Record,
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
        Ok(out)
    }
}
