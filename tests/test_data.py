import shutil

import numpy as np
import pandas as pd
import pytest

from utils import data


def test_mnist_has_the_documented_shape_and_balance():
    images, labels = data.load_mnist_5k()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [500] * 10
    assert images.min() == 0 and images.max() == 255


def test_datasheet_states_the_checked_sha256(root):
    assert data.MNIST_5K_SHA256 in (root / "data" / "README.md").read_text()
    assert data.sha256_of(data.MNIST_5K_PATH) == data.MNIST_5K_SHA256


def test_missing_file_names_the_file_and_the_fix(tmp_path):
    missing = tmp_path / "mnist_5k.npz"
    with pytest.raises(FileNotFoundError, match="make_mnist_5k.py") as error:
        data.load_mnist_5k(missing)
    assert str(missing) in str(error.value)


def test_corrupted_file_is_rejected(tmp_path):
    corrupted = tmp_path / "mnist_5k.npz"
    shutil.copy(data.MNIST_5K_PATH, corrupted)
    raw = bytearray(corrupted.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # flip one byte in the middle
    corrupted.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="corrupted"):
        data.load_mnist_5k(corrupted)


def test_truncated_file_is_rejected(tmp_path):
    truncated = tmp_path / "mnist_5k.npz"
    truncated.write_bytes(data.MNIST_5K_PATH.read_bytes()[:1000])
    with pytest.raises(ValueError, match="SHA-256"):
        data.load_mnist_5k(truncated)


@pytest.mark.parametrize("name, shape", [("breast_cancer", (569, 30)), ("wine", (178, 13)), ("digits", (1797, 64)), ("diabetes", (442, 10))])
def test_tables_load_as_frames(name, shape):
    features, target = data.load_table(name)
    assert isinstance(features, pd.DataFrame) and features.shape == shape
    assert len(target) == shape[0]


def test_unknown_table_is_rejected():
    with pytest.raises(ValueError, match="unknown table"):
        data.load_table("iris")


def test_split_is_stratified_and_seeded(monkeypatch):
    features = np.arange(200.0).reshape(100, 2)
    target = np.repeat([0, 1], 50)
    monkeypatch.setenv("BOOK_SEED", "5")
    first = data.split(features, target)
    second = data.split(features, target)
    assert np.array_equal(first[0], second[0])
    assert np.bincount(first[3]).tolist() == [13, 12] or np.bincount(first[3]).tolist() == [12, 13]
    other = data.split(features, target, seed=6)
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize(
    "features, target, test_size, error",
    [
        (np.array([[np.nan], [1.0]]), [0, 1], 0.5, ValueError),
        (np.ones((4, 1)), [0, 1, 0], 0.5, ValueError),
        (np.ones((4, 1)), [0, 1, 0, 1], 1.5, ValueError),
        (np.array([["a"], ["b"]]), [0, 1], 0.5, TypeError),
    ],
)
def test_split_rejects_bad_input(features, target, test_size, error):
    with pytest.raises(error):
        data.split(features, target, test_size=test_size)


def test_make_multiscale_puts_the_signal_in_a_tiny_column():
    features, labels = data.make_multiscale(2000, signal_range=1e-3, noise_range=1e3, n_noise=3, label_noise=0.0, seed=1)
    assert features.shape == (2000, 4)
    assert features[:, 0].max() <= 1e-3 and features[:, 1:].max() > 900
    assert np.array_equal(labels, (features[:, 0] > 5e-4).astype(int))
    again, _ = data.make_multiscale(2000, n_noise=3, label_noise=0.0, seed=1)
    assert np.array_equal(features, again)


@pytest.mark.parametrize(
    "kwargs", [{"n_samples": 1}, {"n_noise": -1}, {"signal_range": 0.0}, {"noise_range": np.inf}, {"label_noise": 0.5}]
)
def test_make_multiscale_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError):
        data.make_multiscale(**kwargs)
