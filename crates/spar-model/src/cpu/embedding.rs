//! Token + position embedding forward and backward on the CPU.
//!
//! `out[i,j] = wte[tok(i,j)] + wpe[pos0 + j]`; the backward scatters `dout` into both rows.

use crate::kernels::EmbedShape;

fn token(tokens: &[u32], s: &EmbedShape, i: usize, j: usize) -> usize {
    tokens[i * s.token_stride + s.pos0 + j] as usize
}

/// `out(b,t,C) = wte(V,C)[tokens] + wpe(T,C)[pos0 + j]`.
#[inline(always)]
pub fn embedding_forward(out: &mut [f32], tokens: &[u32], wte: &[f32], wpe: &[f32], s: EmbedShape) {
    let c = s.c;
    for i in 0..s.b {
        for j in 0..s.t {
            let tok = token(tokens, &s, i, j);
            let o = &mut out[(i * s.t + j) * c..][..c];
            let we = &wte[tok * c..][..c];
            let pe = &wpe[(s.pos0 + j) * c..][..c];
            for ((o, a), b) in o.iter_mut().zip(we).zip(pe) {
                *o = a + b;
            }
        }
    }
}

/// `dwte[tok] += dout[i,j]`, `dwpe[pos0 + j] += dout[i,j]`.
#[inline(always)]
pub fn embedding_backward(
    dwte: &mut [f32],
    dwpe: &mut [f32],
    dout: &[f32],
    tokens: &[u32],
    s: EmbedShape,
) {
    let c = s.c;
    for i in 0..s.b {
        for j in 0..s.t {
            let tok = token(tokens, &s, i, j);
            let d = &dout[(i * s.t + j) * c..][..c];
            for (w, g) in dwte[tok * c..][..c].iter_mut().zip(d) {
                *w += g;
            }
            for (w, g) in dwpe[(s.pos0 + j) * c..][..c].iter_mut().zip(d) {
                *w += g;
            }
        }
    }
}
