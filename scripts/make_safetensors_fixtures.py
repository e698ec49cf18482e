"""Writes safetensors reference files with the reference implementation (the `safetensors`
package from PyPI) for Ember's tests.

Run: .venv-ref/bin/pip install safetensors numpy torch==2.13.0+cpu  (see make_fixtures.sh)
     .venv-ref/bin/python scripts/make_safetensors_fixtures.py
Writes Tests/EmberTests/Fixtures/safetensors/reference.safetensors and reference.json
(the expected names, dtypes, shapes and values).
"""
import json
import pathlib

import torch
from safetensors.torch import save_file

out = pathlib.Path(__file__).resolve().parent.parent / "Tests/EmberTests/Fixtures/safetensors"
out.mkdir(parents=True, exist_ok=True)

tensors = {
    "f32": torch.tensor([[1.5, -2.25, 3.0], [0.0, 1e-3, -7.5]], dtype=torch.float32),
    "f64": torch.tensor([3.141592653589793, -1e300], dtype=torch.float64),
    "f16": torch.tensor([0.5, -65504.0, 1.0009765625], dtype=torch.float16),
    "bf16": torch.tensor([3.140625, -0.001953125], dtype=torch.bfloat16),
    "i64": torch.tensor([-(2**62), 7, 0], dtype=torch.int64),
    "i32": torch.tensor([[1, -2], [3, 2**31 - 1]], dtype=torch.int32),
    "u8": torch.tensor([0, 255, 17], dtype=torch.uint8),
    "bool": torch.tensor([True, False, True], dtype=torch.bool),
    "scalar": torch.tensor(42.0, dtype=torch.float32),
    "empty": torch.zeros(0, 3, dtype=torch.float32),
}
save_file(tensors, str(out / "reference.safetensors"), metadata={"format": "pt", "source": "ember-fixture"})
expected = {
    name: {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
           "values": [float(v) for v in t.flatten().tolist()]}
    for name, t in tensors.items()
}
(out / "reference.json").write_text(json.dumps({"metadata": {"format": "pt", "source": "ember-fixture"},
                                                "tensors": expected}, indent=1))
print("wrote", out)
