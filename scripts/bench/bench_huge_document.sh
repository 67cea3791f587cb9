#!/usr/bin/env bash
# One huge document (default 50 MB of text) through `plan` and `build`: packing must cost about
# the document's length, not its length once per 32K-token piece. Prints medians of 3 runs each.
# Holds the machine-wide benchmark lock.
#
#   bash scripts/bench/bench_huge_document.sh [MEGABYTES]      # LONGMIX_BIN=... to pick a binary
#   LONGMIX_PEER=/path/to/older/longmix RUNS=1 bash scripts/bench/bench_huge_document.sh 50   # side by side
set -euo pipefail
cd "$(dirname "$0")/../.."
mb=${1:-50}
longmix=${LONGMIX_BIN:-.build/release/longmix}
[ -x "$longmix" ] || swift build -c release --product longmix
work=$(mktemp -d /tmp/longmix-huge-doc.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/data/huge"
python3 - "$work/data/huge/doc.jsonl" "$mb" <<'PY'
import json, random, sys
random.seed(1)
words = open("/usr/share/dict/words").read().split() if __import__("os").path.exists("/usr/share/dict/words") else [f"w{i}" for i in range(5000)]
target = int(sys.argv[2]) * 1_000_000
parts, size = [], 0
while size < target:
    w = random.choice(words); parts.append(w); size += len(w) + 1
with open(sys.argv[1], "w") as f:
    f.write(json.dumps({"text": " ".join(parts)}) + "\n")
PY
cat > "$work/mix.yaml" <<YAML
name: huge-document
seed: 1
seq_len: 32768
min_doc_tokens: 0
tokenizer: $(pwd)/Fixtures/tokenizer/fixture-bpe.model
data_root: $work/data
sources:
  - name: huge
    paths: [huge]
YAML
runs=${RUNS:-3}
peer=${LONGMIX_PEER:-}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR + 1) / 2)]}'; }
time_ms() { local s=$(date +%s%N); "$@" > /dev/null; echo $(( ($(date +%s%N) - s) / 1000000 )); }
run() {  # run BINARY LABEL
    rm -rf "$work/pack"
    plan=$(for i in $(seq "$runs"); do time_ms "$1" plan "$work/mix.yaml" --threads 2; done | median)
    build=$(for i in $(seq "$runs"); do time_ms "$1" build "$work/mix.yaml" --threads 2 -o "$work/pack"; done | median)
    echo "$2: one ${mb} MB document: plan ${plan} ms, build ${build} ms (median of $runs), build/plan $(python3 -c "print(f'{$build/$plan:.2f}')")"
    "$1" inspect "$work/pack" | head -1
}
flock /tmp/longmix-bench.lock bash -c "$(declare -f median time_ms run); work='$work' mb='$mb' runs='$runs'
    run '$longmix' this; if [ -n '$peer' ]; then run '$peer' peer; fi"
