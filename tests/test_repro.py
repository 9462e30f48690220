import random

import numpy as np
import pytest
import torch

from utils import repro


def test_book_seed_defaults_to_zero(monkeypatch):
    monkeypatch.delenv("BOOK_SEED", raising=False)
    assert repro.book_seed() == 0


def test_book_seed_reads_environment(monkeypatch):
    monkeypatch.setenv("BOOK_SEED", " 7 ")
    assert repro.book_seed() == 7


@pytest.mark.parametrize("bad", ["abc", "1.5", "-2"])
def test_book_seed_rejects_bad_values(monkeypatch, bad):
    monkeypatch.setenv("BOOK_SEED", bad)
    with pytest.raises(ValueError, match="BOOK_SEED"):
        repro.book_seed()


def test_seed_everything_makes_all_generators_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    repro.seed_everything(3)
    first = draw()
    repro.seed_everything(3)
    assert draw() == first
    repro.seed_everything(4)
    assert draw() != first


@pytest.mark.parametrize("bad, error", [(1.5, TypeError), ("1", TypeError), (True, TypeError), (-1, ValueError)])
def test_seed_everything_rejects_bad_seeds(bad, error):
    with pytest.raises(error):
        repro.seed_everything(bad)


def test_rng_streams_are_repeatable_and_independent(monkeypatch):
    monkeypatch.setenv("BOOK_SEED", "1")
    assert repro.rng(0).integers(1 << 30) == repro.rng(0).integers(1 << 30)
    assert repro.rng(0).integers(1 << 30) != repro.rng(1).integers(1 << 30)
    with pytest.raises(TypeError):
        repro.rng(0.5)


def test_device_is_cpu_or_cuda():
    assert repro.device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_setup_sets_threads_and_style(monkeypatch):
    import matplotlib as mpl

    monkeypatch.setenv("BOOK_SEED", "2")
    assert repro.setup(threads=1) == 2
    assert torch.get_num_threads() == 1
    assert mpl.rcParams["axes.prop_cycle"].by_key()["color"][0] == "#0072B2"
    with pytest.raises(ValueError):
        repro.setup(threads=0)
