#!/usr/bin/env python3
"""Writes Tests/EmberTests/Fixtures/parity.json: PyTorch reference results for Ember's
parity tests (Tests/EmberTests/PyTorchParityTests.swift).

How to run (from the repository root):

    bash scripts/make_fixtures.sh          # or: make fixtures

The shell script creates the virtual environment `.venv-ref` (torch==2.13.0+cpu, numpy)
when it is missing and runs this file with it. To run this file directly:

    .venv-ref/bin/python scripts/make_fixtures.py [output-path]

Everything is deterministic: each case draws its inputs and its upstream gradient from a
NumPy generator seeded with the CRC-32 of the case name, so regenerating gives the same
file. Each case records: name, family (one XCTest method per family), op id, inputs
(shape, dtype, flat row-major data, requires_grad, optional permute applied before the
op), params, forward outputs (shape, dtype, data), the upstream gradient of each
differentiable output, and the gradient of each input that requires grad (PyTorch
autograd; float64 unless the case says otherwise). Non-finite floats are written as the
strings "nan", "inf" and "-inf". The Swift test maps every op id to an Ember closure and
fails on an unmapped id.
"""
import json
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

torch.use_deterministic_algorithms(True)

DTYPES = {
    "float64": torch.float64, "float32": torch.float32, "float16": torch.float16,
    "bfloat16": torch.bfloat16, "int64": torch.int64, "int32": torch.int32,
    "uint8": torch.uint8, "bool": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}
FLOATS = ("float64", "float32", "float16", "bfloat16")


# ----------------------------------------------------------------------------------------
# Encoding

def enc_float(v, digits):
    v = float(v)
    if v != v:
        return "nan"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    if digits > 9 and float(np.float32(v)) == v:
        return v  # a float32 (or half) value in a float64 tensor: keep it exact
    r = float("%.*g" % (digits, v))
    return 0.0 if r == 0 else r  # no "-0.0"


def encode(t):
    """A tensor as {shape, dtype, data}; float64 outputs keep 12 significant digits,
    float32 and the half types 9 (which round-trips them exactly)."""
    t = t.detach()
    name = NAMES[t.dtype]
    flat = t.reshape(-1)
    if name in FLOATS:
        digits = 12 if name == "float64" else 9
        data = [enc_float(v, digits) for v in flat.to(torch.float64).tolist()]
    else:
        data = [int(v) for v in flat.to(torch.int64).tolist()]
    return {"shape": list(t.shape), "dtype": name, "data": data}


# ----------------------------------------------------------------------------------------
# Input specs: functions of a NumPy generator returning (tensor, requires_grad, permute)

def _round9(a):
    return np.array([float("%.9g" % v) for v in np.asarray(a, dtype=np.float64).reshape(-1)]).reshape(np.shape(a))


def _float_tensor(values, dt):
    t = torch.tensor(_round9(values), dtype=torch.float64)
    return t.to(DTYPES[dt])


def U(shape, lo=-2.0, hi=2.0, dt="float64", grad=True, permute=None):
    """Uniform floats in [lo, hi)."""
    def make(rng):
        return _float_tensor(rng.uniform(lo, hi, size=shape), dt), grad and dt in ("float64", "float32"), permute
    return make


def N(shape, dt="float64", grad=True, permute=None, scale=1.0):
    """Normal floats."""
    def make(rng):
        return _float_tensor(rng.standard_normal(size=shape) * scale, dt), grad and dt in ("float64", "float32"), permute
    return make


def V(values, shape=None, dt="float64", grad=True, permute=None):
    """Explicit values (floats may be nan/inf)."""
    def make(rng):
        arr = np.array(values, dtype=np.float64)
        if shape is not None:
            arr = arr.reshape(shape)
        if dt in FLOATS:
            t = torch.tensor(arr, dtype=torch.float64).to(DTYPES[dt])
        else:
            t = torch.tensor(arr.astype(np.int64)).to(DTYPES[dt])
        return t, grad and dt in ("float64", "float32"), permute
    return make


def I(shape, lo, hi, dt="int64", permute=None):
    """Uniform integers in [lo, hi)."""
    def make(rng):
        return torch.tensor(rng.integers(lo, hi, size=shape)).to(DTYPES[dt]), False, permute
    return make


def B(shape, p=0.5, permute=None):
    """Random bools."""
    def make(rng):
        return torch.tensor(rng.uniform(size=shape) < p), False, permute
    return make


def Distinct(shape, dt="float64", grad=True, permute=None):
    """A shuffled set of well-separated values (no ties: for sort, topk, max)."""
    def make(rng):
        n = int(np.prod(shape))
        vals = rng.permutation(n).astype(np.float64) * 0.37 - n * 0.15 + rng.uniform(0, 0.1, size=n)
        return _float_tensor(vals.reshape(shape), dt), grad and dt in ("float64", "float32"), permute
    return make


# ----------------------------------------------------------------------------------------
# Op registry (mirrored by the Swift test's op table)

def _dims(x, dims):
    return list(range(x.dim())) if not dims else dims


def _slice(x, dim, start, end, step):
    idx = [slice(None)] * x.dim()
    idx[dim] = slice(start, end, step)
    return x[tuple(idx)]


def _scalar(x, scalar, integer):
    return int(scalar) if integer else float(scalar)


OPS = {
    # arithmetic
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "add_alpha": lambda a, b, alpha: torch.add(a, b, alpha=alpha),
    "add_scalar": lambda x, scalar, integer, reverse: (_scalar(x, scalar, integer) + x) if reverse else (x + _scalar(x, scalar, integer)),
    "sub_scalar": lambda x, scalar, integer, reverse: (_scalar(x, scalar, integer) - x) if reverse else (x - _scalar(x, scalar, integer)),
    "mul_scalar": lambda x, scalar, integer, reverse: (_scalar(x, scalar, integer) * x) if reverse else (x * _scalar(x, scalar, integer)),
    "div_scalar": lambda x, scalar, integer, reverse: (_scalar(x, scalar, integer) / x) if reverse else (x / _scalar(x, scalar, integer)),
    "neg": lambda x: -x,
    "pow": lambda a, b: torch.pow(a, b),
    "pow_scalar": lambda x, exponent, integer=False: torch.pow(x, int(exponent) if integer else exponent),
    "maximum": torch.maximum,
    "minimum": torch.minimum,
    "atan2": torch.atan2,
    "remainder": torch.remainder,
    "floor_divide": torch.floor_divide,
    # unary math
    "abs": torch.abs, "sign": torch.sign, "exp": torch.exp, "log": torch.log,
    "log1p": torch.log1p, "expm1": torch.expm1, "sqrt": torch.sqrt, "rsqrt": torch.rsqrt,
    "reciprocal": torch.reciprocal, "square": torch.square,
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "asin": torch.asin,
    "acos": torch.acos, "atan": torch.atan, "sinh": torch.sinh, "cosh": torch.cosh,
    "tanh": torch.tanh, "erf": torch.erf,
    "floor": torch.floor, "ceil": torch.ceil, "round": torch.round, "trunc": torch.trunc,
    "clamp": lambda x, min=None, max=None: torch.clamp(x, min=min, max=max),
    "isnan": torch.isnan, "isinf": torch.isinf, "isfinite": torch.isfinite,
    # activations
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "gelu": lambda x, approximate: F.gelu(x, approximate=approximate),
    "silu": F.silu,
    "softplus": lambda x, beta, threshold: F.softplus(x, beta=beta, threshold=threshold),
    "leaky_relu": lambda x, negative_slope: F.leaky_relu(x, negative_slope),
    "elu": lambda x, alpha: F.elu(x, alpha=alpha),
    "softmax": lambda x, dim: torch.softmax(x, dim),
    "log_softmax": lambda x, dim: torch.log_softmax(x, dim),
    # comparisons and selection
    "compare": lambda a, b, cmp: getattr(torch, cmp)(a, b),
    "compare_scalar": lambda x, scalar, cmp: getattr(torch, cmp)(x, scalar),
    "logical_and": torch.logical_and, "logical_or": torch.logical_or,
    "logical_xor": torch.logical_xor, "logical_not": torch.logical_not,
    "where": torch.where,
    "where_scalar": lambda c, a, scalar: torch.where(c, a, scalar),
    # reductions
    "sum": lambda x, dims, keepdim: x.sum(dim=_dims(x, dims), keepdim=keepdim),
    "mean": lambda x, dims, keepdim: x.mean(dim=_dims(x, dims), keepdim=keepdim),
    "prod": lambda x, dim=None, keepdim=False: x.prod() if dim is None else x.prod(dim, keepdim=keepdim),
    "amax": lambda x, dims, keepdim: x.amax(dim=_dims(x, dims), keepdim=keepdim),
    "amin": lambda x, dims, keepdim: x.amin(dim=_dims(x, dims), keepdim=keepdim),
    "max_all": lambda x: x.max(),
    "min_all": lambda x: x.min(),
    "max_dim": lambda x, dim, keepdim: tuple(x.max(dim, keepdim=keepdim)),
    "min_dim": lambda x, dim, keepdim: tuple(x.min(dim, keepdim=keepdim)),
    "argmax": lambda x, dim=None, keepdim=False: x.argmax(dim=dim, keepdim=keepdim),
    "argmin": lambda x, dim=None, keepdim=False: x.argmin(dim=dim, keepdim=keepdim),
    "var": lambda x, dims, correction, keepdim: torch.var(x, dim=_dims(x, dims), correction=correction, keepdim=keepdim),
    "std": lambda x, dims, correction, keepdim: torch.std(x, dim=_dims(x, dims), correction=correction, keepdim=keepdim),
    "logsumexp": lambda x, dims, keepdim: torch.logsumexp(x, dim=dims, keepdim=keepdim),
    "cumsum": lambda x, dim: torch.cumsum(x, dim),
    "cumprod": lambda x, dim: torch.cumprod(x, dim),
    "norm": lambda x, p, dims, keepdim: torch.linalg.vector_norm(x, ord=p, dim=dims or None, keepdim=keepdim),
    "all": lambda x, dim=None, keepdim=False: x.all() if dim is None else x.all(dim, keepdim=keepdim),
    "any": lambda x, dim=None, keepdim=False: x.any() if dim is None else x.any(dim, keepdim=keepdim),
    # linear algebra
    "matmul": torch.matmul,
    "mm": torch.mm,
    "bmm": torch.bmm,
    "dot": torch.dot,
    "outer": torch.outer,
    "einsum": lambda *ops, equation: torch.einsum(equation, *ops),
    # views
    "reshape": lambda x, shape: x.reshape(shape),
    "permute": lambda x, dims: x.permute(dims),
    "transpose": lambda x, dim0, dim1: x.transpose(dim0, dim1),
    "t": lambda x: x.t(),
    "expand": lambda x, shape: x.expand(shape),
    "narrow": lambda x, dim, start, length: x.narrow(dim, start, length),
    "select": lambda x, dim, index: x.select(dim, index),
    "slice": _slice,
    "unsqueeze": lambda x, dim: x.unsqueeze(dim),
    "squeeze": lambda x, dim=None: x.squeeze() if dim is None else x.squeeze(dim),
    "flatten": lambda x, start_dim, end_dim: x.flatten(start_dim, end_dim),
    "unflatten": lambda x, dim, sizes: x.unflatten(dim, sizes),
    "chunk": lambda x, chunks, dim, index: x.chunk(chunks, dim)[index],
    "split": lambda x, size, dim, index: x.split(size, dim)[index],
    "contiguous": lambda x: x.contiguous(),
    # joining
    "cat": lambda *ts, dim: torch.cat(ts, dim),
    "stack": lambda *ts, dim: torch.stack(ts, dim),
    "flip": lambda x, dims: torch.flip(x, dims),
    "roll": lambda x, shifts, dims: torch.roll(x, shifts, dims) if dims else torch.roll(x, shifts),
    "repeat": lambda x, repeats: x.repeat(*repeats),
    "tril": lambda x, diagonal: torch.tril(x, diagonal),
    "triu": lambda x, diagonal: torch.triu(x, diagonal),
    "pad": lambda x, pad, mode, value: F.pad(x, pad, mode=mode, value=value) if mode == "constant" else F.pad(x, pad, mode=mode),
    # indexing
    "gather": lambda x, index, dim: torch.gather(x, dim, index),
    "scatter": lambda x, index, src, dim: torch.scatter(x, dim, index, src),
    "scatter_value": lambda x, index, dim, value: torch.scatter(x, dim, index, value),
    "scatter_add": lambda x, index, src, dim: torch.scatter_add(x, dim, index, src),
    "index_select": lambda x, index, dim: torch.index_select(x, dim, index),
    "index_add": lambda x, index, source, dim: torch.index_add(x, dim, index, source),
    "masked_fill": lambda x, mask, value: x.masked_fill(mask, value),
    "masked_select": lambda x, mask: torch.masked_select(x, mask),
    "sort": lambda x, dim, descending: tuple(torch.sort(x, dim=dim, descending=descending, stable=True)),
    "argsort": lambda x, dim, descending: torch.argsort(x, dim=dim, descending=descending, stable=True),
    "topk": lambda x, k, dim, largest: tuple(torch.topk(x, k, dim=dim, largest=largest, sorted=True)),
    "one_hot": lambda x, num_classes: F.one_hot(x, num_classes),
    "nonzero": torch.nonzero,
    # composites (gradient accumulation through shared inputs, small models)
    "mul_self": lambda x: x * x,
    "mlp_tanh": lambda x, w, b: torch.tanh(x @ w + b),
    "layer_norm_manual": lambda x, eps: (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, correction=0, keepdim=True) + eps),
    "attention": lambda q, k, v: torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5, -1) @ v,
    "cross_entropy_manual": lambda x, t: (torch.logsumexp(x, 1) - x.gather(1, t.unsqueeze(1)).squeeze(1)).mean(),
    # conversions
    "to": lambda x, dtype: x.to(DTYPES[dtype]),
    "to_roundtrip": lambda x, dtype, back: x.to(DTYPES[dtype]).to(DTYPES[back]),
}


# ----------------------------------------------------------------------------------------
# Cases

CASES = []


def case(name, family, op, inputs, params=None, grads=True):
    """Runs `op` on the inputs in PyTorch and records outputs and gradients."""
    params = params or {}
    assert all(c["name"] != name for c in CASES), "duplicate case name " + name
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    leaves, used, specs = [], [], []
    for make in inputs:
        t, rg, permute = make(rng)
        rg = rg and grads
        leaf = t.clone().requires_grad_(rg)
        leaves.append(leaf)
        used.append(leaf.permute(permute) if permute else leaf)
        spec = encode(t)
        spec["requires_grad"] = rg
        if permute:
            spec["permute"] = list(permute)
        specs.append(spec)
    out = OPS[op](*used, **params)
    outs = list(out) if isinstance(out, tuple) else [out]
    upstream = []
    diff_outs, diff_ups = [], []
    for o in outs:
        if o.requires_grad and o.dtype.is_floating_point:
            u = torch.tensor(_round9(rng.standard_normal(size=tuple(o.shape))), dtype=torch.float64).to(o.dtype)
            upstream.append(encode(u))
            diff_outs.append(o)
            diff_ups.append(u)
        else:
            upstream.append(None)
    if diff_outs:
        torch.autograd.backward(diff_outs, diff_ups)
    grads_out = []
    for leaf in leaves:
        if leaf.requires_grad:
            grads_out.append(encode(leaf.grad) if leaf.grad is not None else None)
        else:
            grads_out.append(None)
    CASES.append({
        "name": name, "family": family, "op": op, "params": {k: _param(v) for k, v in params.items()},
        "inputs": specs, "outputs": [encode(o) for o in outs],
        "upstream": upstream, "grads": grads_out,
    })


def _param(v):
    """Params as JSON; non-finite floats become strings as in tensor data."""
    if isinstance(v, float) and not np.isfinite(v):
        return enc_float(v, 9)
    return v


def both(name, family, op, inputs_fn, params=None):
    """A float64 case and a float32 twin (`<name>_f32`)."""
    case(name, family, op, inputs_fn("float64"), params)
    case(name + "_f32", family, op, inputs_fn("float32"), params)


def build():
    # ---- arithmetic -------------------------------------------------------------------
    fam = "arithmetic"
    for op in ("add", "sub", "mul", "div"):
        lo = 0.5 if op == "div" else -2.0
        both(op + "_same", fam, op, lambda dt: [U([3, 4], dt=dt), U([3, 4], lo, 2.5, dt=dt)])
        both(op + "_bcast_row", fam, op, lambda dt: [U([3, 4], dt=dt), U([4], lo, 2.5, dt=dt)])
        case(op + "_bcast_both", fam, op, [U([3, 1, 4]), U([2, 1], lo, 2.5)])
        case(op + "_bcast_0d", fam, op, [U([2, 3]), U([], lo, 2.5)])
        case(op + "_noncontig", fam, op, [U([4, 3], permute=[1, 0]), U([3, 4], lo, 2.5)])
        for integer, scalar in ((False, 2.5), (True, 3)):
            for reverse in (False, True):
                nm = "%s_scalar_%s%s" % (op, "int" if integer else "float", "_rev" if reverse else "")
                xs = U([2, 3], 0.5, 2.5) if (op == "div" and reverse) else U([2, 3])
                case(nm, fam, op + "_scalar", [xs], {"scalar": scalar, "integer": integer, "reverse": reverse})
        case(op + "_scalar_f32", fam, op + "_scalar", [U([5], 0.5, 2.5, dt="float32")],
             {"scalar": -1.5, "integer": False, "reverse": op == "div"})
    case("add_alpha", fam, "add_alpha", [U([2, 3]), U([3])], {"alpha": -0.75})
    case("neg", fam, "neg", [U([2, 3])])
    both("pow_tensor", fam, "pow", lambda dt: [U([2, 3], 0.5, 2.0, dt=dt), U([2, 3], -1.5, 2.5, dt=dt)])
    case("pow_tensor_bcast", fam, "pow", [U([3, 1], 0.5, 2.0), U([4], -2.0, 2.0)])
    for p in (2.0, 3.0, 0.5, -1.0, -2.5, 0.0, 1.0):
        lo = 0.3 if p != int(p) or p < 0 else -2.0
        case("pow_scalar_%g" % p, fam, "pow_scalar", [U([2, 3], lo, 2.0)], {"exponent": p})
    case("pow_scalar_1.7_f32", fam, "pow_scalar", [U([6], 0.3, 2.0, dt="float32")], {"exponent": 1.7})
    for op in ("maximum", "minimum"):
        both(op, fam, op, lambda dt: [U([3, 4], dt=dt), U([3, 4], dt=dt)])
        case(op + "_bcast", fam, op, [U([3, 1]), U([4])])
        case(op + "_ties", fam, op, [V([1.0, 2.0, 3.0, -1.0]), V([1.0, 0.0, 3.0, 4.0])])
    both("atan2", fam, "atan2", lambda dt: [U([3, 4], dt=dt), U([3, 4], dt=dt)])
    case("atan2_bcast", fam, "atan2", [U([2, 3]), U([3, 1, 1])])
    both("remainder", fam, "remainder", lambda dt: [U([3, 4], -5, 5, dt=dt), U([3, 4], 0.7, 2.0, dt=dt)])
    case("remainder_neg_divisor", fam, "remainder", [U([3, 4], -5, 5), U([4], -2.0, -0.7)])
    case("remainder_int", fam, "remainder", [V([7, -7, 7, -7, 5], dt="int64"), V([3, 3, -3, -3, 5], dt="int64")])
    case("pow_zero_base", fam, "pow", [V([0.0, 0.0, 0.0, 0.0, 2.0]), V([2.0, 1.0, 0.0, 3.5, 0.0])])
    case("div_int_by_zero", fam, "div", [V([1, 0, -1, 6], dt="int64"), V([0, 0, 0, 4], dt="int64")])
    case("div_by_zero", fam, "div", [V([1.0, 0.0, -1.0]), V([0.0, 0.0, 0.0])], grads=False)
    case("maximum_nan", fam, "maximum", [V(["nan", 1.0, 2.0]), V([0.0, "nan", 1.0])], grads=False)
    case("minimum_nan", fam, "minimum", [V(["nan", 1.0, 2.0]), V([0.0, "nan", 1.0])], grads=False)
    case("atan2_axes", fam, "atan2", [V([0.0, -0.0, 1.0, -1.0, 0.0]), V([-1.0, -1.0, 0.0, 0.0, 1.0])], grads=False)
    case("mul_outer_bcast", fam, "mul", [U([3, 1]), U([1, 4])])
    case("remainder_exact_neg", fam, "remainder", [V([-4.0, 4.0, -3.0, 0.0]), V([2.0, -2.0, 1.5, -3.0])], grads=False)
    case("floor_divide", fam, "floor_divide", [V([7.5, -7.5, 3.0, -0.5]), V([2.0, 2.0, -2.0, 3.0])], grads=False)
    case("floor_divide_int", fam, "floor_divide", [V([7, -7, 7, -7], dt="int64"), V([2, 2, -2, -2], dt="int64")])

    # ---- unary math -------------------------------------------------------------------
    fam = "unary"
    domains = {
        "abs": (-2, 2), "sign": (-2, 2), "exp": (-2, 2), "log": (0.1, 3), "log1p": (-0.5, 2),
        "expm1": (-2, 2), "sqrt": (0.1, 3), "rsqrt": (0.2, 3), "reciprocal": (0.3, 3),
        "square": (-2, 2), "sin": (-3, 3), "cos": (-3, 3), "tan": (-1.2, 1.2),
        "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atan": (-3, 3), "sinh": (-2, 2),
        "cosh": (-2, 2), "tanh": (-2, 2), "erf": (-2, 2),
        "floor": (-3, 3), "ceil": (-3, 3), "round": (-3, 3), "trunc": (-3, 3),
    }
    for op, (lo, hi) in domains.items():
        both(op, fam, op, lambda dt, lo=lo, hi=hi: [U([3, 4], lo, hi, dt=dt)])
    case("exp_noncontig", fam, "exp", [U([4, 3], permute=[1, 0])])
    case("sin_3d_permuted", fam, "sin", [U([2, 3, 4], -3, 3, permute=[2, 0, 1])])
    case("log1p_small", fam, "log1p", [V([1e-10, -1e-12, 3e-8, 1e-5])])
    case("expm1_small", fam, "expm1", [V([1e-10, -1e-12, 3e-8, 1e-5])])
    case("reciprocal_neg", fam, "reciprocal", [U([5], -3, -0.3)])
    case("round_half_even", fam, "round", [V([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 0.49999999, 2.6])])
    case("round_half_even_f32", fam, "round", [V([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 4.5], dt="float32")])
    case("floor_ceil_ints_floor", fam, "floor", [V([-2.0, -1.5, -0.0, 0.0, 1.0, 1.5])])
    case("ceil_exact", fam, "ceil", [V([-2.0, -1.5, -0.2, 0.0, 1.0, 1.5])])
    case("abs_kink", fam, "abs", [V([0.0, -1.0, 2.0])])
    case("clamp_at_bounds", fam, "clamp", [V([-0.5, 0.75, 0.0, -1.0, 1.0])], {"min": -0.5, "max": 0.75})
    case("round_large", fam, "round", [V([1e15 + 0.5, -2.5e10, 4503599627370497.0, 0.5000000000000001])], grads=False)
    case("abs_int", fam, "abs", [V([-3, 0, 4, -7], dt="int64")])
    case("abs_int32", fam, "abs", [V([-3, 0, 4, -7], dt="int32")])
    case("sign_with_zero", fam, "sign", [V([-2.0, 0.0, 3.0, -0.1])])
    case("neg_int", "unary", "neg", [V([-3, 0, 4], dt="int64")])
    case("sqrt_int", fam, "sqrt", [V([1, 4, 9, 2], dt="int64")])
    case("exp_int", fam, "exp", [V([0, 1, 2], dt="int32")])
    for nm, kw in (("clamp_both", {"min": -0.5, "max": 0.75}), ("clamp_min", {"min": 0.2}), ("clamp_max", {"max": -0.3})):
        both(nm, fam, "clamp", lambda dt: [U([3, 4], dt=dt)], kw)
    case("clamp_int", fam, "clamp", [V([-5, -1, 0, 3, 9], dt="int64")], {"min": -2.0, "max": 4.0})
    case("clamp_int_fractional", fam, "clamp", [V([-5, -1, 0, 1, 3, 9], dt="int64")], {"min": 0.5, "max": 2.5})
    case("exp_0d", fam, "exp", [V(0.75, [])])
    case("sin_0d_f32", fam, "sin", [V(-1.25, [], dt="float32")])
    for op in ("isnan", "isinf", "isfinite"):
        case(op, fam, op, [V(["nan", "inf", "-inf", 1.0, -0.0, 3.5])])

    # ---- activations ------------------------------------------------------------------
    fam = "activations"
    both("sigmoid", fam, "sigmoid", lambda dt: [U([3, 4], -5, 5, dt=dt)])
    both("relu", fam, "relu", lambda dt: [U([3, 4], dt=dt)])
    both("gelu_exact", fam, "gelu", lambda dt: [U([3, 4], -4, 4, dt=dt)], {"approximate": "none"})
    both("gelu_tanh", fam, "gelu", lambda dt: [U([3, 4], -4, 4, dt=dt)], {"approximate": "tanh"})
    both("silu", fam, "silu", lambda dt: [U([3, 4], -5, 5, dt=dt)])
    both("softplus", fam, "softplus", lambda dt: [U([3, 4], -5, 5, dt=dt)], {"beta": 1.0, "threshold": 20.0})
    case("softplus_beta_threshold", fam, "softplus", [U([4, 5], -4, 4)], {"beta": 2.0, "threshold": 3.0})
    case("softplus_beta_half", fam, "softplus", [U([6], -8, 8)], {"beta": 0.5, "threshold": 1.0})
    both("leaky_relu", fam, "leaky_relu", lambda dt: [U([3, 4], dt=dt)], {"negative_slope": 0.01})
    case("leaky_relu_0.2", fam, "leaky_relu", [U([3, 4])], {"negative_slope": 0.2})
    both("elu", fam, "elu", lambda dt: [U([3, 4], -3, 3, dt=dt)], {"alpha": 1.0})
    case("elu_alpha", fam, "elu", [U([3, 4], -3, 3)], {"alpha": 0.7})
    for dim in (0, 1, -1):
        both("softmax_2d_dim%d" % dim, fam, "softmax", lambda dt: [U([3, 5], -3, 3, dt=dt)], {"dim": dim})
        case("log_softmax_2d_dim%d" % dim, fam, "log_softmax", [U([3, 5], -3, 3)], {"dim": dim})
    for dim in (0, 1, 2):
        case("softmax_3d_dim%d" % dim, fam, "softmax", [U([2, 3, 4], -3, 3)], {"dim": dim})
        case("log_softmax_3d_dim%d" % dim, fam, "log_softmax", [U([2, 3, 4], -3, 3)], {"dim": dim})
    case("log_softmax_f32", fam, "log_softmax", [U([4, 6], -6, 6, dt="float32")], {"dim": 1})
    case("softmax_large_logits", fam, "softmax", [V([1000.0, 1001.0, 999.0, -1000.0])], {"dim": 0})
    case("relu_kink", fam, "relu", [V([0.0, -0.0, 1e-300, -1e-300])])
    case("leaky_relu_kink", fam, "leaky_relu", [V([0.0, 1.0, -1.0])], {"negative_slope": 0.1})
    case("elu_kink", fam, "elu", [V([0.0, 1e-8, -1e-8])], {"alpha": 1.5})
    case("softplus_at_threshold", fam, "softplus", [V([20.0, 19.999, 20.001, -30.0])], {"beta": 1.0, "threshold": 20.0})
    case("softplus_f32_large", fam, "softplus", [V([25.0, -25.0, 0.0, 15.0], dt="float32")], {"beta": 1.0, "threshold": 20.0})
    case("silu_large", fam, "silu", [V([-100.0, 100.0, -40.0, 40.0])])
    case("sigmoid_large", fam, "sigmoid", [V([-800.0, 800.0, -40.0, 40.0])])
    case("gelu_large", fam, "gelu", [V([-10.0, 10.0, -6.0])], {"approximate": "none"})
    case("softmax_3d_permuted", fam, "softmax", [U([4, 2, 3], -3, 3, permute=[1, 2, 0])], {"dim": 1})
    case("softmax_size1_dim", fam, "softmax", [U([3, 1])], {"dim": 1})
    case("log_softmax_neg_inf", fam, "log_softmax", [V([0.0, "-inf", 1.0, 2.0], grad=False)], {"dim": 0})
    case("softmax_noncontig", fam, "softmax", [U([5, 3], -3, 3, permute=[1, 0])], {"dim": 1})

    # ---- comparisons and selection ------------------------------------------------------
    fam = "comparison"
    for cmp in ("eq", "ne", "lt", "le", "gt", "ge"):
        case("%s_tensor" % cmp, fam, "compare",
             [V([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]), V([1.0, 3.0, 2.0, 4.0, 6.0, 5.0], [2, 3])], {"cmp": cmp})
        case("%s_bcast" % cmp, fam, "compare", [I([3, 4], 0, 4), I([4], 0, 4)], {"cmp": cmp})
        case("%s_scalar" % cmp, fam, "compare_scalar", [V([1.0, 2.5, 3.0, -1.0, 2.5])], {"scalar": 2.5, "cmp": cmp})
    case("eq_int_float", fam, "compare", [V([1, 2, 3], dt="int64"), V([1.0, 2.5, 3.0], dt="float32")], {"cmp": "eq"})
    case("lt_f32_f64", fam, "compare", [V([0.1, 0.2, 0.3], dt="float32"), V([0.1, 0.2, 0.3])], {"cmp": "lt"})
    for op in ("logical_and", "logical_or", "logical_xor"):
        case(op, fam, op, [V([1, 1, 0, 0], dt="bool"), V([1, 0, 1, 0], dt="bool")])
    case("logical_and_float", fam, "logical_and", [V([0.0, 2.0, 0.0, -1.0]), V([1.0, 1.0, 0.0, 3.0])], grads=False)
    case("logical_not", fam, "logical_not", [V([1, 0, 1], dt="bool")])
    both("where", fam, "where", lambda dt: [B([3, 4]), U([3, 4], dt=dt), U([3, 4], dt=dt)])
    case("where_bcast", fam, "where", [B([3, 1]), U([3, 4]), U([4])])
    case("where_promote", fam, "where", [B([4]), V([1, 2, 3, 4], dt="int64"), U([4])])
    case("where_bool_values", fam, "where", [V([1, 0, 1], dt="bool"), V([0, 0, 1], dt="bool"), V([1, 1, 0], dt="bool")])
    case("where_noncontig", fam, "where", [B([4, 3], permute=[1, 0]), U([3, 4]), U([4, 3], permute=[1, 0])])
    case("eq_nan", fam, "compare", [V(["nan", 1.0, "inf"]), V(["nan", 1.0, "inf"])], {"cmp": "eq"})
    case("ne_nan", fam, "compare", [V(["nan", 1.0, "-inf"]), V(["nan", 2.0, "-inf"])], {"cmp": "ne"})
    case("where_scalar", fam, "where_scalar", [B([2, 3]), U([2, 3])], {"scalar": -7.5})

    # ---- reductions -----------------------------------------------------------------------
    fam = "reductions"
    shape = [2, 3, 4]
    for op in ("sum", "mean"):
        for nm, dims, kd in (("all", [], False), ("dim0", [0], False), ("dim1_keep", [1], True),
                             ("dims02", [0, 2], False), ("dims02_keep", [0, 2], True), ("neg", [-1], False)):
            case("%s_%s" % (op, nm), fam, op, [U(shape)], {"dims": dims, "keepdim": kd})
        case(op + "_f32", fam, op, [U([4, 6], dt="float32")], {"dims": [1], "keepdim": False})
        case(op + "_noncontig", fam, op, [U([4, 3, 2], permute=[2, 1, 0])], {"dims": [1], "keepdim": False})
    case("sum_int", fam, "sum", [I([3, 4], -5, 5)], {"dims": [1], "keepdim": False})
    case("sum_bool", fam, "sum", [B([3, 4])], {"dims": [], "keepdim": False})
    case("sum_int32", fam, "sum", [I([6], -5, 5, dt="int32")], {"dims": [], "keepdim": False})
    case("prod_all", fam, "prod", [U([2, 3], 0.5, 1.5)])
    case("prod_dim1", fam, "prod", [U([3, 4], -1.5, 1.5)], {"dim": 1, "keepdim": False})
    case("prod_dim0_keep", fam, "prod", [U([3, 4], -1.5, 1.5)], {"dim": 0, "keepdim": True})
    case("prod_with_zero", fam, "prod", [V([1.5, 0.0, 2.0, -1.0, 3.0, 0.5], [2, 3])], {"dim": 1, "keepdim": False})
    case("prod_two_zeros", fam, "prod", [V([0.0, 0.0, 2.0, -1.0], [1, 4])], {"dim": 1, "keepdim": False})
    case("prod_int", fam, "prod", [I([2, 3], -3, 4)], {"dim": 1, "keepdim": False})
    for op in ("amax", "amin"):
        for nm, dims, kd in (("all", [], False), ("dim1", [1], False), ("dims01_keep", [0, 1], True)):
            case("%s_%s" % (op, nm), fam, op, [Distinct(shape)], {"dims": dims, "keepdim": kd})
        case(op + "_ties", fam, op, [V([1.0, 3.0, 3.0, -2.0, -2.0, 0.0], [2, 3])], {"dims": [], "keepdim": False})
        case(op + "_ties_dim", fam, op, [V([1.0, 3.0, 3.0, -2.0, -2.0, 0.0], [2, 3])], {"dims": [1], "keepdim": False})
        case(op + "_int", fam, op, [I([3, 4], -9, 9)], {"dims": [0], "keepdim": False})
    case("max_all", fam, "max_all", [Distinct([3, 4])])
    case("min_all", fam, "min_all", [Distinct([3, 4])])
    for op in ("max_dim", "min_dim"):
        for dim in (0, 1, -1):
            for kd in (False, True):
                case("%s_%d%s" % (op, dim, "_keep" if kd else ""), fam, op, [Distinct(shape)], {"dim": dim, "keepdim": kd})
        case(op + "_f32", fam, op, [Distinct([3, 5], dt="float32")], {"dim": 1, "keepdim": False})
        case(op + "_ties_first_index", fam, op, [V([2.0, 5.0, 5.0, -1.0, -1.0, 0.0], [2, 3])], {"dim": 1, "keepdim": False})
    for op in ("argmax", "argmin"):
        case(op + "_flat", fam, op, [Distinct([3, 4])])
        case(op + "_dim1", fam, op, [Distinct([3, 4])], {"dim": 1})
        case(op + "_dim0_keep", fam, op, [Distinct([3, 4])], {"dim": 0, "keepdim": True})
        case(op + "_ties", fam, op, [V([1.0, 4.0, 4.0, 0.0, 0.0, 2.0], [2, 3])], {"dim": 1})
        case(op + "_int", fam, op, [I([2, 5], 0, 100)], {"dim": 1})
    for op in ("var", "std"):
        for corr in (0, 1):
            case("%s_all_c%d" % (op, corr), fam, op, [U(shape)], {"dims": [], "correction": corr, "keepdim": False})
            case("%s_dim1_c%d" % (op, corr), fam, op, [U(shape)], {"dims": [1], "correction": corr, "keepdim": False})
            case("%s_dims02_keep_c%d" % (op, corr), fam, op, [U(shape)], {"dims": [0, 2], "correction": corr, "keepdim": True})
        case(op + "_f32", fam, op, [U([4, 5], dt="float32")], {"dims": [1], "correction": 1, "keepdim": False})
    for nm, dims, kd in (("dim1", [1], False), ("dim0_keep", [0], True), ("dims12", [1, 2], False)):
        case("logsumexp_" + nm, fam, "logsumexp", [U(shape, -4, 4)], {"dims": dims, "keepdim": kd})
    case("logsumexp_large", fam, "logsumexp", [V([1000.0, 1001.0, -5.0, 2.0], [2, 2])], {"dims": [1], "keepdim": False})
    case("logsumexp_f32", fam, "logsumexp", [U([3, 7], -4, 4, dt="float32")], {"dims": [1], "keepdim": False})
    for dim in (0, 1, -1):
        case("cumsum_dim%d" % dim, fam, "cumsum", [U(shape)], {"dim": dim})
    case("amax_nan", fam, "amax", [V([1.0, "nan", 3.0, 0.0], [2, 2], grad=False)], {"dims": [1], "keepdim": False})
    case("argmax_nan", fam, "argmax", [V([1.0, "nan", 3.0, 5.0, 0.0, 2.0], [2, 3])], {"dim": 1})
    case("argmin_nan", fam, "argmin", [V([1.0, -2.0, "nan", 5.0, 0.0, 2.0], [2, 3])], {"dim": 1})
    case("max_dim_nan", fam, "max_dim", [V([1.0, "nan", 3.0, 5.0, 0.0, 2.0], [2, 3], grad=False)], {"dim": 1, "keepdim": False})
    case("logsumexp_all_neg_inf", fam, "logsumexp", [V(["-inf", "-inf", 1.0, 2.0], [2, 2], grad=False)], {"dims": [1], "keepdim": False})
    case("norm_p2_zero_row", fam, "norm", [V([0.0, 0.0, 0.0, 3.0, 4.0, 0.0], [2, 3])], {"p": 2.0, "dims": [1], "keepdim": False})
    case("cumsum_permuted", fam, "cumsum", [U([4, 3, 2], permute=[2, 0, 1])], {"dim": 1})
    case("cumsum_int32", fam, "cumsum", [I([5], -5, 5, dt="int32")], {"dim": 0})
    case("cumsum_bool", fam, "cumsum", [B([6])], {"dim": 0})
    case("prod_int32", fam, "prod", [I([4], 1, 5, dt="int32")])
    case("sum_uint8", fam, "sum", [V([200, 100, 50], dt="uint8")], {"dims": [], "keepdim": False})
    case("amax_permuted", fam, "amax", [Distinct([3, 4, 2], permute=[2, 0, 1])], {"dims": [1], "keepdim": False})
    case("var_permuted", fam, "var", [U([3, 4, 2], permute=[1, 2, 0])], {"dims": [2], "correction": 1, "keepdim": True})
    case("sum_0d", fam, "sum", [V(2.5, [])], {"dims": [], "keepdim": False})
    case("sum_empty_dim0", fam, "sum", [V([], [0, 3])], {"dims": [0], "keepdim": False})
    case("sum_empty_all", fam, "sum", [V([], [2, 0])], {"dims": [], "keepdim": False})
    case("prod_empty", fam, "prod", [V([], [0], grad=False)])
    case("mean_empty_nan", fam, "mean", [V([], [0], grad=False)], {"dims": [], "keepdim": False})
    case("var_single_c1_nan", fam, "var", [V([1.5], [1], grad=False)], {"dims": [], "correction": 1, "keepdim": False})
    case("var_c2", fam, "var", [U([6])], {"dims": [0], "correction": 2, "keepdim": False})
    case("cumsum_f32", fam, "cumsum", [U([10], dt="float32")], {"dim": 0})
    case("cumsum_int", fam, "cumsum", [I([2, 5], -5, 5)], {"dim": 1})
    case("cumprod_dim1", fam, "cumprod", [U([2, 4], 0.5, 1.5, grad=False)], {"dim": 1})
    for p, nm in ((1.0, "1"), (2.0, "2"), (float("inf"), "inf"), (3.0, "3")):
        case("norm_p%s_all" % nm, fam, "norm", [Distinct([3, 4])], {"p": p, "dims": [], "keepdim": False})
        case("norm_p%s_dim1" % nm, fam, "norm", [Distinct([3, 4])], {"p": p, "dims": [1], "keepdim": False})
        case("norm_p%s_dim0_keep" % nm, fam, "norm", [Distinct([3, 4])], {"p": p, "dims": [0], "keepdim": True})
    case("norm_p2_f32", fam, "norm", [U([5, 4], dt="float32")], {"p": 2.0, "dims": [1], "keepdim": False})
    case("all_flat", fam, "all", [V([1, 1, 0, 1], dt="bool")])
    case("all_dim", fam, "all", [V([1, 1, 0, 1, 1, 1], [2, 3], dt="bool")], {"dim": 1, "keepdim": False})
    case("any_flat", fam, "any", [V([0.0, 0.0, 0.5])], grads=False)
    case("any_dim_keep", fam, "any", [V([0, 0, 0, 1, 0, 3], [2, 3], dt="int64")], {"dim": 1, "keepdim": True})

    # ---- linear algebra -------------------------------------------------------------------
    fam = "linalg"
    mm_cases = [
        ("matmul_1d_1d", [U([5]), U([5])]),
        ("matmul_1d_2d", [U([4]), U([4, 3])]),
        ("matmul_2d_1d", [U([3, 4]), U([4])]),
        ("matmul_2d_2d", [U([3, 4]), U([4, 5])]),
        ("matmul_batched", [U([2, 3, 4]), U([2, 4, 5])]),
        ("matmul_bcast_batch", [U([2, 1, 3, 4]), U([3, 4, 2])]),
        ("matmul_3d_2d", [U([2, 3, 4]), U([4, 5])]),
        ("matmul_2d_3d", [U([3, 4]), U([2, 4, 5])]),
        ("matmul_3d_1d", [U([2, 3, 4]), U([4])]),
        ("matmul_1d_3d", [U([4]), U([2, 4, 3])]),
        ("matmul_transposed", [U([4, 3], permute=[1, 0]), U([5, 4], permute=[1, 0])]),
        ("matmul_f32", [U([3, 4], dt="float32"), U([4, 5], dt="float32")]),
        ("matmul_batched_f32", [U([2, 3, 4], dt="float32"), U([2, 4, 2], dt="float32")]),
    ]
    for nm, ins in mm_cases:
        case(nm, fam, "matmul", ins)
    case("matmul_bcast_batch_lhs1", fam, "matmul", [U([1, 3, 4]), U([2, 4, 5])])
    case("matmul_column_rhs", fam, "matmul", [U([3, 4]), U([4, 1])])
    case("matmul_batched_permuted", fam, "matmul", [U([3, 2, 4], permute=[1, 0, 2]), U([2, 5, 4], permute=[0, 2, 1])])
    case("mm", fam, "mm", [U([2, 3]), U([3, 4])])
    case("bmm", fam, "bmm", [U([2, 2, 3]), U([2, 3, 4])])
    case("dot", fam, "dot", [U([6]), U([6])])
    case("dot_f32", fam, "dot", [U([7], dt="float32"), U([7], dt="float32")])
    case("outer", fam, "outer", [U([3]), U([4])])
    for eq, shapes in (("ij,jk->ik", [[3, 4], [4, 2]]), ("bij,bjk->bik", [[2, 3, 4], [2, 4, 2]]),
                       ("i,j->ij", [[3], [4]]), ("ij->ji", [[3, 4]]), ("ij->j", [[3, 4]]),
                       ("bhqd,bhkd->bhqk", [[2, 2, 3, 4], [2, 2, 5, 4]]), ("ij,ij->i", [[3, 4], [3, 4]]),
                       ("i,i->", [[5], [5]]), ("ik,jk->ij", [[3, 4], [2, 4]])):
        case("einsum_" + eq.replace(",", "_").replace("->", "_to_"), fam, "einsum", [U(s) for s in shapes], {"equation": eq})

    # ---- views ------------------------------------------------------------------------------
    fam = "views"
    case("reshape", fam, "reshape", [U([2, 3, 4])], {"shape": [4, 6]})
    case("reshape_infer", fam, "reshape", [U([2, 3, 4])], {"shape": [-1, 4]})
    case("reshape_noncontig", fam, "reshape", [U([3, 4], permute=[1, 0])], {"shape": [12]})
    case("permute", fam, "permute", [U([2, 3, 4])], {"dims": [2, 0, 1]})
    case("transpose", fam, "transpose", [U([2, 3, 4])], {"dim0": 0, "dim1": 2})
    case("transpose_neg", fam, "transpose", [U([2, 3, 4])], {"dim0": -1, "dim1": -2})
    case("t", fam, "t", [U([3, 4])])
    case("expand", fam, "expand", [U([3, 1])], {"shape": [2, 3, 4]})
    case("expand_keep", fam, "expand", [U([1, 4])], {"shape": [3, -1]})
    case("narrow", fam, "narrow", [U([4, 5])], {"dim": 1, "start": 1, "length": 3})
    case("narrow_neg_start", fam, "narrow", [U([4, 5])], {"dim": 0, "start": -2, "length": 2})
    case("select", fam, "select", [U([3, 4, 2])], {"dim": 1, "index": 2})
    case("select_neg", fam, "select", [U([3, 4])], {"dim": 0, "index": -1})
    case("slice_step", fam, "slice", [U([3, 10])], {"dim": 1, "start": 1, "end": 9, "step": 3})
    case("slice_step2_dim0", fam, "slice", [U([7, 2])], {"dim": 0, "start": 0, "end": 7, "step": 2})
    case("slice_neg", fam, "slice", [U([6])], {"dim": 0, "start": -4, "end": -1, "step": 1})
    case("slice_clamped", fam, "slice", [U([5])], {"dim": 0, "start": 2, "end": 100, "step": 1})
    case("unsqueeze0", fam, "unsqueeze", [U([3, 4])], {"dim": 0})
    case("unsqueeze_last", fam, "unsqueeze", [U([3, 4])], {"dim": -1})
    case("unsqueeze_mid", fam, "unsqueeze", [U([3, 4])], {"dim": 1})
    case("squeeze_all", fam, "squeeze", [U([1, 3, 1, 4])])
    case("squeeze_dim", fam, "squeeze", [U([1, 3, 1, 4])], {"dim": 2})
    case("squeeze_dim_noop", fam, "squeeze", [U([1, 3, 1, 4])], {"dim": 1})
    case("flatten_all", fam, "flatten", [U([2, 3, 4])], {"start_dim": 0, "end_dim": -1})
    case("flatten_from1", fam, "flatten", [U([2, 3, 4])], {"start_dim": 1, "end_dim": -1})
    case("flatten_mid", fam, "flatten", [U([2, 3, 4, 2])], {"start_dim": 1, "end_dim": 2})
    case("unflatten", fam, "unflatten", [U([2, 12])], {"dim": 1, "sizes": [3, -1]})
    case("chunk", fam, "chunk", [U([7, 2])], {"chunks": 3, "dim": 0, "index": 2})
    case("split", fam, "split", [U([2, 7])], {"size": 3, "dim": 1, "index": 1})
    case("slice_step_noncontig", fam, "slice", [U([5, 4], permute=[1, 0])], {"dim": 1, "start": 4, "end": 0, "step": 2})
    case("select_permuted", fam, "select", [U([3, 4, 2], permute=[2, 0, 1])], {"dim": 2, "index": 1})
    case("reshape_permuted_3d", fam, "reshape", [U([2, 3, 2], permute=[2, 1, 0])], {"shape": [3, 4]})
    case("contiguous_permuted", fam, "contiguous", [U([2, 3, 4], permute=[1, 2, 0])])

    # ---- joining ------------------------------------------------------------------------------
    fam = "joining"
    case("cat_dim0", fam, "cat", [U([2, 3]), U([1, 3]), U([3, 3])], {"dim": 0})
    case("cat_dim1", fam, "cat", [U([2, 3]), U([2, 1])], {"dim": 1})
    case("cat_neg_dim", fam, "cat", [U([2, 2, 3]), U([2, 2, 2])], {"dim": -1})
    case("cat_promote", fam, "cat", [V([1, 2], [1, 2], dt="int64"), U([2, 2])], {"dim": 0})
    case("cat_with_empty", fam, "cat", [U([2, 3]), V([], [0, 3]), U([1, 3])], {"dim": 0})
    case("cat_noncontig", fam, "cat", [U([3, 2], permute=[1, 0]), U([2, 3])], {"dim": 0})
    case("stack_dim0", fam, "stack", [U([2, 3]), U([2, 3])], {"dim": 0})
    case("stack_dim_last", fam, "stack", [U([2, 3]), U([2, 3]), U([2, 3])], {"dim": 2})
    case("stack_dim1", fam, "stack", [U([4]), U([4])], {"dim": 1})
    case("flip_0", fam, "flip", [U([3, 4])], {"dims": [0]})
    case("flip_01", fam, "flip", [U([2, 3, 4])], {"dims": [0, 2]})
    case("flip_neg", fam, "flip", [U([3, 4])], {"dims": [-1]})
    case("roll_dim", fam, "roll", [U([3, 4])], {"shifts": [1], "dims": [1]})
    case("roll_neg", fam, "roll", [U([5, 2])], {"shifts": [-2], "dims": [0]})
    case("roll_two", fam, "roll", [U([3, 4])], {"shifts": [1, 3], "dims": [0, 1]})
    case("roll_flat", fam, "roll", [U([3, 4])], {"shifts": [5], "dims": []})
    case("repeat_2d", fam, "repeat", [U([2, 3])], {"repeats": [2, 2]})
    case("repeat_new_dim", fam, "repeat", [U([3])], {"repeats": [2, 1, 2]})
    for d in (0, 1, -1, 2, -2):
        case("tril_%d" % d, fam, "tril", [U([4, 5])], {"diagonal": d})
        case("triu_%d" % d, fam, "triu", [U([4, 5])], {"diagonal": d})
    case("tril_batched", fam, "tril", [U([2, 3, 3])], {"diagonal": 0})
    case("triu_f32", fam, "triu", [U([3, 3], dt="float32")], {"diagonal": 1})
    case("pad_constant_1d", fam, "pad", [U([2, 4])], {"pad": [1, 2], "mode": "constant", "value": 0.0})
    case("pad_constant_value", fam, "pad", [U([2, 3, 4])], {"pad": [2, 0, 1, 1], "mode": "constant", "value": -1.5})
    case("pad_constant_3dims", fam, "pad", [U([2, 2, 2])], {"pad": [1, 0, 0, 1, 1, 1], "mode": "constant", "value": 0.0})
    case("pad_reflect_1d", fam, "pad", [U([2, 5])], {"pad": [2, 3], "mode": "reflect", "value": 0.0})
    case("pad_reflect_2d", fam, "pad", [U([1, 3, 4])], {"pad": [1, 2, 2, 1], "mode": "reflect", "value": 0.0})
    case("pad_replicate_1d", fam, "pad", [U([2, 3])], {"pad": [2, 1], "mode": "replicate", "value": 0.0})
    case("pad_reflect_3d", fam, "pad", [U([1, 1, 3, 3, 3])], {"pad": [1, 1, 2, 0, 0, 2], "mode": "reflect", "value": 0.0})
    case("pad_constant_permuted", fam, "pad", [U([3, 2], permute=[1, 0])], {"pad": [1, 1], "mode": "constant", "value": 2.0})
    case("flip_int", fam, "flip", [V([1, 2, 3, 4, 5, 6], [2, 3], dt="int64")], {"dims": [1]})
    case("roll_permuted", fam, "roll", [U([4, 3], permute=[1, 0])], {"shifts": [2], "dims": [1]})
    case("tril_permuted", fam, "tril", [U([4, 3], permute=[1, 0])], {"diagonal": 0})
    case("triu_int", fam, "triu", [V(list(range(9)), [3, 3], dt="int64")], {"diagonal": 0})
    case("repeat_permuted", fam, "repeat", [U([3, 2], permute=[1, 0])], {"repeats": [1, 2]})
    case("stack_int", fam, "stack", [V([1, 2], dt="int32"), V([3, 4], dt="int32")], {"dim": 0})
    case("pad_replicate_2d", fam, "pad", [U([1, 2, 3])], {"pad": [1, 1, 2, 0], "mode": "replicate", "value": 0.0})

    # ---- indexing ------------------------------------------------------------------------------
    fam = "indexing"
    case("gather_dim1", fam, "gather", [U([3, 4]), V([0, 3, 3, 1, 2, 0], [3, 2], dt="int64")], {"dim": 1})
    case("gather_dim0", fam, "gather", [U([3, 4]), V([2, 0, 1, 2, 1, 1, 0, 2], [2, 4], dt="int64")], {"dim": 0})
    case("gather_3d", fam, "gather", [U([2, 3, 4]), I([2, 3, 2], 0, 4)], {"dim": 2})
    case("gather_f32", fam, "gather", [U([3, 5], dt="float32"), V([4, 0, 1], [3, 1], dt="int64")], {"dim": 1})
    case("scatter_dim0", fam, "scatter", [U([3, 5]), V([0, 2, 1, 1, 2], [1, 5], dt="int64"), U([1, 5])], {"dim": 0})
    case("scatter_dim1b", fam, "scatter", [U([3, 5]), V([4, 0, 1, 3, 2, 0], [3, 2], dt="int64"), U([3, 2])], {"dim": 1})
    case("scatter_value", fam, "scatter_value", [U([3, 4]), V([1, 3, 0], [3, 1], dt="int64")], {"dim": 1, "value": 2.5})
    case("scatter_add_dup", fam, "scatter_add", [U([5]), V([0, 0, 2, 4, 2, 0], dt="int64"), U([6])], {"dim": 0})
    case("scatter_add_2d", fam, "scatter_add", [U([3, 4]), V([0, 1, 2, 0, 2, 2, 1, 0], [2, 4], dt="int64"), U([2, 4])], {"dim": 0})
    case("index_select_dim0", fam, "index_select", [U([4, 3]), V([3, 0, 0, 2], dt="int64")], {"dim": 0})
    case("index_select_dim1", fam, "index_select", [U([2, 4, 3]), V([2, 1], dt="int64")], {"dim": 1})
    case("index_add_dim0", fam, "index_add", [U([4, 3]), V([0, 2, 0], dt="int64"), U([3, 3])], {"dim": 0})
    case("index_add_dim1", fam, "index_add", [U([2, 5]), V([4, 1], dt="int64"), U([2, 2])], {"dim": 1})
    case("masked_fill", fam, "masked_fill", [U([3, 4]), B([3, 4])], {"value": -2.0})
    case("masked_fill_bcast", fam, "masked_fill", [U([3, 4]), B([4])], {"value": 9.5})
    case("masked_fill_neg_inf", fam, "masked_fill", [U([2, 3]), V([0, 1, 1], dt="bool")], {"value": float("-inf")})
    case("masked_select", fam, "masked_select", [U([3, 4]), B([3, 4])])
    case("masked_select_bcast", fam, "masked_select", [U([3, 4]), V([1, 0, 1, 1], dt="bool")])
    case("sort_last", fam, "sort", [Distinct([3, 5])], {"dim": -1, "descending": False})
    case("sort_desc_dim0", fam, "sort", [Distinct([4, 3])], {"dim": 0, "descending": True})
    case("sort_f32", fam, "sort", [Distinct([6], dt="float32")], {"dim": 0, "descending": False})
    case("sort_stable_ties", fam, "sort", [V([2.0, 1.0, 2.0, 1.0, 0.0, 2.0])], {"dim": 0, "descending": False})
    case("argsort", fam, "argsort", [Distinct([3, 5])], {"dim": 1, "descending": False})
    case("argsort_desc_ties", fam, "argsort", [V([2.0, 1.0, 2.0, 3.0, 1.0])], {"dim": 0, "descending": True})
    case("argsort_int", fam, "argsort", [V([5, -2, 9, 0], dt="int64")], {"dim": 0, "descending": False})
    case("topk_largest", fam, "topk", [Distinct([3, 6])], {"k": 3, "dim": 1, "largest": True})
    case("topk_smallest", fam, "topk", [Distinct([3, 6])], {"k": 2, "dim": 1, "largest": False})
    case("topk_dim0", fam, "topk", [Distinct([5, 3])], {"k": 2, "dim": 0, "largest": True})
    case("sort_nan", fam, "sort", [V([3.0, "nan", -1.0, 2.0, "nan", 0.5], grad=False)], {"dim": 0, "descending": False})
    case("sort_nan_desc", fam, "sort", [V([3.0, "nan", -1.0, 2.0], grad=False)], {"dim": 0, "descending": True})
    case("topk_nan", fam, "topk", [V([3.0, "nan", -1.0, 2.0], grad=False)], {"k": 2, "dim": 0, "largest": True})
    case("sort_int", fam, "sort", [V([5, -2, 9, 0, -2], dt="int64")], {"dim": 0, "descending": True})
    case("sort_permuted", fam, "sort", [Distinct([4, 3], permute=[1, 0])], {"dim": 1, "descending": False})
    case("gather_permuted", fam, "gather", [U([4, 3], permute=[1, 0]), V([3, 0, 1, 2, 2, 1], [3, 2], dt="int64")], {"dim": 1})
    case("index_select_permuted", fam, "index_select", [U([3, 4], permute=[1, 0]), V([2, 0], dt="int64")], {"dim": 1})
    case("index_select_int32_index", fam, "index_select", [U([4, 2]), V([3, 1], dt="int32")], {"dim": 0})
    case("scatter_add_int", fam, "scatter_add", [V([1, 2, 3], dt="int64"), V([0, 0, 2, 1], dt="int64"), V([10, 20, 30, 40], dt="int64")], {"dim": 0})
    case("index_add_f32", fam, "index_add", [U([3, 2], dt="float32"), V([2, 2], dt="int64"), U([2, 2], dt="float32")], {"dim": 0})
    case("masked_fill_int", fam, "masked_fill", [V([1, 2, 3, 4], dt="int64"), V([1, 0, 0, 1], dt="bool")], {"value": 7.0})
    case("masked_fill_permuted", fam, "masked_fill", [U([4, 3], permute=[1, 0]), B([3, 4])], {"value": 0.5})
    case("one_hot", fam, "one_hot", [V([0, 2, 1, 4], dt="int64")], {"num_classes": 5})
    case("nonzero", fam, "nonzero", [V([0.0, 1.5, 0.0, -2.0, 3.0, 0.0], [2, 3])], grads=False)

    # ---- type promotion --------------------------------------------------------------------------
    fam = "promotion"
    i64, i32, u8, bl = V([1, 2, 3], dt="int64"), V([4, 5, 6], dt="int32"), V([7, 8, 250], dt="uint8"), V([1, 0, 1], dt="bool")
    f32, f64 = V([0.5, -1.25, 2.0], dt="float32", grad=False), V([0.25, 1.5, -3.0], grad=False)
    f16, bf16 = V([0.5, -1.25, 2.0], dt="float16"), V([1.5, 0.75, -2.0], dt="bfloat16")
    i64_0d, f64_0d = V(3, [], dt="int64"), V(2.5, [], grad=False)
    for nm, a, b in (("f32_f64", f32, f64), ("i32_i64", i32, i64), ("bool_i64", bl, i64), ("u8_i64", u8, i64),
                     ("u8_i32", u8, i32), ("bool_u8", bl, u8), ("i64_f32", i64, f32), ("f16_f32", f16, f32),
                     ("bf16_f16", bf16, f16), ("bf16_f64", bf16, f64), ("i32_f16", i32, f16), ("bool_bool", bl, bl),
                     ("f32_f64_0d", f32, f64_0d), ("i32_i64_0d", i32, i64_0d), ("i64_f64_0d", i64, f64_0d),
                     ("bool_i64_0d", bl, i64_0d), ("u8_f64_0d", u8, f64_0d)):
        case("add_" + nm, fam, "add", [a, b], grads=False)
    for nm, a, b in (("i64_i64", i64, i64), ("i32_u8", i32, u8), ("bool_i64", bl, i64)):
        case("mul_" + nm, fam, "mul", [a, b], grads=False)
        case("div_" + nm, fam, "div", [a, b], grads=False)
    case("sub_u8_u8_nowrap", fam, "sub", [V([9, 8, 250], dt="uint8"), V([1, 2, 3], dt="uint8")])
    for nm, x, scalar, integer in (("i64_float", i64, 2.5, False), ("i64_int", i64, 3, True),
                                   ("i32_float", i32, -1.5, False), ("i32_int", i32, 3, True),
                                   ("u8_int", u8, 2, True), ("u8_float", u8, 0.5, False),
                                   ("bool_int", bl, 2, True), ("bool_float", bl, 1.5, False),
                                   ("f16_float", f16, 0.1, False), ("bf16_int", bf16, 3, True),
                                   ("f32_float", f32, 0.1, False), ("f64_int", f64, 2, True)):
        case("add_scalar_" + nm, fam, "add_scalar", [x], {"scalar": scalar, "integer": integer, "reverse": False}, grads=False)
        case("mul_scalar_" + nm, fam, "mul_scalar", [x], {"scalar": scalar, "integer": integer, "reverse": True}, grads=False)
    case("div_scalar_i64_int", fam, "div_scalar", [i64], {"scalar": 2, "integer": True, "reverse": False})
    case("maximum_i32_f32", fam, "maximum", [i32, f32], grads=False)
    case("pow_i64_scalar2", fam, "pow_scalar", [i64], {"exponent": 2.0})
    case("pow_i64_scalar2_int", fam, "pow_scalar", [i64], {"exponent": 2, "integer": True})
    case("sub_u8_wrap", fam, "sub", [V([1, 8, 0], dt="uint8"), V([2, 2, 1], dt="uint8")])
    case("pow_i64_scalar_half", fam, "pow_scalar", [i64], {"exponent": 0.5})
    case("where_i64_f16", fam, "where", [V([1, 0, 1], dt="bool"), i64, f16], grads=False)

    # ---- composites -----------------------------------------------------------------------------
    fam = "composite"
    both("mul_self", fam, "mul_self", lambda dt: [U([3, 4], dt=dt)])
    both("mlp_tanh", fam, "mlp_tanh", lambda dt: [U([4, 3], dt=dt), U([3, 5], dt=dt), U([5], dt=dt)])
    both("layer_norm_manual", fam, "layer_norm_manual", lambda dt: [U([3, 6], dt=dt)], {"eps": 1e-5})
    both("attention", fam, "attention", lambda dt: [U([2, 3, 4], dt=dt), U([2, 5, 4], dt=dt), U([2, 5, 3], dt=dt)])
    both("cross_entropy_manual", fam, "cross_entropy_manual", lambda dt: [U([4, 5], -3, 3, dt=dt), V([0, 4, 2, 2], dt="int64")])

    # ---- conversions ------------------------------------------------------------------------------
    fam = "conversion"
    halves = V([0.1, -1.0 / 3.0, 1000.1, 65504.0, 1e-5, 3.14159265, -2.5, 70000.0, 6e-8, 1e-9, 0.0, -0.0], dt="float32", grad=False)
    case("f32_to_f16", fam, "to", [halves], {"dtype": "float16"})
    case("f32_to_bf16", fam, "to", [halves], {"dtype": "bfloat16"})
    case("f32_f16_roundtrip", fam, "to_roundtrip", [halves], {"dtype": "float16", "back": "float32"})
    case("f32_bf16_roundtrip", fam, "to_roundtrip", [halves], {"dtype": "bfloat16", "back": "float32"})
    case("f64_f16_roundtrip", fam, "to_roundtrip", [N([10], grad=False)], {"dtype": "float16", "back": "float64"})
    case("f64_bf16_roundtrip", fam, "to_roundtrip", [N([10], grad=False, scale=100)], {"dtype": "bfloat16", "back": "float64"})
    case("bf16_ties_to_even", fam, "to_roundtrip",
         [V([1.00390625, 1.01171875, -1.00390625, 256.5, 257.5, "inf", "-inf", "nan"], dt="float32", grad=False)],
         {"dtype": "bfloat16", "back": "float32"})
    case("f16_ties_to_even", fam, "to_roundtrip",
         [V([1.00048828125, 1.00146484375, 2049.0, 2051.0, "inf", 65520.0, "nan"], dt="float32", grad=False)],
         {"dtype": "float16", "back": "float32"})
    case("f64_to_f32", fam, "to", [V([0.1, 1.0 / 3.0, 1e-40, 3.4e38, -2.5])], {"dtype": "float32"})
    case("f64_to_f32_grad", fam, "to", [U([2, 3])], {"dtype": "float32"})
    case("f32_to_f64_grad", fam, "to", [U([4], dt="float32")], {"dtype": "float64"})
    case("float_to_int64_trunc", fam, "to", [V([1.7, -1.7, 2.5, -0.5, 0.0, 100.9], grad=False)], {"dtype": "int64"})
    case("float_to_int32", fam, "to", [V([1.7, -1.7, 2.5, -3.5], dt="float32", grad=False)], {"dtype": "int32"})
    case("float_to_uint8", fam, "to", [V([0.0, 1.9, 200.5, 255.0], grad=False)], {"dtype": "uint8"})
    case("float_to_bool", fam, "to", [V([0.0, -0.0, 0.1, -2.0, "nan"], grad=False)], {"dtype": "bool"})
    case("int_to_float", fam, "to", [V([1, -2, 123456789], dt="int64")], {"dtype": "float32"})
    case("int_to_f64", fam, "to", [V([1, -2, 123456789012], dt="int64")], {"dtype": "float64"})
    case("int64_to_int32_wrap", fam, "to", [V([1, -2, 4294967297], dt="int64")], {"dtype": "int32"})
    case("int64_to_uint8_wrap", fam, "to", [V([1, 255, 256, -1, 300], dt="int64")], {"dtype": "uint8"})
    case("int_to_bool", fam, "to", [V([0, 3, -1, 0], dt="int32")], {"dtype": "bool"})
    case("bool_to_float", fam, "to", [V([1, 0, 1], dt="bool")], {"dtype": "float32"})
    case("bool_to_int", fam, "to", [V([1, 0, 1], dt="bool")], {"dtype": "int64"})
    case("uint8_to_float", fam, "to", [V([0, 128, 255], dt="uint8")], {"dtype": "float64"})
    case("f16_to_bf16", fam, "to", [V([0.5, 1000.0, -3.140625, 0.0999755859375], dt="float16")], {"dtype": "bfloat16"})
    case("bf16_to_f16", fam, "to", [V([0.5, 1000.0, -3.140625, 1e-6], dt="bfloat16")], {"dtype": "float16"})
    case("f16_add", fam, "add", [V([0.1, 1000.0, -2.5, 3.0], dt="float16"), V([0.2, 0.5, 1.25, 2049.0], dt="float16")])
    case("bf16_mul", fam, "mul", [V([0.1, 1000.0, -2.5, 3.0], dt="bfloat16"), V([0.2, 0.5, 1.25, 7.0], dt="bfloat16")])
    case("f16_exp", fam, "exp", [V([0.1, 1.0, -2.5, 3.0], dt="float16")])
    case("bf16_sum", fam, "sum", [V([0.1, 1000.0, -2.5, 3.0, 7.0, 0.01], dt="bfloat16")], {"dims": [], "keepdim": False})
    case("f16_matmul", fam, "matmul", [V([0.5, 1.0, -2.0, 0.25, 3.0, 1.5], [2, 3], dt="float16"), V([1.0, 2.0, -0.5, 0.75, 0.125, 4.0], [3, 2], dt="float16")])


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Tests", "EmberTests", "Fixtures", "parity.json")
    torch.set_default_dtype(torch.float32)
    build()
    doc = {
        "generator": "scripts/make_fixtures.py",
        "torch_version": torch.__version__,
        "cases": CASES,
    }
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    with open(path, "w") as f:
        f.write(text)
        f.write("\n")
    families = sorted({c["family"] for c in CASES})
    print("wrote %s: %d cases, %d families (%s), %d bytes" % (path, len(CASES), len(families), ", ".join(families), len(text) + 1))


if __name__ == "__main__":
    main()
