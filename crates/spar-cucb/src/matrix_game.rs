//! Stage-game solvers built on [`crate::simplex`]: the minimax solution of a zero-sum matrix
//! game and a coarse correlated equilibrium (CCE) of a general-sum bimatrix game.
//!
//! **Zero-sum** (von Neumann 1928): the row player maximises `xᵀAy`, the column player
//! minimises it,
//! ```text
//! v = max_x min_j (xᵀA)_j = min_y max_i (Ay)_i .
//! ```
//! With `A' = A − min(A) + 1 > 0` the row player's problem is the LP
//! `min 1ᵀu  s.t.  A'ᵀu ≥ 1, u ≥ 0`, `v' = 1/1ᵀu`, `x = v'u` (and the column player's is its dual).
//!
//! **CCE** (Moulin & Vial 1978), the equilibrium that the Markov-game variant of Contrastive UCB
//! (Qiu et al. 2022, §5.4; after Xie et al. 2020) solves at each state for the optimistic
//! payoff `U = Q̄_h(s,·,·)` of the max player and the pessimistic payoff `L = Q̲_h(s,·,·)` of
//! the min player. A joint distribution `σ` over `(a, b)` is a CCE when no player gains by
//! committing to a fixed action before the draw:
//! ```text
//! E_σ U(a,b) ≥ E_σ U(a',b)  ∀a'            (max player)
//! E_σ L(a,b) ≤ E_σ L(a,b')  ∀b'            (min player)
//! ```
//! This is a feasibility LP in `σ`; among the CCEs we return one that minimises the optimism
//! gap `E_σ[U − L]` (any CCE keeps the guarantee; this choice is documented, not essential).
//! When `U = L = A` every CCE has value `E_σ A = v`, the minimax value — the test of the solver.

use alloc::vec;
use alloc::vec::Vec;

use crate::error::{check_dim, check_finite, CucbError};
use crate::simplex::{LinearProgram, Relation};

/// Minimax solution of a zero-sum matrix game.
#[derive(Debug, Clone, PartialEq)]
pub struct ZeroSumSolution {
    /// The game value `v` for the row (maximising) player.
    pub value: f64,
    /// The row player's maximin mixed strategy `x`.
    pub row_strategy: Vec<f64>,
    /// The column player's minimax mixed strategy `y`.
    pub col_strategy: Vec<f64>,
}

/// A coarse correlated equilibrium of the bimatrix game `(U, L)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cce {
    /// The joint distribution `σ(a, b)`, row-major `rows × cols`.
    pub sigma: Vec<f64>,
    /// `E_σ U`.
    pub upper_value: f64,
    /// `E_σ L`.
    pub lower_value: f64,
}

fn check_game(payoff: &[f64], rows: usize, cols: usize) -> Result<(), CucbError> {
    if rows == 0 || cols == 0 {
        return Err(CucbError::Invalid {
            what: "a matrix game needs at least one action per player",
        });
    }
    check_dim("payoff", rows * cols, payoff.len())?;
    check_finite("payoff", payoff)
}

/// Normalise a non-negative vector to sum 1 (guards against rounding of LP solutions).
fn normalise(v: &mut [f64]) {
    v.iter_mut().for_each(|x| *x = x.max(0.0));
    let total: f64 = v.iter().sum();
    if total > 0.0 {
        v.iter_mut().for_each(|x| *x /= total);
    }
}

/// Solve the zero-sum game with payoff `payoff` (row-major `rows × cols`, paid to the row
/// player who maximises).
pub fn solve_zero_sum(
    payoff: &[f64],
    rows: usize,
    cols: usize,
) -> Result<ZeroSumSolution, CucbError> {
    check_game(payoff, rows, cols)?;
    let min = payoff.iter().copied().fold(f64::INFINITY, f64::min);
    let shift = 1.0 - min;
    let shifted: Vec<f64> = payoff.iter().map(|a| a + shift).collect(); // (rows, cols), > 0

    // Row player: min 1ᵀu s.t. Σ_i u_i A'_ij ≥ 1 ∀j, u ≥ 0.
    let mut lp = LinearProgram::new(&vec![-1.0; rows])?;
    let mut coeff = vec![0.0; rows];
    for j in 0..cols {
        for i in 0..rows {
            coeff[i] = shifted[i * cols + j];
        }
        lp.constraint(&coeff, Relation::Ge, 1.0)?;
    }
    let row = lp.solve()?;
    let sum_u: f64 = row.x.iter().sum();
    // Column player: max 1ᵀw s.t. Σ_j A'_ij w_j ≤ 1 ∀i, w ≥ 0.
    let mut lp = LinearProgram::new(&vec![1.0; cols])?;
    for i in 0..rows {
        lp.constraint(&shifted[i * cols..(i + 1) * cols], Relation::Le, 1.0)?;
    }
    let col = lp.solve()?;
    let sum_w: f64 = col.x.iter().sum();
    let mut row_strategy = row.x;
    let mut col_strategy = col.x;
    normalise(&mut row_strategy);
    normalise(&mut col_strategy);
    // Both LPs give 1/v'; average them (they agree up to rounding by LP duality).
    let value = 2.0 / (sum_u + sum_w) - shift;
    Ok(ZeroSumSolution {
        value,
        row_strategy,
        col_strategy,
    })
}

/// A coarse correlated equilibrium of the bimatrix game where the row player maximises
/// `upper` and the column player minimises `lower` (both row-major `rows × cols`).
pub fn coarse_correlated_equilibrium(
    upper: &[f64],
    lower: &[f64],
    rows: usize,
    cols: usize,
) -> Result<Cce, CucbError> {
    check_game(upper, rows, cols)?;
    check_game(lower, rows, cols)?;
    let n = rows * cols;
    // Objective: maximise −E_σ[U − L] (the smallest optimism gap among the CCEs).
    let gap: Vec<f64> = upper.iter().zip(lower).map(|(u, l)| l - u).collect();
    let mut lp = LinearProgram::new(&gap)?;
    lp.constraint(&vec![1.0; n], Relation::Eq, 1.0)?;
    // Deviation rows ask for ≥ −δ instead of ≥ 0: a δ-CCE with δ at rounding scale. The
    // exact rows all have right-hand side 0, a maximally degenerate start; the perturbation
    // removes the degeneracy without changing the answer beyond 1e-10 of the payoff scale.
    let scale = upper
        .iter()
        .chain(lower)
        .fold(1.0f64, |m, v| m.max(v.abs()));
    let delta = 1e-10 * scale;
    let mut coeff = vec![0.0; n];
    // Max player: Σ_{a,b} σ_ab (U_ab − U_a'b) ≥ 0 for every deviation a'.
    for dev in 0..rows {
        for a in 0..rows {
            for b in 0..cols {
                coeff[a * cols + b] = upper[a * cols + b] - upper[dev * cols + b];
            }
        }
        lp.constraint(&coeff, Relation::Ge, -delta)?;
    }
    // Min player: Σ_{a,b} σ_ab (L_ab' − L_ab) ≥ 0 for every deviation b'.
    for dev in 0..cols {
        for a in 0..rows {
            for b in 0..cols {
                coeff[a * cols + b] = lower[a * cols + dev] - lower[a * cols + b];
            }
        }
        lp.constraint(&coeff, Relation::Ge, -delta)?;
    }
    let mut sigma = lp.solve()?.x;
    normalise(&mut sigma);
    let upper_value = sigma.iter().zip(upper).map(|(s, u)| s * u).sum();
    let lower_value = sigma.iter().zip(lower).map(|(s, l)| s * l).sum();
    Ok(Cce {
        sigma,
        upper_value,
        lower_value,
    })
}

#[cfg(test)]
mod regression {
    use super::*;

    #[test]
    fn cce_found_on_a_game_that_once_failed() {
        let u = [
            0.9294442768068333,
            1.1446260858194823,
            1.4945893611999732,
            0.636214713117075,
            1.524028745092042,
            1.5960223700261713,
            0.5997497887945958,
            0.7106587073730923,
            1.1782683027896668,
        ];
        let l = [
            0.7308705751333572,
            0.7814218433074621,
            1.2885475914497457,
            0.4689066615353511,
            1.2522229707142316,
            1.2537312258529678,
            0.4124774346610476,
            0.34695126010838506,
            0.7849849434889878,
        ];
        let c = coarse_correlated_equilibrium(&u, &l, 3, 3).unwrap();
        assert!((c.sigma.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
}
