#!/usr/bin/env python3
"""Writes Tests/EmberNNTests/Fixtures/layers.json: PyTorch reference results for the
EmberNN layer parity tests (Tests/EmberNNTests/LayerParityTests.swift).

How to run (from the repository root; .venv-ref is made by scripts/make_fixtures.sh):

    .venv-ref/bin/python scripts/make_nn_fixtures.py [output-path]

Deterministic: each case draws its parameters, inputs and upstream gradient from a NumPy
generator seeded with the CRC-32 of the case name. Each case records:

- name, layer (the torch.nn class name) and config (constructor arguments, Ember spelling),
- dtype of the computation and mode ("train" or "eval"),
- state: the layer's full state_dict *before* the run (PyTorch names, so the Swift side
  loads it by name with loadStateDict, which also checks the names and shapes),
- steps (forward passes; running statistics change on each one in training mode),
  earlier_inputs (the inputs of the first steps - 1 passes, floating cases only) and
  inputs (of the last pass; two for Bilinear, int64 indices for Embedding),
- output and grad_output of the last step, grads of the inputs that are floating point and
  of every parameter (by state-dict name) after backward(grad_output) on the last step,
- state_after: the state_dict after the run (running statistics, num_batches_tracked).

The Swift test maps every layer name to an Ember module and fails on an unmapped one.
"""
import json
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn

torch.use_deterministic_algorithms(True)
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def encode(t):
    t = t.detach()
    if t.dtype in (torch.float32, torch.float64):
        digits = 9 if t.dtype == torch.float32 else 17
        data = [float("%.*g" % (digits, v)) for v in t.reshape(-1).tolist()]
    else:
        data = [int(v) for v in t.reshape(-1).tolist()]
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": data}


def make_layer(layer, config):
    c = dict(config)
    if layer == "Linear":
        return nn.Linear(c["inFeatures"], c["outFeatures"], bias=c.get("bias", True))
    if layer == "Bilinear":
        return nn.Bilinear(c["in1Features"], c["in2Features"], c["outFeatures"], bias=c.get("bias", True))
    if layer in ("BatchNorm1d", "BatchNorm2d"):
        cls = getattr(nn, layer)
        return cls(c["numFeatures"], eps=c.get("eps", 1e-5), momentum=c.get("momentum", 0.1),
                   affine=c.get("affine", True), track_running_stats=c.get("trackRunningStats", True))
    if layer == "LayerNorm":
        return nn.LayerNorm(c["normalizedShape"], eps=c.get("eps", 1e-5),
                            elementwise_affine=c.get("elementwiseAffine", True), bias=c.get("bias", True))
    if layer == "GroupNorm":
        return nn.GroupNorm(c["numGroups"], c["numChannels"], eps=c.get("eps", 1e-5), affine=c.get("affine", True))
    if layer == "Embedding":
        return nn.Embedding(c["numEmbeddings"], c["embeddingDim"], padding_idx=c.get("paddingIdx"))
    raise ValueError(layer)


def case(name, layer, config, inputs, mode="train", steps=1, dtype="float64", randomize=()):
    """inputs: list of shapes (floating) or ("index", shape, high) for integer indices.
    randomize: state-dict entries to re-draw (e.g. running statistics, affine parameters)."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    torch_dtype = DTYPES[dtype]
    module = make_layer(layer, config).to(torch_dtype)
    with torch.no_grad():
        for key, tensor in module.state_dict().items():
            if not tensor.is_floating_point():
                continue
            if key in randomize or key in ("weight", "bias") and layer in ("Linear", "Bilinear", "Embedding"):
                values = rng.standard_normal(tuple(tensor.shape))
                if key == "running_var":
                    values = np.abs(values) + 0.5
                tensor.copy_(torch.from_numpy(values))
    if layer == "Embedding" and config.get("paddingIdx") is not None:
        with torch.no_grad():
            module.weight[config["paddingIdx"]] = torch.from_numpy(rng.standard_normal(config["embeddingDim"]))
    state = {k: encode(v) for k, v in module.state_dict().items()}
    module.train(mode == "train")
    tensors = []
    for spec in inputs:
        if spec[0] == "index":
            _, shape, high = spec
            tensors.append(torch.from_numpy(rng.integers(0, high, size=shape)).to(torch.int64))
        else:
            tensors.append(torch.from_numpy(rng.standard_normal(spec)).to(torch_dtype).requires_grad_(True))
    earlier = []
    for _ in range(steps - 1):
        batch = [torch.from_numpy(rng.standard_normal(tuple(t.shape))).to(torch_dtype) for t in tensors]
        earlier.append([encode(t) for t in batch])
        module(*batch)
    out = module(*tensors)
    grad_output = torch.from_numpy(rng.standard_normal(tuple(out.shape))).to(torch_dtype)
    out.backward(grad_output)
    grads = {}
    for i, t in enumerate(tensors):
        if t.is_floating_point():
            grads["input%d" % i] = encode(t.grad)
    for key, p in module.named_parameters():
        grads[key] = encode(p.grad if p.grad is not None else torch.zeros_like(p))
    return {
        "name": name, "layer": layer, "config": config, "dtype": dtype, "mode": mode, "steps": steps,
        "state": state, "earlier_inputs": earlier, "inputs": [encode(t) for t in tensors], "output": encode(out),
        "grad_output": encode(grad_output), "grads": grads,
        "state_after": {k: encode(v) for k, v in module.state_dict().items()},
    }


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "Tests", "EmberNNTests", "Fixtures", "layers.json")
    bn_stats = ("weight", "bias", "running_mean", "running_var")
    cases = [
        case("linear_batched", "Linear", {"inFeatures": 4, "outFeatures": 3}, [[2, 5, 4]]),
        case("linear_no_bias", "Linear", {"inFeatures": 4, "outFeatures": 3, "bias": False}, [[3, 4]]),
        case("linear_float32", "Linear", {"inFeatures": 6, "outFeatures": 5}, [[4, 6]], dtype="float32"),
        case("bilinear", "Bilinear", {"in1Features": 3, "in2Features": 4, "outFeatures": 2}, [[5, 3], [5, 4]]),
        case("bilinear_no_bias_batched", "Bilinear", {"in1Features": 2, "in2Features": 3, "outFeatures": 4, "bias": False},
             [[2, 3, 2], [2, 3, 3]]),
        case("batchnorm1d_train", "BatchNorm1d", {"numFeatures": 3}, [[6, 3]], randomize=bn_stats),
        case("batchnorm1d_train_3d", "BatchNorm1d", {"numFeatures": 3, "momentum": 0.3}, [[4, 3, 5]], randomize=bn_stats),
        case("batchnorm1d_eval", "BatchNorm1d", {"numFeatures": 3}, [[6, 3]], mode="eval", randomize=bn_stats),
        case("batchnorm2d_train", "BatchNorm2d", {"numFeatures": 2}, [[3, 2, 4, 4]], randomize=bn_stats),
        case("batchnorm2d_train_float32", "BatchNorm2d", {"numFeatures": 4}, [[2, 4, 3, 3]], dtype="float32",
             randomize=bn_stats),
        case("batchnorm2d_train_cumulative_3_steps", "BatchNorm2d", {"numFeatures": 2, "momentum": None},
             [[2, 2, 3, 3]], steps=3, randomize=bn_stats),
        case("batchnorm2d_eval", "BatchNorm2d", {"numFeatures": 2, "eps": 1e-3}, [[3, 2, 4, 4]], mode="eval",
             randomize=bn_stats),
        case("batchnorm2d_eval_untracked_no_affine", "BatchNorm2d",
             {"numFeatures": 2, "affine": False, "trackRunningStats": False}, [[3, 2, 2, 2]], mode="eval"),
        case("layernorm_2d_shape", "LayerNorm", {"normalizedShape": [3, 4]}, [[2, 3, 4]], randomize=("weight", "bias")),
        case("layernorm_no_affine", "LayerNorm", {"normalizedShape": [5], "elementwiseAffine": False, "eps": 1e-3},
             [[4, 5]]),
        case("layernorm_no_bias", "LayerNorm", {"normalizedShape": [6], "bias": False}, [[2, 3, 6]],
             randomize=("weight",)),
        case("groupnorm", "GroupNorm", {"numGroups": 2, "numChannels": 4}, [[2, 4, 3, 3]], randomize=("weight", "bias")),
        case("groupnorm_one_group_3d", "GroupNorm", {"numGroups": 1, "numChannels": 3}, [[2, 3, 5]],
             randomize=("weight", "bias")),
        case("embedding_padding_idx", "Embedding", {"numEmbeddings": 6, "embeddingDim": 3, "paddingIdx": 2},
             [("index", [2, 4], 6)]),
        case("embedding_repeated_indices", "Embedding", {"numEmbeddings": 5, "embeddingDim": 4},
             [("index", [7], 3)]),
    ]
    # Make sure the padding case really looks the padding row up.
    assert 2 in cases[-2]["inputs"][0]["data"], "padding case never uses the padding index"
    with open(out_path, "w") as f:
        json.dump({"torch_version": torch.__version__, "cases": cases}, f, separators=(",", ":"))
    print("wrote %s (%d cases, %d bytes)" % (out_path, len(cases), os.path.getsize(out_path)))


if __name__ == "__main__":
    main()
