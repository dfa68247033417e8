//! The `ndarray` API leaves curricula and bandits in exactly the state the slice API
//! leaves, and refuses arrays whose shapes disagree.
#![cfg(feature = "ndarray")]

use ndarray::{s, Array1, Array2, ShapeBuilder};
use spar_bandits::array::{probabilities, update_from_groups, update_pulls};
use spar_bandits::{
    Bandit, Curriculum, Error, Exp3, Learnability, LearnabilityConfig, ProblemOutcome, Sec,
    SecConfig, Ucb1,
};

/// Rewards (binary) and GRPO-like advantages `(N, G)`, varying by row.
fn groups(n: usize, g: usize) -> (Array2<f64>, Array2<f64>) {
    let rewards =
        Array2::from_shape_fn((n, g), |(i, j)| ((i * 7 + j * 3) % 5 < i % 4) as u8 as f64);
    let advantages = Array2::from_shape_fn((n, g), |(i, j)| {
        let row = rewards.row(i);
        row[j] - row.sum() / g as f64
    });
    (rewards, advantages)
}

/// The slice API's update: the same outcomes built by hand.
fn update_by_slices<C: Curriculum>(
    c: &mut C,
    categories: &[usize],
    rewards: &Array2<f64>,
    advantages: &Array2<f64>,
) {
    let rows: Vec<(Vec<f64>, Vec<f64>)> = (0..categories.len())
        .map(|i| (rewards.row(i).to_vec(), advantages.row(i).to_vec()))
        .collect();
    let outcomes: Vec<ProblemOutcome<'_>> = categories
        .iter()
        .zip(&rows)
        .map(|(&category, (r, a))| ProblemOutcome {
            category,
            solve_rate: r.iter().filter(|&&x| x > 0.5).count() as f64 / r.len() as f64,
            rewards: r,
            advantages: a,
        })
        .collect();
    c.update(&outcomes).unwrap();
}

fn column_major(a: &Array2<f64>) -> Array2<f64> {
    let mut f = Array2::zeros(a.dim().f());
    f.assign(a);
    f
}

#[test]
fn curricula_end_in_the_slice_apis_state() {
    let categories = [0, 3, 1, 3, 2, 0];
    let (rewards, advantages) = groups(categories.len(), 4);
    let sec = Sec::new(
        4,
        SecConfig {
            alpha: 0.3,
            temperature: 0.5,
        },
    )
    .unwrap();
    let learn = Learnability::new(4, LearnabilityConfig::default()).unwrap();
    let (mut a, mut b) = (sec.clone(), sec);
    let (mut c, mut d) = (learn.clone(), learn);
    for _ in 0..3 {
        update_by_slices(&mut a, &categories, &rewards, &advantages);
        update_from_groups(
            &mut b,
            &categories,
            column_major(&rewards).view(),
            advantages.view(),
        )
        .unwrap();
        update_by_slices(&mut c, &categories, &rewards, &advantages);
        update_from_groups(&mut d, &categories, rewards.view(), advantages.view()).unwrap();
    }
    assert_eq!(a, b);
    assert_eq!(c, d);
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(probabilities(&b).unwrap().as_slice().unwrap()),
        bits(&a.probabilities().unwrap())
    );
    assert_ne!(
        a,
        Sec::new(
            4,
            SecConfig {
                alpha: 0.3,
                temperature: 0.5
            }
        )
        .unwrap()
    );
}

#[test]
fn bandits_end_in_the_slice_apis_state() {
    let arms = [0, 1, 2, 1, 1, 0, 2, 2];
    let long: Array1<f64> = (0..2 * arms.len()).map(|i| (i % 3) as f64 / 2.0).collect();
    let rewards = long.slice(s![..;2]); // a strided view
    let (mut a, mut b) = (Ucb1::new(3).unwrap(), Ucb1::new(3).unwrap());
    let (mut c, mut d) = (Exp3::new(3, 0.1).unwrap(), Exp3::new(3, 0.1).unwrap());
    for (&arm, &r) in arms.iter().zip(rewards.iter()) {
        a.update(arm, r).unwrap();
        c.update(arm, r).unwrap();
    }
    update_pulls(&mut b, &arms, rewards).unwrap();
    update_pulls(&mut d, &arms, rewards).unwrap();
    assert_eq!(a, b);
    assert_eq!(c, d);
}

#[test]
fn shapes_that_disagree_are_refused_before_any_update() {
    let (rewards, advantages) = groups(3, 4);
    let mut sec = Sec::new(
        4,
        SecConfig {
            alpha: 0.3,
            temperature: 0.5,
        },
    )
    .unwrap();
    let before = sec.clone();
    let err = update_from_groups(&mut sec, &[0, 1], rewards.view(), advantages.view());
    assert!(matches!(err, Err(Error::InvalidOutcome(_))), "{err:?}");
    let err = update_from_groups(
        &mut sec,
        &[0, 1, 2],
        rewards.view(),
        advantages.slice(s![.., ..3]),
    );
    assert!(matches!(err, Err(Error::InvalidOutcome(_))), "{err:?}");
    assert_eq!(sec, before);
    let mut ucb = Ucb1::new(2).unwrap();
    let err = update_pulls(&mut ucb, &[0, 1], Array1::from_vec(vec![1.0]).view());
    assert!(matches!(err, Err(Error::InvalidOutcome(_))), "{err:?}");
}
