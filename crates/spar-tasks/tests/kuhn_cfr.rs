//! CFR on the exact Kuhn tree reaches the equilibrium: its average strategy's
//! exploitability falls below 1e-3 and the strategy has the equilibrium family's structure.

use spar_tasks::kuhn::cfr::{iterations_to, Cfr, CfrVariant, GAMES_PER_WALK};
use spar_tasks::kuhn::{equilibrium_check, exploitability, Card, History, KuhnPolicy};

/// The structure of Kuhn's equilibrium family, within `tol`.
fn assert_structure(p: &KuhnPolicy, tol: f64) {
    let b = |c, h| p.prob_bet(c, h);
    let alpha = b(Card::J, History::Start);
    assert!(
        (-tol..=1.0 / 3.0 + tol).contains(&alpha),
        "J bluffs {alpha}"
    );
    assert!(
        (b(Card::K, History::Start) - 3.0 * alpha).abs() < 3.0 * tol,
        "{p:?}"
    );
    assert!(b(Card::Q, History::Start) < tol, "Q never opens: {p:?}");
    assert!(b(Card::J, History::PB) < tol, "J folds: {p:?}");
    assert!(
        (b(Card::Q, History::PB) - alpha - 1.0 / 3.0).abs() < tol,
        "{p:?}"
    );
    assert!((b(Card::J, History::P) - 1.0 / 3.0).abs() < tol, "{p:?}");
    assert!(b(Card::Q, History::P) < tol && b(Card::K, History::P) > 1.0 - tol);
    assert!((b(Card::Q, History::B) - 1.0 / 3.0).abs() < tol, "{p:?}");
    assert!(b(Card::J, History::B) < tol && b(Card::K, History::B) > 1.0 - tol);
    let c = equilibrium_check(p);
    assert!(c.max_deviation < 3.0 * tol, "{c:?}");
}

#[test]
fn cfr_plus_reaches_the_equilibrium() {
    let mut cfr = Cfr::new(CfrVariant::Plus);
    cfr.run(2000);
    let avg = cfr.average_policy();
    let e = exploitability(&avg);
    assert!(e < 1e-3, "exploitability {e}");
    assert!(e >= -1e-12, "exploitability is never negative: {e}");
    assert_structure(&avg, 0.02);
    assert_eq!(cfr.games(), 2000 * 2 * GAMES_PER_WALK);
}

#[test]
fn vanilla_cfr_reaches_the_equilibrium() {
    let mut cfr = Cfr::new(CfrVariant::Vanilla);
    cfr.run(100_000);
    let avg = cfr.average_policy();
    let e = exploitability(&avg);
    assert!(e < 1e-3, "exploitability {e}");
    assert_structure(&avg, 0.03);
    assert_eq!(cfr.games(), 100_000 * GAMES_PER_WALK);
}

#[test]
fn the_first_iterate_is_uniform_and_exploitable() {
    let cfr = Cfr::new(CfrVariant::Vanilla);
    assert_eq!(cfr.average_policy(), KuhnPolicy::uniform());
    assert_eq!(cfr.current_policy(), KuhnPolicy::uniform());
    assert!(exploitability(&KuhnPolicy::uniform()) > 0.4);
}

#[test]
fn cfr_plus_needs_fewer_iterations_than_vanilla() {
    let plus = iterations_to(CfrVariant::Plus, 0.01, 100_000).unwrap();
    let vanilla = iterations_to(CfrVariant::Vanilla, 0.01, 100_000).unwrap();
    assert!(plus.exploitability <= 0.01 && vanilla.exploitability <= 0.01);
    assert!(
        plus.iterations < vanilla.iterations,
        "{plus:?} vs {vanilla:?}"
    );
}
