#!/usr/bin/env python3
"""Sample-first benchmark: build cost should follow the output, not the input.

The same mixture with a fixed output (32 sequences of 32,768 tokens = 1,048,576 tokens; two concat
sources, LLaMA-2 tokenizer, 2K-token length filter, HELM decontamination with the Together protocol)
over the benchmark corpus (1x) and over the corpus repeated 4x under other file names (4x: every
shard hard-linked four times in other directories, so four times the documents, each with its own
id). Runs, side by side and interleaved in one process: sample-first `longmix build` and the full
pass `longmix build --exact`, on 1x and 4x, `--repeat` times each; prints median build times, the
4x/1x ratio, the read rate (decompressed input MB per second of build, and the marginal rate
(4x - 1x bytes) / (4x - 1x seconds): what reading more input costs), the peak disk of the build's
work directory (polled every 20 ms while the build runs) and the tokens tokenized. Then `longmix
plan` (counting pass, estimates) against `longmix plan --exact` on 1x: estimated vs exact available
tokens per source and the time of each, and the counting pass alone on 1x and 4x (MB/s).

With --baseline BIN (an earlier commit's release binary) it also times BIN against --longmix, the
two alternating run by run on the same inputs: sample-first build and plan medians on 1x and 4x,
4x - 1x, and whether both wrote the same tokens.bin (what a reading or decoding change buys).

Usage: bench_sample_first.py [--corpus bench-data/corpus] [--longmix .build/release/longmix]
                             [--model ../shared/tokenizers/llama2.model] [--repeat 3] [--baseline BIN]
Hold the machine-wide lock: flock /tmp/longmix-bench.lock .venv/bin/python scripts/bench/bench_sample_first.py
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
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def mixture(model, helm):
    return ("name: bench-sample-first\nseed: 1\nseq_len: 32768\nmin_doc_tokens: 2048\ntokenizer: %s\n"
            "data_root: data\nbudget: 1048576\npacking: concat\nspecial_tokens: {bos: true, eos: true}\n"
            "decontamination:\n  index: index.sqlite\n  test_sets: [%s]\n  protocol: together\n"
            "sources:\n  - name: docs_a\n    paths: [a]\n    weight: 1\n"
            "  - name: docs_b\n    paths: [b]\n    weight: 1\n") % (model, helm)


def make_input(work, name, shards, copies):
    """data/{a,b}/copy<k>/<shard>: shards 0..half-1 in a, the rest in b, `copies` times."""
    base = os.path.join(work, name)
    half = len(shards) // 2
    for k in range(copies):
        for i, shard in enumerate(shards):
            d = os.path.join(base, "data", "a" if i < half else "b", "copy%d" % k)
            os.makedirs(d, exist_ok=True)
            target = os.path.join(d, os.path.basename(shard))
            try:
                os.link(shard, target)
            except OSError:
                shutil.copyfile(shard, target)
    return base


def disk_files(path):
    """Every file below path with its allocated bytes: [(path relative to it, bytes)]."""
    found = []
    for root, _, files in os.walk(path):
        for f in files:
            try:
                found.append((os.path.relpath(os.path.join(root, f), path), os.lstat(os.path.join(root, f)).st_blocks * 512))
            except OSError:
                pass
    return found


def disk_usage(path):
    return sum(size for _, size in disk_files(path))


def build(longmix, base, exact, threads):
    """One build into base/out/pack; returns (seconds, peak work-dir bytes, tokens tokenized, (documents
    tokenized, read), pack digest, the work dir's files at the peak)."""
    out = os.path.join(base, "out")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    peak = [0, []]
    done = threading.Event()

    def poll():
        while not done.is_set():
            # The stages' parts live in <staging>/.work (staging: .pack.partial-<host>-<pid>).
            for work in glob.glob(os.path.join(out, ".pack.partial-*", ".work")):
                files = disk_files(work)
                total = sum(size for _, size in files)
                if total > peak[0]:
                    peak[:] = [total, files]
            time.sleep(0.02)

    # A daemon, stopped in `finally`: a failed build must not leave the script (and the bench lock) hanging.
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    cmd = [longmix, "build", os.path.join(base, "mixture.yaml"), "-o", os.path.join(out, "pack"), "--threads", str(threads)]
    if exact:
        cmd.append("--exact")
    start = time.perf_counter()
    try:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=base)
        seconds = time.perf_counter() - start
    finally:
        done.set()
        poller.join()
    manifest = json.load(open(os.path.join(out, "pack", "manifest.json")))
    tokenized = sum(s["tokensRead"] for s in manifest["sources"])
    docs = sum(s.get("documentsTokenized", s["documentsRead"]) for s in manifest["sources"])
    read = sum(s["documentsRead"] for s in manifest["sources"])
    digest = subprocess.run(["sha256sum", os.path.join(out, "pack", "tokens.bin")], check=True, capture_output=True,
                            text=True).stdout.split()[0]
    return seconds, peak[0], tokenized, (docs, read), digest, peak[1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", default=os.path.join(ROOT, "bench-data", "corpus"))
    p.add_argument("--longmix", default=os.path.join(ROOT, ".build", "release", "longmix"))
    p.add_argument("--model", default=os.path.join(ROOT, "..", "shared", "tokenizers", "llama2.model"))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--baseline", help="another longmix binary (an earlier commit's) to time against --longmix: "
                   "sample-first builds and plans on 1x and 4x, the two binaries interleaved")
    args = p.parse_args()
    # The builds run in the inputs' directories: paths given relative to here must not change meaning.
    args.corpus, args.longmix, args.model = map(os.path.abspath, (args.corpus, args.longmix, args.model))
    if args.baseline:
        args.baseline = os.path.abspath(args.baseline)
    shards = sorted(glob.glob(os.path.join(args.corpus, "*.jsonl.zst")))
    if not shards or not os.path.exists(args.longmix) or not os.path.exists(args.model):
        sys.exit("needs the corpus (scripts/bench/make_corpus.py), a release longmix (swift build -c release --product longmix) "
                 "and the LLaMA-2 tokenizer (--model)")
    helm = os.path.join(ROOT, "Fixtures", "helm")
    os.makedirs(os.path.join(ROOT, "bench-data"), exist_ok=True)
    work = tempfile.mkdtemp(prefix="bench-sample-first-", dir=os.path.join(ROOT, "bench-data"))
    try:
        inputs = {}
        for name, copies in (("1x", 1), ("4x", 4)):
            base = make_input(work, name, shards, copies)
            with open(os.path.join(base, "mixture.yaml"), "w") as f:
                f.write(mixture(os.path.abspath(args.model), helm))
            inputs[name] = base
        size = {n: disk_usage(os.path.join(b, "data")) for n, b in inputs.items()}
        raw = sum(int(subprocess.run("zstd -dc '%s' | wc -c" % shard, shell=True, check=True, capture_output=True,
                                     text=True).stdout) for shard in shards)
        decompressed = {"1x": raw, "4x": 4 * raw}
        print("input: 1x %.1f MB of shards (%d files, %.1f MB decompressed), 4x %.1f MB (%d files, hard links, %.1f MB "
              "decompressed); machine shared with other sessions"
              % (size["1x"] / 1e6, len(shards), raw / 1e6, size["4x"] / 1e6, 4 * len(shards), 4 * raw / 1e6))
        # Warm-up (page cache, index creation) outside the timings.
        for name in ("1x", "4x"):
            build(args.longmix, inputs[name], False, args.threads)
        results = {}
        for _ in range(args.repeat):
            for mode in ("sample-first", "exact"):
                for name in ("1x", "4x"):
                    results.setdefault((mode, name), []).append(build(args.longmix, inputs[name], mode == "exact", args.threads))
        print("\n%-13s %-3s %10s %10s %12s %16s %14s" % ("mode", "in", "median s", "MB/s read", "peak work MB",
                                                         "tokens tokenized", "docs tok/read"))
        for mode in ("sample-first", "exact"):
            for name in ("1x", "4x"):
                runs = results[(mode, name)]
                t = statistics.median(r[0] for r in runs)
                print("%-13s %-3s %10.2f %10.1f %12.1f %16d %14s" % (mode, name, t, decompressed[name] / 1e6 / t,
                                                                   max(r[1] for r in runs) / 1e6, runs[0][2], "%d/%d" % runs[0][3]))
        for mode in ("sample-first", "exact"):
            t1 = statistics.median(r[0] for r in results[(mode, "1x")])
            t4 = statistics.median(r[0] for r in results[(mode, "4x")])
            d1 = max(r[1] for r in results[(mode, "1x")])
            d4 = max(r[1] for r in results[(mode, "4x")])
            print("%s: build time 4x/1x = %.2f (all runs 1x %s, 4x %s); marginal read rate %.0f MB/s; peak work-dir disk 4x/1x = %.2f"
                  % (mode, t4 / t1, " ".join("%.2f" % r[0] for r in results[(mode, "1x")]),
                     " ".join("%.2f" % r[0] for r in results[(mode, "4x")]), 3 * raw / 1e6 / max(t4 - t1, 1e-9), d4 / max(d1, 1)))
        # A peak that grows with the input: what the work directory held at the largest one.
        first = {name: results[("sample-first", name)] for name in ("1x", "4x")}
        if max(r[1] for r in first["4x"]) > 1.05 * max(r[1] for r in first["1x"]):
            worst = max(first["4x"], key=lambda r: r[1])
            print("sample-first 4x: the work directory at its largest peak (%.1f MB):" % (worst[1] / 1e6))
            for path, size in sorted(worst[5], key=lambda f: -f[1])[:12]:
                print("  %8.2f MB  %s" % (size / 1e6, path))
        for name in ("1x", "4x"):
            same = results[("sample-first", name)][0][4] == results[("exact", name)][0][4]
            print("%s: sample-first and exact tokens.bin %s" % (name, "identical" if same else "DIFFER"))

        print("\nplan on 1x: counting pass (estimate) vs --exact")
        plans = {}
        for mode in ("estimate", "exact"):
            cmd = [args.longmix, "plan", os.path.join(inputs["1x"], "mixture.yaml"), "--json", "--threads", str(args.threads)]
            if mode == "exact":
                cmd.append("--exact")
            start = time.perf_counter()
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=inputs["1x"]).stdout
            plans[mode] = (time.perf_counter() - start, json.loads(out.strip().splitlines()[-1]))
        print("%-8s %16s %12s %16s %9s" % ("source", "estimated", "bound", "exact", "error"))
        for e, x in zip(plans["estimate"][1]["sources"], plans["exact"][1]["sources"]):
            err = (e["tokens"] - x["tokens"]) / max(x["tokens"], 1)
            print("%-8s %16d %12d %16d %+8.2f%%%s" % (e["name"], e["tokens"], e["errorBound"], x["tokens"], err * 100,
                                                    "" if abs(e["tokens"] - x["tokens"]) <= e["errorBound"] else "  (outside bound)"))
        print("plan time: estimate %.2f s, exact %.2f s" % (plans["estimate"][0], plans["exact"][0]))

        print("\ncounting pass alone (longmix plan, medians of %d, interleaved)" % args.repeat)
        counting = {}
        for _ in range(args.repeat):
            for name in ("1x", "4x"):
                start = time.perf_counter()
                subprocess.run([args.longmix, "plan", os.path.join(inputs[name], "mixture.yaml"), "--json", "--threads",
                                str(args.threads)], check=True, capture_output=True, cwd=inputs[name])
                counting.setdefault(name, []).append(time.perf_counter() - start)
        for name in ("1x", "4x"):
            t = statistics.median(counting[name])
            print("%s: %.2f s, %.0f MB/s of decompressed input" % (name, t, decompressed[name] / 1e6 / t))
        t1, t4 = statistics.median(counting["1x"]), statistics.median(counting["4x"])
        print("4x/1x = %.2f; marginal read rate %.0f MB/s" % (t4 / t1, 3 * raw / 1e6 / max(t4 - t1, 1e-9)))
        if args.baseline:
            compare(args, inputs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def compare(args, inputs):
    """--baseline against --longmix: sample-first build and plan on 1x and 4x, the binaries alternating
    run by run (so both see the same machine), after one warm-up run each; medians, 4x - 1x (what the
    extra input costs), and whether the two binaries wrote the same tokens.bin."""
    binaries = (("baseline", args.baseline), ("longmix", args.longmix))
    times, digests = {}, {}
    for r in range(args.repeat + 1):
        for name in ("1x", "4x"):
            for label, binary in binaries:
                run = build(binary, inputs[name], False, args.threads)
                seconds, digest = run[0], run[4]
                digests[(label, name)] = digest
                start = time.perf_counter()
                subprocess.run([binary, "plan", os.path.join(inputs[name], "mixture.yaml"), "--json", "--threads",
                                str(args.threads)], check=True, capture_output=True, cwd=inputs[name])
                plan_seconds = time.perf_counter() - start
                if r > 0:
                    times.setdefault((label, "build", name), []).append(seconds)
                    times.setdefault((label, "plan", name), []).append(plan_seconds)
    print("\n--baseline %s against --longmix %s (sample first, interleaved, medians of %d)"
          % (args.baseline, args.longmix, args.repeat))
    print("%-9s %-6s %8s %8s %8s %7s" % ("binary", "what", "1x s", "4x s", "4x-1x s", "4x/1x"))
    for label, _ in binaries:
        for what in ("build", "plan"):
            t1 = statistics.median(times[(label, what, "1x")])
            t4 = statistics.median(times[(label, what, "4x")])
            print("%-9s %-6s %8.3f %8.3f %8.3f %7.2f" % (label, what, t1, t4, t4 - t1, t4 / t1))
    for name in ("1x", "4x"):
        same = digests[("baseline", name)] == digests[("longmix", name)]
        print("%s: tokens.bin of the two binaries %s" % (name, "identical" if same else "DIFFER"))


if __name__ == "__main__":
    main()
