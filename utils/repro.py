"""Reproducibility: one seed for the whole book, one thread count, one device choice."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

SEED_VARIABLE = "BOOK_SEED"
DEFAULT_SEED = 0
# Two threads match the 2-core machines the timing budgets are measured on; more
# threads than cores makes small torch models slower, not faster.
DEFAULT_THREADS = 2


def book_seed() -> int:
    """Return the seed named by the ``BOOK_SEED`` environment variable (default 0).

    >>> isinstance(book_seed(), int)
    True
    """
    raw = os.environ.get(SEED_VARIABLE, "").strip()
    if raw == "":
        return DEFAULT_SEED
    try:
        seed = int(raw)
    except ValueError:
        raise ValueError(f"{SEED_VARIABLE} must be a non-negative integer, got {raw!r}") from None
    if seed < 0:
        raise ValueError(f"{SEED_VARIABLE} must be a non-negative integer, got {seed}")
    return seed


def seed_everything(seed: int | None = None) -> int:
    """Seed Python's ``random``, NumPy's global generator and torch; return the seed used.

    With ``seed=None`` the seed comes from ``BOOK_SEED``.

    >>> seed_everything(5)
    5
    """
    if seed is None:
        seed = book_seed()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return seed


def device() -> torch.device:
    """Return CUDA when a GPU is available, else the CPU. Nothing in the book needs a GPU.

    >>> device().type in {"cpu", "cuda"}
    True
    """
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def rng(offset: int = 0) -> np.random.Generator:
    """A fresh NumPy generator derived from ``BOOK_SEED`` (plus ``offset``, for independent streams).

    >>> bool(rng().integers(10) == rng().integers(10))
    True
    """
    if not isinstance(offset, (int, np.integer)) or isinstance(offset, bool):
        raise TypeError(f"offset must be an int, got {type(offset).__name__}")
    return np.random.default_rng([book_seed(), int(offset)])


def setup(seed: int | None = None, threads: int = DEFAULT_THREADS) -> int:
    """Prepare a chapter: seed everything, fix torch's thread count, apply the plot style.

    Returns the seed, so a chapter can show which one it ran with.

    >>> setup(0)
    0
    """
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    used = seed_everything(seed)
    torch.set_num_threads(threads)
    from utils.plotting import use_book_style  # imported late: matplotlib is slow to import

    use_book_style()
    return used
