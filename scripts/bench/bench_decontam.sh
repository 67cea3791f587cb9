#!/usr/bin/env bash
# Decontamination benchmark: LongMix vs a Python HELM-style scanner on the same shards, one run.
# Usage: scripts/bench/bench_decontam.sh [CORPUS_DIR] [RUNS]
#   CORPUS_DIR: RedPajama-schema .jsonl[.zst] shards (default bench-data/corpus, made by
#               scripts/bench/make_corpus.py); RUNS: scans per tool (default 3, medians printed).
set -euo pipefail
cd "$(dirname "$0")/../.."
CORPUS="${1:-bench-data/corpus}"
RUNS="${2:-3}"
PYTHON="${LONGMIX_PYTHON:-.venv/bin/python}"
swift build -c release --product longmix
exec "$PYTHON" scripts/bench/bench_decontam.py run --corpus "$CORPUS" --runs "$RUNS" \
    --work bench-data/decontam --longmix .build/release/longmix
