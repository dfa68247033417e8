//! Checkpoint round trips, HF-layout variants, and every way a checkpoint can be wrong.
#![cfg(feature = "std")]

use proptest::prelude::*;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spar_model::checkpoint::{self, CheckpointError};
use spar_model::safetensors::{Dtype, SafeTensors, SafetensorsError};
use spar_model::{GptConfig, ParamLayout};

/// V 5, T 4, C 8, one layer, two heads: 16 tensors, small enough to build by hand.
const TINY: GptConfig = GptConfig::new(5, 4, 8, 1, 2);

/// Random parameters in the tensors, zero in the padding (as the model keeps it).
fn random_params(cfg: &GptConfig, seed: u64) -> Vec<f32> {
    let layout = ParamLayout::new(cfg).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut params = vec![0.0; layout.len()];
    for t in layout.tensors() {
        for x in &mut params[t.range()] {
            // Arbitrary bit patterns of finite floats, so the round trip is tested on
            // every mantissa bit and not just on "nice" values.
            *x = loop {
                let v = f32::from_bits(rng.next_u32());
                if v.is_finite() {
                    break v;
                }
            };
        }
    }
    params
}

fn assert_bits_eq(a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x.to_bits(), y.to_bits(), "element {i}");
    }
}

/// One raw tensor entry: name, dtype name, shape, little-endian bytes.
type Entry = (String, &'static str, Vec<usize>, Vec<u8>);

/// A safetensors file from raw entries `(name, dtype, shape, bytes)`, offsets in order.
fn raw_file(entries: &[(&str, &str, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let mut header = String::from("{\"__metadata__\":{\"format\":\"pt\"}");
    let mut data = Vec::new();
    for (name, dtype, shape, bytes) in entries {
        let shape: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        header += &format!(
            ",\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
            shape.join(","),
            data.len(),
            data.len() + bytes.len()
        );
        data.extend_from_slice(bytes);
    }
    header.push('}');
    with_header(&header, &data)
}

fn with_header(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn f32_bytes(xs: &[f32]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The entries of `params` as `raw_file` input, names with `prefix`.
fn entries(cfg: &GptConfig, params: &[f32], prefix: &str) -> Vec<(String, Vec<usize>, Vec<u8>)> {
    let layout = ParamLayout::new(cfg).unwrap();
    layout
        .tensors()
        .iter()
        .map(|t| {
            (
                format!("{prefix}{}", t.name),
                t.shape.clone(),
                f32_bytes(&params[t.range()]),
            )
        })
        .collect()
}

fn build(list: &[Entry]) -> Vec<u8> {
    let refs: Vec<(&str, &str, Vec<usize>, Vec<u8>)> = list
        .iter()
        .map(|(n, d, s, b)| (n.as_str(), *d, s.clone(), b.clone()))
        .collect();
    raw_file(&refs)
}

fn f32_entries(cfg: &GptConfig, params: &[f32], prefix: &str) -> Vec<Entry> {
    entries(cfg, params, prefix)
        .into_iter()
        .map(|(n, s, b)| (n, "F32", s, b))
        .collect()
}

#[test]
fn bytes_round_trip_bit_exact_with_hf_names() {
    for cfg in [TINY, GptConfig::C0] {
        let params = random_params(&cfg, 7);
        let bytes = checkpoint::to_bytes(&cfg, &params).unwrap();
        assert_bits_eq(&checkpoint::from_bytes(&cfg, &bytes).unwrap(), &params);

        let file = SafeTensors::parse(&bytes).unwrap();
        assert_eq!(
            file.metadata().get("format").map(String::as_str),
            Some("pt")
        );
        let layout = ParamLayout::new(&cfg).unwrap();
        assert_eq!(file.tensors().len(), layout.tensors().len());
        for (view, spec) in file.tensors().iter().zip(layout.tensors()) {
            assert_eq!(view.name, format!("transformer.{}", spec.name));
            assert_eq!(view.shape, spec.shape);
            assert_eq!(view.dtype, Dtype::F32);
        }
        assert!(
            file.get("lm_head.weight").is_none(),
            "tied head is not written"
        );
        assert_eq!(
            file.get("transformer.h.0.attn.c_attn.weight")
                .unwrap()
                .shape,
            [cfg.n_embd, 3 * cfg.n_embd]
        );
    }
}

#[test]
fn files_round_trip_atomically() {
    let dir = std::env::temp_dir().join(format!("spar-checkpoint-files-{}", std::process::id()));
    let cfg = TINY;
    let params = random_params(&cfg, 1);
    checkpoint::save(&dir, &cfg, &params).unwrap();
    // Overwrite with other parameters: the second save replaces the first.
    let params2 = random_params(&cfg, 2);
    checkpoint::save(&dir, &cfg, &params2).unwrap();
    let (cfg2, loaded) = checkpoint::load(&dir).unwrap();
    assert_eq!(cfg2, cfg);
    assert_bits_eq(&loaded, &params2);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["config.json", "model.safetensors"],
        "no temporaries left"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    match checkpoint::load(&dir) {
        Err(CheckpointError::Io { path, .. }) => assert!(path.ends_with("config.json")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn loads_names_without_prefix_mixed_and_with_tied_head_and_buffers() {
    let cfg = TINY;
    let params = random_params(&cfg, 3);
    let layout = ParamLayout::new(&cfg).unwrap();
    let wte = f32_bytes(&params[layout.get("wte.weight").unwrap().range()]);

    // No prefix at all, like the original `gpt2` files.
    let plain = build(&f32_entries(&cfg, &params, ""));
    assert_bits_eq(&checkpoint::from_bytes(&cfg, &plain).unwrap(), &params);

    // Mixed prefixes, a tied lm_head, and the mask buffers of old HF versions.
    let mut list = f32_entries(&cfg, &params, "");
    for (i, e) in list.iter_mut().enumerate() {
        if i % 2 == 0 {
            e.0 = format!("transformer.{}", e.0);
        }
    }
    list.push(("lm_head.weight".into(), "F32", vec![5, 8], wte.clone()));
    list.push((
        "transformer.h.0.attn.bias".into(),
        "BOOL",
        vec![1, 1, 4, 4],
        vec![1; 16],
    ));
    list.push((
        "h.0.attn.masked_bias".into(),
        "F32",
        vec![],
        f32_bytes(&[-1e4]),
    ));
    assert_bits_eq(
        &checkpoint::from_bytes(&cfg, &build(&list)).unwrap(),
        &params,
    );

    // An untied head is refused; so is a head of the wrong shape.
    let mut untied = wte.clone();
    untied[0] ^= 1;
    let mut bad = f32_entries(&cfg, &params, "transformer.");
    bad.push(("lm_head.weight".into(), "F32", vec![5, 8], untied));
    assert_eq!(
        checkpoint::from_bytes(&cfg, &build(&bad)),
        Err(CheckpointError::UntiedLmHead)
    );
    let mut bad = f32_entries(&cfg, &params, "transformer.");
    bad.push(("lm_head.weight".into(), "F32", vec![8, 5], wte));
    assert_eq!(
        checkpoint::from_bytes(&cfg, &build(&bad)),
        Err(CheckpointError::ShapeMismatch {
            name: "lm_head.weight".into(),
            expected: vec![5, 8],
            found: vec![8, 5],
        })
    );
}

#[test]
fn half_precision_checkpoints_widen_to_f32() {
    let cfg = TINY;
    let layout = ParamLayout::new(&cfg).unwrap();
    // Values exactly representable in both halves: k/8 for small k.
    let mut params = vec![0.0f32; layout.len()];
    for t in layout.tensors() {
        for (j, x) in params[t.range()].iter_mut().enumerate() {
            *x = ((j % 17) as f32 - 8.0) / 8.0;
        }
    }
    for (dtype, encode) in [
        ("F16", f32_to_f16_exact as fn(f32) -> u16),
        ("BF16", |x: f32| (x.to_bits() >> 16) as u16),
    ] {
        let list: Vec<Entry> = layout
            .tensors()
            .iter()
            .map(|t| {
                let bytes = params[t.range()]
                    .iter()
                    .flat_map(|&x| encode(x).to_le_bytes())
                    .collect();
                (t.name.clone(), dtype, t.shape.clone(), bytes)
            })
            .collect();
        assert_bits_eq(
            &checkpoint::from_bytes(&cfg, &build(&list)).unwrap(),
            &params,
        );
    }
}

/// f32 → f16 for values with few mantissa bits and a moderate exponent (test data only).
fn f32_to_f16_exact(x: f32) -> u16 {
    if x == 0.0 {
        return if x.is_sign_negative() { 0x8000 } else { 0 };
    }
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32 - 127 + 15;
    assert!(
        (1..31).contains(&exp) && bits & 0x1fff == 0,
        "{x} is not exact in f16"
    );
    sign | ((exp as u16) << 10) | ((bits >> 13) & 0x3ff) as u16
}

#[test]
fn each_kind_of_bad_checkpoint_has_its_own_error() {
    let cfg = TINY;
    let params = random_params(&cfg, 4);
    let good = checkpoint::to_bytes(&cfg, &params).unwrap();
    let st = |e| Err(CheckpointError::Safetensors(e));
    let load = |bytes: &[u8]| checkpoint::from_bytes(&cfg, bytes);

    // Truncated: in the length, in the header, in the data.
    assert_eq!(load(&good[..5]), st(SafetensorsError::TooShort { len: 5 }));
    let header_len = u64::from_le_bytes(good[..8].try_into().unwrap());
    assert_eq!(
        load(&good[..40]),
        st(SafetensorsError::HeaderPastEnd {
            header_len,
            available: 32
        })
    );
    let data_len = good.len() - 8 - header_len as usize;
    assert_eq!(
        load(&good[..good.len() - 4]),
        st(SafetensorsError::OffsetsPastEnd {
            name: "transformer.ln_f.bias".into(),
            end: data_len as u64,
            data_len: data_len - 4,
        })
    );
    // Header length past the end of the file, and absurdly large.
    let mut past = good.clone();
    past[..8].copy_from_slice(&(good.len() as u64).to_le_bytes());
    assert!(matches!(
        load(&past),
        Err(CheckpointError::Safetensors(
            SafetensorsError::HeaderPastEnd { .. }
        ))
    ));
    past[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        load(&past),
        Err(CheckpointError::Safetensors(
            SafetensorsError::HeaderTooLarge { .. }
        ))
    ));
    // Bad JSON.
    let mut bad_json = good.clone();
    bad_json[8] = b'[';
    assert!(matches!(
        load(&bad_json),
        Err(CheckpointError::Safetensors(
            SafetensorsError::InvalidHeader { .. }
        ))
    ));
    // Trailing bytes that no tensor covers.
    let mut trailing = good.clone();
    trailing.extend_from_slice(&[0; 4]);
    assert!(matches!(
        load(&trailing),
        Err(CheckpointError::Safetensors(SafetensorsError::Gap { .. }))
    ));

    let base = f32_entries(&cfg, &params, "transformer.");
    let edit = |f: &dyn Fn(&mut Vec<Entry>)| {
        let mut list = base.clone();
        f(&mut list);
        load(&build(&list))
    };
    // Wrong shape (same element count, so only the shape check can catch it).
    assert_eq!(
        edit(&|l| l[4].2 = vec![24, 8]),
        Err(CheckpointError::ShapeMismatch {
            name: "transformer.h.0.attn.c_attn.weight".into(),
            expected: vec![8, 24],
            found: vec![24, 8],
        })
    );
    // Wrong dtype (I32 has F32's size, so the file itself is valid).
    assert_eq!(
        edit(&|l| l[1].1 = "I32"),
        Err(CheckpointError::UnsupportedDtype {
            name: "transformer.wpe.weight".into(),
            dtype: Dtype::I32
        })
    );
    // Unknown dtype name.
    assert!(matches!(
        edit(&|l| l[1].1 = "F17"),
        Err(CheckpointError::Safetensors(SafetensorsError::UnknownDtype { name, .. })) if name == "transformer.wpe.weight"
    ));
    // Missing tensor.
    assert_eq!(
        edit(&|l| {
            l.remove(3);
        }),
        Err(CheckpointError::MissingTensor {
            name: "h.0.ln_1.bias".into()
        })
    );
    // Unknown tensor.
    assert_eq!(
        edit(&|l| l.push((
            "transformer.h.1.ln_1.weight".into(),
            "F32",
            vec![8],
            vec![0; 32]
        ))),
        Err(CheckpointError::UnknownTensor {
            name: "transformer.h.1.ln_1.weight".into()
        })
    );
    // The same parameter with and without the prefix.
    assert_eq!(
        edit(&|l| {
            let mut dup = l[2].clone();
            dup.0 = "h.0.ln_1.weight".into();
            l.push(dup);
        }),
        Err(CheckpointError::DuplicateTensor {
            name: "h.0.ln_1.weight".into()
        })
    );
    // The same name twice in the header.
    assert!(matches!(
        edit(&|l| {
            let dup = l[2].clone();
            l.push(dup);
        }),
        Err(CheckpointError::Safetensors(SafetensorsError::DuplicateTensor { name })) if name == "transformer.h.0.ln_1.weight"
    ));
    // Wrong parameter buffer length when saving.
    assert_eq!(
        checkpoint::to_bytes(&cfg, &params[1..]),
        Err(CheckpointError::ParamsLength {
            expected: params.len(),
            found: params.len() - 1
        })
    );
}

#[test]
fn malformed_offsets_are_named() {
    let two = |a: [u64; 2], b: [u64; 2], data: usize| {
        let header = format!(
            "{{\"a\":{{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[{},{}]}},\"b\":{{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[{},{}]}}}}",
            a[0], a[1], b[0], b[1]
        );
        SafeTensors::parse(&with_header(&header, &vec![0; data])).map(|_| ())
    };
    assert_eq!(two([0, 8], [8, 16], 16), Ok(()));
    assert_eq!(
        two([0, 8], [4, 12], 16),
        Err(SafetensorsError::Overlap {
            first: "a".into(),
            second: "b".into()
        })
    );
    assert_eq!(
        two([0, 8], [12, 20], 20),
        Err(SafetensorsError::Gap { begin: 8, end: 12 })
    );
    assert_eq!(
        two([0, 8], [8, 12], 12),
        Err(SafetensorsError::SizeMismatch {
            name: "b".into(),
            expected_bytes: 8,
            found_bytes: 4
        })
    );
    assert_eq!(
        two([8, 0], [8, 16], 16),
        Err(SafetensorsError::OffsetsReversed {
            name: "a".into(),
            begin: 8,
            end: 0
        })
    );
    assert_eq!(
        two([0, 8], [8, 16], 12),
        Err(SafetensorsError::OffsetsPastEnd {
            name: "b".into(),
            end: 16,
            data_len: 12
        })
    );
    let huge = with_header(
        "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}",
        &[],
    );
    assert_eq!(
        SafeTensors::parse(&huge).map(|_| ()),
        Err(SafetensorsError::ShapeOverflow { name: "a".into() })
    );
    let no_shape = with_header("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,0]}}", &[]);
    assert_eq!(
        SafeTensors::parse(&no_shape).map(|_| ()),
        Err(SafetensorsError::InvalidEntry {
            name: "a".into(),
            reason: "missing `shape`"
        })
    );
    let bad_meta = with_header("{\"__metadata__\":{\"format\":1}}", &[]);
    assert_eq!(
        SafeTensors::parse(&bad_meta).map(|_| ()),
        Err(SafetensorsError::InvalidMetadata)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any small configuration and any finite parameters survive `to_bytes`/`from_bytes`
    /// bit for bit, and the file's config.json text reads back to the same config.
    #[test]
    fn random_configs_round_trip_bit_exact(
        vocab in 1usize..40,
        positions in 1usize..10,
        heads in 1usize..4,
        head_size in 1usize..5,
        layers in 1usize..3,
        seed in any::<u64>(),
    ) {
        let cfg = GptConfig::new(vocab, positions, heads * head_size, layers, heads);
        let params = random_params(&cfg, seed);
        let bytes = checkpoint::to_bytes(&cfg, &params).unwrap();
        let loaded = checkpoint::from_bytes(&cfg, &bytes).unwrap();
        prop_assert!(params.iter().zip(&loaded).all(|(a, b)| a.to_bits() == b.to_bits()));
        let json = spar_model::hf_config::to_json(&cfg);
        prop_assert_eq!(spar_model::hf_config::from_json(json.as_bytes()).unwrap(), cfg);
    }

    /// Random byte edits of a valid checkpoint: loading returns a value (never panics), and
    /// whatever loads is a full parameter buffer.
    #[test]
    fn mutated_checkpoints_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let cfg = TINY;
        let params = random_params(&cfg, 5);
        let mut bytes = checkpoint::to_bytes(&cfg, &params).unwrap();
        // Bias the edits towards the header, where the structure is.
        let header_end = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        for (at, byte) in &edits {
            let i = if *byte % 2 == 0 { at.index(header_end) } else { at.index(bytes.len()) };
            bytes[i] = *byte;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        if let Ok(loaded) = checkpoint::from_bytes(&cfg, &bytes) {
            prop_assert_eq!(loaded.len(), params.len());
        }
    }
}

#[test]
fn loads_what_transformers_saved() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hf_tiny");
    let (cfg, params) = checkpoint::load(dir).unwrap();
    assert_eq!(cfg, GptConfig::new(67, 16, 32, 2, 4));
    let original = std::fs::read(format!("{dir}/model.safetensors")).unwrap();
    let hf = SafeTensors::parse(&original).unwrap();
    let ours = checkpoint::to_bytes(&cfg, &params).unwrap();
    let ours = SafeTensors::parse(&ours).unwrap();
    // Same tensors, names and bytes as `save_pretrained` wrote (the order in the file may differ).
    assert_eq!(hf.tensors().len(), ours.tensors().len());
    for view in hf.tensors() {
        assert_eq!(Some(view), ours.get(&view.name), "{}", view.name);
    }
    // The gradient file names tensors without the prefix: it loads as a checkpoint too.
    let grads = std::fs::read(format!("{dir}/grads.safetensors")).unwrap();
    let g = checkpoint::from_bytes(&cfg, &grads).unwrap();
    assert!(g.iter().any(|&x| x != 0.0));
}

#[test]
fn concurrent_saves_leave_one_whole_checkpoint() {
    let dir = std::env::temp_dir().join(format!("spar-checkpoint-race-{}", std::process::id()));
    let cfg = TINY;
    let a = random_params(&cfg, 10);
    let b = random_params(&cfg, 11);
    std::thread::scope(|s| {
        for params in [&a, &b] {
            let dir = &dir;
            s.spawn(move || {
                for _ in 0..20 {
                    checkpoint::save(dir, &cfg, params).unwrap();
                }
            });
        }
    });
    let (_, loaded) = checkpoint::load(&dir).unwrap();
    let same = |p: &[f32]| {
        p.iter()
            .zip(&loaded)
            .all(|(x, y)| x.to_bits() == y.to_bits())
    };
    assert!(same(&a) || same(&b), "the file mixes two saves");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        2,
        "no temporaries left"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
