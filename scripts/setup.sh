#!/usr/bin/env bash
# Installs what LongMix needs on a fresh Debian machine with Swift, and does nothing that is
# already done (idempotent): the C libraries from apt, and a Python venv (.venv) with the oracle
# packages the tests compare against. Safe to run again at any time.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(libzstd-dev zlib1g-dev libsqlite3-dev libopenblas-dev pkg-config zstd dict-gcide)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing apt packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

requirements=scripts/requirements-oracles.txt
stamp=.venv/.requirements.sha256
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating the oracle venv (.venv) from $requirements"
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -r "$requirements"
  echo "$want" > "$stamp"
fi
echo "setup: ready (apt packages present, .venv up to date)"
