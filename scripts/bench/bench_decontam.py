#!/usr/bin/env python3
"""Decontamination benchmark: LongMix against a Python HELM-style scanner, side by side.

Usage (from the repository root, after `swift build -c release --product longmix`):
    scripts/bench/bench_decontam.sh [CORPUS_DIR] [RUNS]
which runs `bench_decontam.py run --corpus CORPUS_DIR --runs RUNS`. Steps, in one run:

1. make-testset: a synthetic HELM-style test set (one export line per scenario and split) with
   at least one million 13-grams: 16 scenarios x 1000 instances of 60 words (input) and 30 words
   (reference) drawn from the corpus vocabulary, plus 320 instances whose inputs are real 60-word
   passages of the corpus, so that the scan finds genuine overlaps.
2. `longmix decontam index` builds the SQLite index (HELM protocol: 13-grams, helm normalization)
   and reports rows/s and the database size.
3. `longmix decontam scan --protocol helm` over the corpus shards, RUNS times; and this script's
   `scan` (the Python peer) over the same shards, RUNS times, alternating.
4. Prints medians: text MB/s of the scan proper and of the whole pass (read, decompress, parse,
   scan, report), for both, the ratios, and checks both found the same contaminated documents.

The Python peer follows HELM's data-overlap scripts (stanford-crfm/helm scripts/data_overlap):
an in-memory dict from n-gram tuples to the instances they come from, each training document
lowercased and split on runs of whitespace or string.punctuation, every n-gram looked up.
"""
import argparse
import collections
import glob
import io
import json
import os
import random
import re
import statistics
import string
import subprocess
import sys
import time

import zstandard

N = 13
SPLIT_RE = re.compile(r"[\s%s]+" % re.escape(string.punctuation))
SCENARIOS = ["MMLUScenario", "BoolQScenario", "NarrativeQAScenario", "NaturalQAScenario(closedbook)",
             "NaturalQAScenario(openbook)", "QuACScenario", "HellaSwagScenario", "OpenBookQA",
             "TruthfulQAScenario", "MSMARCOScenario(regular)", "MSMARCOScenario(trec)",
             "SummarizationScenario(cnn-dm)", "SummarizationScenario(xsum)", "IMDBScenario",
             "CivilCommentsScenario", "RAFTScenario"]


def tokenize(text):
    """HELM's normalization: lowercase, split on whitespace or ASCII punctuation runs."""
    return [t for t in SPLIT_RE.split(text.lower()) if t]


def read_texts(paths):
    for path in paths:
        with open(path, "rb") as raw:
            stream = zstandard.ZstdDecompressor().stream_reader(raw) if path.endswith(".zst") else raw
            for line in io.TextIOWrapper(stream, encoding="utf-8"):
                if line.strip():
                    yield json.loads(line)["text"]


def corpus_paths(corpus):
    paths = sorted(glob.glob(os.path.join(corpus, "*.jsonl*")))
    if not paths:
        sys.exit("no .jsonl[.zst] shards in %s" % corpus)
    return paths


def make_testset(corpus, out):
    rng = random.Random(4)
    counts = collections.Counter()
    passages = []
    for k, text in enumerate(read_texts(corpus_paths(corpus))):
        words = text.split()
        if k < 3000:
            counts.update(tokenize(text))
        if len(words) > 400 and rng.random() < 0.05:
            start = rng.randrange(len(words) - 60)
            passages.append(" ".join(words[start:start + 60]))
    vocabulary = [w for w, _ in counts.most_common(50000)]
    rng.shuffle(passages)
    passages = passages[:320]
    with open(out, "w") as f:
        for s, scenario in enumerate(SCENARIOS):
            for split in ("valid", "test"):
                instances = []
                for i in range(500):
                    instances.append({"id": "id%d" % i,
                                      "input": " ".join(rng.choice(vocabulary) for _ in range(60)),
                                      "references": [" ".join(rng.choice(vocabulary) for _ in range(30)), "yes"]})
                for i, passage in enumerate(passages[s * 20:(s + 1) * 20]):
                    if (i % 2 == 0) == (split == "valid"):
                        instances.append({"id": "corpus%d" % i, "input": passage, "references": ["no"]})
                spec = {"class_name": "helm.benchmark.scenarios.bench." + scenario, "args": {}}
                f.write(json.dumps({"scenario_key": {"scenario_spec": spec, "split": split},
                                    "instances": instances}) + "\n")


def load_index(testset):
    """n-gram tuple -> set of (scenario, split, id, part), as HELM's create_ngram_index does."""
    index = collections.defaultdict(set)
    with open(testset) as f:
        for line in f:
            export = json.loads(line)
            key = export["scenario_key"]
            name = key["scenario_spec"]["class_name"].rsplit(".", 1)[-1]
            for instance in export["instances"]:
                parts = [("input", instance["input"])] + [("reference", r) for r in instance["references"]]
                for part, text in parts:
                    tokens = [sys.intern(t) for t in tokenize(text)]
                    for ngram in zip(*(tokens[i:] for i in range(N))):
                        index[ngram].add((name, key["split"], instance["id"], part))
    return index


def python_scan(testset, corpus):
    started = time.perf_counter()
    index = load_index(testset)
    index_seconds = time.perf_counter() - started
    text_bytes = 0
    scan_seconds = 0.0
    documents_with_hits = 0
    overlapping = set()
    started = time.perf_counter()
    for text in read_texts(corpus_paths(corpus)):
        text_bytes += len(text.encode("utf-8"))
        t0 = time.perf_counter()
        tokens = tokenize(text)
        hit = False
        for ngram in zip(*(tokens[i:] for i in range(N))):
            entries = index.get(ngram)
            if entries:
                hit = True
                overlapping.update(entries)
        scan_seconds += time.perf_counter() - t0
        documents_with_hits += hit
    total_seconds = time.perf_counter() - started
    return {"text_bytes": text_bytes, "scan_seconds": scan_seconds, "total_seconds": total_seconds,
            "index_seconds": index_seconds, "index_ngrams": len(index),
            "documents_with_hits": documents_with_hits, "overlapping_instance_parts": len(overlapping)}


def longmix_scan(longmix, index, corpus, work):
    out = subprocess.run([longmix, "decontam", "scan", "--index", index, "--protocol", "helm",
                          "--report", os.path.join(work, "report.jsonl"),
                          "--summary", os.path.join(work, "summary.jsonl"), "--force"] + corpus_paths(corpus),
                         check=True, capture_output=True, text=True).stdout
    text_bytes = int(re.search(r"text bytes read (\d+)", out).group(1))
    scan = re.search(r"scan ([\d.]+) s \(([\d.]+) MB/s of text\); main pass with reading and writing ([\d.]+) s", out)
    return {"text_bytes": text_bytes, "scan_seconds": float(scan.group(1)),
            "total_seconds": float(scan.group(3)),
            "index_load_seconds": float(re.search(r"loaded in ([\d.]+) s", out).group(1)),
            "documents_with_hits": int(re.search(r"documents with hits (\d+)", out).group(1)),
            "report_rows": int(re.search(r"report rows (\d+)", out).group(1))}


def run(args):
    work = args.work
    os.makedirs(work, exist_ok=True)
    testset = os.path.join(work, "testset.jsonl")
    index = os.path.join(work, "index-13-helm.sqlite")
    print("corpus: %s (%d shards)" % (args.corpus, len(corpus_paths(args.corpus))))
    if not os.path.exists(testset):
        make_testset(args.corpus, testset)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(index + suffix):
            os.remove(index + suffix)
    started = time.perf_counter()
    out = subprocess.run([args.longmix, "decontam", "index", "--index", index, "--protocol", "helm", testset],
                         check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - started
    print("LongMix index build (wall %.2f s including process start):" % wall)
    print("  " + out.strip().replace("\n", "\n  "))
    distinct = int(re.search(r"(\d+) distinct n-grams", out).group(1))
    if distinct < 1_000_000:
        sys.exit("index holds %d distinct 13-grams, fewer than the one million the benchmark needs" % distinct)

    longmix_runs, python_runs = [], []
    for r in range(args.runs):
        longmix_runs.append(longmix_scan(args.longmix, index, args.corpus, work))
        python_runs.append(python_scan(testset, args.corpus))
        print("run %d: LongMix scan %.2f s / pass %.2f s; Python scan %.2f s / pass %.2f s" % (
            r + 1, longmix_runs[-1]["scan_seconds"], longmix_runs[-1]["total_seconds"],
            python_runs[-1]["scan_seconds"], python_runs[-1]["total_seconds"]))

    def mbps(runs, key):
        return statistics.median(run["text_bytes"] / run[key] / 1e6 for run in runs)

    mb = longmix_runs[0]["text_bytes"] / 1e6
    print("\ntext scanned per run: %.1f MB (LongMix), %.1f MB (Python); index %d 13-grams (Python dict: %d)" % (
        mb, python_runs[0]["text_bytes"] / 1e6, distinct, python_runs[0]["index_ngrams"]))
    print("index into memory: LongMix %.2f s (SQLite -> hash set), Python %.2f s (parse + build dict)" % (
        statistics.median(r["index_load_seconds"] for r in longmix_runs),
        statistics.median(r["index_seconds"] for r in python_runs)))
    for label, key in (("scan only (normalize, hash, look up)", "scan_seconds"),
                       ("whole pass (read, decompress, parse, scan, report)", "total_seconds")):
        ours, theirs = mbps(longmix_runs, key), mbps(python_runs, key)
        print("%-52s LongMix %7.1f MB/s   Python HELM-style %6.1f MB/s   ratio %.1fx  (medians of %d, 1 core each)" % (
            label, ours, theirs, ours / theirs, args.runs))
    lm_hits, py_hits = longmix_runs[0]["documents_with_hits"], python_runs[0]["documents_with_hits"]
    print("documents with overlaps: LongMix %d, Python %d (%s); LongMix report rows %d" % (
        lm_hits, py_hits, "agree" if lm_hits == py_hits else "DISAGREE", longmix_runs[0]["report_rows"]))
    size = os.path.getsize(index)
    print("index database: %d bytes (%.1f MB) for %d 13-grams" % (size, size / 1e6, distinct))
    if lm_hits != py_hits:
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run")
    p.add_argument("--corpus", default="bench-data/corpus")
    p.add_argument("--work", default="bench-data/decontam")
    p.add_argument("--longmix", default=".build/release/longmix")
    p.add_argument("--runs", type=int, default=3)
    p = sub.add_parser("make-testset")
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("scan")
    p.add_argument("--testset", required=True)
    p.add_argument("--corpus", required=True)
    args = parser.parse_args()
    if args.command == "run":
        run(args)
    elif args.command == "make-testset":
        make_testset(args.corpus, args.out)
    else:
        print(json.dumps(python_scan(args.testset, args.corpus)))


if __name__ == "__main__":
    main()
