//! README, "Depend on one crate": GRPO advantages from verifier rewards, spar-losses alone.
use spar_losses::grpo::{grpo_advantages, ScaleRewards, TRL_STD_EPSILON};
use spar_losses::pass_at_k::pass_at_k;

/// Prints the advantages of one group and a pass@k.
pub fn main() -> Result<(), spar_losses::LossError> {
    let rewards = [1.0, 0.0, 0.0, 1.0]; // one prompt, four completions
    let mut adv = [0.0; 4];
    grpo_advantages(&rewards, 4, ScaleRewards::Group, TRL_STD_EPSILON, &mut adv)?;
    assert!(adv[0] > 0.0 && adv[1] < 0.0 && adv.iter().sum::<f64>().abs() < 1e-12);
    println!("advantages {adv:?}, pass@2 {:.3}", pass_at_k(4, 2, 2)?);
    Ok(())
}
