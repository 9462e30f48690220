import numpy as np
import pytest
import torch
from torch import nn

from utils import training


def _blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    features = rng.normal(size=(n, 2)) + 3.0 * labels[:, None]
    return features, labels


def test_train_learns_a_separable_problem_and_is_repeatable():
    features, labels = _blobs()
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        model = nn.Linear(2, 2)
        history = training.train(model, features, labels, optimizer="sgd", lr=0.1, steps=100, batch_size=32, seed=1)
        results.append(history.losses)
    assert np.array_equal(results[0], results[1])
    assert not history.diverged and history.final_loss < 0.3
    assert training.accuracy(model, features, labels) > 0.95


def test_train_records_divergence_instead_of_raising():
    features, labels = _blobs()
    history = training.train(nn.Linear(2, 2), features * 1e6, labels, optimizer="sgd", lr=1e6, steps=50, batch_size=32)
    assert history.diverged
    assert np.isnan(history.losses[-1])


@pytest.mark.parametrize(
    "kwargs, error",
    [({"optimizer": "rmsprop"}, ValueError), ({"lr": -1.0}, ValueError), ({"lr": float("nan")}, ValueError),
     ({"steps": 0}, ValueError), ({"batch_size": 0}, ValueError)],
)
def test_train_rejects_bad_settings(kwargs, error):
    features, labels = _blobs()
    with pytest.raises(error):
        training.train(nn.Linear(2, 2), features, labels, **kwargs)


@pytest.mark.parametrize(
    "features, labels, error",
    [(np.ones(4), np.zeros(4, dtype=int), ValueError), (np.ones((4, 2)), np.zeros(3, dtype=int), ValueError),
     (np.ones((4, 2)), np.zeros(4), TypeError), (np.full((4, 2), np.nan), np.zeros(4, dtype=int), ValueError)],
)
def test_train_rejects_bad_data(features, labels, error):
    with pytest.raises(error):
        training.train(nn.Linear(2, 2), features, labels)


def test_stacked_models_match_separately_trained_ones():
    """A stacked run must be exactly the same computation as training each model on its own."""
    features, labels = _blobs()
    x, y = torch.tensor(features, dtype=torch.float32), torch.tensor(labels)
    stacked = training.StackedMLP([3, 4], 2, 5, 2)
    history = training.train_stacked(stacked, x, y, "adam", [0.01, 0.1], [7, 8], steps=20, batch_size=16)
    for index, (seed, lr, batch_seed) in enumerate([(3, 0.01, 7), (4, 0.1, 8)]):
        single = training.StackedMLP([seed], 2, 5, 2)
        single_history = training.train_stacked(single, x, y, "adam", [lr], [batch_seed], steps=20, batch_size=16)
        assert np.allclose(history.losses[:, index], single_history.losses[:, 0], rtol=1e-5)


def test_sweep_returns_tidy_records_and_curves():
    features, labels = _blobs()
    result = training.sweep({"a": (features, labels, features, labels), "b": (features / 10, labels, features / 10, labels)},
                            ["sgd", "adam"], [0.01, 0.1, 1.0], seeds=[0, 1], steps=30, batch_size=32, n_hidden=4)
    assert len(result.records) == 2 * 2 * 3 * 2
    assert set(result.records.columns) >= {"preprocessing", "optimizer", "lr", "seed", "final_loss", "test_accuracy", "diverged"}
    assert result.curves[("a", "sgd")].shape == (30, 3, 2)
    assert result.records["test_accuracy"].max() > 0.9


def test_sweep_marks_diverged_runs():
    features, labels = _blobs()
    result = training.sweep({"huge": (features * 1e4, labels, features * 1e4, labels)}, ["sgd"], [1e-9, 1e3],
                            seeds=[0], steps=30, batch_size=32, n_hidden=4)
    by_lr = result.records.set_index("lr")
    assert by_lr.loc[1e3, "diverged"] and by_lr.loc[1e3, "test_accuracy"] <= 0.6  # scored as the broken model it is
    assert not by_lr.loc[1e-9, "diverged"]
    with pytest.raises(ValueError):
        training.sweep({}, ["sgd"], [0.1])
    with pytest.raises(ValueError):
        training.sweep({"a": (features, labels, features, labels)}, ["sgd"], [])


def test_train_many_members_are_ordinary_modules():
    features, labels = _blobs()
    model, history = training.train_many(features, labels, "adam", [0.05, 0.05], [0, 1], n_hidden=4, steps=60, batch_size=32)
    member = model.member(1)
    with torch.no_grad():
        stacked_logits = model(torch.tensor(features, dtype=torch.float32).expand(2, -1, -1))[1]
        member_logits = member(torch.tensor(features, dtype=torch.float32))
    assert torch.allclose(stacked_logits, member_logits, atol=1e-6)
    assert training.accuracy(member, features, labels) > 0.9
    with pytest.raises(ValueError):
        training.train_many(features, labels, "adam", [0.1], [0, 1])


@pytest.mark.parametrize("input_norm", ["batch", "layer"])
def test_stacked_input_norm_keeps_models_independent(input_norm):
    features, labels = _blobs()
    x, y = torch.tensor(features * 100 + 50, dtype=torch.float32), torch.tensor(labels)
    stacked = training.StackedMLP([3, 4], 2, 5, 2, input_norm=input_norm)
    history = training.train_stacked(stacked, x, y, "sgd", [0.01, 0.3], [7, 8], steps=15, batch_size=16)
    single = training.StackedMLP([4], 2, 5, 2, input_norm=input_norm)
    single_history = training.train_stacked(single, x, y, "sgd", [0.3], [8], steps=15, batch_size=16)
    assert np.allclose(history.losses[:, 1], single_history.losses[:, 0], rtol=1e-4)
    with pytest.raises(ValueError):
        stacked.member(0)


def test_sweep_with_batch_norm_learns_raw_inputs():
    features, labels = _blobs()
    raw = features * 1000 + 5000
    result = training.sweep({"raw": (raw, labels, raw, labels)}, ["sgd"], [0.1], seeds=[0], steps=60, batch_size=32,
                            n_hidden=4, input_norm="batch")
    assert result.records["test_accuracy"].iloc[0] > 0.9
    with pytest.raises(ValueError):
        training.StackedMLP([0], 2, 3, 2, input_norm="group")


def test_sweep_members_are_the_trained_runs():
    features, labels = _blobs()
    result = training.sweep({"a": (features, labels, features, labels)}, ["adam"], [0.01, 0.1], seeds=[3, 4],
                            steps=30, batch_size=32, n_hidden=4)
    row = result.records.set_index(["lr", "seed"]).loc[(0.1, 4)]
    assert training.accuracy(result.member("a", "adam", 0.1, 4), features, labels) == pytest.approx(row["test_accuracy"])
    with pytest.raises(ValueError):
        result.member("a", "adam", 0.5, 4)


def test_depth_init_scale_and_validation_records():
    from utils.training import StackedMLP, sweep

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] > 0).astype(int)
    plain = StackedMLP([3], 4, 8, 2, hidden_layers=3)
    scaled = StackedMLP([3], 4, 8, 2, hidden_layers=3, first_layer_init_scale=0.25)
    assert len(plain.weights) == 4 and len(plain.hidden_activations(torch.zeros(1, 2, 4))) == 3
    assert torch.allclose(scaled.weights[0], 0.25 * plain.weights[0])
    assert torch.equal(scaled.weights[1], plain.weights[1])  # only the first layer changes
    result = sweep({"x": (X[:60], y[:60], X[60:90], y[60:90], X[90:], y[90:])}, ["momentum"], [0.1], seeds=[0], steps=30,
                   batch_size=30, hidden_layers=2)
    row = result.records.iloc[0]
    assert 0 <= row["val_accuracy"] <= 1 and 0 <= row["test_accuracy"] <= 1 and row["initial_loss"] > 0
    member = result.member("x", "momentum", 0.1, 0)
    inputs = torch.as_tensor(X[90:], dtype=torch.float32)
    assert torch.allclose(member(inputs), result.models[("x", "momentum")](inputs[None])[0], atol=1e-6)
    with pytest.raises(ValueError, match="hidden_layers"):
        StackedMLP([0], 4, 8, 2, hidden_layers=0)
    with pytest.raises(ValueError, match="first_layer_init_scale"):
        StackedMLP([0], 4, 8, 2, first_layer_init_scale=0.0)
    with pytest.raises(ValueError, match="validation pair"):
        sweep({"x": (X, y, X)}, ["sgd"], [0.1], seeds=[0], steps=2)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_stacked_optimizer_matches_torch(optimizer, weight_decay):
    """The per-model-learning-rate optimizer of train_stacked follows torch.optim's formulas."""
    features, labels = _blobs()
    x, y = torch.tensor(features, dtype=torch.float32), torch.tensor(labels)
    stacked = training.StackedMLP([5], 2, 6, 2, hidden_layers=2)
    single = stacked.member(0)  # same initial weights, as ordinary modules trained by torch.optim
    history = training.train_stacked(stacked, x, y, optimizer, [0.05], [9], steps=25, batch_size=16, weight_decay=weight_decay)
    reference = training.train(single, features, labels, optimizer, lr=0.05, steps=25, batch_size=16, seed=9,
                               weight_decay=weight_decay)
    assert np.allclose(history.losses[:, 0], reference.losses, rtol=1e-4, atol=1e-6)


def test_layer_multipliers_scale_each_tensor_and_are_validated():
    X, y = _blobs()
    frozen = [0.0, 1.0, 1.0, 1.0]  # parameter_names order: first-layer weight first
    result = training.sweep({"x": (X, y, X, y)}, ["adam"], [0.05], seeds=[0], steps=10, batch_size=16, n_hidden=4,
                            layer_multipliers={"x": frozen})
    model, start = result.models[("x", "adam")], training.StackedMLP([0], 2, 4, 2)
    assert model.parameter_names() == ["weights.0", "biases.0", "weights.1", "biases.1"]
    assert torch.equal(model.weights[0], start.weights[0]) and not torch.equal(model.weights[1], start.weights[1])
    ones = training.sweep({"x": (X, y, X, y)}, ["adam"], [0.05], seeds=[0], steps=10, batch_size=16, n_hidden=4,
                          layer_multipliers=[1.0] * 4)
    plain = training.sweep({"x": (X, y, X, y)}, ["adam"], [0.05], seeds=[0], steps=10, batch_size=16, n_hidden=4)
    assert np.array_equal(ones.curves[("x", "adam")], plain.curves[("x", "adam")])
    with pytest.raises(ValueError, match="one factor per parameter tensor"):
        training.sweep({"x": (X, y, X, y)}, ["adam"], [0.05], seeds=[0], steps=2, layer_multipliers=[1.0, 1.0])



def test_schedule_scales_the_rate_and_callback_sees_every_step():
    features, labels = _blobs()
    x, y = torch.tensor(features, dtype=torch.float32), torch.tensor(labels)
    # Rate 0.1 with a schedule of 0.5 is rate 0.05.
    halved, plain = training.StackedMLP([1], 2, 6, 2), training.StackedMLP([1], 2, 6, 2)
    seen = []
    a = training.train_stacked(halved, x, y, "momentum", [0.1], [3], steps=10, batch_size=16, schedule=np.full(10, 0.5),
                               callback=lambda step, model: seen.append(step))
    b = training.train_stacked(plain, x, y, "momentum", [0.05], [3], steps=10, batch_size=16)
    assert np.allclose(a.losses, b.losses, rtol=1e-5)
    assert seen == list(range(11))


def test_schedule_rejects_bad_input():
    features, labels = _blobs()
    x, y = torch.tensor(features, dtype=torch.float32), torch.tensor(labels)
    model = training.StackedMLP([1], 2, 6, 2)
    for bad in (np.ones(3), np.zeros(2), np.full(2, np.inf), np.ones((2, 3))):
        with pytest.raises(ValueError, match="schedule"):
            training.train_stacked(model, x, y, "sgd", [0.1], [3], steps=2, batch_size=16, schedule=bad)
    with pytest.raises(ValueError, match="init"):
        training.StackedMLP([1], 2, 6, 2, init="xavier")


def test_he_init_keeps_signal_size_where_the_default_shrinks_it():
    x = 10 * torch.randn(1, 4000, 64)  # large enough that the default biases do not matter
    for init, expected in [("default", 1 / 6), ("he", 1.0)]:
        model = training.StackedMLP([0], 64, 64, 2, hidden_layers=3, init=init)
        with torch.no_grad():
            hidden = model.hidden_activations(x)
        ratio = (hidden[2].pow(2).mean() / hidden[1].pow(2).mean()).item()  # second moment, layer 3 over layer 2
        assert ratio == pytest.approx(expected, rel=0.35)
    assert torch.count_nonzero(training.StackedMLP([0], 64, 64, 2, init="he").biases[0]) == 0
