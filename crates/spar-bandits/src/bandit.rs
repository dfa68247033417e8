//! The [`Bandit`] trait: choose an arm, learn from its reward.

use crate::Error;
use rand_core::RngCore;

/// A multi-armed bandit over arms `0..num_arms()`.
///
/// Rewards are assumed to lie in `[0, 1]` (rescale first); a NaN, infinite or out-of-range
/// reward is refused with an [`Error`] and leaves the state untouched. Selection never
/// changes the state, so `select` followed by `update` on the chosen arm is one step, and a
/// state saved between steps (every bandit derives serde's traits with the `serde` feature)
/// resumes exactly.
///
/// The trait is object safe: the random generator is passed as `&mut dyn RngCore`, so
/// `Box<dyn Bandit>` works and `&mut ChaCha8Rng` coerces at the call site.
pub trait Bandit: core::fmt::Debug {
    /// Number of arms.
    fn num_arms(&self) -> usize;

    /// Chooses the arm to play next. Deterministic algorithms (the UCB family) ignore `rng`.
    ///
    /// Fails only if the state is inconsistent (see [`Bandit::validate`]).
    fn select(&self, rng: &mut dyn RngCore) -> Result<usize, Error>;

    /// Records `reward` for `arm` (one step of the bandit's clock).
    fn update(&mut self, arm: usize, reward: f64) -> Result<(), Error>;

    /// Checks that the configuration and the statistics are consistent; useful after
    /// restoring a saved state. `select` calls it too.
    fn validate(&self) -> Result<(), Error>;
}

/// Checks that a per-arm vector has the expected length.
pub(crate) fn check_len(len: usize, num_arms: usize, what: &'static str) -> Result<(), Error> {
    if num_arms == 0 {
        return Err(Error::NoArms);
    }
    if len != num_arms {
        return Err(Error::InvalidState(what));
    }
    Ok(())
}
