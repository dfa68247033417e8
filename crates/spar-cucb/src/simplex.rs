//! A dense two-phase simplex method for small linear programs.
//!
//! Solves
//! ```text
//! maximise cᵀx   subject to   a_iᵀ x (≤ | ≥ | =) b_i  for every row i,   x ≥ 0
//! ```
//! with the textbook tableau (Dantzig 1947; the two-phase form and Bland's anti-cycling rule as
//! in Chvátal, *Linear Programming*, 1983, ch. 3 and 8). Phase 1 minimises the sum of
//! artificial variables to find a basic feasible point; phase 2 optimises `c`. Bland's rule
//! (smallest index enters) and the Harris two-pass ratio test (Harris 1973: among the rows
//! that nearly tie for leaving, the largest pivot element) keep it finite and well conditioned
//! on the degenerate programs that equilibrium computations produce; an iteration cap turns a
//! numerical breakdown into [`CucbError::NoConvergence`] instead of a hang.
//!
//! The programs here are tiny (a stage game's joint actions), so the dense tableau is the right
//! tool: no sparsity, no refactorisation.

use alloc::vec;
use alloc::vec::Vec;

use crate::error::{check_dim, check_finite, CucbError};

/// The relation of a constraint row to its right-hand side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// `a_iᵀx ≤ b_i`
    Le,
    /// `a_iᵀx ≥ b_i`
    Ge,
    /// `a_iᵀx = b_i`
    Eq,
}

/// A linear program in the form above; build it with [`LinearProgram::new`] and
/// [`LinearProgram::constraint`].
#[derive(Debug, Clone, PartialEq)]
pub struct LinearProgram {
    objective: Vec<f64>,
    rows: Vec<(Vec<f64>, Relation, f64)>,
}

/// An optimal solution.
#[derive(Debug, Clone, PartialEq)]
pub struct LpSolution {
    /// The optimal point `x` (`x ≥ 0`).
    pub x: Vec<f64>,
    /// The optimal objective `cᵀx`.
    pub value: f64,
}

/// Reduced-cost and feasibility tolerance (rows are scaled to max |coefficient| = 1).
const TOL: f64 = 1e-9;
/// Smallest pivot element accepted by the ratio test. Larger than `TOL` on purpose: pivoting
/// on a rounding residue (an exact zero computed as 1e-9) blows the tableau up.
const PIVOT_TOL: f64 = 1e-7;

impl LinearProgram {
    /// A program that maximises `objectiveᵀ x` over `x ≥ 0` (no constraints yet).
    pub fn new(objective: &[f64]) -> Result<Self, CucbError> {
        if objective.is_empty() {
            return Err(CucbError::Invalid {
                what: "linear program needs at least one variable",
            });
        }
        check_finite("objective", objective)?;
        Ok(Self {
            objective: objective.to_vec(),
            rows: Vec::new(),
        })
    }

    /// Add the constraint `coefficientsᵀ x (relation) rhs`.
    pub fn constraint(
        &mut self,
        coefficients: &[f64],
        relation: Relation,
        rhs: f64,
    ) -> Result<&mut Self, CucbError> {
        check_dim("constraint", self.objective.len(), coefficients.len())?;
        check_finite("constraint", coefficients)?;
        check_finite("rhs", &[rhs])?;
        self.rows.push((coefficients.to_vec(), relation, rhs));
        Ok(self)
    }

    /// Solve; [`CucbError::Infeasible`] or [`CucbError::Unbounded`] when there is no optimum.
    pub fn solve(&self) -> Result<LpSolution, CucbError> {
        let n = self.objective.len();
        let m = self.rows.len();
        // Scale every row to max |coefficient| = 1 (conditioning), and flip rows so every
        // right-hand side is non-negative (phase 1 starts at x = 0).
        let mut rows: Vec<(Vec<f64>, Relation, f64)> = self.rows.clone();
        for (a, rel, b) in rows.iter_mut() {
            let norm = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            if norm > 0.0 {
                a.iter_mut().for_each(|v| *v /= norm);
                *b /= norm;
            }
            if *b < 0.0 {
                a.iter_mut().for_each(|v| *v = -*v);
                *b = -*b;
                *rel = match *rel {
                    Relation::Le => Relation::Ge,
                    Relation::Ge => Relation::Le,
                    Relation::Eq => Relation::Eq,
                };
            }
        }
        let n_slack = rows.iter().filter(|r| r.1 != Relation::Eq).count();
        let n_art = rows.iter().filter(|r| r.1 != Relation::Le).count();
        let n_cols = n + n_slack + n_art; // variables; the rhs is column n_cols
        let width = n_cols + 1;
        let mut t = vec![0.0; m * width]; // tableau (m, n_cols + 1)
        let mut basis = vec![0usize; m];
        let (mut slack, mut art) = (n, n + n_slack);
        for (i, (a, rel, b)) in rows.iter().enumerate() {
            t[i * width..i * width + n].copy_from_slice(a);
            t[i * width + n_cols] = *b;
            match rel {
                Relation::Le => {
                    t[i * width + slack] = 1.0;
                    basis[i] = slack;
                    slack += 1;
                }
                Relation::Ge => {
                    t[i * width + slack] = -1.0;
                    slack += 1;
                    t[i * width + art] = 1.0;
                    basis[i] = art;
                    art += 1;
                }
                Relation::Eq => {
                    t[i * width + art] = 1.0;
                    basis[i] = art;
                    art += 1;
                }
            }
        }
        let scale = 1.0 + rows.iter().map(|r| r.2).fold(0.0, f64::max);
        let tol = TOL * scale;

        // Phase 1: maximise −Σ artificials.
        if n_art > 0 {
            let mut cost = vec![0.0; n_cols];
            cost[n + n_slack..].iter_mut().for_each(|c| *c = -1.0);
            let value = run_simplex(&mut t, &mut basis, m, width, &cost, n_cols, tol)?;
            if value < -tol * (1.0 + m as f64) {
                return Err(CucbError::Infeasible);
            }
            // Drive artificials still in the basis (at value 0) out, or drop redundant rows.
            let mut i = 0;
            let mut m_now = m;
            while i < m_now {
                if basis[i] >= n + n_slack {
                    let row = &t[i * width..i * width + n + n_slack];
                    if let Some(j) = row.iter().position(|v| v.abs() > PIVOT_TOL) {
                        pivot(&mut t, &mut basis, m_now, width, i, j);
                        i += 1;
                    } else {
                        // A redundant equality: remove the row.
                        t.drain(i * width..(i + 1) * width);
                        basis.remove(i);
                        m_now -= 1;
                    }
                } else {
                    i += 1;
                }
            }
            // Forbid artificials from re-entering by zeroing their columns.
            for r in 0..m_now {
                for j in n + n_slack..n_cols {
                    t[r * width + j] = 0.0;
                }
            }
            let mut cost = vec![0.0; n_cols];
            cost[..n].copy_from_slice(&self.objective);
            run_simplex(&mut t, &mut basis, m_now, width, &cost, n + n_slack, tol)?;
            return Ok(read_solution(&t, &basis, m_now, width, n, &self.objective));
        }
        let mut cost = vec![0.0; n_cols];
        cost[..n].copy_from_slice(&self.objective);
        run_simplex(&mut t, &mut basis, m, width, &cost, n_cols, tol)?;
        Ok(read_solution(&t, &basis, m, width, n, &self.objective))
    }
}

fn read_solution(
    t: &[f64],
    basis: &[usize],
    m: usize,
    width: usize,
    n: usize,
    objective: &[f64],
) -> LpSolution {
    let mut x = vec![0.0; n];
    for i in 0..m {
        if basis[i] < n {
            x[basis[i]] = t[i * width + width - 1].max(0.0);
        }
    }
    let value = x.iter().zip(objective).map(|(a, b)| a * b).sum();
    LpSolution { x, value }
}

/// Pivot the tableau on row `r`, column `c`.
fn pivot(t: &mut [f64], basis: &mut [usize], m: usize, width: usize, r: usize, c: usize) {
    let p = t[r * width + c];
    for j in 0..width {
        t[r * width + j] /= p;
    }
    for i in 0..m {
        if i != r {
            let f = t[i * width + c];
            if f != 0.0 {
                for j in 0..width {
                    t[i * width + j] -= f * t[r * width + j];
                }
            }
        }
    }
    basis[r] = c;
}

/// Primal simplex with Bland's rule from the current basic feasible tableau, maximising
/// `costᵀx` with only columns `< allowed` eligible to enter. Returns the optimal value.
fn run_simplex(
    t: &mut [f64],
    basis: &mut [usize],
    m: usize,
    width: usize,
    cost: &[f64],
    allowed: usize,
    tol: f64,
) -> Result<f64, CucbError> {
    let n_cols = width - 1;
    // Bland's rule terminates; the cap only guards against a rounding-induced loop.
    let max_iter = 50 * (m + n_cols) + 1000;
    for _ in 0..max_iter {
        // Reduced profit d_j = c_j − c_Bᵀ t_j; enter the smallest j with d_j > tol.
        let mut entering = None;
        for j in 0..allowed {
            if basis[..m].contains(&j) {
                continue;
            }
            let mut dj = cost[j];
            for i in 0..m {
                dj -= cost[basis[i]] * t[i * width + j];
            }
            if dj > tol {
                entering = Some(j);
                break;
            }
        }
        let Some(c) = entering else {
            let value = (0..m).map(|i| cost[basis[i]] * t[i * width + n_cols]).sum();
            return Ok(value);
        };
        // Harris two-pass ratio test: the bound θ of the ratios relaxed by `tol`, then among
        // the rows within θ the largest pivot element (ties: smallest basic index). Choosing
        // a large pivot keeps the tableau well conditioned on degenerate programs.
        let mut theta = f64::INFINITY;
        for i in 0..m {
            let a = t[i * width + c];
            if a > PIVOT_TOL {
                theta = theta.min((t[i * width + n_cols].max(0.0) + tol) / a);
            }
        }
        if theta == f64::INFINITY {
            return Err(CucbError::Unbounded);
        }
        let mut leave: Option<usize> = None;
        for i in 0..m {
            let a = t[i * width + c];
            if a > PIVOT_TOL && t[i * width + n_cols].max(0.0) / a <= theta {
                leave = match leave {
                    Some(r)
                        if t[r * width + c] > a
                            || (t[r * width + c] == a && basis[r] < basis[i]) =>
                    {
                        Some(r)
                    }
                    _ => Some(i),
                };
            }
        }
        let Some(r) = leave else {
            return Err(CucbError::Unbounded);
        };
        pivot(t, basis, m, width, r, c);
        // The relaxed ratio test may leave rounding-size negative values: clamp them.
        for i in 0..m {
            let rhs = &mut t[i * width + n_cols];
            if *rhs < 0.0 && *rhs > -tol {
                *rhs = 0.0;
            }
        }
    }
    Err(CucbError::NoConvergence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_program() {
        // max 3x + 5y  s.t.  x ≤ 4, 2y ≤ 12, 3x + 2y ≤ 18  → (2, 6), value 36.
        let mut lp = LinearProgram::new(&[3.0, 5.0]).unwrap();
        lp.constraint(&[1.0, 0.0], Relation::Le, 4.0).unwrap();
        lp.constraint(&[0.0, 2.0], Relation::Le, 12.0).unwrap();
        lp.constraint(&[3.0, 2.0], Relation::Le, 18.0).unwrap();
        let s = lp.solve().unwrap();
        assert!((s.value - 36.0).abs() < 1e-9);
        assert!((s.x[0] - 2.0).abs() < 1e-9 && (s.x[1] - 6.0).abs() < 1e-9);
    }

    #[test]
    fn equality_and_ge_rows() {
        // min x + y (max −x − y)  s.t.  x + 2y ≥ 4, x − y = 1  → x = 2, y = 1, value −3.
        let mut lp = LinearProgram::new(&[-1.0, -1.0]).unwrap();
        lp.constraint(&[1.0, 2.0], Relation::Ge, 4.0).unwrap();
        lp.constraint(&[1.0, -1.0], Relation::Eq, 1.0).unwrap();
        let s = lp.solve().unwrap();
        assert!((s.value + 3.0).abs() < 1e-9, "{s:?}");
    }

    #[test]
    fn infeasible_and_unbounded() {
        let mut lp = LinearProgram::new(&[1.0]).unwrap();
        lp.constraint(&[1.0], Relation::Le, 1.0).unwrap();
        lp.constraint(&[1.0], Relation::Ge, 2.0).unwrap();
        assert_eq!(lp.solve(), Err(CucbError::Infeasible));
        let mut lp = LinearProgram::new(&[1.0, 0.0]).unwrap();
        lp.constraint(&[0.0, 1.0], Relation::Le, 1.0).unwrap();
        assert_eq!(lp.solve(), Err(CucbError::Unbounded));
    }

    #[test]
    fn redundant_equalities() {
        // x + y = 1 twice, max x → 1.
        let mut lp = LinearProgram::new(&[1.0, 0.0]).unwrap();
        lp.constraint(&[1.0, 1.0], Relation::Eq, 1.0).unwrap();
        lp.constraint(&[2.0, 2.0], Relation::Eq, 2.0).unwrap();
        let s = lp.solve().unwrap();
        assert!((s.value - 1.0).abs() < 1e-9);
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert!(LinearProgram::new(&[]).is_err());
        let mut lp = LinearProgram::new(&[1.0, 2.0]).unwrap();
        assert!(lp.constraint(&[1.0], Relation::Le, 1.0).is_err());
        assert!(lp.constraint(&[1.0, f64::NAN], Relation::Le, 1.0).is_err());
    }
}
