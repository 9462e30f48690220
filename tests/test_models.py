"""The stacked models (utils/models.py): members equal ordinary networks, parameter_names, one loop for both."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from utils import cnn, training
from utils.models import StackedCNN, StackedMLP
from utils.optim import StackedOptimizer

UTILS = __import__("pathlib").Path(__file__).resolve().parent.parent / "utils"


def _single_cnn(stack: StackedCNN, i: int) -> nn.Module:
    """Member ``i`` rebuilt from ordinary layers, to check the grouped computation against."""
    c1, c2 = stack.channels

    class Single(nn.Module):
        def forward(self, x):
            x = F.max_pool2d(F.relu(F.conv2d(x, stack.w1[i], stack.b1[i], padding=1)), 2)
            x = F.max_pool2d(F.relu(F.conv2d(x, stack.w2[i], stack.b2[i])), 2)
            return x.flatten(1) @ stack.wl[i] + stack.bl[i]

    return Single()

def test_stacked_members_match_ordinary_layers():
    stack = StackedCNN([0, 1, 2], 1, 10, 3)
    x = torch.randn(5, 1, 10, 10)
    together = stack(x)
    for i in range(3):
        assert torch.allclose(together[i], _single_cnn(stack, i)(x), atol=1e-5)

def test_same_seed_gives_same_member_whatever_else_is_stacked():
    assert torch.equal(StackedCNN([7], 1, 8, 2).w1[0], StackedCNN([3, 7], 1, 8, 2).w1[1])

def test_first_layer_init_scale_divides_only_conv1():
    plain, scaled = StackedCNN([0], 1, 8, 2), StackedCNN([0], 1, 8, 2, first_layer_init_scale=1 / 255)
    assert torch.allclose(scaled.w1 * 255, plain.w1) and torch.equal(scaled.w2, plain.w2)

def test_batch_norm_forward_ignores_a_global_input_scale():
    stack = StackedCNN([0, 1], 1, 8, 2, batch_norm=True).train()
    x = torch.rand(16, 1, 8, 8) * 255
    assert torch.allclose(stack(x), stack(x / 255), atol=1e-3)

def test_select_copies_members_in_order():
    stack = StackedCNN([0, 1, 2], 1, 8, 2)
    x = torch.randn(4, 1, 8, 8)
    assert torch.allclose(stack.select([2, 0])(x), stack(x)[[2, 0]])
    with pytest.raises(ValueError, match="indices"):
        stack.select([3])


@pytest.mark.parametrize("model", [StackedMLP([0, 1], 4, 5, 3, hidden_layers=2), StackedMLP([0], 4, 5, 3, input_norm="batch"),
                                   StackedCNN([0, 1], 1, 8, 2), StackedCNN([0], 1, 8, 2, batch_norm=True)],
                         ids=["mlp", "mlp-batchnorm", "cnn", "cnn-batchnorm"])
def test_parameter_names_list_the_trained_tensors_first_layer_first(model):
    names = model.parameter_names()
    tensors = [model.get_parameter(name) for name in names]
    assert len(set(names)) == len(names) and all(t.shape[0] == model.n_models for t in tensors)
    assert names[0] in ("weights.0", "w1")
    trained = {id(t) for t in tensors}
    left_out = [name for name, p in model.named_parameters() if id(p) not in trained]
    # Only an MLP's input BatchNorm keeps its affine parameters at (1, 0), as the book's sweeps always have.
    assert left_out == ([] if not isinstance(model.input_norm if isinstance(model, StackedMLP) else None, nn.BatchNorm1d)
                        else ["input_norm.weight", "input_norm.bias"])


def test_mlp_and_cnn_share_one_loop_that_freezes_a_diverged_model():
    rng = np.random.default_rng(0)
    images = torch.as_tensor(rng.random((64, 1, 8, 8)), dtype=torch.float32)
    labels = torch.as_tensor(rng.integers(0, 2, 64))
    for model, batch in [
        (StackedMLP([0, 0], 64, 4, 2), lambda index: (images.flatten(1)[index], labels[index])),
        (StackedCNN([0, 0], 1, 8, 2), lambda index: (images[index], labels[index])),
    ]:
        params = [model.get_parameter(name) for name in model.parameter_names()]
        optimizer = StackedOptimizer(params, "momentum", [0.01, 1e6])  # the second model diverges
        history = training.fit_stacked(model, batch, 64, optimizer, [1, 1], steps=30, batch_size=16)
        assert history.diverged.tolist() == [False, True]
        step = int(np.argmax(np.isnan(history.losses[:, 1])))
        assert 0 < step < 30 and np.isnan(history.losses[step:, 1]).all() and np.isfinite(history.losses[:, 0]).all()


def test_no_second_copy_of_an_update_rule():
    """Momentum and Adam are written once, in utils/optim.py; every other module calls it (or torch.optim)."""
    signatures = ("lerp_(", "addcmul_(", "mul_(0.9)", "exp_avg", "momentum_buffer", "1 - beta")
    # small_data keeps its own full-batch Adam (CNN-style rounding) until the chapter that publishes its
    # numbers (05_sensitivity) is replaced: StackedOptimizer's torch-order rounding moves them (issue 19 note).
    for path in UTILS.glob("*.py"):
        if path.name not in ("optim.py", "small_data.py"):
            source = path.read_text()
            assert not [s for s in signatures if s in source], f"{path.name} holds an update rule"


def test_freezing_a_diverged_model_leaves_the_others_unchanged():
    rng = np.random.default_rng(1)
    features, labels = torch.as_tensor(rng.normal(size=(64, 3)), dtype=torch.float32), torch.as_tensor(rng.integers(0, 2, 64))
    finals = {}
    for freeze in (True, False):
        model = StackedMLP([0, 0], 3, 4, 2)
        params = [model.get_parameter(name) for name in model.parameter_names()]
        optimizer = StackedOptimizer(params, "momentum", [0.01, 30.0])
        history = training.fit_stacked(model, lambda i: (features[i], labels[i]), 64, optimizer, [1, 1], 40, 16,
                                       freeze_diverged=freeze)
        assert history.diverged.tolist() == [False, True]
        finals[freeze] = [p.detach().clone() for p in params]
    assert all(torch.equal(a[0], b[0]) for a, b in zip(finals[True], finals[False]))  # the live model: identical
    assert not all(torch.equal(a[1], b[1]) for a, b in zip(finals[True], finals[False]))  # momentum moved the dead one

