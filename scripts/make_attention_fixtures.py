#!/usr/bin/env python3
"""Writes Tests/EmberNNTests/Fixtures/attention.json: PyTorch reference results for the
attention and transformer parity tests (Tests/EmberNNTests/AttentionTests.swift).

How to run (from the repository root; .venv-ref is made by scripts/make_fixtures.sh):

    .venv-ref/bin/python scripts/make_attention_fixtures.py [output-path]

Deterministic: each case draws its parameters and inputs from a NumPy generator seeded with
the CRC-32 of the case name. Everything runs in float64, in eval mode with dropout 0. Each
case records:

- name, kind (sdpa, MultiheadAttention, TransformerEncoderLayer, TransformerDecoderLayer,
  TransformerEncoder, TransformerDecoder, RMSNorm, rope) and config (Ember spelling),
- state: the module's state_dict (PyTorch names; the Swift side loads it by name),
- inputs: named tensors (bool masks as 0/1 with dtype "bool"), and grad_inputs, the names
  of the inputs that require grad,
- outputs: the output (and the attention weights when returned), grad_output for the
  first output, and grads of the grad_inputs and of every parameter after backward.

The Swift test maps every kind to Ember and fails on an unmapped one.
"""
import json
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.use_deterministic_algorithms(True)
DT = torch.float64


def encode(t):
    t = t.detach()
    if t.dtype == torch.bool:
        return {"shape": list(t.shape), "dtype": "bool", "data": [int(v) for v in t.reshape(-1).tolist()]}
    # JSON has no infinities: -inf (masks) is written as -1e308 and read back as -inf.
    assert not torch.isnan(t).any() and not torch.isposinf(t).any()
    data = [-1e308 if v == float("-inf") else float("%.17g" % v) for v in t.reshape(-1).tolist()]
    return {"shape": list(t.shape), "dtype": "float64", "data": data}


class Case:
    def __init__(self, name):
        self.rng = np.random.default_rng(zlib.crc32(name.encode()))
        self.name = name

    def randn(self, *shape, scale=1.0):
        return torch.tensor(self.rng.standard_normal(shape) * scale, dtype=DT)

    def bool_mask(self, *shape, p=0.3, keep_col=None):
        m = self.rng.random(shape) < p
        return torch.tensor(m)


def randomize(module, case):
    with torch.no_grad():
        for _, p in module.named_parameters():
            p.copy_(case.randn(*p.shape, scale=0.5))
        for name, p in module.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name.endswith("norm3.weight") or name == "norm.weight" or name == "weight":
                p.add_(1.0)


def run(name, kind, config, module, inputs, grad_inputs, call):
    """call(module, inputs) -> tuple of outputs."""
    case_rng = np.random.default_rng(zlib.crc32((name + "/grad").encode()))
    if module is not None:
        module.double().eval()
    for k in grad_inputs:
        inputs[k] = inputs[k].clone().requires_grad_(True)
    outs = call(module, inputs)
    if not isinstance(outs, tuple):
        outs = (outs,)
    outs = [o for o in outs if o is not None]
    grad_output = torch.tensor(case_rng.standard_normal(tuple(outs[0].shape)), dtype=DT)
    outs[0].backward(grad_output)
    grads = {}
    for k in grad_inputs:
        grads["input." + k] = encode(inputs[k].grad)
    state = {}
    if module is not None:
        for pname, p in module.named_parameters():
            grads[pname] = encode(p.grad)
        state = {k: encode(v) for k, v in module.state_dict().items()}
    return {
        "name": name, "kind": kind, "config": config, "state": state,
        "inputs": {k: encode(v) for k, v in inputs.items()}, "grad_inputs": grad_inputs,
        "outputs": [encode(o) for o in outs], "grad_output": encode(grad_output), "grads": grads,
    }


def sdpa_cases():
    cases = []

    def sdpa(name, lq, s, e, ev, mask=None, causal=False, scale=None):
        c = Case(name)
        inputs = {"query": c.randn(2, 3, lq, e), "key": c.randn(2, 3, s, e), "value": c.randn(2, 3, s, ev)}
        if mask == "bool":
            m = c.bool_mask(lq, s, p=0.6)
            m[:, 0] = True  # every row keeps at least one key
            inputs["attn_mask"] = m
        elif mask == "float":
            inputs["attn_mask"] = c.randn(2, 1, lq, s)
        config = {"isCausal": causal}
        if scale is not None:
            config["scale"] = scale

        def call(_, x):
            return F.scaled_dot_product_attention(x["query"], x["key"], x["value"], attn_mask=x.get("attn_mask"),
                                                  is_causal=causal, scale=scale)
        cases.append(run(name, "sdpa", config, None, inputs, ["query", "key", "value"], call))

    sdpa("sdpa_basic", 4, 5, 8, 6)
    sdpa("sdpa_bool_mask", 4, 5, 8, 6, mask="bool")
    sdpa("sdpa_float_mask", 4, 5, 8, 6, mask="float")
    sdpa("sdpa_causal", 5, 5, 8, 8, causal=True)
    sdpa("sdpa_scale", 4, 5, 8, 6, scale=0.3)
    return cases


def mha_cases():
    cases = []

    def mha(name, e=8, h=2, l=4, s=5, n=2, batch_first=False, self_attn=False, bias=True, kdim=None, vdim=None,
            kpm=False, attn_mask=None, need_weights=True, average=True, unbatched=False):
        c = Case(name)
        m = nn.MultiheadAttention(e, h, dropout=0.0, bias=bias, kdim=kdim, vdim=vdim, batch_first=batch_first)
        randomize(m, c)

        def shape(length, feat):
            if unbatched:
                return (length, feat)
            return (n, length, feat) if batch_first else (length, n, feat)
        if self_attn:
            s = l
            inputs = {"query": c.randn(*shape(l, e))}
        else:
            inputs = {"query": c.randn(*shape(l, e)), "key": c.randn(*shape(s, kdim or e)), "value": c.randn(*shape(s, vdim or e))}
        if kpm:
            k = c.bool_mask(n, s, p=0.4)
            k[:, 0] = False
            inputs["key_padding_mask"] = k
        if attn_mask == "bool":
            a = c.bool_mask(l, s, p=0.4)
            a[:, 0] = False
            inputs["attn_mask"] = a
        elif attn_mask == "float3d":
            inputs["attn_mask"] = c.randn(n * h, l, s)
        config = {"embedDim": e, "numHeads": h, "bias": bias, "batchFirst": batch_first, "selfAttention": self_attn,
                  "needWeights": need_weights, "averageAttnWeights": average}
        if kdim is not None:
            config["kdim"] = kdim
        if vdim is not None:
            config["vdim"] = vdim

        def call(mod, x):
            q = x["query"]
            k = x.get("key", q)
            v = x.get("value", q)
            return mod(q, k, v, key_padding_mask=x.get("key_padding_mask"), need_weights=need_weights,
                       attn_mask=x.get("attn_mask"), average_attn_weights=average)
        grad_inputs = [k for k in ("query", "key", "value") if k in inputs]
        cases.append(run(name, "MultiheadAttention", config, m, inputs, grad_inputs, call))

    mha("mha_self_seq_first", self_attn=True)
    mha("mha_cross_batch_first", batch_first=True)
    mha("mha_key_padding", batch_first=True, kpm=True)
    mha("mha_bool_mask_per_head", attn_mask="bool", average=False)
    mha("mha_float_mask_3d", batch_first=True, attn_mask="float3d", kpm=True)
    mha("mha_kdim_vdim", kdim=6, vdim=5, batch_first=True)
    mha("mha_no_bias", bias=False, need_weights=False)
    mha("mha_unbatched", unbatched=True)
    return cases


def encoder_layer_config(d, h, ff, activation, batch_first, norm_first):
    return {"dModel": d, "nhead": h, "dimFeedforward": ff, "activation": activation, "batchFirst": batch_first,
            "normFirst": norm_first}


def layer_cases():
    cases = []

    def enc(name, activation="relu", batch_first=True, norm_first=False, kpm=False, causal_mask=False, n=2, l=5):
        c = Case(name)
        d, h, ff = 8, 2, 16
        layer = nn.TransformerEncoderLayer(d, h, ff, dropout=0.0, activation=activation, batch_first=batch_first,
                                           norm_first=norm_first)
        randomize(layer, c)
        inputs = {"src": c.randn(*((n, l, d) if batch_first else (l, n, d)))}
        if kpm:
            k = c.bool_mask(n, l, p=0.4)
            k[:, 0] = False
            inputs["src_key_padding_mask"] = k
        if causal_mask:
            inputs["src_mask"] = nn.Transformer.generate_square_subsequent_mask(l, dtype=DT)

        def call(mod, x):
            return mod(x["src"], src_mask=x.get("src_mask"), src_key_padding_mask=x.get("src_key_padding_mask"))
        cases.append(run(name, "TransformerEncoderLayer", encoder_layer_config(d, h, ff, activation, batch_first, norm_first),
                         layer, inputs, ["src"], call))

    enc("enc_post_relu")
    enc("enc_pre_gelu", activation="gelu", norm_first=True, batch_first=False)
    enc("enc_post_gelu_kpm", activation="gelu", kpm=True)
    enc("enc_pre_relu_causal", norm_first=True, causal_mask=True)

    def dec(name, activation="relu", batch_first=True, norm_first=False, mkpm=False, n=2, l=4, s=5):
        c = Case(name)
        d, h, ff = 8, 2, 16
        layer = nn.TransformerDecoderLayer(d, h, ff, dropout=0.0, activation=activation, batch_first=batch_first,
                                           norm_first=norm_first)
        randomize(layer, c)
        shape = (lambda t: (n, t, d)) if batch_first else (lambda t: (t, n, d))
        inputs = {"tgt": c.randn(*shape(l)), "memory": c.randn(*shape(s)),
                  "tgt_mask": nn.Transformer.generate_square_subsequent_mask(l, dtype=DT)}
        if mkpm:
            k = c.bool_mask(n, s, p=0.4)
            k[:, 0] = False
            inputs["memory_key_padding_mask"] = k

        def call(mod, x):
            return mod(x["tgt"], x["memory"], tgt_mask=x["tgt_mask"],
                       memory_key_padding_mask=x.get("memory_key_padding_mask"))
        cases.append(run(name, "TransformerDecoderLayer", encoder_layer_config(d, h, ff, activation, batch_first, norm_first),
                         layer, inputs, ["tgt", "memory"], call))

    dec("dec_post_relu")
    dec("dec_pre_gelu_mkpm", activation="gelu", norm_first=True, mkpm=True, batch_first=False)

    # Two-layer stacks with a final LayerNorm.
    c = Case("encoder_2_layers")
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8), enable_nested_tensor=False)
    randomize(encoder, c)
    inputs = {"src": c.randn(2, 5, 8)}
    cfg = encoder_layer_config(8, 2, 16, "relu", True, False)
    cfg["numLayers"] = 2
    cases.append(run("encoder_2_layers", "TransformerEncoder", cfg, encoder, inputs, ["src"], lambda m, x: m(x["src"])))

    c = Case("decoder_2_layers")
    layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=True)
    decoder = nn.TransformerDecoder(layer, 2, norm=nn.LayerNorm(8))
    randomize(decoder, c)
    inputs = {"tgt": c.randn(2, 4, 8), "memory": c.randn(2, 5, 8),
              "tgt_mask": nn.Transformer.generate_square_subsequent_mask(4, dtype=DT)}
    cfg = encoder_layer_config(8, 2, 16, "relu", True, True)
    cfg["numLayers"] = 2
    cases.append(run("decoder_2_layers", "TransformerDecoder", cfg, decoder, inputs, ["tgt", "memory"],
                     lambda m, x: m(x["tgt"], x["memory"], tgt_mask=x["tgt_mask"])))
    return cases


def misc_cases():
    cases = []
    for name, eps in (("rmsnorm_default_eps", None), ("rmsnorm_eps", 1e-3)):
        c = Case(name)
        m = nn.RMSNorm([6], eps=eps)
        randomize(m, c)
        cfg = {"normalizedShape": [6]}
        if eps is not None:
            cfg["eps"] = eps
        cases.append(run(name, "RMSNorm", cfg, m, {"input": c.randn(3, 4, 6, scale=0.2)}, ["input"], lambda m, x: m(x["input"])))

    # RoPE in the LLaMA / Hugging Face layout (rotate_half), written out with torch ops.
    c = Case("rope")
    seq, dim = 5, 8
    inv = 1.0 / (10000 ** (torch.arange(0, dim, 2, dtype=DT) / dim))
    freqs = torch.outer(torch.arange(seq, dtype=DT), inv)
    emb = torch.cat([freqs, freqs], dim=-1)

    def rope(_, x):
        q = x["input"]
        x1, x2 = q[..., : dim // 2], q[..., dim // 2:]
        return q * emb.cos() + torch.cat([-x2, x1], dim=-1) * emb.sin()
    cases.append(run("rope", "rope", {"headDim": dim}, None, {"input": c.randn(2, 3, seq, dim)}, ["input"], rope))
    return cases


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "Tests", "EmberNNTests",
                                                             "Fixtures", "attention.json")
    cases = sdpa_cases() + mha_cases() + layer_cases() + misc_cases()
    with open(out, "w") as f:
        json.dump({"torch_version": torch.__version__, "cases": cases}, f, separators=(",", ":"))
    print(f"wrote {len(cases)} cases to {out}")


if __name__ == "__main__":
    main()
