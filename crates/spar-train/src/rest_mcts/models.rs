//! The search's models over a backend: the policy's sampler and the value head
//! ([`SearchModel`] for a [`Gpt`] and a [`ValueHead`]).

use super::search::SearchModel;
use super::value::ValueHead;
use crate::TrainError;
use alloc::vec::Vec;
use spar_model::{Gpt, Kernels, SampleConfig};

/// Prefixes per generation request at most.
const SAMPLE_CHUNK: usize = 64;

/// The policy (sampled at `temperature`, seed `seed`) and, when the values are used, the
/// value head.
pub struct PolicyAndValue<'a, K: Kernels> {
    /// The policy.
    pub policy: &'a mut Gpt<K>,
    /// The value head (`None`: every estimate is 0; the search leaves it out by weight 0).
    pub value: Option<&'a mut ValueHead<K>>,
    /// Sampling temperature.
    pub temperature: f32,
    /// Seed of the sampler's random stream.
    pub seed: u64,
}

impl<K: Kernels> SearchModel for PolicyAndValue<'_, K> {
    async fn sample(
        &mut self,
        prefixes: &[Vec<u32>],
        max_new: usize,
        stop_tokens: &[u32],
        key: u32,
    ) -> Result<Vec<Vec<u32>>, TrainError> {
        let cfg = SampleConfig {
            max_new_tokens: max_new,
            temperature: self.temperature,
            top_k: 0,
            top_p: 1.0,
            stop_tokens: stop_tokens.to_vec(),
            seed: self.seed,
        };
        let mut out = Vec::with_capacity(prefixes.len());
        for (ci, chunk) in prefixes.chunks(SAMPLE_CHUNK).enumerate() {
            let rows: Vec<&[u32]> = chunk.iter().map(Vec::as_slice).collect();
            let gens = self
                .policy
                .generate(&rows, &cfg, key.wrapping_add(ci as u32))
                .await?;
            out.extend(gens.into_iter().map(|g| g.tokens));
        }
        Ok(out)
    }

    async fn values(&mut self, seqs: &[Vec<u32>]) -> Result<Vec<f64>, TrainError> {
        match self.value.as_mut() {
            Some(v) => v.estimate(seqs).await,
            None => Ok(alloc::vec![0.0; seqs.len()]),
        }
    }
}
