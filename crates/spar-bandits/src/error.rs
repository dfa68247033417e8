//! The crate's error type: everything a caller can get wrong.

use core::fmt;

/// Why a bandit or curriculum refused an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A bandit needs at least one arm (a curriculum at least one category).
    NoArms,
    /// An arm or category index is not below the number of arms.
    ArmOutOfRange {
        /// The index given.
        arm: usize,
        /// The number of arms.
        num_arms: usize,
    },
    /// A reward is NaN or infinite.
    NonFiniteReward(f64),
    /// A reward lies outside the range the algorithm assumes (`[0, 1]`, or `[0, bound]`).
    RewardOutOfRange {
        /// The reward given.
        reward: f64,
        /// Smallest allowed reward.
        min: f64,
        /// Largest allowed reward.
        max: f64,
    },
    /// A configuration constant is outside its domain (temperature ≤ 0, ε ∉ [0, 1], ...).
    InvalidParameter {
        /// The parameter's name, as the field is called.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// A batch outcome is malformed (solve rate outside `[0, 1]`, non-finite advantage, ...).
    InvalidOutcome(&'static str),
    /// A statistic over a group was asked of an empty group.
    EmptyGroup,
    /// A restored state is inconsistent (vector lengths disagree, counts are negative, ...).
    InvalidState(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoArms => write!(f, "at least one arm is required"),
            Error::ArmOutOfRange { arm, num_arms } => {
                write!(f, "arm {arm} is out of range for {num_arms} arms")
            }
            Error::NonFiniteReward(r) => write!(f, "reward {r} is not finite"),
            Error::RewardOutOfRange { reward, min, max } => {
                write!(f, "reward {reward} is outside [{min}, {max}]")
            }
            Error::InvalidParameter { name, value } => {
                write!(f, "parameter {name} = {value} is outside its domain")
            }
            Error::InvalidOutcome(what) => write!(f, "invalid batch outcome: {what}"),
            Error::EmptyGroup => write!(f, "the group is empty"),
            Error::InvalidState(what) => write!(f, "inconsistent state: {what}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

/// Checks that `reward` is finite and lies in `[min, max]`.
pub(crate) fn check_reward(reward: f64, min: f64, max: f64) -> Result<(), Error> {
    if !reward.is_finite() {
        return Err(Error::NonFiniteReward(reward));
    }
    if reward < min || reward > max {
        return Err(Error::RewardOutOfRange { reward, min, max });
    }
    Ok(())
}

/// Checks that `arm < num_arms`.
pub(crate) fn check_arm(arm: usize, num_arms: usize) -> Result<(), Error> {
    if arm >= num_arms {
        return Err(Error::ArmOutOfRange { arm, num_arms });
    }
    Ok(())
}

/// Checks that a parameter is finite and `lo < value` (or `lo <= value` when `lo_inclusive`)
/// and `value <= hi` (or `<` when not `hi_inclusive`).
pub(crate) fn check_param(
    name: &'static str,
    value: f64,
    lo: f64,
    lo_inclusive: bool,
    hi: f64,
    hi_inclusive: bool,
) -> Result<(), Error> {
    let lo_ok = if lo_inclusive {
        value >= lo
    } else {
        value > lo
    };
    let hi_ok = if hi_inclusive {
        value <= hi
    } else {
        value < hi
    };
    if value.is_nan() || !lo_ok || !hi_ok || (value.is_infinite() && hi.is_finite()) {
        return Err(Error::InvalidParameter { name, value });
    }
    Ok(())
}
