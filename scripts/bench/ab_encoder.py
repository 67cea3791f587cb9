#!/usr/bin/env python3
"""A/B of LongMix binaries' tokenizer: `longmix tokenize -o X.npy` run by each binary in turn,
interleaved (pair after pair), on the same corpus; prints each binary's median encoding time and
wall time, and the median of the per-pair ratios against the first binary.

usage: scripts/bench/ab_encoder.py [--corpus DIR] [--model PATH] [--threads N] [--pairs N] BIN [BIN ...]

For comparing a change against the binary before it on this noisy machine: single runs move by
10-15%, interleaved pairs share the machine's state, so the per-pair ratio is the figure to read.
It also checks that every binary wrote the same .npy as the first. Run it under the machine-wide
lock: flock /tmp/longmix-bench.lock ...
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=os.path.join(ROOT, "bench-data", "corpus"))
    ap.add_argument("--model", default=os.path.join(ROOT, "..", "shared", "tokenizers", "llama2.model"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--pairs", type=int, default=9)
    ap.add_argument("binaries", nargs="+")
    args = ap.parse_args()

    encode = {b: [] for b in args.binaries}
    wall = {b: [] for b in args.binaries}
    with tempfile.TemporaryDirectory() as scratch:
        outputs = {b: os.path.join(scratch, f"{k}.npy") for k, b in enumerate(args.binaries)}
        for _ in range(args.pairs):
            for b in args.binaries:
                t0 = time.perf_counter()
                result = subprocess.run([b, "tokenize", "--tokenizer", args.model, "--threads", str(args.threads),
                                         "--quiet", args.corpus, "-o", outputs[b], "--force"],
                                        capture_output=True, text=True)
                wall[b].append(time.perf_counter() - t0)
                if result.returncode != 0:
                    sys.exit(f"{b} tokenize failed: {result.stderr}")
                encode[b].append(float(re.search(r"encoding ([0-9.]+) s", result.stderr).group(1)))
        first = args.binaries[0]
        with open(outputs[first], "rb") as f:
            reference = f.read()
        for b in args.binaries:
            with open(outputs[b], "rb") as f:
                same = f.read() == reference
            per_pair = statistics.median(x / y for x, y in zip(encode[first], encode[b]))
            print(f"{b}: encoding median {statistics.median(encode[b]):.3f} s (min {min(encode[b]):.3f}), "
                  f"wall median {statistics.median(wall[b]):.3f} s; {first} / this per pair {per_pair:.3f}; "
                  f"output {'identical to' if same else 'DIFFERENT from'} {first}'s")
            if not same:
                sys.exit(1)


if __name__ == "__main__":
    main()
