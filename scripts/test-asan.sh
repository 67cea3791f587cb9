#!/usr/bin/env bash
# The suites of the modules whose hot loops use unsafe pointers, under AddressSanitizer (a
# separate build in .build-asan). CI runs it after the README's test command; it caught a heap
# overflow in the JSON string decoder that the plain run only showed as an occasional crash.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --sanitize=address --build-tests --scratch-path .build-asan
# Leak reports are off: Foundation's threads leave one-time allocations at exit.
ASAN_OPTIONS=detect_leaks=0 swift test --skip-build --sanitize=address --scratch-path .build-asan \
  --filter "ShardIOTests|TokenizationTests|DecontaminationTests|PackingTests|PipelineTests|ModelTests" "$@"
