//! Kuhn poker: exact values, best responses and exploitability against hand computations.

use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use spar_tasks::kuhn::*;
use spar_tasks::MoveError;

#[test]
fn equilibrium_family_has_value_minus_one_eighteenth_and_zero_exploitability() {
    for i in 0..=12 {
        let alpha = i as f64 / 36.0; // 0 ..= 1/3
        let eq = KuhnPolicy::equilibrium(alpha).unwrap();
        assert!(
            (value(&eq) + 1.0 / 18.0).abs() < 1e-12,
            "alpha {alpha}: {}",
            value(&eq)
        );
        assert!(
            exploitability(&eq).abs() < 1e-12,
            "alpha {alpha}: {}",
            exploitability(&eq)
        );
        // At equilibrium each best response earns exactly the game value.
        assert!((best_response_value_p1(&eq) + 1.0 / 18.0).abs() < 1e-12);
        assert!((best_response_value_p2(&eq) - 1.0 / 18.0).abs() < 1e-12);
    }
    assert!(KuhnPolicy::equilibrium(0.5).is_err());
}

#[test]
fn always_bet_exploitability_by_hand() {
    // Player 1 always bets. Player 2 facing a bet (opponent card uniform over the other two):
    //   J: call loses 2 to Q and K → −2; fold → −1.           best −1
    //   Q: call +2 vs J, −2 vs K → 0; fold → −1.              best 0
    //   K: call +2 against both.                              best 2
    //   BR₂ = (−1 + 0 + 2) / 3 = 1/3.
    // Player 2 always bets after a pass and always calls. Player 1 with
    //   J: bet → called, −2; pass → P2 bets, then fold −1 (call −2).   best −1
    //   Q: bet → 0 on average; pass → bet, call 0 / fold −1.          best 0
    //   K: bet → +2.                                                   best 2
    //   BR₁ = 1/3.  NashConv = 2/3, exploitability = 1/3. Self-play value: symmetric showdown for 2 → 0.
    let p = KuhnPolicy::always_bet();
    assert!((best_response_value_p2(&p) - 1.0 / 3.0).abs() < 1e-12);
    assert!((best_response_value_p1(&p) - 1.0 / 3.0).abs() < 1e-12);
    assert!((nash_conv(&p) - 2.0 / 3.0).abs() < 1e-12);
    assert!((exploitability(&p) - 1.0 / 3.0).abs() < 1e-12);
    assert!(value(&p).abs() < 1e-12);
}

#[test]
fn always_pass_exploitability_by_hand() {
    // Player 1 always passes and folds: player 2 bets every card after the pass and wins the
    // ante, +1 for every card → BR₂ = 1. Player 2 always passes and folds: player 1 bets
    // every card and player 2 folds, +1 → BR₁ = 1. NashConv = 2, exploitability = 1.
    // Self-play: check-check showdown for 1, symmetric → value 0.
    let p = KuhnPolicy::always_pass();
    assert!((best_response_value_p2(&p) - 1.0).abs() < 1e-12);
    assert!((best_response_value_p1(&p) - 1.0).abs() < 1e-12);
    assert!((exploitability(&p) - 1.0).abs() < 1e-12);
    assert!(value(&p).abs() < 1e-12);
}

/// Exact value by walking the game tree with explicit chance and action probabilities,
/// an independent check of the closed form in `expected_value`.
fn tree_value(p1: &KuhnPolicy, p2: &KuhnPolicy) -> f64 {
    fn walk(state: &KuhnState, p1: &KuhnPolicy, p2: &KuhnPolicy) -> f64 {
        if let Some(v) = state.payoff() {
            return v;
        }
        let h = state.history().unwrap();
        let player = state.to_move().unwrap();
        let pol = if player == 0 { p1 } else { p2 };
        let pb = pol.prob_bet(state.cards[player], h);
        let mut total = 0.0;
        for (a, w) in [(KuhnAction::Bet, pb), (KuhnAction::Pass, 1.0 - pb)] {
            let mut next = state.clone();
            next.apply(a).unwrap();
            total += w * walk(&next, p1, p2);
        }
        total
    }
    let mut v = 0.0;
    for c1 in CARDS {
        for c2 in CARDS {
            if c1 != c2 {
                v += walk(
                    &KuhnState {
                        cards: [c1, c2],
                        actions: vec![],
                    },
                    p1,
                    p2,
                ) / 6.0;
            }
        }
    }
    v
}

fn policy_strategy() -> impl Strategy<Value = KuhnPolicy> {
    proptest::array::uniform4(proptest::array::uniform3(0.0f64..=1.0))
        .prop_map(|b| KuhnPolicy::new(b).unwrap())
}

/// All 64 pure strategies of one seat (two information sets × three cards), as policies that set only that seat's two
/// information sets (the other entries copy `base`).
fn pure_strategies(base: &KuhnPolicy, seat: usize) -> Vec<KuhnPolicy> {
    let hs = if seat == 0 { [0usize, 3] } else { [1, 2] };
    (0..64u32)
        .map(|bits| {
            let mut bet = [[0.0; 3]; 4];
            for (h, row) in bet.iter_mut().enumerate() {
                for (c, p) in row.iter_mut().enumerate() {
                    *p = base.prob_bet(
                        CARDS[c],
                        [History::Start, History::P, History::B, History::PB][h],
                    );
                }
            }
            for (k, &h) in hs.iter().enumerate() {
                for (c, p) in bet[h].iter_mut().enumerate() {
                    *p = f64::from((bits >> (k * 3 + c)) & 1);
                }
            }
            KuhnPolicy::new(bet).unwrap()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn closed_form_matches_tree_walk(a in policy_strategy(), b in policy_strategy()) {
        prop_assert!((expected_value(&a, &b) - tree_value(&a, &b)).abs() < 1e-12);
    }

    #[test]
    fn best_responses_match_enumeration_and_exploitability_is_nonnegative(p in policy_strategy()) {
        // Best response = max over the 64 pure strategies of the responding seat.
        let br1 = pure_strategies(&p, 0).iter().map(|s| expected_value(s, &p)).fold(f64::MIN, f64::max);
        let br2 = pure_strategies(&p, 1).iter().map(|s| -expected_value(&p, s)).fold(f64::MIN, f64::max);
        prop_assert!((br1 - best_response_value_p1(&p)).abs() < 1e-12);
        prop_assert!((br2 - best_response_value_p2(&p)).abs() < 1e-12);
        prop_assert!(exploitability(&p) >= -1e-12);
    }
}

#[test]
fn text_protocol() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut s = KuhnState::deal(&mut rng);
    assert_ne!(s.cards[0], s.cards[1]);
    let p = s.prompt(false).unwrap();
    assert!(p.starts_with("kuhn ") && p.ends_with(" -:"), "{p}");
    s.apply(parse_action("pass").unwrap()).unwrap();
    assert_eq!(s.to_move(), Some(1));
    assert!(s.prompt(false).unwrap().ends_with(" p:"));
    assert!(s.prompt(true).unwrap().contains("player 2"));
    s.apply(parse_action(" b ").unwrap()).unwrap();
    s.apply(parse_action("I fold").unwrap()).unwrap();
    assert_eq!(s.payoff(), Some(-1.0));
    assert_eq!(s.apply(KuhnAction::Bet), Err(MoveError::GameOver));
    assert_eq!(s.prompt(false), None);
    assert_eq!(parse_action("xyz"), Err(MoveError::Unparsable));
    assert_eq!(parse_action("check then bet"), Ok(KuhnAction::Pass));
    assert!(KuhnPolicy::new([[1.5; 3]; 4]).is_err());
}

proptest! {
    #[test]
    fn parse_action_never_panics(s in ".{0,40}") {
        let _ = parse_action(&s);
    }
}
