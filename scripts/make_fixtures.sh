#!/usr/bin/env bash
# Regenerates the reference fixtures: Tests/EmberTests/Fixtures/parity.json (the PyTorch
# results that Tests/EmberTests/PyTorchParityTests.swift checks Ember against) and the
# safetensors reference files.
#
# Usage (from anywhere):  bash scripts/make_fixtures.sh      (or: make fixtures)
#
# Creates the virtual environment .venv-ref in the repository root with PyTorch 2.13.0
# (CPU build) and NumPy when it is missing, then runs scripts/make_fixtures.py with it.
# The tests themselves never need PyTorch: the fixture file is committed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-ref"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    # The quick CPU-only build where pip offers it, plain torch otherwise.
    "$VENV/bin/pip" install "torch==2.13.0+cpu" numpy safetensors \
        || "$VENV/bin/pip" install torch numpy safetensors
fi
"$VENV/bin/python" "$ROOT/scripts/make_fixtures.py" "$@"
"$VENV/bin/python" "$ROOT/scripts/make_safetensors_fixtures.py"
