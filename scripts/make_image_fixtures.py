#!/usr/bin/env python3
"""Writes the tiny images under Tests/EmberVisionTests/Fixtures and `expected.json`, PIL's
decode of each (after `.convert("RGB")`, as torchvision's loader does) and PIL's bilinear
resizes, the reference for Tests/EmberVisionTests.

How to run (from the repository root), with pillow and numpy (.venv-ref has both):

    .venv-ref/bin/python scripts/make_image_fixtures.py

Images are drawn from formulas (no randomness), so rerunning reproduces them. 16-bit PNGs,
which PIL does not write, are written here by hand (signature, IHDR, one zlib IDAT, IEND).
Corrupt files: a JPEG cut in half, a PNG cut in half, a PNG whose IDAT CRC has one byte flipped, a text file named .png and an empty file.
"""
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(ROOT, "Tests", "EmberVisionTests", "Fixtures")


def pattern(w, h, channels=3, seed=0):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = []
    for c in range(channels):
        v = 127.5 + 120 * np.sin(0.37 * x + 0.23 * y * (c + 1) + seed + c) * np.cos(0.11 * x * (c + 1) - 0.19 * y)
        planes.append(v)
    return np.clip(np.rint(np.stack(planes, axis=-1)), 0, 255).astype(np.uint8)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png16(path, samples, color_type):
    """samples: uint16 array [h, w, c] (c = 1 for gray, 3 for RGB)."""
    h, w = samples.shape[:2]
    raw = b"".join(b"\x00" + samples[r].astype(">u2").tobytes() for r in range(h))
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0))
    data += png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def rgb_of(path):
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def main():
    os.makedirs(DIR, exist_ok=True)
    expected = {"decoded": {}, "resized": {}}

    def record(name, pixels=None):
        px = rgb_of(os.path.join(DIR, name)) if pixels is None else pixels
        expected["decoded"][name] = {"width": int(px.shape[1]), "height": int(px.shape[0]),
                                     "rgb": [int(v) for v in px.flatten()]}

    rgb = pattern(7, 5)
    Image.fromarray(rgb, "RGB").save(os.path.join(DIR, "rgb8.png"))
    record("rgb8.png")
    rgba = np.concatenate([pattern(6, 4), pattern(6, 4, 1, seed=2)], axis=-1)
    Image.fromarray(rgba, "RGBA").save(os.path.join(DIR, "rgba8.png"))
    record("rgba8.png")
    gray = pattern(5, 6, 1)[..., 0]
    Image.fromarray(gray, "L").save(os.path.join(DIR, "gray8.png"))
    record("gray8.png")
    la = np.stack([gray, 255 - gray], axis=-1)
    Image.fromarray(la, "LA").save(os.path.join(DIR, "gray_alpha8.png"))
    record("gray_alpha8.png")
    palette = Image.fromarray(pattern(9, 4), "RGB").quantize(colors=6)
    palette.info["transparency"] = 2
    palette.save(os.path.join(DIR, "palette.png"), transparency=2)
    record("palette.png")
    bits = (pattern(11, 3, 1)[..., 0] > 127).astype(np.uint8) * 255
    Image.fromarray(bits, "L").convert("1").save(os.path.join(DIR, "gray1.png"))
    record("gray1.png")
    # 16-bit: PIL reads RGB;16 by keeping the high byte; gray 16-bit we define the same way.
    rgb16 = (pattern(4, 3).astype(np.uint16) * 257 + np.arange(36, dtype=np.uint16).reshape(3, 4, 3) * 7)
    write_png16(os.path.join(DIR, "rgb16.png"), rgb16, 2)
    record("rgb16.png")
    gray16 = pattern(3, 4, 1)[..., 0].astype(np.uint16) * 256 + 255
    write_png16(os.path.join(DIR, "gray16.png"), gray16[..., None], 0)
    hi = (gray16 >> 8).astype(np.uint8)
    record("gray16.png", np.stack([hi, hi, hi], axis=-1))

    photo = pattern(32, 24, seed=1)
    Image.fromarray(photo, "RGB").save(os.path.join(DIR, "photo420.jpg"), quality=90)
    record("photo420.jpg")
    Image.fromarray(photo, "RGB").save(os.path.join(DIR, "photo444.jpg"), quality=95, subsampling=0)
    record("photo444.jpg")
    Image.fromarray(photo, "RGB").save(os.path.join(DIR, "progressive.jpg"), quality=85, progressive=True)
    record("progressive.jpg")
    Image.fromarray(pattern(17, 9, 1)[..., 0], "L").save(os.path.join(DIR, "gray.jpg"), quality=90)
    record("gray.jpg")

    # Corrupt and wrong files.
    with open(os.path.join(DIR, "photo420.jpg"), "rb") as f:
        jpeg = f.read()
    with open(os.path.join(DIR, "truncated.jpg"), "wb") as f:
        f.write(jpeg[: len(jpeg) // 2])
    with open(os.path.join(DIR, "rgb8.png"), "rb") as f:
        png = f.read()
    with open(os.path.join(DIR, "truncated.png"), "wb") as f:
        f.write(png[: len(png) // 2])
    # The last byte of IDAT's CRC: the compressed data stays valid, only the checksum is wrong.
    idat = png.index(b"IDAT") - 4
    crc_end = idat + 8 + struct.unpack(">I", png[idat:idat + 4])[0] + 4
    with open(os.path.join(DIR, "bad_crc.png"), "wb") as f:
        f.write(png[:crc_end - 1] + bytes([png[crc_end - 1] ^ 0x55]) + png[crc_end:])
    with open(os.path.join(DIR, "not_an_image.png"), "wb") as f:
        f.write(b"this is a text file, not a PNG\n")
    open(os.path.join(DIR, "empty.jpg"), "wb").close()

    # PIL bilinear resizes (what torchvision's Resize does to PIL images) of a 32x24 image.
    source = pattern(32, 24, seed=3)
    Image.fromarray(source, "RGB").save(os.path.join(DIR, "resize_source.png"))
    img = Image.fromarray(source, "RGB")
    for w, h in [(13, 10), (11, 8), (32, 10), (12, 24), (45, 34), (17, 31)]:
        px = np.asarray(img.resize((w, h), Image.BILINEAR))
        expected["resized"]["%dx%d" % (w, h)] = {"width": w, "height": h, "rgb": [int(v) for v in px.flatten()]}

    with open(os.path.join(DIR, "expected.json"), "w") as f:
        json.dump(expected, f)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(DIR, n)) for n in os.listdir(DIR))
    print("wrote", len(os.listdir(DIR)), "files,", total, "bytes")


if __name__ == "__main__":
    main()
