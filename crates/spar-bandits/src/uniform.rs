//! The uniform curriculum: every category equally likely, whatever happens. The baseline
//! every other curriculum is measured against ("random curriculum" in the SEC paper).

use crate::curriculum::check_batch;
use crate::{Curriculum, Error, ProblemOutcome};
use alloc::vec;
use alloc::vec::Vec;

/// Draws categories uniformly at random.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Uniform {
    num_categories: usize,
}

impl Uniform {
    /// A uniform curriculum over `num_categories` categories.
    pub fn new(num_categories: usize) -> Result<Self, Error> {
        if num_categories == 0 {
            return Err(Error::NoArms);
        }
        Ok(Self { num_categories })
    }
}

impl Curriculum for Uniform {
    fn num_categories(&self) -> usize {
        self.num_categories
    }

    fn probabilities(&self) -> Result<Vec<f64>, Error> {
        if self.num_categories == 0 {
            return Err(Error::NoArms);
        }
        Ok(vec![1.0 / self.num_categories as f64; self.num_categories])
    }

    fn update(&mut self, batch: &[ProblemOutcome<'_>]) -> Result<(), Error> {
        check_batch(batch, self.num_categories)
    }
}
