#!/usr/bin/env python3
"""Writes the small .npy reference files that Tests/EmberTests/NpyTests.swift reads.

Usage (from the repository root):  .venv-ref/bin/python scripts/make_npy_fixtures.py

Needs only NumPy. The files land in Tests/EmberTests/Fixtures/npy/ and are committed, so the
tests never need Python. Every array's values follow a formula that the Swift test repeats:
    base(n) = [(i * 0.5 - 1) for i in range(n)]  (floats),  [i * 3 - 7 for i in range(n)]  (ints)
"""
import os
import numpy as np
from numpy.lib import format as npformat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "EmberTests", "Fixtures", "npy")


def floats(shape, dtype):
    n = int(np.prod(shape))
    return (np.arange(n, dtype=np.float64) * 0.5 - 1).reshape(shape).astype(dtype)


def ints(shape, dtype):
    n = int(np.prod(shape))
    return (np.arange(n, dtype=np.int64) * 3 - 7).reshape(shape).astype(dtype)


def write(name, array, version=None):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        npformat.write_array(f, array, version=version, allow_pickle=False)
    check = np.load(path)
    assert check.dtype == array.dtype and check.shape == array.shape and np.array_equal(check, array), name


def main():
    os.makedirs(OUT, exist_ok=True)
    write("f4_2x3.npy", floats((2, 3), "<f4"))
    write("f8_4.npy", floats((4,), "<f8"))
    write("f2_2x2.npy", floats((2, 2), "<f2"))
    write("i8_3x2.npy", ints((3, 2), "<i8"))
    write("i4_5.npy", ints((5,), "<i4"))
    write("u1_2x2x2.npy", (np.arange(8, dtype=np.uint8) * 30).reshape(2, 2, 2))
    write("b1_5.npy", np.array([True, False, False, True, True]))
    write("f4_scalar.npy", np.array(3.25, dtype="<f4"))
    write("f4_empty_0x3.npy", np.zeros((0, 3), dtype="<f4"))
    # Fortran order: the same logical values as the C-order file, stored column-major.
    write("f4_2x3_fortran.npy", np.asfortranarray(floats((2, 3), "<f4")))
    write("i8_2x3x4_fortran.npy", np.asfortranarray(ints((2, 3, 4), "<i8")))
    # Format versions 2.0 and 3.0 (UInt32 header length).
    write("f4_2x3_v2.npy", floats((2, 3), "<f4"), version=(2, 0))
    write("f8_3_v3.npy", floats((3,), "<f8"), version=(3, 0))
    # Big-endian data (byte-swapped on reading).
    write("f8_be_3.npy", floats((3,), ">f8"))
    write("i4_be_4.npy", ints((4,), ">i4"))
    print("wrote", len(os.listdir(OUT)), "files to", OUT)


if __name__ == "__main__":
    main()
