"""StackedOptimizer against torch.optim: each model's slice must follow torch's update to rounding."""

import numpy as np
import pytest
import torch

from utils.optim import StackedOptimizer

SHAPES = [(3, 4), (4,), (4, 2)]  # three parameter tensors of one small model (models go on dim 0)
RATES = [0.05, 0.01, 0.1]


def _initial(n_models=len(RATES), seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn((n_models, *shape), generator=generator) for shape in SHAPES]


def _loss(tensors, target):
    """A smooth non-quadratic loss of one model's tensors (so Adam's moments matter)."""
    a, b, c = tensors
    return ((torch.tanh(target @ a + b) @ c - 1.0) ** 2).mean()


def _reference(name, weight_decay, decoupled, eps=1e-8):
    """A torch.optim constructor for one model, the tensors given as parameter groups."""
    def make(groups):
        if name == "sgd":
            return torch.optim.SGD(groups, lr=1.0, weight_decay=weight_decay)
        if name == "momentum":
            return torch.optim.SGD(groups, lr=1.0, momentum=0.9, weight_decay=weight_decay)
        return (torch.optim.AdamW if decoupled else torch.optim.Adam)(groups, lr=1.0, weight_decay=weight_decay, eps=eps)
    return make


def _run(name, multipliers=None, weight_decay=0.0, decoupled=False, steps=6, eps=1e-8):
    target = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    stacked = [t.clone().requires_grad_() for t in _initial()]
    optimizer = StackedOptimizer(stacked, name, RATES, multipliers, weight_decay, decoupled, adam_eps=eps)
    for _ in range(steps):
        optimizer.zero_grad()
        sum(_loss([p[i] for p in stacked], target) for i in range(len(RATES))).backward()
        optimizer.step()
    assert not torch.allclose(stacked[2], _initial()[2], atol=1e-3)  # the runs really moved
    factors = np.broadcast_to(np.ones(len(SHAPES)) if multipliers is None else np.asarray(multipliers, dtype=float),
                              (len(RATES), len(SHAPES)))
    decays = np.broadcast_to(np.asarray(weight_decay, dtype=float), (len(RATES),))
    for i, rate in enumerate(RATES):
        single = [t[i].clone().requires_grad_() for t in _initial()]
        reference = _reference(name, float(decays[i]), decoupled, eps)(
            [{"params": [p], "lr": rate * float(f)} for p, f in zip(single, factors[i])])
        for _ in range(steps):
            reference.zero_grad()
            _loss(single, target).backward()
            reference.step()
        for ours, theirs in zip(stacked, single):
            torch.testing.assert_close(ours[i].detach(), theirs.detach(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_per_model_rates_match_torch_optim(name, weight_decay):
    _run(name, weight_decay=weight_decay)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_per_layer_multipliers_match_torch_parameter_groups(name, weight_decay):
    _run(name, multipliers=[1 / 255**2, 1.0, 0.5], weight_decay=weight_decay)  # one list for every model
    _run(name, multipliers=[[1.0, 2.0, 0.5], [0.1, 1.0, 1.0], [2.0, 0.0, 1.0]], weight_decay=weight_decay)


@pytest.mark.parametrize("eps", [1e-3, 1e-30])
def test_adam_eps_matches_torch_optim(eps):
    _run("adam", eps=eps)


def test_adam_with_a_tiny_eps_ignores_a_rescaled_gradient():
    """With eps negligible, Adam's step is the same for a gradient 255 times larger (the book's identity)."""
    steps = []
    for scale in (1.0, 255.0):
        w = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
        optimizer = StackedOptimizer([w], "adam", [0.1], adam_eps=1e-30)
        w.grad = scale * torch.tensor([[1e-3, -2.0, 0.0]], dtype=torch.float64)
        optimizer.step()
        steps.append(w.detach().clone())
    torch.testing.assert_close(steps[0], steps[1], rtol=1e-15, atol=0.0)
    default = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
    default.grad = torch.tensor([[1e-9, 0.0, 0.0]], dtype=torch.float64)
    StackedOptimizer([default], "adam", [0.1]).step()  # eps = 1e-8 dominates a 1e-9 gradient
    assert abs(default[0, 0].item()) < 0.02


@pytest.mark.parametrize("multipliers", [None, [0.01, 1.0, 2.0]])
def test_decoupled_weight_decay_matches_adamw(multipliers):
    _run("adam", multipliers=multipliers, weight_decay=0.1, decoupled=True)


@pytest.mark.parametrize("name, decoupled", [("sgd", False), ("momentum", False), ("adam", False), ("adam", True)])
def test_one_weight_decay_per_model(name, decoupled):
    _run(name, multipliers=[0.5, 1.0, 2.0], weight_decay=[0.0, 0.1, 0.3], decoupled=decoupled)


def test_decoupled_weight_decay_equals_coupled_for_plain_sgd():
    """For plain SGD the two forms are the same update: w - lr (g + wd w) = (1 - lr wd) w - lr g."""
    _run("sgd", weight_decay=0.1, decoupled=True)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_dead_models_are_frozen_and_their_nans_stay_out(name):
    weights = torch.ones(3, 2, requires_grad=True)
    optimizer = StackedOptimizer([weights], name, [0.1, 0.1, 0.1])
    for step in range(3):
        weights.grad = torch.tensor([[1.0, -1.0], [float("nan"), float("inf")], [0.5, 0.5]])
        optimizer.step(alive=torch.tensor([True, False, True]))
    assert torch.equal(weights[1], torch.ones(2))  # untouched, exactly
    assert torch.isfinite(weights).all() and not torch.equal(weights[0], torch.ones(2))
    # A model that is alive again later is updated from finite state.
    weights.grad = torch.ones(3, 2)
    optimizer.step()
    assert torch.isfinite(weights).all()


def test_all_alive_mask_gives_the_same_numbers_as_no_mask():
    results = []
    for alive in (None, torch.ones(3, dtype=torch.bool)):
        weights = torch.ones(3, 2, requires_grad=True)
        optimizer = StackedOptimizer([weights], "adam", RATES)
        for _ in range(3):
            weights.grad = torch.linspace(-1, 1, 6).view(3, 2)
            optimizer.step(alive)
        results.append(weights.detach().clone())
    assert torch.equal(*results)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"name": "rmsprop"}, "optimizer"),
        ({"learning_rates": [0.1, 0.0]}, "learning rates"),
        ({"learning_rates": [0.1, -1.0]}, "learning rates"),
        ({"learning_rates": [0.1, float("nan")]}, "learning rates"),
        ({"learning_rates": [0.1, float("inf")]}, "learning rates"),
        ({"learning_rates": []}, "learning_rates"),
        ({"learning_rates": [0.1, 0.1, 0.1]}, "models on dim 0"),
        ({"layer_multipliers": [1.0]}, "layer_multipliers"),
        ({"layer_multipliers": [1.0, 1.0, 1.0]}, "layer_multipliers"),
        ({"layer_multipliers": [[1.0, 1.0]]}, "layer_multipliers"),
        ({"layer_multipliers": [1.0, -1.0]}, "layer_multipliers"),
        ({"layer_multipliers": [1.0, float("nan")]}, "layer_multipliers"),
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"weight_decay": float("nan")}, "weight_decay"),
        ({"weight_decay": [0.1, 0.1, 0.1]}, "weight_decay"),
        ({"adam_eps": 0.0}, "adam_eps"),
        ({"adam_eps": -1e-8}, "adam_eps"),
        ({"adam_eps": float("nan")}, "adam_eps"),
        ({"adam_eps": float("inf")}, "adam_eps"),
        ({"adam_eps": "1e-8"}, "adam_eps"),
        ({"adam_eps": True}, "adam_eps"),
    ],
)
def test_bad_settings_raise_value_errors_naming_the_problem(kwargs, match):
    settings = {"name": "adam", "learning_rates": [0.1, 0.2]}
    settings.update(kwargs)
    params = [torch.zeros(2, 3, requires_grad=True), torch.zeros(2, 1, requires_grad=True)]
    with pytest.raises(ValueError, match=match):
        StackedOptimizer(params, settings.pop("name"), settings.pop("learning_rates"), **settings)


def test_bad_params_and_masks_raise():
    with pytest.raises(ValueError, match="params is empty"):
        StackedOptimizer([], "sgd", [0.1])
    with pytest.raises(TypeError, match="floating-point"):
        StackedOptimizer([torch.zeros(2, 3, dtype=torch.long)], "sgd", [0.1, 0.1])
    optimizer = StackedOptimizer([torch.zeros(2, 3, requires_grad=True)], "sgd", [0.1, 0.1])
    with pytest.raises(ValueError, match="alive"):
        optimizer.step(alive=torch.ones(3, dtype=torch.bool))
    with pytest.raises(ValueError, match="alive"):
        optimizer.step(alive=torch.ones(2))


def test_scale_rates_follows_the_factors_and_rejects_bad_ones():
    w = torch.zeros(2, 3, requires_grad=True)
    optimizer = StackedOptimizer([w], "sgd", [0.1, 0.2], [2.0])
    optimizer.scale_rates([0.5, 0.25])
    w.grad = torch.ones(2, 3)
    optimizer.step()
    assert torch.allclose(w[:, 0], torch.tensor([-0.1, -0.1]))
    optimizer.scale_rates([1.0, 1.0])  # factors apply to the rates at construction, not to the last ones
    optimizer.step()
    assert torch.allclose(w[:, 0], torch.tensor([-0.3, -0.5]))
    for bad in ([1.0], [1.0, 0.0], [1.0, np.nan]):
        with pytest.raises(ValueError, match="factors"):
            optimizer.scale_rates(bad)
    decoupled = StackedOptimizer([w], "adam", [0.1, 0.2], weight_decay=0.1, decoupled_weight_decay=True)
    with pytest.raises(ValueError, match="decoupled"):
        decoupled.scale_rates([1.0, 1.0])


def test_adam_eps_reaches_the_update_and_bad_eps_is_refused():
    """A larger ε shrinks Adam's first step; 0, negative, NaN, inf or a bool ε is refused by name."""
    moved = {}
    for eps in (1e-8, 1.0):
        w = torch.zeros(1, 2, requires_grad=True)
        w.grad = torch.ones(1, 2)
        StackedOptimizer([w], "adam", [0.1], adam_eps=eps).step()
        moved[eps] = -w[0, 0].item()
    assert moved[1e-8] == pytest.approx(0.1, rel=1e-6) and moved[1.0] == pytest.approx(0.05, rel=1e-6)
    w = torch.zeros(1, 2, requires_grad=True)
    for bad in (0.0, -1e-8, float("nan"), float("inf"), True, "1e-8"):
        with pytest.raises(ValueError, match="adam_eps"):
            StackedOptimizer([w], "adam", [0.1], adam_eps=bad)
