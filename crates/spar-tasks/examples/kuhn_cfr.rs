//! CFR's reference curve on Kuhn poker: the average strategy's exploitability against
//! iterations and against games' worth of tree walked (30 games per walk), for vanilla CFR
//! and CFR+, and the iterations each needs to reach a few levels.
//!
//! `cargo run --release -p spar-tasks --example kuhn_cfr [ITERATIONS]` (default 10000).
use spar_tasks::kuhn::cfr::{exploitability_curve, iterations_to, Cfr, CfrVariant};
use spar_tasks::kuhn::{equilibrium_check, information_sets};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .map_or(10_000, |a| a.parse().expect("ITERATIONS must be a number"));
    for v in [CfrVariant::Vanilla, CfrVariant::Plus] {
        println!("{v:?}: iterations, games, exploitability");
        let curve = exploitability_curve(v, n, 1);
        let mut next = 1;
        for p in &curve {
            if p.iterations == next || p.iterations == n {
                println!(
                    "  {:>7} {:>9} {:.6}",
                    p.iterations, p.games, p.exploitability
                );
                next *= 2;
            }
        }
        for target in [0.1, 0.05, 0.02, 0.01, 1e-3] {
            match iterations_to(v, target, n) {
                Some(p) => println!(
                    "  to {target}: {} iterations, {} games",
                    p.iterations, p.games
                ),
                None => println!("  to {target}: not within {n} iterations"),
            }
        }
        let mut cfr = Cfr::new(v);
        cfr.run(n);
        let avg = cfr.average_policy();
        println!("  {:?}", equilibrium_check(&avg));
        for (h, c) in information_sets() {
            println!("    {c:?} {h:?}: {:.4}", avg.prob_bet(c, h));
        }
    }
}
