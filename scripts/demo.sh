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
