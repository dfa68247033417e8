//! GPT-2's parameter initialisation (HF `GPT2PreTrainedModel._init_weights`): matmul
//! weights and embeddings `N(0, 0.02)`, the residual projections `c_proj.weight`
//! `N(0, 0.02/√(2L))`, biases 0, LayerNorm gains 1 and biases 0.

use crate::layout::ParamLayout;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Standard normal draws by Box–Muller from a ChaCha8 stream.
pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f32 {
    // u1 in (0, 1]: never log(0).
    let u1 = ((rng.next_u32() >> 8) + 1) as f32 / (1u32 << 24) as f32;
    let u2 = (rng.next_u32() >> 8) as f32 / (1u32 << 24) as f32;
    libm::sqrtf(-2.0 * libm::logf(u1)) * libm::cosf(2.0 * core::f32::consts::PI * u2)
}

/// Fills `out` (the flat buffer, padding left at 0) with GPT-2's initialisation.
pub fn gpt2_init(layout: &ParamLayout, seed: u64, out: &mut [f32]) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n_layer = layout.config().n_layer as f32;
    out.fill(0.0);
    for t in layout.tensors() {
        let dst = &mut out[t.range()];
        if t.name.contains("ln_") {
            if t.name.ends_with(".weight") {
                dst.fill(1.0);
            }
        } else if t.name.ends_with(".weight") {
            let std = if t.name.contains("c_proj") {
                0.02 / libm::sqrtf(2.0 * n_layer)
            } else {
                0.02
            };
            for x in dst.iter_mut() {
                *x = std * normal(&mut rng);
            }
        }
    }
}
