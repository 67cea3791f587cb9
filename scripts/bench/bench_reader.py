#!/usr/bin/env python3
"""Reading benchmark: LongMix's shard reader (decompress + JSON + text extraction, `longmix stats`)
beside `zstd -dc` and Python zstandard + json on the same .jsonl.zst files, in one run.

Each contender runs --repeat times, interleaved; the script prints the median wall time, the
throughput in MB/s of decompressed JSONL, and the ratios. With --memory it also builds one shard
of at least 1 GB (the corpus' zstd frames repeated) and reports LongMix's peak RSS reading it.

Usage: bench_reader.py [--corpus bench-data/corpus] [--longmix .build/release/longmix] [--repeat 5] [--memory]
"""
import argparse
import glob
import os
import statistics
import subprocess
import sys
import time

PYTHON_READER = r"""
import io, json, sys, zstandard
docs = text = 0
for path in sys.argv[1:]:
    with open(path, "rb") as fh:
        stream = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True), 1 << 20)
        for line in stream:
            if line.strip():
                text += len(json.loads(line)["text"].encode("utf-8"))
                docs += 1
print(docs, text)
"""


def timed(cmd):
    start = time.perf_counter()
    out = subprocess.run(cmd, stdout=subprocess.PIPE, check=True).stdout
    return time.perf_counter() - start, out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", default="bench-data/corpus")
    p.add_argument("--longmix", default=".build/release/longmix")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--memory", action="store_true")
    args = p.parse_args()
    shards = sorted(glob.glob(os.path.join(args.corpus, "*.jsonl.zst")))
    if not shards:
        sys.exit("no shards in %s; run scripts/bench/make_corpus.py" % args.corpus)
    size = len(subprocess.run(["zstd", "-dc"] + shards, stdout=subprocess.PIPE, check=True).stdout)

    contenders = {
        "zstd -dc (1 thread)": ["sh", "-c", 'zstd -dc "$@" > /dev/null', "zstd"] + shards,
        "python zstandard+json": [sys.executable, "-c", PYTHON_READER] + shards,
        "longmix stats": [args.longmix, "stats", "--json"] + shards,
    }
    times = {name: [] for name in contenders}
    for _ in range(args.repeat):
        for name, cmd in contenders.items():
            seconds, _ = timed(cmd)
            times[name].append(seconds)
    print("corpus: %d shards, %.1f MB of JSONL after decompression; %d runs each, median" % (len(shards), size / 1e6, args.repeat))
    med = {name: statistics.median(t) for name, t in times.items()}
    for name, m in med.items():
        print("  %-24s %7.3f s  %7.1f MB/s" % (name, m, size / 1e6 / m))
    lm = med["longmix stats"]
    print("longmix / python zstandard+json: %.2fx" % (med["python zstandard+json"] / lm))
    print("longmix / zstd -dc:              %.2f (fraction of zstd's speed)" % (med["zstd -dc (1 thread)"] / lm))

    if args.memory:
        big = os.path.join(os.path.dirname(args.corpus.rstrip("/")) or ".", "big-shard.jsonl.zst")
        copies = max(1, -(-1_000_000_000 // size))
        with open(big, "wb") as out:
            for _ in range(copies):
                for s in shards:
                    with open(s, "rb") as f:
                        out.write(f.read())
        result = subprocess.run(["/usr/bin/time", "-f", "%M %e", args.longmix, "stats", "--json", big],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True, text=True)
        rss_kb, seconds = result.stderr.strip().splitlines()[-1].split()
        print("one %.2f GB shard (%d copies of the corpus): peak RSS %.1f MB, %.1f s"
              % (copies * size / 1e9, copies, int(rss_kb) / 1024, float(seconds)))
        os.remove(big)


if __name__ == "__main__":
    main()
