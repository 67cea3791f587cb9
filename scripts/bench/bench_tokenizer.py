#!/usr/bin/env python3
"""Tokenizer benchmark: LongMix vs Python sentencepiece, side by side on the same corpus.

usage: scripts/bench/bench_tokenizer.py [--corpus DIR] [--model PATH] [--longmix BIN]
                                        [--repeats N] [--field text]

For each repeat it times, in turn, sentencepiece encoding every document on one thread (the
documents already in memory; `sp.encode(text)` per document) and `longmix tokenize -o ids.npy` on
the same shards with 1 and 2 threads, and with 1 thread confined to one CPU (all of the process's
threads: what one core does alone, the baseline for what a second core adds). For LongMix it records both its encoding time (reported
apart from reading and writing) and the whole process's wall time (start to exit: model load,
reading and decompressing the shards, JSON parsing, encoding, writing the .npy). Prints medians in
MB of text (10^6 UTF-8 bytes) per second and the ratios. Then it checks every document's ids from
LongMix (a JSONL run) against sentencepiece's and prints the mismatch count, checks that the .npy
holds the same ids back to back, that the 1- and 2-thread outputs are byte-identical, and times
model loading in both. Run it under the machine-wide lock: flock /tmp/longmix-bench.lock ...
Build first: swift build -c release --product longmix.
"""
import argparse
import glob
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import sentencepiece as spm
import zstandard

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read_corpus(corpus, field):
    texts = []
    for path in sorted(glob.glob(os.path.join(corpus, "*.jsonl*"))):
        with open(path, "rb") as f:
            data = f.read()
        if path.endswith(".zst"):
            data = zstandard.ZstdDecompressor().stream_reader(data).read()
        for line in data.splitlines():
            if line.strip():
                texts.append(json.loads(line)[field])
    return texts


def run_longmix(binary, model, corpus, threads, output, cpu=None, one_cpu=False):
    """Returns (encoding seconds, whole-process wall seconds, model load ms); appends the process's
    CPU seconds (user + system, all threads) to `cpu` when given. With `one_cpu`, the whole process
    (encoder, reading and writing threads) is confined to one CPU."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    pin = (lambda: os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})) if one_cpu else None
    t0 = time.perf_counter()
    result = subprocess.run([binary, "tokenize", "--tokenizer", model, "--threads", str(threads), "--quiet",
                             corpus, "-o", output, "--force"], capture_output=True, text=True, preexec_fn=pin)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        sys.exit(f"longmix tokenize failed: {result.stderr}")
    m = re.search(r"encoding ([0-9.]+) s", result.stderr)
    load = re.search(r"loaded in ([0-9.]+) ms", result.stderr)
    return float(m.group(1)), wall, float(load.group(1)) if load else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=os.path.join(ROOT, "bench-data", "corpus"))
    ap.add_argument("--model", default=os.path.join(ROOT, "..", "shared", "tokenizers", "llama2.model"))
    ap.add_argument("--longmix", default=os.path.join(ROOT, ".build", "release", "longmix"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--field", default="text")
    args = ap.parse_args()

    print("load average at start (1, 5, 15 min): %.2f %.2f %.2f on %d CPUs" % (os.getloadavg() + (os.cpu_count(),)))
    texts = read_corpus(args.corpus, args.field)
    total_bytes = sum(len(t.encode("utf-8")) for t in texts)
    print(f"corpus {args.corpus}: {len(texts)} documents, {total_bytes / 1e6:.1f} MB of text")

    t0 = time.perf_counter()
    sp = spm.SentencePieceProcessor(model_file=args.model)
    sp_load_ms = (time.perf_counter() - t0) * 1e3

    sp_rates, lm1_rates, lm2_rates, lm_loads = [], [], [], []
    whole1_rates, whole2_rates, whole1cpu_rates = [], [], []
    cpu1, cpu2 = [], []
    sp_ids = None
    with tempfile.TemporaryDirectory() as scratch:
        out1 = os.path.join(scratch, "t1.npy")
        out2 = os.path.join(scratch, "t2.npy")
        for r in range(args.repeats):
            t0 = time.perf_counter()
            ids = [sp.encode(t) for t in texts]
            sp_rates.append(total_bytes / (time.perf_counter() - t0) / 1e6)
            sp_ids = ids
            seconds, wall, load_ms = run_longmix(args.longmix, args.model, args.corpus, 1, out1, cpu1)
            lm1_rates.append(total_bytes / seconds / 1e6)
            whole1_rates.append(total_bytes / wall / 1e6)
            lm_loads.append(load_ms)
            _, wall, _ = run_longmix(args.longmix, args.model, args.corpus, 1, out1, one_cpu=True)
            whole1cpu_rates.append(total_bytes / wall / 1e6)
            seconds, wall, load_ms = run_longmix(args.longmix, args.model, args.corpus, 2, out2, cpu2)
            lm2_rates.append(total_bytes / seconds / 1e6)
            whole2_rates.append(total_bytes / wall / 1e6)
            lm_loads.append(load_ms)
            print(f"repeat {r + 1}: sentencepiece {sp_rates[-1]:.2f} MB/s; longmix encoder 1 thread "
                  f"{lm1_rates[-1]:.1f}, 2 threads {lm2_rates[-1]:.1f} MB/s; whole process 1 thread "
                  f"{whole1_rates[-1]:.1f}, 1 thread on one CPU {whole1cpu_rates[-1]:.1f}, 2 threads {whole2_rates[-1]:.1f} MB/s",
                  flush=True)

        with open(out1, "rb") as f1, open(out2, "rb") as f2:
            identical = f1.read() == f2.read()
        flat = np.load(out1)
        npy_ok = flat.tolist() == [i for doc in sp_ids for i in doc]
        jsonl = os.path.join(scratch, "t.jsonl")
        run_longmix(args.longmix, args.model, args.corpus, 2, jsonl)
        mismatches = 0
        with open(jsonl) as f:
            lines = f.read().splitlines()
        if len(lines) != len(sp_ids):
            mismatches = abs(len(lines) - len(sp_ids))
        for line, ids in zip(lines, sp_ids):
            if json.loads(line)["ids"] != ids:
                mismatches += 1

    sp_med, lm1_med, lm2_med, w1_med, w2_med, w1c_med = (statistics.median(x) for x in
                                                          (sp_rates, lm1_rates, lm2_rates, whole1_rates, whole2_rates,
                                                           whole1cpu_rates))
    print()
    print(f"medians over {args.repeats} runs (MB of text per second; sentencepiece: encoding documents in memory):")
    print(f"  python sentencepiece, 1 thread        : {sp_med:8.2f}")
    print(f"  longmix encoder, 1 thread             : {lm1_med:8.2f}   vs sentencepiece {lm1_med / sp_med:5.1f}x")
    print(f"  longmix encoder, 2 threads            : {lm2_med:8.2f}   vs 1 thread      {lm2_med / lm1_med:5.2f}x")
    print(f"  longmix whole process -o .npy, 1 thread : {w1_med:6.2f}   vs sentencepiece {w1_med / sp_med:5.1f}x")
    print(f"  longmix whole process -o .npy, 2 threads: {w2_med:6.2f}   vs 1 thread      {w2_med / w1_med:5.2f}x")
    print(f"  longmix whole process, 1 thread, all its threads on one CPU: {w1c_med:6.2f}   vs sentencepiece "
          f"{w1c_med / sp_med:5.1f}x; 2 threads on two CPUs vs this {w2_med / w1c_med:5.2f}x")
    print("  (with 1 encoding thread the reading and writing threads run on the other CPU; confined to one CPU they")
    print("   share the encoder's, so one CPU against two is what a second core adds)")
    ratio = lambda a, b: statistics.median(x / y for x, y in zip(a, b))
    print("medians of the per-repeat ratios (each repeat's runs side by side):")
    print(f"  encoder 1 thread / sentencepiece {ratio(lm1_rates, sp_rates):5.1f}x, whole process 1 thread / sentencepiece "
          f"{ratio(whole1_rates, sp_rates):5.1f}x, 2 / 1 threads: encoder {ratio(lm2_rates, lm1_rates):4.2f}x, "
          f"whole process {ratio(whole2_rates, whole1_rates):4.2f}x; whole process one CPU / sentencepiece "
          f"{ratio(whole1cpu_rates, sp_rates):5.1f}x, two CPUs / one CPU {ratio(whole2_rates, whole1cpu_rates):4.2f}x")
    c1, c2 = statistics.median(cpu1), statistics.median(cpu2)
    wall1, encode1 = total_bytes / w1_med / 1e6, total_bytes / lm1_med / 1e6
    print(f"longmix CPU seconds per run (user + system, all threads), medians: 1 thread {c1:.2f}, 2 threads {c2:.2f} "
          f"(2 threads do {c2 / c1:.2f}x the work of 1)")
    print(f"  of the 1-thread run's {c1:.2f} CPU-s, {encode1:.2f} s are encoding and {c1 - encode1:.2f} s the rest (start-up,"
          f" model load, reading, decompression, JSON, writing), which runs beside the encoder on the other CPU;")
    print(f"  on two CPUs the 2-thread run takes at least {c2:.2f} / 2 = {c2 / 2:.2f} s, so the whole process at 2 threads can"
          f" be at most {2 * wall1 / c2:.2f}x the 1-thread run ({wall1:.2f} s) and {2 * c1 / c2:.2f}x the run on one CPU")
    print("load average at end (1, 5, 15 min): %.2f %.2f %.2f" % os.getloadavg())
    print(f"model load: sentencepiece {sp_load_ms:.1f} ms, longmix median {statistics.median(lm_loads):.1f} ms")
    print(f"id mismatches vs sentencepiece: {mismatches} of {len(sp_ids)} documents; .npy equals them back to back: {npy_ok}")
    print(f"1-thread and 2-thread .npy outputs byte-identical: {identical}")
    if mismatches or not identical or not npy_ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
