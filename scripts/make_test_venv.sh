#!/usr/bin/env bash
# Creates .venv-ref (git-ignored) with the reference tools some tests cross-check Ember's
# files against: numpy, safetensors and, where pip offers the quick CPU-only build, torch.
# Tests that need a tool skip with a printed reason when it is missing, so this is optional;
# .ci/run calls it with a time limit and carries on without it.
#
# Usage: bash scripts/make_test_venv.sh
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-ref"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" || { echo "cross-check venv: python3 -m venv failed"; exit 1; }
fi
"$VENV/bin/pip" install -q numpy safetensors || echo "cross-check venv: numpy/safetensors not installed"
"$VENV/bin/python" -c "import torch" 2>/dev/null || "$VENV/bin/pip" install -q "torch==2.13.0+cpu" \
    || echo "cross-check venv: torch CPU build not offered by pip; torch cross-checks will skip"
for module in numpy safetensors torch; do
    if "$VENV/bin/python" -c "import $module" 2>/dev/null; then echo "cross-check venv: $module available"
    else echo "cross-check venv: $module missing (its cross-checks skip)"; fi
done
