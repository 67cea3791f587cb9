#!/usr/bin/env bash
# Runs scripts/parity/ppl_parity.py (longmix eval ppl vs transformers) with $LONGMIX_TORCH_PYTHON,
# a Python that has torch and transformers (without it: SKIPPED, exit 0; see torch_python.sh).
# Builds longmix (release) first.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/parity/torch_python.sh
torch_python ppl_parity
swift build -c release --product longmix
exec "$python" scripts/parity/ppl_parity.py --longmix .build/release/longmix "$@"
