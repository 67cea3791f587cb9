#!/usr/bin/env bash
# Runs scripts/parity/model_parity.py (LongMix vs transformers LlamaForCausalLM / PyTorch
# autograd) with a Python that has torch and transformers: $LONGMIX_TORCH_PYTHON, else
# /work/venv-torch/bin/python, else .venv/bin/python (which lacks torch: the script then prints
# SKIPPED and exits 0). Builds longmix (release) and the fixture pack if they are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${LONGMIX_TORCH_PYTHON:-}
for candidate in /work/venv-torch/bin/python .venv/bin/python python3; do
  [ -n "$python" ] && break
  [ -x "$candidate" ] || command -v "$candidate" >/dev/null 2>&1 && python=$candidate
done
swift build -c release --product longmix
[ -f out/pretrain-32k/manifest.json ] || .build/release/longmix build Mixtures/fixtures/pretrain-32k.yaml --output out/pretrain-32k
exec "$python" scripts/parity/model_parity.py --longmix .build/release/longmix --pack out/pretrain-32k "$@"
