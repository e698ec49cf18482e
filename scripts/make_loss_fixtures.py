#!/usr/bin/env python3
"""Writes Tests/EmberNNTests/Fixtures/losses.json: PyTorch reference values and gradients
for Ember's loss functions (Tests/EmberNNTests/LossTests.swift).

How to run (from the repository root; `.venv-ref` holds torch==2.13.0+cpu and numpy, see
scripts/make_fixtures.sh):

    .venv-ref/bin/python scripts/make_loss_fixtures.py [output-path]

Each case names a loss (`fn`, Ember's function name), its options (`params`, PyTorch's
values: reduction strings, weights as tensors), its inputs (shape, dtype, flat row-major
data, requires_grad), the upstream gradient used for backward (`grad_output`), the forward
output and the gradient of each input that requires grad (null for the others). Inputs are
drawn from a NumPy generator seeded with the CRC-32 of the case name and rounded to 6
decimals, so regenerating gives the same file. Non-finite floats are written as "nan",
"inf" and "-inf". The Swift test maps every `fn` to an Ember call and fails on an unknown one.
"""
import json
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

torch.use_deterministic_algorithms(True)
DT = {"float64": torch.float64, "float32": torch.float32, "int64": torch.int64}
NAMES = {v: k for k, v in DT.items()}


def enc_float(v):
    v = float(v)
    if v != v:
        return "nan"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    return 0.0 if v == 0 else v  # repr round-trips exactly; no "-0.0"


def encode(t):
    t = t.detach()
    name = NAMES[t.dtype]
    flat = t.reshape(-1)
    if name == "int64":
        data = [int(v) for v in flat.tolist()]
    else:  # float32 values are exact in float64
        data = [enc_float(v) for v in flat.to(torch.float64).tolist()]
    return {"shape": list(t.shape), "dtype": name, "data": data}


class Case:
    def __init__(self, name):
        self.name = name
        self.rng = np.random.default_rng(zlib.crc32(name.encode()))

    def randn(self, *shape, dtype=torch.float64, scale=1.0):
        a = np.round(self.rng.standard_normal(shape) * scale, 6)
        return torch.tensor(a, dtype=dtype)

    def uniform(self, lo, hi, *shape, dtype=torch.float64):
        a = np.round(self.rng.uniform(lo, hi, shape), 6)
        return torch.tensor(a, dtype=dtype)

    def ints(self, lo, hi, *shape):
        return torch.tensor(self.rng.integers(lo, hi, shape), dtype=torch.int64)

    def probs(self, *shape, dim=1, dtype=torch.float64):
        p = torch.softmax(self.randn(*shape), dim=dim)
        return torch.tensor(np.round(p.numpy(), 6), dtype=dtype)

    def signs(self, *shape, dtype=torch.float64):
        return torch.tensor(self.rng.choice([-1.0, 1.0], shape), dtype=dtype)


CASES = []


def case(name, fn, inputs, grads, params, call, grad_output=True):
    """inputs: list of tensors; grads: list of bools (requires_grad per input); call: the
    PyTorch computation on the inputs."""
    c = Case(name)
    leaves = []
    for t, g in zip(inputs, grads):
        t = t.clone()
        if g:
            t.requires_grad_(True)
        leaves.append(t)
    out = call(*leaves)
    entry = {"name": name, "fn": fn, "params": params,
             "inputs": [dict(encode(t), requires_grad=bool(g)) for t, g in zip(leaves, grads)],
             "output": encode(out)}
    if any(grads):
        seed = Case(name + "/grad")
        upstream = torch.tensor(np.round(seed.rng.uniform(0.5, 1.5, tuple(out.shape)), 6), dtype=out.dtype) \
            if grad_output else torch.ones_like(out)
        out.backward(upstream)
        entry["grad_output"] = encode(upstream)
        entry["grads"] = [encode(t.grad) if g else None for t, g in zip(leaves, grads)]
    CASES.append(entry)


def tensor_param(t):
    return encode(t)


REDUCTIONS = ["none", "mean", "sum"]


def build():
    # ------------------------------------------------------------------ crossEntropy
    for red in REDUCTIONS:
        c = Case(f"ce_basic_{red}")
        case(c.name, "crossEntropy", [c.randn(5, 4), c.ints(0, 4, 5)], [True, False],
             {"reduction": red}, lambda x, t: F.cross_entropy(x, t, reduction=red))
        c = Case(f"ce_weight_{red}")
        w = c.uniform(0.2, 2.0, 4)
        case(c.name, "crossEntropy", [c.randn(6, 4), c.ints(0, 4, 6)], [True, False],
             {"reduction": red, "weight": tensor_param(w)},
             lambda x, t, w=w: F.cross_entropy(x, t, weight=w, reduction=red))
        c = Case(f"ce_ignore_{red}")
        t = torch.tensor([0, 2, 1, 2, 3, 2, 1], dtype=torch.int64)
        case(c.name, "crossEntropy", [c.randn(7, 4), t], [True, False],
             {"reduction": red, "ignore_index": 2},
             lambda x, t: F.cross_entropy(x, t, ignore_index=2, reduction=red))
        c = Case(f"ce_weight_ignore_default_{red}")
        w = c.uniform(0.2, 2.0, 3)
        t = torch.tensor([0, -100, 1, 2, -100, 2], dtype=torch.int64)
        case(c.name, "crossEntropy", [c.randn(6, 3), t], [True, False],
             {"reduction": red, "weight": tensor_param(w)},
             lambda x, t, w=w: F.cross_entropy(x, t, weight=w, reduction=red))
        c = Case(f"ce_smooth_{red}")
        case(c.name, "crossEntropy", [c.randn(5, 4), c.ints(0, 4, 5)], [True, False],
             {"reduction": red, "label_smoothing": 0.1},
             lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1, reduction=red))
        c = Case(f"ce_smooth_weight_ignore_{red}")
        w = c.uniform(0.2, 2.0, 5)
        t = torch.tensor([0, 4, 1, 3, 1, 2, 4, 1], dtype=torch.int64)
        case(c.name, "crossEntropy", [c.randn(8, 5), t], [True, False],
             {"reduction": red, "weight": tensor_param(w), "ignore_index": 1, "label_smoothing": 0.25},
             lambda x, t, w=w: F.cross_entropy(x, t, weight=w, ignore_index=1, label_smoothing=0.25, reduction=red))
        c = Case(f"ce_prob_{red}")
        case(c.name, "crossEntropy", [c.randn(4, 5), c.probs(4, 5)], [True, True],
             {"reduction": red}, lambda x, t: F.cross_entropy(x, t, reduction=red))
        c = Case(f"ce_prob_weight_smooth_{red}")
        w = c.uniform(0.2, 2.0, 5)
        case(c.name, "crossEntropy", [c.randn(4, 5), c.probs(4, 5)], [True, False],
             {"reduction": red, "weight": tensor_param(w), "label_smoothing": 0.2},
             lambda x, t, w=w: F.cross_entropy(x, t, weight=w, label_smoothing=0.2, reduction=red))
        # K-dimensional: (N, C, H, W) with (N, H, W) targets, weights, an ignored class, smoothing.
        c = Case(f"ce_kdim_{red}")
        w = c.uniform(0.2, 2.0, 3)
        t = c.ints(0, 3, 2, 3, 4)
        t[0, 1, 2] = -100
        t[1, 0, 0] = -100
        case(c.name, "crossEntropy", [c.randn(2, 3, 3, 4), t], [True, False],
             {"reduction": red, "weight": tensor_param(w), "label_smoothing": 0.15},
             lambda x, t, w=w: F.cross_entropy(x, t, weight=w, label_smoothing=0.15, reduction=red))
        c = Case(f"ce_kdim_prob_{red}")
        w = c.uniform(0.2, 2.0, 3)
        case(c.name, "crossEntropy", [c.randn(2, 3, 2, 2), c.probs(2, 3, 2, 2)], [True, False],
             {"reduction": red, "weight": tensor_param(w)},
             lambda x, t, w=w: F.cross_entropy(x, t, weight=w, reduction=red))
    c = Case("ce_3d_mean")
    case(c.name, "crossEntropy", [c.randn(2, 4, 3), c.ints(0, 4, 2, 3)], [True, False],
         {"reduction": "mean"}, lambda x, t: F.cross_entropy(x, t))
    c = Case("ce_5d_ignore_mean")
    t = c.ints(0, 3, 2, 2, 2, 2)
    t[0, 0, 1, 1] = 0
    case(c.name, "crossEntropy", [c.randn(2, 3, 2, 2, 2), t], [True, False],
         {"reduction": "mean", "ignore_index": 0}, lambda x, t: F.cross_entropy(x, t, ignore_index=0))
    for red in ["none", "mean"]:
        c = Case(f"ce_1d_{red}")
        case(c.name, "crossEntropy", [c.randn(5), torch.tensor(3)], [True, False],
             {"reduction": red, "label_smoothing": 0.1},
             lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1, reduction=red))
        c = Case(f"ce_1d_prob_{red}")
        case(c.name, "crossEntropy", [c.randn(5), c.probs(5, dim=0)], [True, False],
             {"reduction": red}, lambda x, t: F.cross_entropy(x, t, reduction=red))
    # Every target ignored: the mean is 0/0 = NaN and the gradient is 0, as PyTorch.
    t = torch.tensor([-100, -100, -100], dtype=torch.int64)
    for ls in [0.0, 0.1]:
        c = Case(f"ce_all_ignored_smooth{ls}_mean")
        case(c.name, "crossEntropy", [c.randn(3, 4), t], [True, False], {"reduction": "mean", "label_smoothing": ls},
             lambda x, t, ls=ls: F.cross_entropy(x, t, label_smoothing=ls))
    c = Case("nll_all_ignored_weight_mean")
    w = c.uniform(0.2, 2.0, 4)
    case(c.name, "nllLoss", [c.randn(3, 4), t], [True, False], {"reduction": "mean", "weight": tensor_param(w)},
         lambda x, t, w=w: F.nll_loss(x, t, weight=w))
    c = Case("ce_float32_weight_smooth_mean")
    w = c.uniform(0.2, 2.0, 6, dtype=torch.float32)
    case(c.name, "crossEntropy", [c.randn(8, 6, dtype=torch.float32, scale=3), c.ints(0, 6, 8)], [True, False],
         {"reduction": "mean", "weight": tensor_param(w), "label_smoothing": 0.1},
         lambda x, t, w=w: F.cross_entropy(x, t, weight=w, label_smoothing=0.1))
    c = Case("ce_float32_prob_sum")
    case(c.name, "crossEntropy", [c.randn(3, 4, dtype=torch.float32), c.probs(3, 4, dtype=torch.float32)],
         [True, False], {"reduction": "sum"}, lambda x, t: F.cross_entropy(x, t, reduction="sum"))
    c = Case("ce_large_logits_mean")
    case(c.name, "crossEntropy", [c.randn(4, 3, scale=400), c.ints(0, 3, 4)], [True, False],
         {"reduction": "mean"}, lambda x, t: F.cross_entropy(x, t))

    # ------------------------------------------------------------------ nllLoss
    for red in REDUCTIONS:
        c = Case(f"nll_basic_{red}")
        case(c.name, "nllLoss", [c.randn(5, 3), c.ints(0, 3, 5)], [True, False],
             {"reduction": red}, lambda x, t: F.nll_loss(x, t, reduction=red))
        c = Case(f"nll_weight_ignore_{red}")
        w = c.uniform(0.2, 2.0, 4)
        t = torch.tensor([3, 0, 1, 0, 2, 3], dtype=torch.int64)
        case(c.name, "nllLoss", [c.randn(6, 4), t], [True, False],
             {"reduction": red, "weight": tensor_param(w), "ignore_index": 0},
             lambda x, t, w=w: F.nll_loss(x, t, weight=w, ignore_index=0, reduction=red))
        c = Case(f"nll_kdim_{red}")
        w = c.uniform(0.2, 2.0, 3)
        t = c.ints(0, 3, 2, 2, 3)
        t[1, 1, 2] = -100
        case(c.name, "nllLoss", [c.randn(2, 3, 2, 3), t], [True, False],
             {"reduction": red, "weight": tensor_param(w)},
             lambda x, t, w=w: F.nll_loss(x, t, weight=w, reduction=red))
    c = Case("nll_1d_sum")
    case(c.name, "nllLoss", [c.randn(4), torch.tensor(1)], [True, False],
         {"reduction": "sum"}, lambda x, t: F.nll_loss(x, t, reduction="sum"))
    c = Case("nll_float32_mean")
    case(c.name, "nllLoss", [c.randn(6, 5, dtype=torch.float32), c.ints(0, 5, 6)], [True, False],
         {"reduction": "mean"}, lambda x, t: F.nll_loss(x, t))

    # ------------------------------------------------------------------ regression
    for red in REDUCTIONS:
        c = Case(f"mse_{red}")
        case(c.name, "mseLoss", [c.randn(3, 4), c.randn(3, 4)], [True, True],
             {"reduction": red}, lambda x, y: F.mse_loss(x, y, reduction=red))
        c = Case(f"l1_{red}")
        x, y = c.randn(3, 4), c.randn(3, 4)
        y[0, 0] = x[0, 0]
        y[2, 3] = x[2, 3]
        case(c.name, "l1Loss", [x, y], [True, True], {"reduction": red},
             lambda x, y: F.l1_loss(x, y, reduction=red))
        for beta in [1.0, 0.5, 0.0]:
            c = Case(f"smoothl1_beta{beta}_{red}")
            x, y = c.randn(4, 5), c.randn(4, 5)
            y[0, 0] = x[0, 0]
            case(c.name, "smoothL1Loss", [x, y], [True, True], {"reduction": red, "beta": beta},
                 lambda x, y, beta=beta: F.smooth_l1_loss(x, y, beta=beta, reduction=red))
        for delta in [1.0, 2.5, 0.3]:
            c = Case(f"huber_delta{delta}_{red}")
            case(c.name, "huberLoss", [c.randn(4, 5, scale=2), c.randn(4, 5)], [True, True],
                 {"reduction": red, "delta": delta},
                 lambda x, y, delta=delta: F.huber_loss(x, y, delta=delta, reduction=red))
    for fn, tf in [("mseLoss", F.mse_loss), ("l1Loss", F.l1_loss), ("smoothL1Loss", F.smooth_l1_loss),
                   ("huberLoss", F.huber_loss)]:
        c = Case(f"{fn}_float32_mean")
        case(c.name, fn, [c.randn(2, 3, 4, dtype=torch.float32, scale=2), c.randn(2, 3, 4, dtype=torch.float32)],
             [True, False], {"reduction": "mean"}, lambda x, y, tf=tf: tf(x, y))
    c = Case("mse_0d_sum")
    case(c.name, "mseLoss", [torch.tensor(1.5, dtype=torch.float64), torch.tensor(-0.25, dtype=torch.float64)],
         [True, False], {"reduction": "sum"}, lambda x, y: F.mse_loss(x, y, reduction="sum"))

    # ------------------------------------------------------------------ binary cross-entropy
    for red in REDUCTIONS:
        c = Case(f"bce_{red}")
        case(c.name, "binaryCrossEntropy", [c.uniform(0.02, 0.98, 4, 3), c.uniform(0, 1, 4, 3)], [True, True],
             {"reduction": red}, lambda x, y: F.binary_cross_entropy(x, y, reduction=red))
        c = Case(f"bce_weight_{red}")
        w = c.uniform(0.2, 2.0, 3)
        case(c.name, "binaryCrossEntropy", [c.uniform(0.02, 0.98, 4, 3), c.uniform(0, 1, 4, 3)], [True, False],
             {"reduction": red, "weight": tensor_param(w)},
             lambda x, y, w=w: F.binary_cross_entropy(x, y, weight=w, reduction=red))
    # Saturated probabilities: logs clamp at -100, gradients use max(x(1-x), 1e-12).
    x = torch.tensor([0.0, 1.0, 0.0, 1.0, 1e-13, 1 - 1e-13, 1e-50, 0.5], dtype=torch.float64)
    y = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.25], dtype=torch.float64)
    for red in ["none", "sum"]:
        case(f"bce_saturated_{red}", "binaryCrossEntropy", [x, y], [True, False], {"reduction": red},
             lambda x, y: F.binary_cross_entropy(x, y, reduction=red))
    xf = torch.tensor([0.0, 1.0, 0.999999, 1e-30, 0.3], dtype=torch.float32)
    yf = torch.tensor([1.0, 1.0, 0.0, 0.0, 1.0], dtype=torch.float32)
    case("bce_saturated_float32_none", "binaryCrossEntropy", [xf, yf], [True, False], {"reduction": "none"},
         lambda x, y: F.binary_cross_entropy(x, y, reduction="none"))
    c = Case("bce_float32_mean")
    case(c.name, "binaryCrossEntropy", [c.uniform(0.01, 0.99, 3, 4, dtype=torch.float32),
                                        c.uniform(0, 1, 3, 4, dtype=torch.float32)], [True, False],
         {"reduction": "mean"}, lambda x, y: F.binary_cross_entropy(x, y))

    for red in REDUCTIONS:
        c = Case(f"bcel_{red}")
        case(c.name, "binaryCrossEntropyWithLogits", [c.randn(4, 3, scale=2), c.uniform(0, 1, 4, 3)], [True, True],
             {"reduction": red}, lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction=red))
        c = Case(f"bcel_weight_{red}")
        w = c.uniform(0.2, 2.0, 4, 1)
        case(c.name, "binaryCrossEntropyWithLogits", [c.randn(4, 3, scale=2), c.uniform(0, 1, 4, 3)],
             [True, False], {"reduction": red, "weight": tensor_param(w)},
             lambda x, y, w=w: F.binary_cross_entropy_with_logits(x, y, weight=w, reduction=red))
        c = Case(f"bcel_posweight_{red}")
        pw = c.uniform(0.5, 4.0, 3)
        case(c.name, "binaryCrossEntropyWithLogits", [c.randn(4, 3, scale=2), c.uniform(0, 1, 4, 3)],
             [True, True], {"reduction": red, "pos_weight": tensor_param(pw)},
             lambda x, y, pw=pw: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction=red))
        c = Case(f"bcel_weight_posweight_{red}")
        w, pw = c.uniform(0.2, 2.0, 3), c.uniform(0.5, 4.0, 3)
        case(c.name, "binaryCrossEntropyWithLogits", [c.randn(2, 4, 3, scale=2), c.uniform(0, 1, 2, 4, 3)],
             [True, False], {"reduction": red, "weight": tensor_param(w), "pos_weight": tensor_param(pw)},
             lambda x, y, w=w, pw=pw: F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw,
                                                                          reduction=red))
    xl = torch.tensor([-800.0, -60.0, -20.0, 0.0, 20.0, 60.0, 800.0, 1e-8], dtype=torch.float64)
    yl = torch.tensor([0.0, 1.0, 0.5, 1.0, 0.0, 1.0, 0.0, 0.3], dtype=torch.float64)
    pwl = torch.tensor([2.0], dtype=torch.float64)
    case("bcel_extreme_none", "binaryCrossEntropyWithLogits", [xl, yl], [True, False], {"reduction": "none"},
         lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"))
    case("bcel_extreme_posweight_sum", "binaryCrossEntropyWithLogits", [xl, yl], [True, False],
         {"reduction": "sum", "pos_weight": tensor_param(pwl)},
         lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=pwl, reduction="sum"))
    c = Case("bcel_float32_posweight_mean")
    pw = c.uniform(0.5, 4.0, 4, dtype=torch.float32)
    case(c.name, "binaryCrossEntropyWithLogits", [c.randn(3, 4, dtype=torch.float32, scale=5),
                                                  c.uniform(0, 1, 3, 4, dtype=torch.float32)], [True, False],
         {"reduction": "mean", "pos_weight": tensor_param(pw)},
         lambda x, y, pw=pw: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw))

    # ------------------------------------------------------------------ klDiv
    for red in ["none", "mean", "sum", "batchmean"]:
        c = Case(f"kl_{red}")
        t = c.probs(3, 4)
        t[0, 1] = 0.0
        t[2, 3] = 0.0
        case(c.name, "klDiv", [torch.log_softmax(c.randn(3, 4), 1), t], [True, False],
             {"reduction": red, "log_target": False},
             lambda x, y: F.kl_div(x, y, reduction=red, log_target=False))
        c = Case(f"kl_logtarget_{red}")
        case(c.name, "klDiv", [torch.log_softmax(c.randn(3, 4), 1), torch.log_softmax(c.randn(3, 4), 1)],
             [True, True], {"reduction": red, "log_target": True},
             lambda x, y: F.kl_div(x, y, reduction=red, log_target=True))
    c = Case("kl_target_grad_sum")
    case(c.name, "klDiv", [torch.log_softmax(c.randn(2, 5), 1), c.probs(2, 5)], [True, True],
         {"reduction": "sum", "log_target": False}, lambda x, y: F.kl_div(x, y, reduction="sum"))
    c = Case("kl_float32_batchmean")
    case(c.name, "klDiv", [torch.log_softmax(c.randn(4, 6, dtype=torch.float32), 1), c.probs(4, 6, dtype=torch.float32)],
         [True, False], {"reduction": "batchmean", "log_target": False},
         lambda x, y: F.kl_div(x, y, reduction="batchmean"))

    # ------------------------------------------------------------------ cosineEmbeddingLoss
    for red in REDUCTIONS:
        for margin in [0.0, 0.3, -0.4]:
            c = Case(f"cosine_margin{margin}_{red}")
            case(c.name, "cosineEmbeddingLoss", [c.randn(6, 5), c.randn(6, 5), c.signs(6)],
                 [True, True, False], {"reduction": red, "margin": margin},
                 lambda a, b, y, margin=margin: F.cosine_embedding_loss(a, b, y, margin=margin, reduction=red))
    c = Case("cosine_0d_target")
    case(c.name, "cosineEmbeddingLoss", [c.randn(4), c.randn(4), torch.tensor(-1.0, dtype=torch.float64)],
         [True, True, False], {"reduction": "mean", "margin": -0.5},
         lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=-0.5))
    c = Case("cosine_int_target_with_zero")
    case(c.name, "cosineEmbeddingLoss", [c.randn(4, 3), c.randn(4, 3), torch.tensor([1, -1, 0, 1])],
         [True, True, False], {"reduction": "none", "margin": 0.0},
         lambda a, b, y: F.cosine_embedding_loss(a, b, y, reduction="none"))
    c = Case("cosine_float32_mean")
    case(c.name, "cosineEmbeddingLoss", [c.randn(5, 8, dtype=torch.float32), c.randn(5, 8, dtype=torch.float32),
                                         c.signs(5, dtype=torch.float32)], [True, True, False],
         {"reduction": "mean", "margin": 0.1}, lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.1))

    # ------------------------------------------------------------------ marginRankingLoss
    for red in REDUCTIONS:
        for margin in [0.0, 0.5]:
            c = Case(f"ranking_margin{margin}_{red}")
            case(c.name, "marginRankingLoss", [c.randn(7), c.randn(7), c.signs(7)], [True, True, False],
                 {"reduction": red, "margin": margin},
                 lambda a, b, y, margin=margin: F.margin_ranking_loss(a, b, y, margin=margin, reduction=red))
    c = Case("ranking_broadcast_sum")
    case(c.name, "marginRankingLoss", [c.randn(3, 4), c.randn(1, 4), c.signs(3, 1)], [True, True, False],
         {"reduction": "sum", "margin": 0.2},
         lambda a, b, y: F.margin_ranking_loss(a, b, y, margin=0.2, reduction="sum"))

    # ------------------------------------------------------------------ tripletMarginLoss
    for red in REDUCTIONS:
        for p in [2.0, 1.0]:
            for swap in [False, True]:
                c = Case(f"triplet_p{p}_swap{swap}_{red}")
                case(c.name, "tripletMarginLoss", [c.randn(5, 4), c.randn(5, 4), c.randn(5, 4)],
                     [True, True, True], {"reduction": red, "margin": 1.0, "p": p, "eps": 1e-6, "swap": swap},
                     lambda a, pp, n, p=p, swap=swap: F.triplet_margin_loss(a, pp, n, p=p, swap=swap,
                                                                            reduction=red))
    c = Case("triplet_margin_p3_eps_mean")
    case(c.name, "tripletMarginLoss", [c.randn(4, 3), c.randn(4, 3), c.randn(4, 3)], [True, True, True],
         {"reduction": "mean", "margin": 2.5, "p": 3.0, "eps": 1e-3, "swap": True},
         lambda a, pp, n: F.triplet_margin_loss(a, pp, n, margin=2.5, p=3, eps=1e-3, swap=True))
    c = Case("triplet_1d_none")
    case(c.name, "tripletMarginLoss", [c.randn(6), c.randn(6), c.randn(6)], [True, True, True],
         {"reduction": "none", "margin": 0.5, "p": 2.0, "eps": 1e-6, "swap": False},
         lambda a, pp, n: F.triplet_margin_loss(a, pp, n, margin=0.5, reduction="none"))
    c = Case("triplet_float32_mean")
    case(c.name, "tripletMarginLoss", [c.randn(6, 8, dtype=torch.float32), c.randn(6, 8, dtype=torch.float32),
                                       c.randn(6, 8, dtype=torch.float32)], [True, True, True],
         {"reduction": "mean", "margin": 1.0, "p": 2.0, "eps": 1e-6, "swap": True},
         lambda a, pp, n: F.triplet_margin_loss(a, pp, n, swap=True))


def main():
    build()
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "EmberNNTests", "Fixtures", "losses.json")
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    text = json.dumps({"torch": torch.__version__, "cases": CASES}, separators=(",", ":"))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    print(f"wrote {len(CASES)} cases, {len(text)} bytes to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
