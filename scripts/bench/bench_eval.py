#!/usr/bin/env python3
"""`longmix eval ppl` beside transformers on the same checkpoint, text and context, in one run, and
the peak memory of a 32K-context evaluation.

1. A randomly initialised LlamaForCausalLM of Models/small-fixture.json (15.7M parameters) saved by
   transformers; both sides score the same fixture documents at --context tokens with
   non-overlapping windows and --threads threads. Reported: scored tokens per second of each
   (LongMix's from its per-cell line, transformers' from its scoring loop; model loading excluded
   on both sides) and their ratio, and the two perplexities per byte.
2. `longmix eval ppl` of the same model on one 32,768-token document at context 32768: its peak
   RSS (getrusage of the child).

Needs torch and transformers (not in CI): without them it prints SKIPPED and exits 0. Usage:
    python scripts/bench/bench_eval.py --longmix .build/release/longmix [--context 2048] [--threads 2] [--parts speed,memory]
"""
import argparse
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import sentencepiece as spm
    import torch
    import transformers
    import zstandard
except ImportError as e:
    print(f"SKIPPED bench_eval: needs torch, transformers, sentencepiece, zstandard ({e.name} missing)")
    sys.exit(0)


def fixture_texts():
    """The fixture RedPajama documents' texts (.jsonl.zst shards), in path order."""
    for root, _, names in sorted(os.walk("Fixtures/redpajama")):
        for name in sorted(names):
            if name.endswith(".jsonl.zst"):
                with open(os.path.join(root, name), "rb") as raw:
                    data = zstandard.ZstdDecompressor().stream_reader(raw).read().decode("utf-8")
                for line in data.splitlines():
                    if line.strip():
                        yield json.loads(line)["text"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--longmix", default=".build/release/longmix")
    p.add_argument("--context", type=int, default=2048)
    p.add_argument("--documents", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--parts", default="speed,memory", help="speed (beside transformers), memory (32K), or both")
    args = p.parse_args()
    parts = set(args.parts.split(","))
    torch.set_num_threads(args.threads)
    work = tempfile.mkdtemp(prefix="bench-eval-")
    config = transformers.LlamaConfig(**{k: v for k, v in json.load(open("Models/small-fixture.json")).items()
                                         if k not in ("architectures", "torch_dtype")})
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config).float().eval()
    checkpoint = os.path.join(work, "small")
    model.save_pretrained(checkpoint, safe_serialization=True)
    sp = spm.SentencePieceProcessor(model_file="Fixtures/tokenizer/fixture-bpe.model")

    try:
        if "speed" in parts:
            speed(args, work, checkpoint, model, sp)
        if "memory" in parts:
            memory(args, work, checkpoint, sp)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def speed(args, work, checkpoint, model, sp):
    # One shard of documents long enough for the context, made by joining fixture texts.
    texts, current = [], ""
    for text in fixture_texts():
        current += text + "\n\n"
        if len(sp.encode(current)) + 1 >= args.context:
            texts.append(current)
            current = ""
            if len(texts) == args.documents:
                break
    if len(texts) < args.documents:
        sys.exit(f"bench_eval: the fixtures hold only {len(texts)} documents of {args.context} tokens")
    shard = os.path.join(work, "docs.jsonl")
    with open(shard, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")

    table = os.path.join(work, "ppl.json")
    cmd = [args.longmix, "eval", "ppl", "--checkpoint", checkpoint, "--contexts", str(args.context), "--tokenizer",
           "Fixtures/tokenizer/fixture-bpe.model", shard, "--threads", str(args.threads), "--json", table]
    run = subprocess.run(cmd, check=True, capture_output=True, text=True)
    m = re.search(r"perplexity per byte ([0-9.]+) \((\d+) tokens, ([0-9.]+) s, (\d+) tokens/s\)", run.stderr)
    ours_tokens, ours_seconds = int(m.group(2)), float(m.group(3))
    ours_ppl = json.load(open(table))["rows"][0]["cells"][0]["perplexityPerByte"]

    nll, scored, bytes_ = 0.0, 0, 0
    started = time.perf_counter()
    with torch.no_grad():
        for t in texts:
            ids = ([sp.bos_id()] + sp.encode(t))[: args.context]
            logits = model(input_ids=torch.tensor([ids])).logits[0].double()
            logp = torch.log_softmax(logits[:-1], dim=-1)
            nll -= logp.gather(1, torch.tensor(ids[1:]).unsqueeze(1)).sum().item()
            scored += len(ids) - 1
            bytes_ += len(sp.decode(ids[1:]).encode("utf-8"))
    theirs_seconds = time.perf_counter() - started
    theirs_ppl = math.exp(nll / bytes_)
    print(f"context {args.context}, {len(texts)} documents, {args.threads} threads, small-fixture (15.7M parameters)")
    print(f"  LongMix      {ours_tokens / ours_seconds:9.0f} scored tokens/s  (perplexity per byte {ours_ppl:.6f})")
    print(f"  transformers {scored / theirs_seconds:9.0f} scored tokens/s  (perplexity per byte {theirs_ppl:.6f})")
    print(f"  ratio LongMix / transformers: {(ours_tokens / ours_seconds) / (scored / theirs_seconds):.2f}x; "
          f"perplexity relative difference {abs(ours_ppl - theirs_ppl) / theirs_ppl:.1e}")


def memory(args, work, checkpoint, sp):
    # Peak memory at 32K: one document of 32,768 stream tokens.
    long_text = ""
    for text in fixture_texts():
        long_text += text + "\n\n"
    while len(sp.encode(long_text)) + 1 < 32768:
        long_text += long_text
    shard32 = os.path.join(work, "long.jsonl")
    with open(shard32, "w", encoding="utf-8") as f:
        f.write(json.dumps({"text": long_text}) + "\n")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    run = subprocess.run([args.longmix, "eval", "ppl", "--checkpoint", checkpoint, "--contexts", "32768", "--tokenizer",
                          "Fixtures/tokenizer/fixture-bpe.model", shard32, "--threads", str(args.threads)],
                         check=True, capture_output=True, text=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    m = re.search(r"perplexity per byte ([0-9.]+) \((\d+) tokens, ([0-9.]+) s, (\d+) tokens/s\)", run.stderr)
    print(f"32K-context evaluation of small-fixture ({m.group(2)} tokens in one window, {m.group(3)} s scoring, "
          f"{m.group(4)} tokens/s, {time.perf_counter() - started:.0f} s in all): peak RSS {peak / 1024:.0f} MB "
          f"(largest of this script's children; any earlier child peaked at {before / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
