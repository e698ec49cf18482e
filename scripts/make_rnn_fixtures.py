#!/usr/bin/env python3
"""Writes Tests/EmberNNTests/Fixtures/rnn.json: PyTorch reference values for Ember's RNN,
LSTM and GRU (Tests/EmberNNTests/RecurrentTests.swift).

Each case builds a torch module in float64 with seeded weights, runs it on a seeded input
(optionally with initial states, or with per-sequence lengths through pack_padded_sequence),
and records the state dict, the output, the final states, the printed repr, and the
gradients of the input, the initial states and every parameter for the loss
sum(output * w_out) + sum(h_n * w_h) [+ sum(c_n * w_c)] with seeded weights w.

Run with the reference environment: .venv-ref/bin/python scripts/make_rnn_fixtures.py
"""
import json
import os

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "EmberNNTests", "Fixtures", "rnn.json")


def tensor(t):
    t = t.detach().to(torch.float64).contiguous()
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def make_case(name, mode, input_size=3, hidden_size=4, num_layers=1, bidirectional=False,
              batch_first=False, bias=True, seq=5, batch=3, initial=False, lengths=None,
              unbatched=False, seed=0):
    torch.manual_seed(seed)
    kwargs = dict(num_layers=num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional)
    if mode == "LSTM":
        m = torch.nn.LSTM(input_size, hidden_size, **kwargs)
    elif mode == "GRU":
        m = torch.nn.GRU(input_size, hidden_size, **kwargs)
    else:
        m = torch.nn.RNN(input_size, hidden_size, nonlinearity=mode.split("_")[1].lower(), **kwargs)
    m = m.double()
    dirs = 2 if bidirectional else 1
    if unbatched:
        x = torch.randn(seq, input_size, dtype=torch.float64, requires_grad=True)
        state_shape = (num_layers * dirs, hidden_size)
    else:
        shape = (batch, seq, input_size) if batch_first else (seq, batch, input_size)
        x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
        state_shape = (num_layers * dirs, batch, hidden_size)
    h0 = c0 = None
    if initial:
        h0 = torch.randn(*state_shape, dtype=torch.float64, requires_grad=True)
        if mode == "LSTM":
            c0 = torch.randn(*state_shape, dtype=torch.float64, requires_grad=True)
    hx = (h0, c0) if mode == "LSTM" and initial else h0

    if lengths is not None:
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
        out_packed, state = m(packed, hx)
        out, _ = pad_packed_sequence(out_packed, batch_first=batch_first, total_length=seq)
    else:
        out, state = m(x, hx)
    hn, cn = state if mode == "LSTM" else (state, None)

    w_out = torch.randn(*out.shape, dtype=torch.float64)
    w_h = torch.randn(*hn.shape, dtype=torch.float64)
    loss = (out * w_out).sum() + (hn * w_h).sum()
    w_c = None
    if cn is not None:
        w_c = torch.randn(*cn.shape, dtype=torch.float64)
        loss = loss + (cn * w_c).sum()
    loss.backward()

    grads = {"input": tensor(x.grad)}
    if h0 is not None:
        grads["h0"] = tensor(h0.grad)
    if c0 is not None:
        grads["c0"] = tensor(c0.grad)
    for pname, p in m.named_parameters():
        grads[pname] = tensor(p.grad)
    return {
        "name": name, "mode": mode, "inputSize": input_size, "hiddenSize": hidden_size,
        "numLayers": num_layers, "bidirectional": bidirectional, "batchFirst": batch_first, "bias": bias,
        "lengths": lengths, "repr": repr(m),
        "parameterNames": [n for n, _ in m.named_parameters()],
        "state": {k: tensor(v) for k, v in m.state_dict().items()},
        "input": tensor(x), "h0": tensor(h0) if h0 is not None else None,
        "c0": tensor(c0) if c0 is not None else None,
        "output": tensor(out), "hn": tensor(hn), "cn": tensor(cn) if cn is not None else None,
        "wOut": tensor(w_out), "wH": tensor(w_h), "wC": tensor(w_c) if w_c is not None else None,
        "grads": grads,
    }


def main():
    cases = []
    for i, mode in enumerate(["LSTM", "GRU", "RNN_TANH", "RNN_RELU"]):
        tag = mode.lower()
        cases.append(make_case(f"{tag}_basic", mode, seed=10 + i))
        cases.append(make_case(f"{tag}_2layer_bidir_init", mode, num_layers=2, bidirectional=True,
                               initial=True, seed=20 + i))
        cases.append(make_case(f"{tag}_batchfirst_2layer_init", mode, num_layers=2, batch_first=True,
                               initial=True, seed=30 + i))
        cases.append(make_case(f"{tag}_lengths_2layer_bidir", mode, num_layers=2, bidirectional=True,
                               initial=True, lengths=[5, 2, 4], seed=40 + i))
        cases.append(make_case(f"{tag}_lengths_batchfirst", mode, batch_first=True, lengths=[3, 5, 1], seed=50 + i))
    cases.append(make_case("lstm_nobias_unbatched_bidir", "LSTM", bias=False, bidirectional=True, unbatched=True,
                           initial=True, seed=60))
    cases.append(make_case("gru_nobias", "GRU", bias=False, num_layers=2, seed=61))
    with open(OUT, "w") as f:
        json.dump({"torch_version": torch.__version__, "cases": cases}, f)
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
