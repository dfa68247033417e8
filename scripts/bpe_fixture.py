#!/usr/bin/env python3
"""Compatibility fixtures for spar-bpe, made with Hugging Face `tokenizers`.

Writes into crates/spar-bpe/tests/fixtures/:
  hf_plain.json, hf_digits.json   byte-level BPEs trained by `tokenizers` on the bundled corpus
                                  (vocab 1000 on its first 500,000 bytes; vocab 600 with
                                  Digits(individual_digits=True) on its first 200,000 bytes)
  ids.json                        the varied texts below, and the ids `tokenizers` gives for
                                  each of them with hf_plain, hf_digits, and with spar's own
                                  exported spar_plain.json / spar_digits.json loaded in `tokenizers`

Rerun, in a venv with `tokenizers` installed (pip install tokenizers):
    cargo run -p spar-bpe --release --example export_fixture -- crates/spar-bpe/tests/fixtures
    python3 scripts/bpe_fixture.py
    rm crates/spar-bpe/tests/fixtures/spar_4096.json   # only needed for the speed comparison

Speed comparison (single thread, same text, spar's 4096-token vocabulary):
    python3 scripts/bpe_fixture.py bench FIXTURE_DIR/spar_4096.json
"""
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAYON_NUM_THREADS", "1")

from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "crates/spar-bpe/tests/fixtures"
CORPUS = (ROOT / "crates/spar-bpe/data/rust-docs.txt").read_text(encoding="utf-8")

TEXTS = [
    "Hello, world! It's a test; we'll see what's what.",
    "fn main() {\n    let x: u32 = 42;\n    println!(\"{x}\");\n}\n",
    "Café, naïve, façade, Ångström, Œuvre — “quotes” and ‘apostrophes’.",
    "日本語のテキストと中文文本，한국어 텍스트.",
    "emoji 🙂🚀👍🏽 and flags 🇫🇷, zero-width\u200bjoiner 👩\u200d💻",
    "whitespace   runs\t\ttabs\n\n\nnewlines  \u00a0nbsp\u3000ideographic   ",
    "digits 0123456789 12+34=46 3.14159 1,000,000 ½ ² ٣ ⅷ",
    "MixedCASE words, CONTRACTIONS: I'M, you'RE, don't, 'tis, rock'n'roll",
    "<|endoftext|>special in the middle<|endoftext|> and at the end<|endoftext|>",
    "",
    " ",
    "    leading spaces and trailing    ",
    "a" * 300,
    "$ cargo build --release && ./target/release/spar --help # done!",
]


def train(vocab_size, length, digits):
    tok = Tokenizer(models.BPE())
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if digits:
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True), byte_level]
        )
    else:
        tok.pre_tokenizer = byte_level
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([CORPUS[:length]], trainer=trainer)
    return tok


def ids_of(tok):
    return [tok.encode(t).ids for t in TEXTS]


def make():
    hf_plain = train(1000, 500_000, False)
    hf_digits = train(600, 200_000, True)
    hf_plain.save(str(FIXTURES / "hf_plain.json"))
    hf_digits.save(str(FIXTURES / "hf_digits.json"))
    out = {"texts": TEXTS, "hf_plain": ids_of(hf_plain), "hf_digits": ids_of(hf_digits)}
    for name in ["spar_plain", "spar_digits"]:
        tok = Tokenizer.from_file(str(FIXTURES / f"{name}.json"))
        out[name] = ids_of(tok)
        # tokenizers must also decode spar's ids back to the text.
        for text, ids in zip(TEXTS, out[name]):
            assert tok.decode(ids, skip_special_tokens=False) == text, (name, text)
    (FIXTURES / "ids.json").write_text(json.dumps(out, ensure_ascii=False) + "\n", encoding="utf-8")
    print("wrote fixtures to", FIXTURES)


def bench(path):
    tok = Tokenizer.from_file(path)
    tok.encode(CORPUS[:10000])
    times = []
    for _ in range(5):
        start = time.perf_counter()
        n = len(tok.encode(CORPUS).ids)
        times.append(time.perf_counter() - start)
    best = min(times)
    mb = len(CORPUS.encode("utf-8")) / 1e6
    print(f"RESULT tokenizers encode (one string): {mb:.2f} MB -> {n} ids, best {best*1e3:.1f} ms, "
          f"{mb/best:.2f} MB/s (median {mb/sorted(times)[2]:.2f} MB/s)")
    lines = CORPUS.splitlines(keepends=True)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        n = sum(len(e.ids) for e in tok.encode_batch(lines))
        times.append(time.perf_counter() - start)
    best = min(times)
    print(f"RESULT tokenizers encode_batch (lines, 1 thread): {n} ids, best {best*1e3:.1f} ms, "
          f"{mb/best:.2f} MB/s (median {mb/sorted(times)[2]:.2f} MB/s)")
    # Training time for the same vocabulary, single thread.
    start = time.perf_counter()
    train(4096, len(CORPUS), False)
    print(f"RESULT tokenizers train 4096: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "bench":
        bench(sys.argv[2])
    else:
        make()
