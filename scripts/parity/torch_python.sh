# Sourced by the parity scripts (scripts/parity/*.sh): the Python that has torch and transformers
# is machine-local and comes only from $LONGMIX_TORCH_PYTHON. Usage, after `cd` to the repository:
#     source scripts/parity/torch_python.sh; torch_python NAME    # sets $python
# Without LONGMIX_TORCH_PYTHON it prints "SKIPPED NAME: ..." and exits 0 (torch and transformers,
# ~6 GB from PyPI, stay out of CI); a value that is not an executable is an error (exit 2). A
# Python that lacks the packages is the scripts' own concern: they print SKIPPED and exit 0.
torch_python() {
  local name=$1
  if [ -z "${LONGMIX_TORCH_PYTHON:-}" ]; then
    echo "SKIPPED $name: LONGMIX_TORCH_PYTHON is not set; point it at a Python with torch and transformers" \
         "(e.g. python3 -m venv ~/venv-torch && ~/venv-torch/bin/pip install torch transformers safetensors;" \
         "LONGMIX_TORCH_PYTHON=~/venv-torch/bin/python bash scripts/parity/$name.sh)"
    exit 0
  fi
  if ! command -v "$LONGMIX_TORCH_PYTHON" >/dev/null 2>&1; then
    echo "error: LONGMIX_TORCH_PYTHON=$LONGMIX_TORCH_PYTHON is not an executable Python" >&2
    exit 2
  fi
  python=$LONGMIX_TORCH_PYTHON
}
