#!/usr/bin/env python3
"""End-to-end build benchmark: `longmix build` beside datatrove (JsonlReader then DocumentTokenizer
with the LLaMA-2 tokenizer.json, one task) on the same benchmark corpus, in one run; then the same
mixture packed best-fit instead of concat, comparing truncation and padding; and LongMix's peak
memory.

The LongMix mixture has one source per corpus shard at equal weights, the LLaMA-2 tokenizer, the
2K-token length filter and HELM decontamination against the fixture exports (Together protocol):
it does strictly more work than the datatrove pipeline (which reads and tokenizes only).

Usage: bench_build.py [--corpus bench-data/corpus] [--longmix .build/release/longmix]
                      [--model ../shared/tokenizers/llama2.model] [--repeat 3]
Needs datatrove in the venv: .venv/bin/pip install -r scripts/requirements-bench.txt
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

DATATROVE = r"""
import sys
from datatrove.executor.local import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.tokens import DocumentTokenizer
corpus, tokenizer, out, logs = sys.argv[1:5]
LocalPipelineExecutor(pipeline=[
    JsonlReader(corpus, glob_pattern="*.jsonl.zst", compression="zstd", text_key="text"),
    DocumentTokenizer(out, tokenizer_name_or_path=tokenizer, eos_token="</s>", shuffle_documents=False),
], tasks=1, workers=1, logging_dir=logs).run()
"""


def mixture(corpus, model, packing, helm):
    shards = sorted(glob.glob(os.path.join(corpus, "*.jsonl.zst")))
    sources = "".join(
        "  - name: shard%d\n    paths: [%s]\n    weight: 1\n" % (i, s) for i, s in enumerate(shards))
    return ("name: bench-%s\nseed: 1\nseq_len: 32768\nmin_doc_tokens: 2048\ntokenizer: %s\n"
            "budget: smallest-source\npacking: %s\nspecial_tokens: {bos: true, eos: true}\n"
            "decontamination:\n  index: index.sqlite\n  test_sets: [%s]\n  protocol: together\n"
            "sources:\n%s") % (packing, model, packing, helm, sources)


def timed(cmd, **kw):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.perf_counter() - start


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", default="bench-data/corpus")
    p.add_argument("--longmix", default=".build/release/longmix")
    p.add_argument("--model", default=os.path.join(ROOT, "..", "shared", "tokenizers", "llama2.model"))
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    corpus = os.path.abspath(args.corpus)
    shards = sorted(glob.glob(os.path.join(corpus, "*.jsonl.zst")))
    if not shards:
        sys.exit("no shards in %s; run scripts/bench/make_corpus.py" % corpus)
    text_mb = 0
    import io, zstandard
    for s in shards:
        with open(s, "rb") as fh:
            for line in io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)):
                text_mb += len(json.loads(line)["text"].encode()) / 1e6
    work = tempfile.mkdtemp(prefix="bench-build-")
    try:
        tokenizer_json = os.path.join(work, "llama2-tokenizer.json")
        subprocess.run([sys.executable, os.path.join(ROOT, "Tests/Oracles/tokenizer_hf.py"), "--model", args.model,
                        "--form", "legacy", "--write-json", tokenizer_json, "--count", "0", "--seed", "0"],
                       check=True, stdout=subprocess.DEVNULL)
        helm = os.path.join(ROOT, "Fixtures", "helm")
        for packing in ("concat", "best-fit"):
            with open(os.path.join(work, "%s.yaml" % packing), "w") as f:
                f.write(mixture(corpus, os.path.abspath(args.model), packing, helm))

        times = {"datatrove (1 task)": [], "longmix build --threads 1": [], "longmix build --threads 2": []}
        for r in range(args.repeat):
            out = os.path.join(work, "dt-%d" % r)
            times["datatrove (1 task)"].append(timed([sys.executable, "-c", DATATROVE, corpus, tokenizer_json, out, out + "-logs"]))
            for threads in (1, 2):
                times["longmix build --threads %d" % threads].append(timed(
                    [args.longmix, "build", os.path.join(work, "concat.yaml"), "-o", os.path.join(work, "pack-%d" % threads),
                     "--threads", str(threads)]))
        print("corpus: %d shards, %.1f MB of text; %d runs each, median" % (len(shards), text_mb, args.repeat))
        med = {k: statistics.median(v) for k, v in times.items()}
        for k, m in med.items():
            print("  %-28s %7.2f s  %6.2f MB/s" % (k, m, text_mb / m))
        for threads in (1, 2):
            print("longmix (%d thread%s) / datatrove: %.1fx" % (threads, "s" if threads > 1 else "",
                                                             med["datatrove (1 task)"] / med["longmix build --threads %d" % threads]))

        # The pack built from the corpus: integrity (every sequence exactly seq_len, segments
        # tiling it, ids in the vocabulary), shares, and 1 vs 2 threads byte-identical.
        verify = subprocess.run([args.longmix, "inspect", os.path.join(work, "pack-2"), "--verify"], check=True,
                                stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
        print("pack-2: " + verify)
        m = json.load(open(os.path.join(work, "pack-2", "manifest.json")))
        worst = max(abs(s["achievedShare"] - s["targetShare"]) for s in m["sources"])
        print("shares: worst |achieved - target| = %.3f percentage points over %d sources" % (100 * worst, len(m["sources"])))
        same = all(open(os.path.join(work, "pack-1", f), "rb").read() == open(os.path.join(work, "pack-2", f), "rb").read()
                   for f in ("tokens.bin", "loss_mask.bin", "segments.bin", "segment_index.bin", "documents.jsonl"))
        print("1 thread vs 2 threads: %s" % ("byte-identical" if same else "DIFFERENT"))

        # Best-fit vs concat on the same selection rules.
        subprocess.run([args.longmix, "build", os.path.join(work, "best-fit.yaml"), "-o", os.path.join(work, "pack-bf"),
                        "--threads", "2"], check=True, stdout=subprocess.DEVNULL)
        for name, pack in (("concat", "pack-2"), ("best-fit", "pack-bf")):
            m = json.load(open(os.path.join(work, pack, "manifest.json")))
            t = m["totals"]
            print("%-8s: %d sequences, padding %.2f%%, truncated %d tokens (%.2f%% of taken), "
                  "%d documents truncated, %d split across sequences"
                  % (name, m["sequences"], 100 * m["paddingRate"], t["truncatedTokens"], 100 * m["truncationRate"],
                     t["documentsTruncated"], t["documentsSplit"]))

        result = subprocess.run(["/usr/bin/time", "-f", "%M", args.longmix, "build", os.path.join(work, "concat.yaml"),
                                 "-o", os.path.join(work, "pack-mem"), "--threads", "2"],
                                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        print("longmix build peak RSS: %.0f MB" % (int(result.stderr.strip().splitlines()[-1]) / 1024))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
