#!/usr/bin/env bash
# The README's main command: sets the machine up (idempotent), builds LongMix, then runs the
# main job on the embedded fixtures: the full 25/25/25/25 pretraining-mix build (HELM
# decontamination index, 2K-token length filter, 32K concat packing), the 20x5 instruction mix
# (few-shot packing, completion-only loss), and an integrity check of both packs.
# Outputs go to out/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product longmix
longmix=.build/release/longmix
mkdir -p out

echo "== stats of the fixture shards"
$longmix stats Fixtures/redpajama Fixtures/oig

echo; echo "== plan: what each source offers after filtering and decontamination"
$longmix plan Mixtures/fixtures/pretrain-32k.yaml

echo; echo "== build the pretraining mix (25/25/25/25, 32K tokens, concat)"
$longmix build Mixtures/fixtures/pretrain-32k.yaml --output out/pretrain-32k --megatron out/pretrain-32k-megatron
$longmix inspect out/pretrain-32k --verify | tail -n 1

echo; echo "== build the instruction mix (20x5, few-shot, completion-only loss)"
$longmix build Mixtures/fixtures/instruct-32k.yaml --output out/instruct-32k
$longmix inspect out/instruct-32k --verify | tail -n 1

echo; echo "== first segments of instruction sequence 0"
# awk reads to the end (no early exit), so nothing upstream dies of SIGPIPE under pipefail.
$longmix inspect out/instruct-32k --sequence 0 | awk '/^---/ { on = 1 } on && shown < 12 { print; shown++ }'

echo; echo "== train a tiny LLaMA (0.9M parameters) on the pretraining pack"
echo "   (windows of 256 tokens cut from each 32K-token sequence: the fixture model is too small for 32K)"
rm -rf out/train-tiny out/train-tiny-pi   # the demo's own outputs from an earlier run
$longmix train --pack out/pretrain-32k --model Models/tiny-fixture.json --steps 80 --context 256 --batch 4 \
  --lr 3e-3 --warmup 5 -o out/train-tiny
$longmix loss --checkpoint out/train-tiny/step-000080 --pack out/pretrain-32k --sequences 0:2 --context 256

echo; echo "== Position Interpolation: the trained model at 4x its context (1024 tokens, rope factor 4), instruction mix"
$longmix train --pack out/instruct-32k --init out/train-tiny/step-000080 --rope-factor 4 --context 1024 --steps 10 \
  --lr 1e-3 -o out/train-tiny-pi
awk -F'"loss":' 'NR == 1 { split($2, a, ","); first = a[1] } { split($2, a, ","); last[NR % 5] = a[1]; n = NR }
  END { s = 0; k = 0; for (i in last) { s += last[i]; k++ }
        printf "pretraining loss fell from %.3f (step 1) to %.3f (mean of the last 5 steps)\n", first, s / k
        if (s / k >= first - 0.5) { print "demo: the loss did not fall" > "/dev/stderr"; exit 1 } }' out/train-tiny/train.jsonl

echo; echo "== evaluate: perplexity per byte of the fixture RedPajama text at 256 and 1024 tokens of context"
$longmix eval ppl --checkpoint out/train-tiny/step-000080 --checkpoint out/train-tiny-pi/step-000010 \
  --contexts 256,1024 --tokenizer Fixtures/tokenizer/fixture-bpe.model Fixtures/redpajama --max-documents 8 --quiet \
  --json out/eval-ppl.json --force   # --force: replace this demo's table from an earlier run
