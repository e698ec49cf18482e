#!/usr/bin/env python3
"""Writes the small .npz reference files that Tests/EmberTests/NpzTests.swift reads.

Usage (from the repository root):  .venv-ref/bin/python scripts/make_npz_fixtures.py

Needs only NumPy. The files land in Tests/EmberTests/Fixtures/npz/ and are committed, so the
tests never need Python. Values follow the same formulas as make_npy_fixtures.py:
    floats(n) = [i * 0.5 - 1 for i in range(n)],  ints(n) = [i * 3 - 7 for i in range(n)]
    bools(n)  = [i % 3 == 0 for i in range(n)]
"""
import os
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "EmberTests", "Fixtures", "npz")


def floats(shape, dtype):
    n = int(np.prod(shape))
    return (np.arange(n, dtype=np.float64) * 0.5 - 1).reshape(shape).astype(dtype)


def ints(shape, dtype):
    n = int(np.prod(shape))
    return (np.arange(n, dtype=np.int64) * 3 - 7).reshape(shape).astype(dtype)


def arrays():
    # Keyword order is the archive order; the Swift test checks it.
    return {
        "f4": floats((2, 3), "<f4"),
        "f8": floats((4,), "<f8"),
        "f2": floats((2, 2), "<f2"),
        "i8": ints((3, 2), "<i8"),
        "i4": ints((5,), "<i4"),
        "u1": (np.arange(8) * 30).astype("|u1").reshape(2, 2, 2),
        "b1": np.array([i % 3 == 0 for i in range(5)], dtype="|b1"),
        "scalar": np.array(2.5, dtype="<f8"),
        "fortran": np.asfortranarray(floats((2, 3), "<f4")),
        "be_f4": floats((3,), ">f4"),
        "be_i8": ints((2, 2), ">i8"),
        "empty": np.zeros((0, 3), dtype="<f4"),
        "layer.0.weight": floats((2,), "<f4"),
    }


def check(path, expected):
    with np.load(path) as loaded:
        assert list(loaded.files) == list(expected), (path, loaded.files)
        for key, value in expected.items():
            got = loaded[key]
            assert got.dtype == value.dtype and got.shape == value.shape and np.array_equal(got, value), (path, key)


def main():
    os.makedirs(OUT, exist_ok=True)
    a = arrays()
    assert a["fortran"].flags.f_contiguous and not a["fortran"].flags.c_contiguous
    np.savez(os.path.join(OUT, "mixed.npz"), **a)
    check(os.path.join(OUT, "mixed.npz"), a)
    np.savez_compressed(os.path.join(OUT, "mixed_compressed.npz"), **a)
    check(os.path.join(OUT, "mixed_compressed.npz"), a)
    # Positional arrays are named arr_0, arr_1, ...
    positional = [ints((3,), "<i8"), floats((2, 2), "<f4")]
    np.savez(os.path.join(OUT, "positional.npz"), *positional)
    check(os.path.join(OUT, "positional.npz"), {"arr_0": positional[0], "arr_1": positional[1]})
    # An object array (pickled) entry: Ember must refuse it with a typed error.
    np.savez(os.path.join(OUT, "object.npz"), ok=floats((2,), "<f4"), obj=np.array([{"a": 1}, None], dtype=object))
    # An empty archive.
    np.savez(os.path.join(OUT, "empty.npz"))
    print("wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
