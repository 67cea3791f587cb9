#!/usr/bin/env python3
"""Trains the Position Interpolation demo's SentencePiece BPE tokenizer with LLaMA-2's settings.

The settings are LLaMA-2 tokenizer.model's own trainer and normalizer specs (printed by
sentencepiece_model_pb2 from that file): BPE, byte fallback, digits split, whitespace-only pieces
allowed, identity normalization, a dummy prefix, extra whitespace kept, <unk>=0 <s>=1 </s>=2, no
pad. Only the vocabulary size, thread count and input size differ, to suit a small corpus on a
small machine. Text comes from the training shards' "text" field (.jsonl or .jsonl.zst).

Usage: train_tokenizer.py --shards DIR --out PREFIX [--vocab-size 4096] [--max-mb 40]
Writes PREFIX.model (and PREFIX.vocab).
"""
import argparse
import io
import json
import os
import sys

import sentencepiece as spm
import zstandard

LLAMA2_SETTINGS = dict(
    model_type="bpe",
    character_coverage=0.99995,
    max_sentence_length=4192,
    shuffle_input_sentence=True,
    max_sentencepiece_length=16,
    split_by_unicode_script=True,
    split_by_whitespace=True,
    split_by_number=True,
    treat_whitespace_as_suffix=False,
    split_digits=True,
    allow_whitespace_only_pieces=True,
    vocabulary_output_piece_score=True,
    hard_vocab_limit=True,
    use_all_vocab=False,
    byte_fallback=True,
    unk_id=0,
    bos_id=1,
    eos_id=2,
    pad_id=-1,
    normalization_rule_name="identity",
    add_dummy_prefix=True,
    remove_extra_whitespaces=False,
)


def texts(directory):
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name.endswith(".jsonl.zst"):
            with open(path, "rb") as raw:
                lines = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8")
                for line in lines:
                    yield json.loads(line)["text"]
        elif name.endswith(".jsonl"):
            with open(path, encoding="utf-8") as lines:
                for line in lines:
                    yield json.loads(line)["text"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--vocab-size", type=int, default=4096)
    parser.add_argument("--max-mb", type=float, default=40, help="text read for training, in MB")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    budget = int(args.max_mb * 1e6)
    sentences = []
    used = 0
    for text in texts(args.shards):
        # SentencePiece trains on lines; keep paragraphs under max_sentence_length bytes.
        for line in text.split("\n"):
            if line.strip() and len(line.encode("utf-8")) <= LLAMA2_SETTINGS["max_sentence_length"]:
                sentences.append(line)
                used += len(line.encode("utf-8")) + 1
        if used >= budget:
            break
    if not sentences:
        sys.exit(f"train_tokenizer: no text found in {args.shards}")
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_prefix=args.out, vocab_size=args.vocab_size,
        num_threads=args.threads, input_sentence_size=len(sentences), minloglevel=2, **LLAMA2_SETTINGS)
    print(f"train_tokenizer: {args.out}.model, vocabulary {args.vocab_size}, trained on {used / 1e6:.1f} MB "
          f"({len(sentences)} lines)")


if __name__ == "__main__":
    main()
