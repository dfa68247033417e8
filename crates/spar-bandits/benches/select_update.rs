//! One bandit step (select + update) with 1,000 arms, for every bandit.
//!
//! Each bandit is first played for 5,000 steps on Bernoulli arms with means spread over
//! `[0.05, 0.95]`, so the measured steps run on a warmed-up state rather than the initial
//! round-robin. Run with `cargo bench -p spar-bandits --bench select_update`.

use criterion::{criterion_group, criterion_main, Criterion};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use spar_bandits::sim::{Environment, StationaryBernoulli};
use spar_bandits::{
    Bandit, Boltzmann, DiscountedThompson, DiscountedUcb, DiscountedUcbConfig, EpsilonGreedy, Exp3,
    SlidingWindowUcb, SlidingWindowUcbConfig, Thompson, Ucb1,
};
use std::hint::black_box;

const ARMS: usize = 1000;

fn bench_select_update(c: &mut Criterion) {
    let means: Vec<f64> = (0..ARMS)
        .map(|a| 0.05 + 0.9 * a as f64 / (ARMS - 1) as f64)
        .collect();
    let env = StationaryBernoulli::new(means).unwrap();
    let bandits: Vec<(&str, Box<dyn Bandit>)> = vec![
        (
            "epsilon_greedy",
            Box::new(EpsilonGreedy::new(ARMS, 0.1).unwrap()),
        ),
        ("boltzmann", Box::new(Boltzmann::new(ARMS, 0.1).unwrap())),
        ("ucb1", Box::new(Ucb1::new(ARMS).unwrap())),
        (
            "discounted_ucb",
            Box::new(DiscountedUcb::new(ARMS, DiscountedUcbConfig::default()).unwrap()),
        ),
        (
            "sliding_window_ucb",
            Box::new(SlidingWindowUcb::new(ARMS, SlidingWindowUcbConfig::default()).unwrap()),
        ),
        ("exp3", Box::new(Exp3::new(ARMS, 0.1).unwrap())),
        ("thompson", Box::new(Thompson::new(ARMS).unwrap())),
        (
            "discounted_thompson",
            Box::new(DiscountedThompson::new(ARMS, 0.99).unwrap()),
        ),
    ];
    let mut group = c.benchmark_group("select_update_1000_arms");
    for (name, mut bandit) in bandits {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut t = 0u64;
        for _ in 0..5000 {
            let arm = bandit.select(&mut rng).unwrap();
            let reward = env.pull(arm, t, &mut rng);
            bandit.update(arm, reward).unwrap();
            t += 1;
        }
        group.bench_function(name, |b| {
            b.iter(|| {
                let arm = bandit.select(&mut rng).unwrap();
                let reward = env.pull(arm, t, &mut rng);
                bandit.update(black_box(arm), reward).unwrap();
                t += 1;
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_select_update);
criterion_main!(benches);
