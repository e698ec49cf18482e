#!/usr/bin/env bash
# Regenerates Tests/EmberTests/Fixtures/parity.json, the PyTorch reference results that
# Tests/EmberTests/PyTorchParityTests.swift checks Ember against.
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
    "$VENV/bin/pip" install --index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple \
        "torch==2.13.0+cpu" numpy
fi
"$VENV/bin/python" "$ROOT/scripts/make_fixtures.py" "$@"
