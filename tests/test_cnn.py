import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from utils.cnn import StackedCNN, stacked_accuracy, stacked_logits, sweep_cnn, train_stacked_cnn


def _task(n=96, seed=0):
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 1, 8, 8, generator=generator)
    labels = (images[:, 0, :, :4].mean(dim=(1, 2)) > images[:, 0, :, 4:].mean(dim=(1, 2))).long()
    images[labels == 1, :, :, :4] += 0.5  # make the classes easy to tell apart
    return images, labels


def test_momentum_update_matches_torch_optim():
    images, labels = _task()
    stack = StackedCNN([0], 1, 8, 2)
    reference = StackedCNN([0], 1, 8, 2)
    train_stacked_cnn(stack, images[None], labels, [0], "momentum", [0.05], [1], steps=3, batch_size=96)
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.05, momentum=0.9)
    for _ in range(3):  # batch_size = n: every step sees the whole (permuted) data, so the order does not matter
        optimizer.zero_grad()
        F.cross_entropy(reference(images)[0], labels).backward()
        optimizer.step()
    assert torch.allclose(stack.w1, reference.w1, atol=1e-5)


def test_adam_update_matches_torch_optim():
    images, labels = _task()
    stack, reference = StackedCNN([0], 1, 8, 2), StackedCNN([0], 1, 8, 2)
    train_stacked_cnn(stack, images[None], labels, [0], "adam", [0.01], [1], steps=3, batch_size=96)
    optimizer = torch.optim.Adam(reference.parameters(), lr=0.01)
    for _ in range(3):
        optimizer.zero_grad()
        F.cross_entropy(reference(images)[0], labels).backward()
        optimizer.step()
    assert torch.allclose(stack.wl, reference.wl, atol=1e-5)


def test_sweep_learns_and_freezes_diverged_members():
    images, labels = _task()
    splits = {name: (images[None], labels) for name in ("train", "val", "test")}
    runs = [{"version": 0, "lr": 0.01, "seed": 0}, {"version": 0, "lr": 1e4, "seed": 0}]
    model, records = sweep_cnn(splits, runs, "adam", steps=60, batch_size=32)
    assert records.loc[0, "test_accuracy"] > 0.8 and not records.loc[0, "diverged"]
    assert records.loc[1, "test_accuracy"] < 0.8


def test_bad_inputs_raise_clear_errors():
    images, labels = _task()
    stack = StackedCNN([0], 1, 8, 2)
    with pytest.raises(ValueError, match="inputs must have shape"):
        stack(torch.zeros(1, 4, 3, 8, 8))  # wrong channel count
    with pytest.raises(ValueError, match="NaN"):
        bad = images.clone()
        bad[0, 0, 0, 0] = float("nan")
        train_stacked_cnn(stack, bad[None], labels, [0], "adam", [0.01], [0], steps=1)
    with pytest.raises(ValueError, match="versions, samples"):
        train_stacked_cnn(stack, images, labels, [0], "adam", [0.01], [0], steps=1)  # wrong shape
    with pytest.raises(ValueError, match="optimizer"):
        train_stacked_cnn(stack, images[None], labels, [0], "rmsprop", [0.01], [0], steps=1)
    with pytest.raises(ValueError, match="learning rate"):
        train_stacked_cnn(stack, images[None], labels, [0], "adam", [float("nan")], [0], steps=1)
    with pytest.raises(ValueError, match="init_scale"):
        StackedCNN([0], 1, 8, 2, first_layer_init_scale=0.0)
    with pytest.raises(ValueError, match="image_size"):
        StackedCNN([0], 1, 4, 2)
    assert stacked_accuracy(stack, images[None], labels, [0]).shape == (1,)


def test_layer_multipliers_reach_the_optimizer():
    images, labels = _task()
    splits = {name: (images[None], labels) for name in ("train", "val", "test")}
    runs = [{"version": 0, "lr": 0.05, "seed": 0, "layer_multipliers": [0.0] + [1.0] * 5}, {"version": 0, "lr": 0.05, "seed": 0}]
    model, _ = sweep_cnn(splits, runs, "momentum", steps=5, batch_size=16)
    start = StackedCNN([0], 1, 8, 2)
    assert torch.equal(model.w1[0], start.w1[0]) and not torch.equal(model.w1[1], start.w1[0])
    with pytest.raises(ValueError, match="one factor per parameter tensor"):
        sweep_cnn(splits, runs[1:], "momentum", steps=2, layer_multipliers=[1.0, 1.0])


def test_identity_raw_from_unit_start_is_unit_with_conv1_rate_times_255_squared():
    """SGD on raw inputs from the /255 start = /255 inputs with conv1's weights at 255**2 x the rate."""
    images, labels = _task()
    raw = StackedCNN([3], 1, 8, 2, first_layer_init_scale=1 / 255).double()
    unit = StackedCNN([3], 1, 8, 2).double()
    with torch.no_grad():  # the same start to float64 rounding (float32 init x 1/255 is not exact)
        unit.w1.copy_(raw.w1 * 255)
    raw_run = train_stacked_cnn(raw, (255 * images.double())[None], labels, [0], "sgd", [1e-3], [5], steps=5, batch_size=16)
    unit_run = train_stacked_cnn(unit, images.double()[None], labels, [0], "sgd", [1e-3], [5], steps=5, batch_size=16,
                                 layer_multipliers=[255.0**2, 1, 1, 1, 1, 1])
    assert np.abs(raw_run.losses - unit_run.losses).max() < 1e-12
    assert torch.allclose(raw.w1 * 255, unit.w1, atol=1e-12)


def test_batch_norm_eps_is_the_only_trace_of_input_scale():
    net = StackedCNN([0], 1, 8, 2, batch_norm=True, batch_norm_eps=1e-14).double().train()
    x = torch.rand(16, 1, 8, 8, dtype=torch.float64)
    assert (net(255 * x) - net(x)).abs().max() < 1e-9
    assert net.select([0]).batch_norm_eps == 1e-14 and net.select([0]).wl.dtype == torch.float64
    for bad in (0.0, float("nan"), -1e-5):
        with pytest.raises(ValueError, match="batch_norm_eps"):
            StackedCNN([0], 1, 8, 2, batch_norm=True, batch_norm_eps=bad)


def test_adam_identity_holds_with_a_tiny_eps():
    """Adam on raw inputs = /255 inputs with conv1's weights at 255 x the rate, once ε no longer counts."""
    images, labels = _task()
    raw = StackedCNN([3], 1, 8, 2).double()
    unit = StackedCNN([3], 1, 8, 2).double()
    with torch.no_grad():
        unit.w1.copy_(raw.w1 * 255)
    runs = {}
    for name, model, inputs, factor in (("raw", raw, 255 * images.double(), 1.0), ("unit", unit, images.double(), 255.0)):
        runs[name] = train_stacked_cnn(model, inputs[None], labels, [0], "adam", [1e-3], [5], steps=5, batch_size=16,
                                       layer_multipliers=[factor, 1, 1, 1, 1, 1], adam_eps=1e-30).losses
    assert np.abs(runs["raw"] - runs["unit"]).max() < 1e-12
    assert torch.allclose(raw.w1 * 255, unit.w1, atol=1e-10)


def test_stacked_logits_do_not_depend_on_the_chunk_size():
    model = StackedCNN([0, 1, 2], 1, 8, 3).eval()
    inputs = torch.randn(2, 37, 1, 8, 8)  # 37 samples: the last chunk is a remainder
    whole = stacked_logits(model, inputs, [0, 1, 0], chunk=37)
    for chunk in (None, 1, 8, 10):
        assert torch.allclose(stacked_logits(model, inputs, [0, 1, 0], chunk=chunk), whole, atol=1e-6)
    with pytest.raises(ValueError, match="chunk"):
        stacked_logits(model, inputs, [0, 1, 0], chunk=0)


def test_sweep_without_test_scores_leaves_the_test_digits_unread():
    images, labels = _task()
    splits = {name: (images[None], labels) for name in ("train", "val")}
    splits["test"] = (torch.full_like(images[None], float("nan")), labels)  # would poison any score read from it
    runs = [{"version": 0, "lr": 0.01, "seed": 0}]
    model, records = sweep_cnn(splits, runs, "adam", steps=20, batch_size=32, score_test=False)
    assert "test_accuracy" not in records and records.loc[0, "val_accuracy"] > 0.3
    chosen = model.select([0])  # the chosen member, scored afterwards: as a full sweep would have scored it
    full_model, full = sweep_cnn({**splits, "test": splits["val"]}, runs, "adam", steps=20, batch_size=32)
    assert stacked_accuracy(chosen, *splits["val"], [0])[0] == full.loc[0, "test_accuracy"]
