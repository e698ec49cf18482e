#!/usr/bin/env python3
"""Writes Tests/EmberTests/Fixtures/conv.json: PyTorch reference results for Ember's
convolution and pooling parity tests (Tests/EmberTests/ConvolutionTests.swift).

How to run (from the repository root), with the reference environment that
`bash scripts/make_fixtures.sh` creates (torch==2.13.0+cpu, numpy):

    .venv-ref/bin/python scripts/make_conv_fixtures.py [output-path]

or, to create the environment first:

    python3 -m venv .venv-ref && .venv-ref/bin/pip install "torch==2.13.0+cpu" numpy
    .venv-ref/bin/python scripts/make_conv_fixtures.py

The file uses the schema of parity.json (scripts/make_fixtures.py): each case has a name,
family, op id, params, inputs (shape, dtype, row-major data, requires_grad), forward
outputs, the upstream gradient of each differentiable output and the gradient of each
input that requires grad. Everything is deterministic: a case draws its inputs and its
upstream gradient from a NumPy generator seeded with the CRC-32 of its name. Each case
exists in float64 and (suffix `_f32`) float32. Keep the file under 400 KB: inputs are
small. The Swift test maps every op id to Ember and fails on an unmapped id.
"""
import json
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

NAMES = {torch.float64: "float64", torch.float32: "float32", torch.int64: "int64"}


def enc_float(v, digits):
    r = float("%.*g" % (digits, float(v)))
    return 0.0 if r == 0 else r


def encode(t):
    t = t.detach()
    name = NAMES[t.dtype]
    flat = t.reshape(-1)
    if name == "int64":
        data = [int(v) for v in flat.tolist()]
    else:
        digits = 12 if name == "float64" else 9
        data = [enc_float(v, digits) for v in flat.to(torch.float64).tolist()]
    return {"shape": list(t.shape), "dtype": name, "data": data}


def rounded(a):
    """Values with 9 significant digits, so float64 and float32 twins see the same data."""
    return np.array([float("%.9g" % v) for v in np.asarray(a, dtype=np.float64).reshape(-1)]).reshape(np.shape(a))


OPS = {
    "conv1d": lambda x, w, b=None, **p: F.conv1d(x, w, b, **p),
    "conv2d": lambda x, w, b=None, **p: F.conv2d(x, w, b, **p),
    "conv_transpose1d": lambda x, w, b=None, **p: F.conv_transpose1d(x, w, b, **p),
    "conv_transpose2d": lambda x, w, b=None, **p: F.conv_transpose2d(x, w, b, **p),
    "max_pool1d": lambda x, **p: F.max_pool1d(x, **p),
    "max_pool2d": lambda x, **p: F.max_pool2d(x, **p),
    "max_pool2d_indices": lambda x, **p: F.max_pool2d(x, return_indices=True, **p),
    "avg_pool1d": lambda x, **p: F.avg_pool1d(x, **p),
    "avg_pool2d": lambda x, **p: F.avg_pool2d(x, **p),
    "adaptive_avg_pool1d": lambda x, **p: F.adaptive_avg_pool1d(x, **p),
    "adaptive_avg_pool2d": lambda x, **p: F.adaptive_avg_pool2d(x, **p),
    "adaptive_max_pool1d": lambda x, **p: F.adaptive_max_pool1d(x, **p),
    "adaptive_max_pool2d": lambda x, **p: F.adaptive_max_pool2d(x, **p),
}

CASES = []


def case(name, family, op, shapes, params, dtype, distinct=False):
    """Runs `op` on random inputs of `shapes` (all requiring grad) and records the results.
    `distinct` draws well-separated values (no ties for max pooling)."""
    assert all(c["name"] != name for c in CASES), "duplicate case name " + name
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    leaves = []
    for shape in shapes:
        if distinct:
            n = int(np.prod(shape))
            values = (rng.permutation(n) - n / 2) * 0.37 + rng.uniform(0, 0.1, size=n)
            values = values.reshape(shape)
        else:
            values = rng.standard_normal(size=shape)
        leaves.append(torch.tensor(rounded(values), dtype=torch.float64).to(dtype).requires_grad_(True))
    out = OPS[op](*leaves, **params)
    outs = list(out) if isinstance(out, tuple) else [out]
    upstream, diff_outs, diff_ups = [], [], []
    for o in outs:
        if o.dtype.is_floating_point:
            u = torch.tensor(rounded(rng.standard_normal(size=tuple(o.shape))), dtype=torch.float64).to(o.dtype)
            upstream.append(encode(u))
            diff_outs.append(o)
            diff_ups.append(u)
        else:
            upstream.append(None)
    torch.autograd.backward(diff_outs, diff_ups)
    specs = []
    for leaf in leaves:
        spec = encode(leaf)
        spec["requires_grad"] = True
        specs.append(spec)
    CASES.append({
        "name": name, "family": family, "op": op, "params": params,
        "inputs": specs, "outputs": [encode(o) for o in outs],
        "upstream": upstream, "grads": [encode(leaf.grad) for leaf in leaves],
    })


def both(name, family, op, shapes, params, distinct=False):
    case(name, family, op, shapes, params, torch.float64, distinct)
    case(name + "_f32", family, op, shapes, params, torch.float32, distinct)


def build():
    fam = "conv"
    both("conv1d_basic", fam, "conv1d", [[2, 3, 9], [3, 3, 3], [3]], {})
    both("conv1d_stride_pad_dil", fam, "conv1d", [[2, 4, 9], [4, 2, 3]],
         {"stride": 2, "padding": 2, "dilation": 2, "groups": 2})
    both("conv1d_same", fam, "conv1d", [[1, 2, 9], [3, 2, 4], [3]], {"padding": "same", "dilation": 1})
    both("conv1d_unbatched", fam, "conv1d", [[3, 10], [2, 3, 3], [2]], {"padding": 1})
    both("conv2d_basic", fam, "conv2d", [[2, 2, 5, 5], [3, 2, 3, 3], [3]], {})
    both("conv2d_pad1_nobias", fam, "conv2d", [[1, 2, 6, 6], [3, 2, 3, 3]], {"padding": 1})
    both("conv2d_stride2", fam, "conv2d", [[1, 2, 7, 8], [2, 2, 3, 3], [2]], {"stride": 2, "padding": 1})
    both("conv2d_stride_rect", fam, "conv2d", [[1, 2, 7, 6], [3, 2, 3, 2], [3]], {"stride": [2, 1], "padding": [1, 0]})
    both("conv2d_dilation", fam, "conv2d", [[1, 2, 7, 7], [2, 2, 3, 3], [2]], {"dilation": 2, "padding": 2})
    both("conv2d_dilation_rect", fam, "conv2d", [[1, 2, 8, 9], [2, 2, 2, 3]], {"dilation": [2, 3], "stride": [1, 2]})
    both("conv2d_groups", fam, "conv2d", [[1, 4, 4, 5], [4, 2, 3, 3], [4]], {"groups": 2, "padding": 1})
    both("conv2d_depthwise", fam, "conv2d", [[1, 3, 6, 6], [6, 1, 3, 3]], {"groups": 3, "stride": 2, "padding": 1})
    both("conv2d_same_even", fam, "conv2d", [[1, 2, 5, 6], [2, 2, 4, 2], [2]], {"padding": "same"})
    both("conv2d_same_dilated", fam, "conv2d", [[1, 2, 6, 6], [2, 2, 3, 3]], {"padding": "same", "dilation": 2})
    both("conv2d_valid", fam, "conv2d", [[1, 2, 6, 6], [2, 2, 4, 4], [2]], {"padding": "valid"})
    both("conv2d_1x1", fam, "conv2d", [[1, 5, 4, 4], [3, 5, 1, 1], [3]], {})
    both("conv2d_unbatched", fam, "conv2d", [[2, 5, 5], [3, 2, 3, 3], [3]], {"padding": 1})
    both("conv2d_stride_leftover", fam, "conv2d", [[1, 1, 8, 8], [2, 1, 3, 3]], {"stride": 3})

    fam = "conv_transpose"
    both("convt1d_basic", fam, "conv_transpose1d", [[2, 3, 6], [3, 2, 3], [2]], {"stride": 2, "padding": 1, "output_padding": 1})
    both("convt2d_basic", fam, "conv_transpose2d", [[1, 3, 4, 4], [3, 2, 3, 3], [2]], {})
    both("convt2d_stride_pad", fam, "conv_transpose2d", [[1, 3, 3, 4], [3, 2, 4, 4], [2]], {"stride": 2, "padding": 1})
    both("convt2d_output_padding", fam, "conv_transpose2d", [[1, 2, 3, 3], [2, 2, 3, 3]],
         {"stride": [2, 3], "padding": 1, "output_padding": [1, 2]})
    both("convt2d_groups_dilation", fam, "conv_transpose2d", [[1, 4, 3, 3], [4, 2, 3, 2], [4]],
         {"stride": 2, "groups": 2, "dilation": 2, "padding": [1, 0]})
    both("convt2d_outpad_dilation", fam, "conv_transpose2d", [[1, 2, 3, 3], [2, 2, 2, 2]],
         {"stride": 1, "dilation": 3, "output_padding": 2})
    both("convt2d_unbatched", fam, "conv_transpose2d", [[2, 3, 3], [2, 3, 2, 2]], {"stride": 2})

    fam = "pool"
    both("maxpool1d_basic", fam, "max_pool1d", [[2, 3, 10]], {"kernel_size": 2}, distinct=True)
    both("maxpool1d_stride_pad_ceil", fam, "max_pool1d", [[2, 2, 11]],
         {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, distinct=True)
    both("maxpool2d_2x2", fam, "max_pool2d", [[1, 3, 6, 6]], {"kernel_size": 2}, distinct=True)
    both("maxpool2d_odd", fam, "max_pool2d", [[1, 2, 7, 7]], {"kernel_size": 2}, distinct=True)
    both("maxpool2d_3s2p1", fam, "max_pool2d", [[1, 2, 7, 8]], {"kernel_size": 3, "stride": 2, "padding": 1}, distinct=True)
    both("maxpool2d_ceil", fam, "max_pool2d", [[1, 2, 7, 7]], {"kernel_size": 2, "stride": 2, "ceil_mode": True}, distinct=True)
    both("maxpool2d_overlap_ceil_pad", fam, "max_pool2d", [[1, 2, 8, 6]],
         {"kernel_size": [3, 2], "stride": [2, 1], "padding": [1, 1], "ceil_mode": True}, distinct=True)
    both("maxpool2d_dilation", fam, "max_pool2d", [[1, 2, 7, 7]], {"kernel_size": 3, "stride": 2, "dilation": 2}, distinct=True)
    both("maxpool2d_indices", fam, "max_pool2d_indices", [[1, 2, 6, 5]], {"kernel_size": 3, "stride": 2, "padding": 1}, distinct=True)
    both("maxpool2d_unbatched", fam, "max_pool2d", [[3, 6, 6]], {"kernel_size": 3, "stride": 1}, distinct=True)
    both("avgpool1d_basic", fam, "avg_pool1d", [[2, 3, 10]], {"kernel_size": 3, "stride": 2, "padding": 1})
    both("avgpool2d_2x2", fam, "avg_pool2d", [[1, 3, 6, 6]], {"kernel_size": 2})
    both("avgpool2d_pad_include", fam, "avg_pool2d", [[1, 2, 7, 7]], {"kernel_size": 3, "stride": 2, "padding": 1})
    both("avgpool2d_pad_exclude", fam, "avg_pool2d", [[1, 2, 7, 7]],
         {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False})
    both("avgpool2d_ceil_include", fam, "avg_pool2d", [[1, 2, 8, 7]],
         {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True})
    both("avgpool2d_ceil_exclude", fam, "avg_pool2d", [[1, 2, 8, 7]],
         {"kernel_size": [3, 2], "stride": 2, "padding": [1, 0], "ceil_mode": True, "count_include_pad": False})
    both("avgpool2d_ceil_nopad", fam, "avg_pool2d", [[1, 2, 7, 5]], {"kernel_size": 2, "ceil_mode": True})
    both("avgpool2d_unbatched", fam, "avg_pool2d", [[2, 6, 6]], {"kernel_size": 3, "stride": 3})

    fam = "adaptive"
    both("adaptive_avg1d", fam, "adaptive_avg_pool1d", [[2, 3, 10]], {"output_size": 4})
    both("adaptive_avg2d_global", fam, "adaptive_avg_pool2d", [[2, 2, 5, 5]], {"output_size": 1})
    both("adaptive_avg2d_divisible", fam, "adaptive_avg_pool2d", [[1, 2, 6, 8]], {"output_size": [3, 4]})
    both("adaptive_avg2d_uneven", fam, "adaptive_avg_pool2d", [[1, 2, 7, 6]], {"output_size": [3, 4]})
    both("adaptive_avg2d_upsample", fam, "adaptive_avg_pool2d", [[1, 2, 3, 2]], {"output_size": [5, 3]})
    both("adaptive_max1d", fam, "adaptive_max_pool1d", [[2, 3, 10]], {"output_size": 4}, distinct=True)
    both("adaptive_max2d_divisible", fam, "adaptive_max_pool2d", [[1, 3, 6, 6]], {"output_size": 3}, distinct=True)
    both("adaptive_max2d_uneven", fam, "adaptive_max_pool2d", [[1, 2, 7, 9]], {"output_size": [3, 4]}, distinct=True)
    both("adaptive_avg2d_unbatched", fam, "adaptive_avg_pool2d", [[2, 7, 7]], {"output_size": 3})


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Tests", "EmberTests", "Fixtures", "conv.json")
    build()
    doc = {"generator": "scripts/make_conv_fixtures.py", "torch_version": torch.__version__, "cases": CASES}
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    with open(path, "w") as f:
        f.write(text)
        f.write("\n")
    families = sorted({c["family"] for c in CASES})
    print("wrote %s: %d cases, %d families (%s), %d bytes" % (path, len(CASES), len(families), ", ".join(families), len(text) + 1))


if __name__ == "__main__":
    main()
