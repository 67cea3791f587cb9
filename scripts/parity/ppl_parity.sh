#!/usr/bin/env bash
# Runs scripts/parity/ppl_parity.py (longmix eval ppl vs transformers) with a Python that has torch
# and transformers: $LONGMIX_TORCH_PYTHON, else .venv/bin/python (without torch the script prints
# SKIPPED and exits 0). Builds longmix (release) first.
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${LONGMIX_TORCH_PYTHON:-.venv/bin/python}
swift build -c release --product longmix
exec "$python" scripts/parity/ppl_parity.py --longmix .build/release/longmix "$@"
