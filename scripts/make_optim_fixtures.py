#!/usr/bin/env python3
"""Writes Tests/EmberOptimTests/Fixtures/optim.json: PyTorch reference results for
EmberOptim's parity tests (Tests/EmberOptimTests/OptimizerParityTests.swift and
SchedulerParityTests.swift).

How to run (from the repository root; `.venv-ref` is made by scripts/make_fixtures.sh):

    .venv-ref/bin/python scripts/make_optim_fixtures.py [output-path]

Everything is deterministic: initial parameters and per-step gradients come from a NumPy
generator seeded with the CRC-32 of the case name and are written to the file, so the
Swift tests need no model, only the stored gradients. Sections:

- "optimizers": 20 steps of one optimizer configuration. Each case records the
  optimizer name, the dtype, its keyword arguments (PyTorch names), the parameter groups
  (indices of the parameters and per-group overrides), the initial parameters, the
  gradient of every parameter at every step (null: the parameter has no gradient at that
  step and is skipped) and every parameter after every step.
- "schedulers": a learning-rate scheduler attached to SGD or Adam with two parameter
  groups; the learning rate of every group after construction and after each of 35
  steps (plus the cycled momentum / beta1 for OneCycleLR).
- "plateau": ReduceLROnPlateau driven by a fixed metric sequence.
- "clip": clip_grad_norm_ / clip_grad_value_ on three gradients: the returned total
  norm and the gradients afterwards.
Non-finite floats are written as the strings "nan", "inf" and "-inf".
"""
import json
import math
import os
import sys
import zlib

import numpy as np
import torch

STEPS = 20
SCHEDULER_STEPS = 35
SHAPES = [[2, 3], [4]]
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def flat(t):
    out = []
    for v in t.detach().reshape(-1).tolist():
        if math.isnan(v):
            out.append("nan")
        elif math.isinf(v):
            out.append("inf" if v > 0 else "-inf")
        else:
            out.append(v)
    return out


OPTIMIZERS = {
    "SGD": torch.optim.SGD,
    "Adam": torch.optim.Adam,
    "AdamW": torch.optim.AdamW,
    "RMSprop": torch.optim.RMSprop,
    "Adagrad": torch.optim.Adagrad,
}

# name, optimizer, kwargs, groups (None: one group of all parameters), dtype,
# steps at which parameter 1 has no gradient.
OPTIMIZER_CASES = [
    ("sgd_plain", "SGD", {"lr": 0.1}, None, "float64", []),
    ("sgd_momentum", "SGD", {"lr": 0.05, "momentum": 0.9}, None, "float64", [3, 7]),
    ("sgd_dampening_weight_decay", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}, None, "float64", []),
    ("sgd_nesterov_weight_decay", "SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0, "weight_decay": 0.01, "nesterov": True}, None, "float64", []),
    ("sgd_maximize", "SGD", {"lr": 0.05, "momentum": 0.5, "maximize": True}, None, "float64", []),
    ("sgd_two_groups", "SGD", {"lr": 0.1, "momentum": 0.9},
     [{"params": [0]}, {"params": [1], "lr": 0.01, "momentum": 0.5}], "float64", []),
    ("sgd_nesterov_float32", "SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "nesterov": True}, None, "float32", []),
    ("adam_default", "Adam", {}, None, "float64", []),
    ("adam_lr", "Adam", {"lr": 0.01}, None, "float64", [2, 5, 6]),
    ("adam_weight_decay_amsgrad", "Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1, "amsgrad": True}, None, "float64", []),
    ("adam_maximize", "Adam", {"lr": 0.02, "maximize": True}, None, "float64", []),
    ("adam_two_groups", "Adam", {"lr": 0.01},
     [{"params": [0]}, {"params": [1], "lr": 0.001, "betas": (0.5, 0.9)}], "float64", []),
    ("adam_float32", "Adam", {"lr": 0.01, "weight_decay": 0.01}, None, "float32", []),
    ("adamw_default", "AdamW", {"lr": 0.01}, None, "float64", []),
    ("adamw_amsgrad", "AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "maximize": True}, None, "float64", []),
    ("rmsprop_default", "RMSprop", {"lr": 0.01}, None, "float64", []),
    ("rmsprop_centered_momentum", "RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.01, "momentum": 0.5, "centered": True}, None, "float64", [4]),
    ("rmsprop_momentum_maximize", "RMSprop", {"lr": 0.005, "momentum": 0.9, "maximize": True}, None, "float64", []),
    ("rmsprop_centered_float32", "RMSprop", {"lr": 0.01, "centered": True}, None, "float32", []),
    ("adagrad_default", "Adagrad", {"lr": 0.1}, None, "float64", []),
    ("adagrad_lr_decay", "Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.01, "initial_accumulator_value": 0.1, "eps": 1e-8}, None, "float64", [1]),
    ("adagrad_two_groups_maximize", "Adagrad", {"lr": 0.1, "maximize": True},
     [{"params": [0], "lr_decay": 0.1}, {"params": [1], "lr": 0.3}], "float64", []),
]


def jsonable(options):
    out = {}
    for k, v in options.items():
        if k == "params":
            continue
        if k == "betas":
            out["betas"] = list(v)
        else:
            out[k] = v
    return out


def optimizer_case(name, opt_name, kwargs, groups, dtype, skipped):
    g = rng(name)
    torch_dtype = DTYPES[dtype]
    params = [torch.tensor(g.normal(size=s), dtype=torch_dtype, requires_grad=True) for s in SHAPES]
    initial = [flat(p) for p in params]
    if groups is None:
        opt = OPTIMIZERS[opt_name]([*params], **kwargs)
    else:
        opt = OPTIMIZERS[opt_name]([{**grp, "params": [params[i] for i in grp["params"]]} for grp in groups], **kwargs)
    grads, after = [], []
    for step in range(STEPS):
        step_grads = []
        for i, p in enumerate(params):
            if i == 1 and step in skipped:
                p.grad = None
                step_grads.append(None)
            else:
                grad = torch.tensor(g.normal(size=p.shape), dtype=torch_dtype)
                p.grad = grad
                step_grads.append(flat(grad))
        opt.step()
        grads.append(step_grads)
        after.append([flat(p) for p in params])
    return {
        "name": name, "optimizer": opt_name, "dtype": dtype,
        "kwargs": jsonable(kwargs),
        "groups": None if groups is None else [{"params": grp["params"], "options": jsonable(grp)} for grp in groups],
        "shapes": SHAPES, "initial": initial, "grads": grads, "params": after,
    }


def two_group_optimizer(kind):
    a = torch.zeros(2, requires_grad=True)
    b = torch.zeros(3, requires_grad=True)
    if kind == "SGD":
        return torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, momentum=0.9)
    return torch.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1)


S = torch.optim.lr_scheduler
# name, optimizer kind, constructor, arguments for the Swift side.
SCHEDULER_CASES = [
    ("step_lr", "SGD", lambda o: S.StepLR(o, step_size=7, gamma=0.5), {"step_size": 7, "gamma": 0.5}),
    ("multi_step_lr", "SGD", lambda o: S.MultiStepLR(o, milestones=[5, 12, 12, 25], gamma=0.3),
     {"milestones": [5, 12, 12, 25], "gamma": 0.3}),
    ("exponential_lr", "SGD", lambda o: S.ExponentialLR(o, gamma=0.9), {"gamma": 0.9}),
    ("cosine_annealing_lr", "SGD", lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001), {"T_max": 10, "eta_min": 0.001}),
    ("cosine_annealing_lr_long", "SGD", lambda o: S.CosineAnnealingLR(o, T_max=40), {"T_max": 40, "eta_min": 0.0}),
    ("linear_lr", "SGD", lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=8),
     {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 8}),
    ("linear_lr_decay", "SGD", lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=20),
     {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 20}),
    ("one_cycle_lr_cos", "SGD", lambda o: S.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=36),
     {"max_lr": [1.0, 0.5], "total_steps": 36, "pct_start": 0.3, "anneal_strategy": "cos", "three_phase": False,
      "div_factor": 25.0, "final_div_factor": 1e4}),
    ("one_cycle_lr_linear_three_phase", "Adam",
     lambda o: S.OneCycleLR(o, max_lr=0.8, total_steps=40, pct_start=0.25, anneal_strategy="linear",
                            three_phase=True, div_factor=10.0, final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9),
     {"max_lr": [0.8, 0.8], "total_steps": 40, "pct_start": 0.25, "anneal_strategy": "linear", "three_phase": True,
      "div_factor": 10.0, "final_div_factor": 100.0, "base_momentum": 0.8, "max_momentum": 0.9}),
    ("sequential_linear_cosine", "SGD",
     lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(o, T_max=20)], milestones=[5]),
     {"milestones": [5]}),
    ("sequential_three", "SGD",
     lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.5, total_iters=4), S.ExponentialLR(o, gamma=0.9),
                                  S.StepLR(o, step_size=3, gamma=0.5)], milestones=[4, 15]),
     {"milestones": [4, 15]}),
]


def scheduler_case(name, kind, make, args):
    opt = two_group_optimizer(kind)
    sched = make(opt)
    key = "momentum" if kind == "SGD" else "betas"

    def momenta():
        return [grp[key] if kind == "SGD" else grp[key][0] for grp in opt.param_groups]

    lrs, moms = [list(sched.get_last_lr())], [momenta()]
    for _ in range(SCHEDULER_STEPS):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        moms.append(momenta())
    case = {"name": name, "optimizer": kind, "args": args, "lrs": lrs}
    if name.startswith("one_cycle"):
        case["momenta"] = moms
    return case


PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.91, 0.92, 0.899, 0.9, 0.9, 0.9, 0.9, 0.7, 0.71, 0.72, 0.73,
                   0.74, 0.75, 0.69, 0.69, 0.69, 0.69, 0.69, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
PLATEAU_CASES = [
    ("plateau_min_rel", {"mode": "min", "factor": 0.5, "patience": 2, "threshold": 1e-2, "threshold_mode": "rel",
                         "cooldown": 1, "min_lr": 0.0}, PLATEAU_METRICS),
    ("plateau_min_abs_min_lr", {"mode": "min", "factor": 0.1, "patience": 1, "threshold": 0.05, "threshold_mode": "abs",
                                "cooldown": 0, "min_lr": 0.002}, PLATEAU_METRICS),
    ("plateau_max_rel_cooldown", {"mode": "max", "factor": 0.7, "patience": 0, "threshold": 1e-4, "threshold_mode": "rel",
                                  "cooldown": 3, "min_lr": 0.0}, [1 - m for m in PLATEAU_METRICS]),
    ("plateau_max_abs", {"mode": "max", "factor": 0.2, "patience": 3, "threshold": 0.02, "threshold_mode": "abs",
                         "cooldown": 2, "min_lr": 0.0}, [math.sin(i / 3.0) for i in range(30)]),
]


def plateau_case(name, args, metrics):
    opt = two_group_optimizer("SGD")
    sched = S.ReduceLROnPlateau(opt, **args)
    lrs = []
    for m in metrics:
        opt.step()
        sched.step(m)
        lrs.append(list(sched.get_last_lr()))
    return {"name": name, "args": args, "metrics": metrics, "lrs": lrs}


CLIP_CASES = [
    ("norm2_clipped", "norm", {"max_norm": 1.0, "norm_type": 2.0}),
    ("norm2_unclipped", "norm", {"max_norm": 100.0, "norm_type": 2.0}),
    ("norm1", "norm", {"max_norm": 2.0, "norm_type": 1.0}),
    ("norm3", "norm", {"max_norm": 0.5, "norm_type": 3.0}),
    ("norm_inf", "norm", {"max_norm": 0.25, "norm_type": "inf"}),
    ("value", "value", {"clip_value": 0.3}),
]


def clip_case(name, kind, args):
    g = rng(name)
    shapes = [[3, 4], [5], [2, 2]]
    params = [torch.zeros(s, dtype=torch.float32, requires_grad=True) for s in shapes]
    for p in params:
        p.grad = torch.tensor(g.normal(size=p.shape), dtype=torch.float32)
    before = [flat(p.grad) for p in params]
    case = {"name": name, "kind": kind, "args": args, "shapes": shapes, "grads": before}
    if kind == "norm":
        norm_type = math.inf if args["norm_type"] == "inf" else args["norm_type"]
        total = torch.nn.utils.clip_grad_norm_(params, args["max_norm"], norm_type=norm_type)
        case["total_norm"] = total.item()
    else:
        torch.nn.utils.clip_grad_value_(params, args["clip_value"])
    case["clipped"] = [flat(p.grad) for p in params]
    return case


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Tests/EmberOptimTests/Fixtures/optim.json")
    torch.manual_seed(0)
    fixture = {
        "torch_version": torch.__version__,
        "optimizers": [optimizer_case(*c) for c in OPTIMIZER_CASES],
        "schedulers": [scheduler_case(*c) for c in SCHEDULER_CASES],
        "plateau": [plateau_case(*c) for c in PLATEAU_CASES],
        "clip": [clip_case(*c) for c in CLIP_CASES],
    }
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
