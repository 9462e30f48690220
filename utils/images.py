"""Small image tasks for the CNN chapter: downsampled MNIST, patches of scikit-learn's two photos, shifts."""

from __future__ import annotations

import numpy as np

from utils.checks import as_float_array
from utils.repro import book_seed


def downsample(images: object, factor: int) -> np.ndarray:
    """Average non-overlapping ``factor`` x ``factor`` blocks of (N, H, W) or (N, H, W, C) images.

    >>> downsample(np.arange(16.0).reshape(1, 4, 4), 2).tolist()
    [[[2.5, 4.5], [10.5, 12.5]]]
    """
    array = as_float_array(images, "images")
    if array.ndim not in (3, 4):
        raise ValueError(f"images must be (N, H, W) or (N, H, W, C), got shape {array.shape}")
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
        raise ValueError(f"factor must be a positive int, got {factor!r}")
    n, h, w = array.shape[:3]
    h, w = h - h % factor, w - w % factor  # drop the edge rows/columns that do not fill a block
    blocks = array[:, :h, :w].reshape(n, h // factor, factor, w // factor, factor, *array.shape[3:])
    return blocks.mean(axis=(2, 4))


def shift_images(images: object, dy: int, dx: int, fill: float = 0.0) -> np.ndarray:
    """Translate (N, C, H, W) images by ``dy`` rows and ``dx`` columns; uncovered pixels get ``fill``.

    Nothing wraps around: what leaves the frame is lost, as when a camera moves.

    >>> shift_images(np.arange(4.0).reshape(1, 1, 2, 2), 0, 1)[0, 0].tolist()
    [[0.0, 0.0], [0.0, 2.0]]
    """
    array = as_float_array(images, "images")
    if array.ndim != 4:
        raise ValueError(f"images must be 4-D (N, C, H, W), got shape {array.shape}")
    for name, value in (("dy", dy), ("dx", dx)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if abs(value) >= array.shape[2 if name == "dy" else 3]:
            raise ValueError(f"{name}={value} moves the whole image out of the frame")
    if not np.isfinite(fill):
        raise ValueError(f"fill must be finite, got {fill}")
    h, w = array.shape[2:]
    out = np.full_like(array, fill)
    out[:, :, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = array[
        :, :, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def photo_patch_task(
    size: int = 12, factor: int = 4, n_per_photo: int = 600, seed: int | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Which of scikit-learn's two photos (0 = china.jpg, 1 = flower.jpg) does a small patch come from?

    Each photo is downsampled by ``factor`` (block means, rounded back to integers 0-255) and
    cut into ``size`` x ``size`` patches at random positions. The split is by region, so no
    pixel is shared between splits: columns in the first 60 % of a photo give training patches,
    the next 20 % validation, the last 20 % test. Returns ``{"train"|"val"|"test": (uint8 patches
    (n, 3, size, size), labels (n,))}`` with ``n_per_photo`` training patches per photo and half
    as many for validation and test.

    >>> task = photo_patch_task(n_per_photo=10, seed=0)
    >>> task["train"][0].shape, task["val"][0].shape
    ((20, 3, 12, 12), (10, 3, 12, 12))
    """
    from sklearn.datasets import load_sample_images

    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"size must be an int >= 8, got {size!r}")
    generator = np.random.default_rng([book_seed() if seed is None else seed, 12])
    photos = [np.rint(downsample(photo[None], factor)[0]).astype(np.uint8) for photo in load_sample_images().images]
    regions = {"train": (0.0, 0.6, n_per_photo), "val": (0.6, 0.8, n_per_photo // 2), "test": (0.8, 1.0, n_per_photo // 2)}
    task = {}
    for split, (start, stop, count) in regions.items():
        patches, labels = [], []
        for label, photo in enumerate(photos):
            height, width = photo.shape[:2]
            left, right = int(start * width), int(stop * width) - size
            rows = generator.integers(0, height - size + 1, count)
            cols = generator.integers(left, right + 1, count)
            patches += [photo[r : r + size, c : c + size].transpose(2, 0, 1) for r, c in zip(rows, cols)]
            labels += [label] * count
        task[split] = (np.stack(patches), np.asarray(labels, dtype=np.int64))
    return task
