#!/usr/bin/env python3
"""Writes the PyTorch checkpoint fixtures for Tests/EmberTests/TorchCheckpointTests.swift.

Run with the reference virtual environment:
    .venv-ref/bin/python scripts/make_torch_fixtures.py
Each `<name>.pt` is written by `torch.save`; `reference.json` lists, for every file, the
flattened (dotted) tensor names with dtype, shape and values (row-major, as floats/ints).
"""
import collections
import json
import os

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "EmberTests", "Fixtures", "torch")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)

DTYPES = {
    torch.float32: "float32", torch.float64: "float64", torch.float16: "float16",
    torch.bfloat16: "bfloat16", torch.int64: "int64", torch.int32: "int32",
    torch.int16: "int32", torch.int8: "int32", torch.uint8: "uint8", torch.bool: "bool",
}


def flatten(obj, prefix=""):
    out = {}
    if isinstance(obj, torch.Tensor):
        out[prefix] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out.update(flatten(v, f"{prefix}.{i}" if prefix else str(i)))
    return out


def describe(t):
    t = t.detach()
    values = t.to(torch.float64) if t.dtype.is_floating_point else t.to(torch.int64)
    return {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
            "values": values.contiguous().reshape(-1).tolist()}


reference = {}


def save(name, obj):
    torch.save(obj, os.path.join(OUT, name + ".pt"))
    reference[name] = {k: describe(v) for k, v in flatten(obj).items()}


base = torch.arange(-6, 6, dtype=torch.float64).reshape(3, 4) / 4
save("dtypes", {
    "f32": base.to(torch.float32), "f64": base, "f16": base.to(torch.float16),
    "bf16": base.to(torch.bfloat16),
    "i64": torch.tensor([-(2 ** 40), -1, 0, 7, 2 ** 40]), "i32": torch.tensor([-5, 0, 2 ** 30], dtype=torch.int32),
    "i16": torch.tensor([-300, 0, 300], dtype=torch.int16), "i8": torch.tensor([-7, 0, 100], dtype=torch.int8),
    "u8": torch.tensor([0, 1, 200, 255], dtype=torch.uint8), "b": torch.tensor([True, False, True]),
})
save("shapes", {"scalar": torch.tensor(3.5), "empty": torch.zeros(0, 3), "long": torch.randn(1000)})
m = torch.arange(12, dtype=torch.float32).reshape(3, 4)
save("views", {"transposed": m.t(), "row1": m[1], "col2": m[:, 2], "full": m})
save("nested", {"model": {"w": torch.ones(2, 2), "layers": [torch.zeros(1), torch.full((2,), 2.0)]},
                "epoch": 7, "name": "run-1", "lr": 0.01, "pair": (torch.tensor([1, 2]), None)})
model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
model.train()
model(torch.randn(8, 3))
save("module", model.state_dict())
p = torch.nn.Parameter(torch.randn(2, 3))
save("parameter", {"p": p})
torch.save({"x": torch.ones(2)}, os.path.join(OUT, "legacy.pt"), _use_new_zipfile_serialization=False)

with open(os.path.join(OUT, "reference.json"), "w") as f:
    json.dump(reference, f, indent=0, sort_keys=True)
print("wrote", sorted(reference))
