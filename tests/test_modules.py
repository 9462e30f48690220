import io

import numpy as np
import pytest
import torch
from torch import nn

from utils.modules import Standardize


def test_fit_matches_scikit_learn():
    from sklearn.preprocessing import StandardScaler

    data = np.random.default_rng(0).normal(size=(50, 3)) * [1.0, 10.0, 0.1] + 5
    layer = Standardize.fit(data)
    expected = StandardScaler().fit_transform(data)
    assert np.allclose(layer(torch.tensor(data, dtype=torch.float32)).numpy(), expected, atol=1e-5)


def test_per_channel_statistics_for_images():
    images = np.random.default_rng(1).uniform(size=(4, 3, 5, 5)) * np.array([1.0, 2.0, 3.0])[None, :, None, None]
    layer = Standardize.fit(images, dims=(0, 2, 3))
    assert tuple(layer.mean.shape) == (3, 1, 1)
    out = layer(torch.tensor(images, dtype=torch.float32))
    assert torch.allclose(out.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)


def test_statistics_survive_save_and_load():
    model = nn.Sequential(Standardize([1.0, 2.0], [3.0, 4.0]), nn.Linear(2, 1))
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    fresh = nn.Sequential(Standardize([0.0, 0.0], [1.0, 1.0]), nn.Linear(2, 1))
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    x = torch.tensor([[5.0, 6.0]])
    assert torch.equal(fresh(x), model(x))


@pytest.mark.parametrize(
    "mean, std, message",
    [([0.0], [0.0], "positive"), ([np.nan], [1.0], "finite"), ([0.0, 1.0], [1.0], "same shape"), ([0.0], [np.inf], "finite")],
)
def test_bad_statistics_are_rejected(mean, std, message):
    with pytest.raises(ValueError, match=message):
        Standardize(mean, std)


def test_fit_rejects_bad_data():
    with pytest.raises(ValueError):
        Standardize.fit(np.array([1.0, 2.0]))
    with pytest.raises(ValueError):
        Standardize.fit(np.array([[1.0], [np.nan]]))
