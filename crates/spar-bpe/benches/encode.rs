//! Encode throughput on the bundled corpus, and training time for a 4096-token vocabulary.
//!
//! `cargo bench -p spar-bpe --bench encode`. The same text and vocabulary are timed in
//! Hugging Face `tokenizers` by `scripts/bpe_fixture.py bench` (see BENCHMARKS.md).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use spar_bpe::{EncodeCache, Tokenizer, Trainer, TrainerConfig};

const CORPUS: &str = include_str!("../data/rust-docs.txt");

fn trained(vocab_size: usize) -> Tokenizer {
    let mut trainer = Trainer::new(TrainerConfig {
        vocab_size,
        ..Default::default()
    })
    .expect("valid config");
    trainer.feed(CORPUS);
    trainer.finish().expect("training succeeds")
}

fn encode(c: &mut Criterion) {
    let tok = trained(4096);
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Bytes(CORPUS.len() as u64));
    group.sample_size(10);
    group.bench_function("rust-docs, vocab 4096, no cache", |b| {
        b.iter(|| tok.encode(CORPUS).len())
    });
    group.bench_function("rust-docs, vocab 4096, word cache", |b| {
        b.iter(|| {
            let mut cache = EncodeCache::default();
            let mut out = Vec::with_capacity(CORPUS.len() / 3);
            tok.encode_with_cache(CORPUS, &mut cache, &mut out);
            out.len()
        })
    });
    group.finish();
}

fn train(c: &mut Criterion) {
    let mut group = c.benchmark_group("train");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(CORPUS.len() as u64));
    group.bench_function("rust-docs to vocab 4096", |b| {
        b.iter(|| trained(4096).num_merges())
    });
    group.finish();
}

criterion_group!(benches, encode, train);
criterion_main!(benches);
