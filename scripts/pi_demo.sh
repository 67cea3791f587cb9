#!/usr/bin/env bash
# The Position Interpolation demo, on a CPU: perplexity per byte from L to 8L tokens of context for
# a small LLaMA trained at L, extrapolating, interpolated without training (rope factor 4 and 8),
# and interpolated after short continued training on LongMix packs of 4L and 8L tokens.
#
# Real English text (the benchmark corpus from Debian's linux-doc, python3-doc and dict-gcide; its
# last shard held out for evaluation), a SentencePiece BPE tokenizer trained for the demo with
# LLaMA-2's settings (or LLaMA-2's own with TOKENIZER=/path/to/tokenizer.model), packs built by
# `longmix build`, training by `longmix train`, the table by `longmix eval ppl`, the plot by
# matplotlib. Outputs in out/pi-demo/: ppl.json, ppl.png, the packs, checkpoints and logs.
#
# Sizes (environment): L=128, BASE_STEPS=600, PI_STEPS=300, BATCH=16, DOCS=48 held-out documents,
# THREADS=2, VOCAB=4096; OUT=out/pi-demo. Not part of the README's two commands; about half an hour
# on 2 cores with the defaults. A rerun with the same settings reuses what OUT already holds (the
# tokenizer, packs and checkpoints); OUT made with other settings is refused, never overwritten.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
L=${L:-128}; BASE_STEPS=${BASE_STEPS:-600}; PI_STEPS=${PI_STEPS:-300}; BATCH=${BATCH:-16}
DOCS=${DOCS:-48}; THREADS=${THREADS:-2}; VOCAB=${VOCAB:-4096}
out=$(realpath -m "${OUT:-out/pi-demo}")
started=$(date +%s)
phase() { echo "pi_demo: [$(( $(date +%s) - started )) s] $*" >&2; }

settings="L=$L BASE_STEPS=$BASE_STEPS PI_STEPS=$PI_STEPS BATCH=$BATCH VOCAB=$VOCAB TOKENIZER=${TOKENIZER:-}"
if [ -f "$out/settings" ] && [ "$(cat "$out/settings")" != "$settings" ]; then
  echo "pi_demo: $out holds a run made with other settings ($(cat "$out/settings")); move it away or set OUT=" >&2
  exit 1
fi
mkdir -p "$out"
echo "$settings" > "$out/settings"

bash scripts/setup.sh
missing=()
for p in linux-doc python3-doc dict-gcide; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
want=$(sha256sum scripts/pi_demo/requirements.txt | cut -d' ' -f1)
if [ ! -x .venv-demo/bin/python ] || [ "$(cat .venv-demo/.requirements.sha256 2>/dev/null)" != "$want" ]; then
  python3 -m venv .venv-demo
  .venv-demo/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv-demo/bin/python -m pip install -q -r scripts/pi_demo/requirements.txt
  echo "$want" > .venv-demo/.requirements.sha256
fi
[ -d bench-data/corpus ] || .venv/bin/python scripts/bench/make_corpus.py --out bench-data/corpus
phase "building longmix (release)"
swift build -c release --product longmix
longmix=$PWD/.build/release/longmix

# Training shards and the held-out shard (the corpus's last), as separate directories.
shards=(bench-data/corpus/*.jsonl.zst)
mkdir -p "$out/train" "$out/heldout"
for s in "${shards[@]::${#shards[@]}-1}"; do ln -sf "$PWD/$s" "$out/train/"; done
ln -sf "$PWD/${shards[-1]}" "$out/heldout/"

tokenizer=${TOKENIZER:-$out/tokenizer.model}
if [ -z "${TOKENIZER:-}" ] && [ ! -f "$tokenizer" ]; then
  phase "training the tokenizer"
  .venv-demo/bin/python scripts/pi_demo/train_tokenizer.py --shards "$out/train" --out "$out/tokenizer" --vocab-size "$VOCAB"
fi
tokenizer=$(realpath "$tokenizer")
vocab=$(.venv-demo/bin/python -c "import sentencepiece as s; print(s.SentencePieceProcessor(model_file='$tokenizer').vocab_size())")

# Packs at L, 4L and 8L tokens per sequence (concat packing, every document kept, no length filter).
for factor in 1 4 8; do
  len=$((L * factor))
  cat > "$out/mixture-$len.yaml" <<YAML
name: pi-demo-$len
seed: 7
seq_len: $len
min_doc_tokens: 0
tokenizer: $tokenizer
budget: smallest-source
packing: concat
special_tokens: {bos: true, eos: true}
sources:
  - name: english
    paths: [$out/train]
    weight: 1
YAML
  if [ ! -f "$out/pack-$len/manifest.json" ]; then
    phase "building the pack of $len-token sequences"
    $longmix build "$out/mixture-$len.yaml" -o "$out/pack-$len" --quiet
  fi
done

# The model: the tiny LLaMA shape (2 layers, hidden 128, 4 heads on 2 KV heads) at the demo's vocabulary.
sed -e "s/\"vocab_size\": [0-9]*/\"vocab_size\": $vocab/" -e "s/\"max_position_embeddings\": [0-9]*/\"max_position_embeddings\": $L/" \
  Models/tiny-fixture.json > "$out/model.json"

train() { # name, steps, extra arguments...
  local name=$1 steps=$2; shift 2
  local final=$out/$name/$(printf 'step-%06d' "$steps")
  if [ ! -d "$final" ]; then
    phase "training $name ($steps steps)"
    $longmix train --steps "$steps" -o "$out/$name" --threads "$THREADS" --quiet "$@" >&2 || return 1  # stdout carries the path
  fi
  echo "$final"
}
base=$(train base "$BASE_STEPS" --pack "$out/pack-$L" --model "$out/model.json" --context "$L" --batch "$BATCH" --lr 3e-3 --warmup 50)
pi4=$(train pi-4x "$PI_STEPS" --pack "$out/pack-$((4 * L))" --init "$base" --rope-factor 4 --context $((4 * L)) \
  --batch $((BATCH / 4)) --lr 1e-3 --warmup 10)
pi8=$(train pi-8x "$PI_STEPS" --pack "$out/pack-$((8 * L))" --init "$base" --rope-factor 8 --context $((8 * L)) \
  --batch $((BATCH / 8 > 0 ? BATCH / 8 : 1)) --lr 1e-3 --warmup 10)

phase "evaluating"
$longmix eval ppl --checkpoint "$base" --checkpoint "$base@4" --checkpoint "$base@8" --checkpoint "$pi4" --checkpoint "$pi8" \
  --contexts "$L,$((2 * L)),$((4 * L)),$((8 * L))" --tokenizer "$tokenizer" "$out/heldout" --max-documents "$DOCS" \
  --threads "$THREADS" --json "$out/ppl.json" --force | tee "$out/ppl.txt"
.venv-demo/bin/python scripts/pi_demo/plot.py "$out/ppl.json" "$out/ppl.png" \
  --title "Position Interpolation on CPU: trained at $L tokens"
echo "pi_demo: done in $(( $(date +%s) - started )) s; table $out/ppl.txt, JSON $out/ppl.json, plot $out/ppl.png"
