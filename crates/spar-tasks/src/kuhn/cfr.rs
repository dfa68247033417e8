//! Counterfactual regret minimisation (Zinkevich et al. 2007, "Regret Minimization in Games
//! with Incomplete Information") on the exact Kuhn tree: the reference curve for self-play.
//!
//! Every iteration walks the whole tree for all six deals (no sampling: the tree has 30
//! terminal histories). At an information set `I` of player `i` with current strategy `σ`,
//! action values `v(I, a)` and counterfactual reach `π₋ᵢ` (the opponent's and chance's),
//!
//! ```text
//! R(I, a) += π₋ᵢ · (v(I, a) − Σ_b σ(b) v(I, b))       σ(a) ∝ max(R(I, a), 0)
//! S(I, a) += w_t · πᵢ · σ(a)                            σ̄(a) = S(I, a) / Σ_b S(I, b)
//! ```
//! where `πᵢ` is player `i`'s own reach. The *average* strategy `σ̄` converges to a Nash
//! equilibrium (its exploitability falls as O(1/√T) for vanilla CFR); the current one need
//! not. [`CfrVariant::Vanilla`] updates both players from one walk with `w_t = 1`;
//! [`CfrVariant::Plus`] (CFR+, Tammelin 2014) clips the cumulative regrets at zero, updates
//! the players in turn (two walks per iteration) and weights the average linearly, `w_t = t`.
//!
//! ```
//! use spar_tasks::kuhn::cfr::{Cfr, CfrVariant};
//! use spar_tasks::kuhn::exploitability;
//! let mut cfr = Cfr::new(CfrVariant::Plus);
//! cfr.run(200);
//! assert!(exploitability(&cfr.average_policy()) < 1e-2);
//! ```

use super::{deals, showdown, History, KuhnPolicy};
use alloc::vec::Vec;

/// Complete games evaluated by one walk of the tree: 6 deals × 5 terminal histories. One
/// self-play game follows one of these 30 lines of play.
pub const GAMES_PER_WALK: u64 = 30;

/// Which CFR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CfrVariant {
    /// Regret matching, simultaneous updates, uniform average (one walk per iteration).
    Vanilla,
    /// Regret matching+, alternating updates, linearly weighted average (two walks per
    /// iteration).
    Plus,
}

/// CFR's state: cumulative regrets and average-strategy sums per information set (in
/// [`super::information_sets`] order), actions `[pass, bet]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cfr {
    variant: CfrVariant,
    regret: [[f64; 2]; 12],
    strategy_sum: [[f64; 2]; 12],
    iterations: u64,
    walks: u64,
}

/// One point of CFR's exploitability curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    /// Iterations done.
    pub iterations: u64,
    /// Games' worth of tree walked so far ([`GAMES_PER_WALK`] per walk).
    pub games: u64,
    /// Exploitability of the average strategy.
    pub exploitability: f64,
}

/// The index of an information set in [`super::information_sets`] order.
fn set_index(h: History, c: super::Card) -> usize {
    h as usize * 3 + c as usize
}

/// Player 1's payoff at a terminal history (`b[k]` true for a bet), `None` if not terminal.
fn terminal(actions: &[bool], s: f64) -> Option<f64> {
    match actions {
        [false, false] => Some(s),
        [false, true, false] => Some(-1.0),
        [false, true, true] | [true, true] => Some(2.0 * s),
        [true, false] => Some(1.0),
        _ => None,
    }
}

/// The decision point after `actions` (not terminal).
fn history_of(actions: &[bool]) -> History {
    match actions {
        [] => History::Start,
        [false] => History::P,
        [true] => History::B,
        _ => History::PB,
    }
}

impl Cfr {
    /// Zero regrets (the first strategy is uniform).
    pub fn new(variant: CfrVariant) -> Self {
        Cfr {
            variant,
            regret: [[0.0; 2]; 12],
            strategy_sum: [[0.0; 2]; 12],
            iterations: 0,
            walks: 0,
        }
    }

    /// Iterations done.
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// Games' worth of tree walked so far ([`GAMES_PER_WALK`] per walk).
    pub fn games(&self) -> u64 {
        self.walks * GAMES_PER_WALK
    }

    /// The regret-matching strategy at every information set: `[P(pass), P(bet)]`.
    fn current(&self) -> [[f64; 2]; 12] {
        let mut s = [[0.5; 2]; 12];
        for (r, out) in self.regret.iter().zip(s.iter_mut()) {
            let (a, b) = (r[0].max(0.0), r[1].max(0.0));
            if a + b > 0.0 {
                *out = [a / (a + b), b / (a + b)];
            }
        }
        s
    }

    /// The current (regret-matching) strategy as a policy.
    pub fn current_policy(&self) -> KuhnPolicy {
        to_policy(&self.current())
    }

    /// The average strategy (uniform at a set never reached), the one that converges.
    pub fn average_policy(&self) -> KuhnPolicy {
        let mut s = [[0.5; 2]; 12];
        for (sum, out) in self.strategy_sum.iter().zip(s.iter_mut()) {
            let t = sum[0] + sum[1];
            if t > 0.0 {
                *out = [sum[0] / t, sum[1] / t];
            }
        }
        to_policy(&s)
    }

    /// One iteration (one walk for vanilla CFR, two for CFR+).
    pub fn iterate(&mut self) {
        self.iterations += 1;
        match self.variant {
            CfrVariant::Vanilla => {
                let sigma = self.current();
                self.walk_all(&sigma, [true, true], 1.0);
            }
            CfrVariant::Plus => {
                let w = self.iterations as f64;
                for player in 0..2 {
                    let sigma = self.current();
                    let mut update = [false; 2];
                    update[player] = true;
                    self.walk_all(&sigma, update, w);
                    for r in self.regret.iter_mut().flatten() {
                        *r = r.max(0.0);
                    }
                }
            }
        }
    }

    /// `n` more iterations.
    pub fn run(&mut self, n: u64) {
        for _ in 0..n {
            self.iterate();
        }
    }

    /// Walks the tree for every deal, updating the players marked in `update`.
    fn walk_all(&mut self, sigma: &[[f64; 2]; 12], update: [bool; 2], weight: f64) {
        self.walks += 1;
        for (c1, c2) in deals() {
            let mut buf = [false; 3];
            self.walk(sigma, [c1, c2], &mut buf, 0, [1.0, 1.0], update, weight);
        }
    }

    /// Player 1's expected payoff below `actions[..len]` for one deal; `reach` holds each
    /// player's own reach, so `reach[1 − i]` is player `i`'s counterfactual reach (chance's
    /// 1/6 is the same for every deal and only scales the regrets).
    #[allow(clippy::too_many_arguments)]
    fn walk(
        &mut self,
        sigma: &[[f64; 2]; 12],
        cards: [super::Card; 2],
        actions: &mut [bool; 3],
        len: usize,
        reach: [f64; 2],
        update: [bool; 2],
        weight: f64,
    ) -> f64 {
        if let Some(u) = terminal(&actions[..len], showdown(cards[0], cards[1])) {
            return u;
        }
        let h = history_of(&actions[..len]);
        let player = usize::from(matches!(h, History::P | History::B));
        let set = set_index(h, cards[player]);
        let strat = sigma[set];
        let mut values = [0.0; 2];
        for (a, v) in values.iter_mut().enumerate() {
            actions[len] = a == 1;
            let mut r = reach;
            r[player] *= strat[a];
            *v = self.walk(sigma, cards, actions, len + 1, r, update, weight);
        }
        let node = strat[0] * values[0] + strat[1] * values[1];
        if update[player] {
            // Player 2's payoff is −u₁.
            let sign = if player == 0 { 1.0 } else { -1.0 };
            let cf = reach[1 - player];
            for a in 0..2 {
                self.regret[set][a] += cf * sign * (values[a] - node);
                self.strategy_sum[set][a] += weight * reach[player] * strat[a];
            }
        }
        node
    }
}

/// `[P(pass), P(bet)]` per set → a policy.
fn to_policy(s: &[[f64; 2]; 12]) -> KuhnPolicy {
    let mut bet = [[0.0; 3]; 4];
    for (h, row) in bet.iter_mut().enumerate() {
        for (c, p) in row.iter_mut().enumerate() {
            *p = s[h * 3 + c][1].clamp(0.0, 1.0);
        }
    }
    KuhnPolicy { bet }
}

/// CFR's exploitability curve: the average strategy's exploitability every `every`
/// iterations up to `iterations` (and at the last one).
///
/// ```
/// use spar_tasks::kuhn::cfr::{exploitability_curve, CfrVariant, GAMES_PER_WALK};
/// let c = exploitability_curve(CfrVariant::Vanilla, 100, 10);
/// assert_eq!(c.len(), 10);
/// assert_eq!(c[9].games, 100 * GAMES_PER_WALK);
/// assert!(c[9].exploitability < c[0].exploitability);
/// ```
pub fn exploitability_curve(variant: CfrVariant, iterations: u64, every: u64) -> Vec<CurvePoint> {
    let every = every.max(1);
    let mut cfr = Cfr::new(variant);
    let mut out = Vec::new();
    while cfr.iterations() < iterations {
        cfr.iterate();
        if cfr.iterations() % every == 0 || cfr.iterations() == iterations {
            out.push(CurvePoint {
                iterations: cfr.iterations(),
                games: cfr.games(),
                exploitability: super::exploitability(&cfr.average_policy()),
            });
        }
    }
    out
}

/// Iterations until the average strategy's exploitability first falls to `target` or below
/// (checked after every iteration), `None` within `max_iterations`.
pub fn iterations_to(variant: CfrVariant, target: f64, max_iterations: u64) -> Option<CurvePoint> {
    let mut cfr = Cfr::new(variant);
    while cfr.iterations() < max_iterations {
        cfr.iterate();
        let e = super::exploitability(&cfr.average_policy());
        if e <= target {
            return Some(CurvePoint {
                iterations: cfr.iterations(),
                games: cfr.games(),
                exploitability: e,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terminal_payoffs_match_the_game() {
        for (c1, c2) in deals() {
            let s = showdown(c1, c2);
            for acts in [
                &[false, false][..],
                &[false, true, false],
                &[false, true, true],
                &[true, false],
                &[true, true],
            ] {
                let mut st = super::super::KuhnState {
                    cards: [c1, c2],
                    actions: Vec::new(),
                };
                for &b in acts {
                    st.apply(if b {
                        super::super::KuhnAction::Bet
                    } else {
                        super::super::KuhnAction::Pass
                    })
                    .unwrap();
                }
                assert_eq!(terminal(acts, s), st.payoff());
            }
        }
    }
}
