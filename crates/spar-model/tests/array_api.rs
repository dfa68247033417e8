//! The `ndarray` API gives bit for bit what the slice API gives, for row-major and strided
//! token arrays, and names the argument whose shape is wrong.
#![cfg(feature = "ndarray")]

use ndarray::{s, Array2, ShapeBuilder};
use spar_model::{block_on, CpuKernels, Gpt, GptConfig, ModelError};

const B: usize = 3;
const T: usize = 6;

fn model() -> Gpt<CpuKernels> {
    let mut gpt = Gpt::new(CpuKernels::new(), GptConfig::new(13, 8, 16, 2, 2), B, T).unwrap();
    gpt.init_params(42);
    gpt
}

/// Deterministic ids below 13 and a prefix mask per row.
fn batch() -> (Array2<u32>, Array2<u32>, Array2<bool>) {
    let tokens = Array2::from_shape_fn((B, T), |(i, t)| ((7 * i + 3 * t + 1) % 13) as u32);
    let targets = Array2::from_shape_fn((B, T), |(i, t)| ((5 * i + 2 * t + 4) % 13) as u32);
    let mask = Array2::from_shape_fn((B, T), |(i, t)| t < T - i);
    (tokens, targets, mask)
}

/// The same values in column-major memory: a view that is not row-major.
fn column_major<T: Clone + Default>(a: &Array2<T>) -> Array2<T> {
    let mut f = Array2::from_elem(a.dim().f(), T::default());
    f.assign(a);
    f
}

fn bits<'a>(v: impl IntoIterator<Item = &'a f32>) -> Vec<u32> {
    v.into_iter().map(|x| x.to_bits()).collect()
}

#[test]
fn logprobs_and_entropies_match_the_slice_api() {
    let mut gpt = model();
    let (tokens, targets, mask) = batch();
    let (mut lp, mut h) = (vec![0.0f32; B * T], vec![0.0f32; B * T]);
    let (tok, tgt, m) = (
        tokens.as_slice().unwrap(),
        targets.as_slice().unwrap(),
        mask.as_slice().unwrap(),
    );
    block_on(gpt.logprobs(tok, tgt, Some(m), B, &mut lp, Some(&mut h))).unwrap();
    for tokens in [tokens.clone(), column_major(&tokens)] {
        let got =
            block_on(gpt.logprobs_array(tokens.view(), targets.view(), Some(mask.view()))).unwrap();
        assert_eq!(got.dim(), (B, T));
        assert_eq!(bits(&got), bits(&lp));
        let (got_lp, got_h) = block_on(gpt.logprobs_and_entropy_array(
            tokens.view(),
            column_major(&targets).view(),
            Some(column_major(&mask).view()),
        ))
        .unwrap();
        assert_eq!(bits(&got_lp), bits(&lp));
        assert_eq!(bits(&got_h), bits(&h));
    }
    let mut all = vec![0.0f32; B * T];
    block_on(gpt.logprobs(tok, tgt, None, B, &mut all, None)).unwrap();
    let got = block_on(gpt.logprobs_array(tokens.view(), targets.view(), None)).unwrap();
    assert_eq!(bits(&got), bits(&all));
}

#[test]
fn logits_match_the_slice_api() {
    let mut gpt = model();
    let (tokens, targets, mask) = batch();
    let (tok, tgt) = (tokens.as_slice().unwrap(), targets.as_slice().unwrap());
    let m = mask.as_slice().unwrap();
    let want = block_on(gpt.masked_logits(tok, tgt, m, B)).unwrap();
    let got = block_on(gpt.masked_logits_array(
        column_major(&tokens).view(),
        targets.view(),
        mask.view(),
    ))
    .unwrap();
    assert_eq!(got.dim(), (m.iter().filter(|&&x| x).count(), 13));
    assert_eq!(bits(&got), bits(&want));
    let mut next = vec![0.0f32; B * 13];
    block_on(gpt.next_token_logits(tok, B, &mut next)).unwrap();
    let got = block_on(gpt.next_token_logits_array(column_major(&tokens).view())).unwrap();
    assert_eq!(got.dim(), (B, 13));
    assert_eq!(bits(&got), bits(&next));
}

#[test]
fn a_shape_that_does_not_fit_names_the_argument() {
    let mut gpt = model();
    let (tokens, targets, mask) = batch();
    let err = block_on(gpt.logprobs_array(
        tokens.view(),
        targets.slice(s![.., ..T - 1]),
        Some(mask.view()),
    ))
    .unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::ShapeMismatch {
                what: "targets",
                ..
            }
        ),
        "{err:?}"
    );
    let err =
        block_on(gpt.masked_logits_array(tokens.view(), targets.view(), mask.slice(s![..2, ..])))
            .unwrap_err();
    assert!(
        matches!(err, ModelError::ShapeMismatch { what: "mask", .. }),
        "{err:?}"
    );
}
