"""Shared helpers of the book *Scaling vs normalization: what a neural network can see*.

Every chapter starts with::

    from utils import setup
    setup()

which seeds every random generator from ``BOOK_SEED`` and sets the book's plot style.
"""

from utils.repro import book_seed, device, seed_everything, setup

__all__ = ["book_seed", "device", "seed_everything", "setup"]
