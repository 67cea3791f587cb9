#!/usr/bin/env python3
"""Benchmark: `longmix score` ROUGE against google-research rouge-score on the same file.

Builds a summary-scoring set from real English prose (the Python manual's reST sources shipped
by Debian's python3-doc, else GCIDE headwords): references of 150-450 words, predictions that are
perturbed copies (sentences dropped, words replaced, reordered) or unrelated passages, so ROUGE
values spread over (0, 1). Then runs, side by side on the same JSONL:

  LongMix: longmix score pairs.jsonl --reference-field summary --metrics rouge1,rouge2,rougeL [--stem]
  peer:    Python rouge_score.RougeScorer over the same records, mean F-measures

alternately, --runs times each, and prints medians, the ratio, and the largest difference
between the two sets of means (must be < 1e-9).

Usage: bench_score.py --longmix .build/release/longmix [--pairs 2000] [--runs 5] [--stem]
"""
import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

PY_DOC = "/usr/share/doc/python3-doc/html/_sources"

PEER = r"""
import json, sys
from rouge_score import rouge_scorer
scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=sys.argv[2] == "stem")
sums = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
n = 0
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        r = json.loads(line)
        s = scorer.score(r["summary"], r["prediction"])
        for k in sums:
            sums[k] += s[k].fmeasure
        n += 1
for k in ("rouge1", "rouge2", "rougeL"):
    print(f"{k}: {sums[k] / n!r}")
"""


def prose_words():
    words = []
    if os.path.isdir(PY_DOC):
        for root, _, files in sorted(os.walk(PY_DOC)):
            for name in sorted(files):
                if name.endswith(".txt"):
                    with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
                        words.extend(f.read().split())
                if len(words) > 2_000_000:
                    return words
    if len(words) < 100_000:
        with open("/usr/share/dictd/gcide.index", encoding="utf-8", errors="replace") as f:
            words = [line.split("\t")[0] for line in f]
    return words


def make_pairs(path, count, seed=1):
    rng = random.Random(seed)
    words = prose_words()
    with open(path, "w", encoding="utf-8") as out:
        for i in range(count):
            n = rng.randint(150, 450)
            start = rng.randrange(len(words) - n)
            reference = words[start:start + n]
            if rng.random() < 0.2:
                other = rng.randrange(len(words) - n)
                prediction = words[other:other + rng.randint(100, 400)]
            else:
                prediction = [w for w in reference if rng.random() > 0.25]
                for _ in range(len(prediction) // 10):
                    prediction[rng.randrange(len(prediction))] = rng.choice(words)
                cut = rng.randrange(len(prediction))
                prediction = prediction[cut:] + prediction[:cut]
            out.write(json.dumps({"id": i, "summary": " ".join(reference), "prediction": " ".join(prediction)}) + "\n")


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd):
    """Wall seconds, CPU seconds (user + system) and stdout of one run."""
    cpu, start = cpu_seconds(), time.perf_counter()
    result = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return time.perf_counter() - start, cpu_seconds() - cpu, result.stdout


def means(stdout):
    values = {}
    for line in stdout.splitlines():
        key, _, value = line.partition(": ")
        if key in ("rouge1", "rouge2", "rougeL"):
            values[key] = float(value)
    return values


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--longmix", required=True)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stem", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pairs = os.path.join(tmp, "pairs.jsonl")
        make_pairs(pairs, args.pairs)
        ours_cmd = [args.longmix, "score", pairs, "--reference-field", "summary",
                    "--metrics", "rouge1,rouge2,rougeL"] + (["--stem"] if args.stem else [])
        peer_cmd = [sys.executable, "-c", PEER, pairs, "stem" if args.stem else "nostem"]
        ours_times, peer_times, ours_cpu, peer_cpu = [], [], [], []
        for _ in range(args.runs):
            t, c, ours_out = timed(ours_cmd)
            ours_times.append(t)
            ours_cpu.append(c)
            t, c, peer_out = timed(peer_cmd)
            peer_times.append(t)
            peer_cpu.append(c)
        ours, peer = means(ours_out), means(peer_out)
        diff = max(abs(ours[k] - peer[k]) for k in peer)
        size = os.path.getsize(pairs) / 1e6
        print(f"{args.pairs} pairs ({size:.1f} MB), stemming {'on' if args.stem else 'off'}, {args.runs} runs each")
        print(f"longmix score : median {statistics.median(ours_times):.3f} s wall, {statistics.median(ours_cpu):.3f} s CPU  {ours}")
        print(f"rouge-score   : median {statistics.median(peer_times):.3f} s wall, {statistics.median(peer_cpu):.3f} s CPU  {peer}")
        print(f"speed-up (peer / longmix): {statistics.median(peer_times) / statistics.median(ours_times):.2f}x wall, "
              f"{statistics.median(peer_cpu) / statistics.median(ours_cpu):.2f}x CPU; "
              f"max |mean difference| {diff:.3g}")
        if diff > 1e-9:
            sys.exit("means differ by more than 1e-9")


main()
