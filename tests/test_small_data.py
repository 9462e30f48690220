import numpy as np
import pytest
import torch
from torch.nn import functional as F

from utils.small_data import accuracies, fit_small_networks
from utils.training import StackedMLP


@pytest.mark.parametrize("decoupled, optimizer", [(False, torch.optim.Adam), (True, torch.optim.AdamW)])
def test_matches_torch_adam_and_adamw_on_each_network(decoupled, optimizer):
    rng = np.random.default_rng(0)
    inputs, labels = rng.normal(size=(3, 20, 4)), rng.integers(0, 3, size=(3, 20))
    labels[:, 0] = 2  # every data set has all three classes
    lrs, decays, seeds = [0.01, 0.03, 0.1], [0.0, 0.1, 1.0], [5, 6, 7]
    stacked = fit_small_networks(inputs, labels, lrs, seeds, weight_decay=decays, decoupled=decoupled, steps=30)
    for index in range(3):
        single = StackedMLP([seeds[index]], 4, 16, 3).member(0)
        opt = optimizer(single.parameters(), lr=lrs[index], weight_decay=decays[index])
        x, y = torch.tensor(inputs[index], dtype=torch.float32), torch.tensor(labels[index])
        for _ in range(30):
            opt.zero_grad()
            F.cross_entropy(single(x), y).backward()
            opt.step()
        for mine, theirs in zip(stacked.member(index).parameters(), single.parameters()):
            assert torch.allclose(mine, theirs, atol=1e-5)
    assert accuracies(stacked, inputs, labels).shape == (3,)


def test_bad_input_is_rejected():
    x, y = np.zeros((2, 5, 3)), np.zeros((2, 5), dtype=int)
    with pytest.raises(ValueError, match="NaN"):
        fit_small_networks(np.full((2, 5, 3), np.nan), y, 0.1, [0, 1])
    with pytest.raises(ValueError, match=r"\(models, n, d\)"):
        fit_small_networks(x[0], y, 0.1, [0, 1])
    with pytest.raises(TypeError, match="integer"):
        fit_small_networks(x, y.astype(float), 0.1, [0, 1])
    with pytest.raises(ValueError, match="learning_rates"):
        fit_small_networks(x, y, [0.1, -1.0], [0, 1])
    with pytest.raises(ValueError, match="weight_decay"):
        fit_small_networks(x, y, 0.1, [0, 1], weight_decay=[0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="seed"):
        fit_small_networks(x, y, 0.1, [0])
    model = fit_small_networks(x, y, 0.1, [0, 1], steps=2)
    with pytest.raises(ValueError, match="models=2"):
        accuracies(model, x[:1], y[:1])


def test_cross_validation_refits_the_chosen_setting_per_data_set():
    from sklearn.preprocessing import StandardScaler

    from utils.small_data import cross_validated_networks

    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(2, 40, 3)) * [1.0, 100.0, 0.01]
    labels = (inputs[..., 0] > 0).astype(int)
    result = cross_validated_networks(inputs, labels, [(1e-4, 0.0), (3e-2, 0.0)], scaler=StandardScaler, seed=0, steps=60)
    assert result.settings == [(3e-2, 0.0), (3e-2, 0.0)]  # the tiny rate cannot learn in 60 steps
    assert result.scores.shape == (2, 2)
    assert (accuracies(result.model, result.transform(inputs), labels) > 0.9).all()
    with pytest.raises(ValueError, match="grid"):
        cross_validated_networks(inputs, labels, [(0.0, 0.0)], scaler=StandardScaler, seed=0)
    with pytest.raises(ValueError, match="NaN"):
        cross_validated_networks(np.full((1, 10, 2), np.nan), np.zeros((1, 10), int), [(0.1, 0.0)], scaler=StandardScaler, seed=0)
    with pytest.raises(TypeError, match="scaler"):
        cross_validated_networks(inputs, labels, [(0.1, 0.0)], scaler=None, seed=0)
    with pytest.raises(ValueError, match="data sets"):
        result.transform(inputs[:1])


def test_lbfgs_network_fits_and_rejects_bad_input():
    from utils.small_data import lbfgs_network

    X = np.random.default_rng(0).normal(size=(80, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    network = lbfgs_network(X, y, seed=3, iterations=100)
    assert float((network(torch.tensor(X, dtype=torch.float32)).argmax(1).numpy() == y).mean()) > 0.95
    with pytest.raises(ValueError, match="finite"):
        lbfgs_network(np.full((4, 2), np.inf), np.zeros(4, int), seed=0)
    with pytest.raises(ValueError, match="iterations"):
        lbfgs_network(X, y, seed=0, iterations=0)
