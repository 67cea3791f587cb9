#!/usr/bin/env bash
# Runs scripts/parity/model_parity.py (LongMix vs transformers LlamaForCausalLM / PyTorch autograd)
# with $LONGMIX_TORCH_PYTHON, a Python that has torch and transformers (without it: SKIPPED, exit 0;
# see torch_python.sh). Builds longmix (release) and the fixture packs if they are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/parity/torch_python.sh
torch_python model_parity
swift build -c release --product longmix
for mix in pretrain-32k instruct-32k; do
  [ -f out/$mix/manifest.json ] || .build/release/longmix build Mixtures/fixtures/$mix.yaml --output out/$mix
done
exec "$python" scripts/parity/model_parity.py --longmix .build/release/longmix --pack out/pretrain-32k \
  --few-shot-pack out/instruct-32k "$@"
