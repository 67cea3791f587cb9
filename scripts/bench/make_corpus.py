#!/usr/bin/env python3
"""Builds the realistic benchmark corpus from English text shipped in Debian packages.

Sources (apt): linux-doc (kernel documentation, .rst.gz), python3-doc (the Python manual's reST
sources) and dict-gcide (the GNU Collaborative International Dictionary of English, dictzip).
Each file becomes one RedPajama-schema record `{"text": ..., "meta": {...}}`; the dictionary is cut
into documents of a few hundred entries. Records are shuffled with a fixed seed and written as
`.jsonl.zst` shards of about --shard-mb MB of JSON each, so the corpus is the same on every machine
with the same package versions.

Usage: make_corpus.py [--out bench-data/corpus] [--shard-mb 32]
"""
import argparse
import gzip
import json
import os
import random
import sys

import zstandard

LINUX_DOC = "/usr/share/doc/linux-doc/Documentation"
PYTHON_DOC = "/usr/share/doc/python3-doc/html/_sources"
GCIDE = "/usr/share/dictd/gcide.dict.dz"


def linux_docs():
    for root, _, files in sorted(os.walk(LINUX_DOC)):
        for name in sorted(files):
            path = os.path.join(root, name)
            opener = gzip.open if name.endswith(".gz") else open
            try:
                with opener(path, "rb") as f:
                    text = f.read().decode("utf-8", errors="replace")
            except OSError:
                continue
            yield text, {"source": "linux-doc", "path": os.path.relpath(path, LINUX_DOC)}


def python_docs():
    for root, _, files in sorted(os.walk(PYTHON_DOC)):
        for name in sorted(files):
            if name.endswith(".txt"):
                path = os.path.join(root, name)
                with open(path, "rb") as f:
                    text = f.read().decode("utf-8", errors="replace")
                yield text, {"source": "python-doc", "path": os.path.relpath(path, PYTHON_DOC)}


def gcide_docs(entries_per_doc=300):
    with gzip.open(GCIDE, "rb") as f:
        data = f.read().decode("utf-8", errors="replace")
    entries = data.split("\n\n")
    for start in range(0, len(entries), entries_per_doc):
        text = "\n\n".join(entries[start:start + entries_per_doc])
        yield text, {"source": "gcide", "entry": start}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench-data/corpus")
    parser.add_argument("--shard-mb", type=float, default=32)
    args = parser.parse_args()

    missing = [p for p in (LINUX_DOC, PYTHON_DOC, GCIDE) if not os.path.exists(p)]
    if missing:
        sys.exit("make_corpus: missing %s; install: apt-get install linux-doc python3-doc dict-gcide"
                 % ", ".join(missing))

    records = []
    for generator in (linux_docs, python_docs, gcide_docs):
        for text, meta in generator():
            if text.strip():
                records.append((text, meta))
    random.Random(20230728).shuffle(records)

    os.makedirs(args.out, exist_ok=True)
    for old in os.listdir(args.out):
        if old.endswith(".jsonl.zst"):
            os.remove(os.path.join(args.out, old))
    limit = int(args.shard_mb * 1e6)
    compressor = zstandard.ZstdCompressor(level=3)
    shard, size, index, total_bytes = [], 0, 0, 0

    def flush():
        nonlocal shard, size, index
        if not shard:
            return
        path = os.path.join(args.out, "corpus-%03d.jsonl.zst" % index)
        with open(path + ".tmp", "wb") as f:
            f.write(compressor.compress("".join(shard).encode("utf-8")))
        os.replace(path + ".tmp", path)
        shard, size, index = [], 0, index + 1

    for i, (text, meta) in enumerate(records):
        meta["id"] = "bench-%06d" % i
        line = json.dumps({"text": text, "meta": meta}) + "\n"
        shard.append(line)
        size += len(line)
        total_bytes += len(text.encode("utf-8"))
        if size >= limit:
            flush()
    flush()
    print("make_corpus: %d documents, %.1f MB of text, %d shards in %s"
          % (len(records), total_bytes / 1e6, index, args.out))


if __name__ == "__main__":
    main()
