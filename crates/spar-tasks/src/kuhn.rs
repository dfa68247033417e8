//! Kuhn poker (Kuhn 1950, "A simplified two-person poker") with exact expected values,
//! best responses and exploitability, and a text protocol for language-model play (SPIRAL,
//! Liu et al. 2025, trains on it by self-play).
//!
//! Three cards J < Q < K, one dealt to each player, ante 1. Player 1 passes or bets 1;
//! after a pass player 2 passes (showdown for 1) or bets; facing a bet a player folds
//! (passes) or calls (bets), showdown for 2. Terminal histories and player 1's payoff,
//! with `s = +1` if player 1 holds the higher card, else `−1`:
//! `pp: s`, `pbp: −1`, `pbb: 2s`, `bp: +1`, `bb: 2s`.
//!
//! A [`KuhnPolicy`] gives P(bet) at each of the 12 information sets (card × history in
//! `"", "p", "b", "pb"`); it plays both seats. With `u₁(π)` player 1's expected payoff
//! (averaged over the 6 deals),
//!
//! ```text
//! BR₁(π) = max_σ u₁(σ, π₂)      BR₂(π) = max_σ −u₁(π₁, σ)
//! NashConv(π) = BR₁(π) + BR₂(π)  exploitability(π) = NashConv(π) / 2
//! ```
//! (the OpenSpiel convention). The equilibrium family (Kuhn 1950): player 1 bets J with
//! α ∈ [0, 1/3], never bets Q, bets K with 3α; after `pb` folds J, calls Q with α + 1/3,
//! calls K; player 2 after `b` calls only with Q (prob 1/3) or K, after `p` bets J with
//! 1/3, passes Q, bets K. Its value for player 1 is −1/18 for every α.

pub mod cfr;

use crate::game::MoveError;
use crate::rng::index;
use crate::TaskError;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use rand_core::RngCore;

/// A card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Card {
    /// Jack (lowest).
    J = 0,
    /// Queen.
    Q = 1,
    /// King (highest).
    K = 2,
}

/// The three cards in rank order.
pub const CARDS: [Card; 3] = [Card::J, Card::Q, Card::K];

impl Card {
    fn letter(self) -> char {
        ['J', 'Q', 'K'][self as usize]
    }
    fn word(self) -> &'static str {
        ["Jack", "Queen", "King"][self as usize]
    }
}

/// An action: pass (check, or fold when facing a bet) or bet (call when facing a bet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KuhnAction {
    /// Pass / check / fold.
    Pass,
    /// Bet / call.
    Bet,
}

/// A decision point's public history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum History {
    /// Player 1 to open.
    Start,
    /// Player 2 after player 1 passed.
    P,
    /// Player 2 facing player 1's bet.
    B,
    /// Player 1 facing a bet after passing.
    PB,
}

const HISTORIES: [History; 4] = [History::Start, History::P, History::B, History::PB];

/// P(bet) at every information set, for both seats (player 1 uses `Start` and `PB`,
/// player 2 `P` and `B`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KuhnPolicy {
    /// `bet[history][card]` with histories in the order `Start, P, B, PB`.
    bet: [[f64; 3]; 4],
}

impl KuhnPolicy {
    /// A policy from `bet[history][card]` (history order `Start, P, B, PB`); every entry
    /// must be a probability.
    pub fn new(bet: [[f64; 3]; 4]) -> Result<Self, TaskError> {
        if bet.iter().flatten().all(|p| (0.0..=1.0).contains(p)) {
            Ok(KuhnPolicy { bet })
        } else {
            Err(TaskError::BadConfig(
                "Kuhn probabilities must lie in [0, 1]",
            ))
        }
    }

    /// Always bet (and always call).
    pub fn always_bet() -> Self {
        KuhnPolicy { bet: [[1.0; 3]; 4] }
    }

    /// Always pass (and always fold).
    pub fn always_pass() -> Self {
        KuhnPolicy { bet: [[0.0; 3]; 4] }
    }

    /// Uniformly random.
    pub fn uniform() -> Self {
        KuhnPolicy { bet: [[0.5; 3]; 4] }
    }

    /// The equilibrium with player 1's bluffing frequency `alpha ∈ [0, 1/3]`.
    pub fn equilibrium(alpha: f64) -> Result<Self, TaskError> {
        if !(0.0..=1.0 / 3.0).contains(&alpha) {
            return Err(TaskError::BadConfig(
                "equilibrium alpha must lie in [0, 1/3]",
            ));
        }
        Ok(KuhnPolicy {
            bet: [
                [alpha, 0.0, 3.0 * alpha],     // Start (player 1 opens)
                [1.0 / 3.0, 0.0, 1.0],         // P (player 2 after a pass)
                [0.0, 1.0 / 3.0, 1.0],         // B (player 2 facing a bet)
                [0.0, alpha + 1.0 / 3.0, 1.0], // PB (player 1 facing a bet)
            ],
        })
    }

    /// P(bet) holding `card` at `history`.
    pub fn prob_bet(&self, card: Card, history: History) -> f64 {
        self.bet[history as usize][card as usize]
    }

    fn b(&self, h: History, c: Card) -> f64 {
        self.prob_bet(c, h)
    }
}

/// `+1` if `c1` beats `c2`, else `−1`.
fn showdown(c1: Card, c2: Card) -> f64 {
    if c1 > c2 {
        1.0
    } else {
        -1.0
    }
}

/// The six deals, each with probability 1/6.
fn deals() -> impl Iterator<Item = (Card, Card)> {
    CARDS.into_iter().flat_map(|c1| {
        CARDS
            .into_iter()
            .filter(move |&c2| c2 != c1)
            .map(move |c2| (c1, c2))
    })
}

/// Player 1's expected payoff when player 1 plays `p1`'s player-1 strategy and player 2
/// plays `p2`'s player-2 strategy.
pub fn expected_value(p1: &KuhnPolicy, p2: &KuhnPolicy) -> f64 {
    let mut total = 0.0;
    for (c1, c2) in deals() {
        let s = showdown(c1, c2);
        let bet = p1.b(History::Start, c1);
        let call2 = p2.b(History::B, c2);
        let bet2 = p2.b(History::P, c2);
        let call1 = p1.b(History::PB, c1);
        let after_bet = call2 * 2.0 * s + (1.0 - call2);
        let after_pass = (1.0 - bet2) * s + bet2 * (call1 * 2.0 * s - (1.0 - call1));
        total += bet * after_bet + (1.0 - bet) * after_pass;
    }
    total / 6.0
}

/// Player 1's expected payoff when the policy plays itself (seat 1 against seat 2).
pub fn value(policy: &KuhnPolicy) -> f64 {
    expected_value(policy, policy)
}

/// The best payoff player 1 can get against `policy`'s player-2 strategy.
pub fn best_response_value_p1(policy: &KuhnPolicy) -> f64 {
    let mut total = 0.0;
    for c1 in CARDS {
        let (mut bet, mut pass, mut call_pb, mut fold_pb) = (0.0, 0.0, 0.0, 0.0);
        for c2 in CARDS.into_iter().filter(|&c| c != c1) {
            let s = showdown(c1, c2);
            let call2 = policy.b(History::B, c2);
            let bet2 = policy.b(History::P, c2);
            bet += call2 * 2.0 * s + (1.0 - call2);
            pass += (1.0 - bet2) * s;
            call_pb += bet2 * 2.0 * s;
            fold_pb -= bet2;
        }
        // Player 1 decides at `pb` knowing only c1: one choice for both possible c2.
        total += bet.max(pass + call_pb.max(fold_pb));
    }
    total / 6.0
}

/// The best payoff player 2 can get against `policy`'s player-1 strategy.
pub fn best_response_value_p2(policy: &KuhnPolicy) -> f64 {
    let mut total = 0.0;
    for c2 in CARDS {
        let (mut call, mut fold, mut bet, mut pass) = (0.0, 0.0, 0.0, 0.0);
        for c1 in CARDS.into_iter().filter(|&c| c != c2) {
            let s2 = -showdown(c1, c2);
            let reach_b = policy.b(History::Start, c1);
            let reach_p = 1.0 - reach_b;
            call += reach_b * 2.0 * s2;
            fold -= reach_b;
            let call1 = policy.b(History::PB, c1);
            bet += reach_p * (call1 * 2.0 * s2 + (1.0 - call1));
            pass += reach_p * s2;
        }
        total += call.max(fold) + bet.max(pass);
    }
    total / 6.0
}

/// `BR₁ + BR₂`: zero exactly at a Nash equilibrium.
pub fn nash_conv(policy: &KuhnPolicy) -> f64 {
    best_response_value_p1(policy) + best_response_value_p2(policy)
}

/// `NashConv / 2`: the average gain of a best responder over the policy's value.
///
/// ```
/// use spar_tasks::kuhn::{exploitability, value, KuhnPolicy};
/// let eq = KuhnPolicy::equilibrium(0.2).unwrap();
/// assert!(exploitability(&eq).abs() < 1e-12);
/// assert!((value(&eq) + 1.0 / 18.0).abs() < 1e-12);
/// ```
pub fn exploitability(policy: &KuhnPolicy) -> f64 {
    nash_conv(policy) / 2.0
}

/// A game in progress: both cards and the public history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KuhnState {
    /// Player 1's and player 2's cards.
    pub cards: [Card; 2],
    /// Actions so far.
    pub actions: Vec<KuhnAction>,
}

impl KuhnState {
    /// Deal two distinct cards.
    pub fn deal(rng: &mut dyn RngCore) -> Self {
        let c1 = CARDS[index(rng, 3)];
        let others: Vec<Card> = CARDS.into_iter().filter(|&c| c != c1).collect();
        KuhnState {
            cards: [c1, others[index(rng, 2)]],
            actions: Vec::new(),
        }
    }

    /// The history as an information-set key; `None` when the game is over.
    pub fn history(&self) -> Option<History> {
        use KuhnAction::{Bet, Pass};
        match self.actions.as_slice() {
            [] => Some(History::Start),
            [Pass] => Some(History::P),
            [Bet] => Some(History::B),
            [Pass, Bet] => Some(History::PB),
            _ => None,
        }
    }

    /// The player to move (0 or 1); `None` when the game is over.
    pub fn to_move(&self) -> Option<usize> {
        self.history()
            .map(|h| usize::from(matches!(h, History::P | History::B)))
    }

    /// Play an action; `GameOver` if the game has ended.
    pub fn apply(&mut self, action: KuhnAction) -> Result<(), MoveError> {
        if self.history().is_none() {
            return Err(MoveError::GameOver);
        }
        self.actions.push(action);
        Ok(())
    }

    /// Player 1's payoff once the game is over.
    pub fn payoff(&self) -> Option<f64> {
        use KuhnAction::{Bet, Pass};
        let s = showdown(self.cards[0], self.cards[1]);
        match self.actions.as_slice() {
            [Pass, Pass] => Some(s),
            [Pass, Bet, Pass] => Some(-1.0),
            [Pass, Bet, Bet] | [Bet, Bet] => Some(2.0 * s),
            [Bet, Pass] => Some(1.0),
            _ => None,
        }
    }

    /// The prompt for the player to move: compact `"kuhn Q pb:"` (own card, history, `-`
    /// for none) or a sentence. `None` when the game is over.
    pub fn prompt(&self, words: bool) -> Option<String> {
        let player = self.to_move()?;
        let card = self.cards[player];
        let hist: String = self
            .actions
            .iter()
            .map(|a| if *a == KuhnAction::Bet { 'b' } else { 'p' })
            .collect();
        if words {
            let seen: Vec<&str> = self
                .actions
                .iter()
                .map(|a| if *a == KuhnAction::Bet { "bet" } else { "pass" })
                .collect();
            let seen = if seen.is_empty() {
                String::from("nothing yet")
            } else {
                seen.join(", ")
            };
            Some(format!(
                "Kuhn poker. You are player {} and hold the {}. Actions so far: {seen}. Do you pass or bet?",
                player + 1,
                card.word()
            ))
        } else {
            let hist = if hist.is_empty() {
                String::from("-")
            } else {
                hist
            };
            Some(format!("kuhn {} {hist}:", card.letter()))
        }
    }
}

/// Read an action from a completion: the earliest of the words bet/call/raise (→ bet) and
/// pass/check/fold (→ pass), else the first standalone `b` or `p`; case-insensitive.
///
/// ```
/// use spar_tasks::kuhn::{parse_action, KuhnAction};
/// assert_eq!(parse_action("I will CALL."), Ok(KuhnAction::Bet));
/// assert_eq!(parse_action("p"), Ok(KuhnAction::Pass));
/// assert!(parse_action("hmm").is_err());
/// ```
pub fn parse_action(completion: &str) -> Result<KuhnAction, MoveError> {
    let lower = completion.to_ascii_lowercase();
    let words = [
        ("bet", KuhnAction::Bet),
        ("call", KuhnAction::Bet),
        ("raise", KuhnAction::Bet),
        ("pass", KuhnAction::Pass),
        ("check", KuhnAction::Pass),
        ("fold", KuhnAction::Pass),
    ];
    let earliest = words
        .iter()
        .filter_map(|(w, a)| lower.find(w).map(|i| (i, *a)))
        .min_by_key(|(i, _)| *i);
    if let Some((_, a)) = earliest {
        return Ok(a);
    }
    let b = lower.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        let alone = (i == 0 || !b[i - 1].is_ascii_alphabetic())
            && b.get(i + 1).is_none_or(|n| !n.is_ascii_alphabetic());
        if alone && (c == b'b' || c == b'p') {
            return Ok(if c == b'b' {
                KuhnAction::Bet
            } else {
                KuhnAction::Pass
            });
        }
    }
    Err(MoveError::Unparsable)
}

/// All information sets in a fixed order (history-major), for iterating over a policy.
pub fn information_sets() -> impl Iterator<Item = (History, Card)> {
    HISTORIES
        .into_iter()
        .flat_map(|h| CARDS.into_iter().map(move |c| (h, c)))
}

/// How far a policy lies from Kuhn's equilibrium family, read from its P(bet).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EquilibriumCheck {
    /// Player 1's bluffing frequency `α = P(bet | J, opening)`.
    pub alpha: f64,
    /// The largest `|P(bet) − P*(bet)|` over the 12 information sets, against
    /// [`KuhnPolicy::equilibrium`] at `α` clamped to `[0, 1/3]`: K opens with `3α`, Q never
    /// opens, J folds to a bet, Q calls it with `α + 1/3`, K calls; player 2 after a pass
    /// bets J with 1/3, never Q, always K, and facing a bet calls Q with 1/3, never J,
    /// always K. (A set the equilibrium never reaches, K facing a bet after passing when
    /// `α = 1/3`, counts too.)
    pub max_deviation: f64,
    /// The information set of the largest deviation.
    pub worst: (History, Card),
}

/// Compares `policy` with the member of the equilibrium family that has its bluffing
/// frequency.
///
/// ```
/// use spar_tasks::kuhn::{equilibrium_check, KuhnPolicy};
/// let c = equilibrium_check(&KuhnPolicy::equilibrium(0.25).unwrap());
/// assert!((c.alpha - 0.25).abs() < 1e-12 && c.max_deviation < 1e-12);
/// assert!(equilibrium_check(&KuhnPolicy::always_bet()).max_deviation >= 2.0 / 3.0);
/// ```
pub fn equilibrium_check(policy: &KuhnPolicy) -> EquilibriumCheck {
    let alpha = policy.prob_bet(Card::J, History::Start);
    let eq = KuhnPolicy::equilibrium(alpha.clamp(0.0, 1.0 / 3.0))
        .expect("a clamped alpha lies in [0, 1/3]");
    let mut out = EquilibriumCheck {
        alpha,
        max_deviation: 0.0,
        worst: (History::Start, Card::J),
    };
    for (h, c) in information_sets() {
        let d = (policy.prob_bet(c, h) - eq.prob_bet(c, h)).abs();
        if d > out.max_deviation {
            out.max_deviation = d;
            out.worst = (h, c);
        }
    }
    out
}
