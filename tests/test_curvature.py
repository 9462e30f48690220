"""utils.curvature: step rules, momentum, iteration counts and the network Hessian's top eigenvalue."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from utils.curvature import (
    contraction_rate,
    gd_path,
    heavy_ball_tuned,
    iterations_to_tol,
    predicted_iterations,
    step_size,
    top_hessian_eigenvalues,
    two_feature_hessian,
)
from utils.training import StackedMLP


def test_two_feature_hessian_matches_sampled_second_moments():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(400_000, 2))
    x = np.array([1.0, 7.0]) * (3.0 + z)
    assert np.allclose(x.T @ x / len(x), two_feature_hessian(7.0, 3.0), rtol=0.02)


def test_contraction_rates_of_the_three_rules():
    H = np.diag([1.0, 100.0])
    kappa = 100.0
    assert contraction_rate(H, step_size(H, "optimal"))[0] == pytest.approx((kappa - 1) / (kappa + 1))
    assert contraction_rate(H, step_size(H, "max"))[0] == pytest.approx(1 - 1 / kappa)
    lr, momentum = heavy_ball_tuned(H)
    assert contraction_rate(H, lr, momentum)[0] == pytest.approx((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1), rel=1e-6)


def test_divergence_past_two_over_lambda_max():
    H = np.diag([1.0, 10.0])
    assert np.isinf(iterations_to_tol(H, lr=2.05 / 10.0))[0]
    assert contraction_rate(H, 2.05 / 10.0)[0] > 1
    assert np.isfinite(iterations_to_tol(H, lr=1.9 / 10.0))[0]


def test_iterations_follow_the_rate_prediction():
    H = np.stack([np.diag([1.0, k]) for k in (10.0, 100.0, 1000.0)])
    lr = step_size(H, "max")
    measured = iterations_to_tol(H, lr)
    predicted = predicted_iterations(contraction_rate(H, lr))
    assert np.all(np.abs(measured / predicted - 1) < 0.1)


def test_path_and_count_agree():
    H = two_feature_hessian(5.0, 1.0)
    lr = float(step_size(H, "max")[0])
    count = int(iterations_to_tol(H, lr, momentum=0.5, tol=1e-4)[0])
    path = gd_path(H, lr, momentum=0.5, steps=count)
    distance = np.linalg.norm(path - 1, axis=1) / np.sqrt(2)
    assert distance[-1] < 1e-4 <= distance[-2]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: step_size(np.diag([1.0, 0.0]), "max"), "positive definite"),
        (lambda: step_size(np.eye(2), "best"), "rule"),
        (lambda: iterations_to_tol(np.array([[1.0, np.nan], [np.nan, 1.0]]), 0.1), "NaN"),
        (lambda: iterations_to_tol(np.ones((2, 3)), 0.1), "square"),
        (lambda: iterations_to_tol(np.array([[1.0, 0.5], [0.0, 1.0]]), 0.1), "symmetric"),
        (lambda: iterations_to_tol(np.eye(2), 0.1, momentum=1.0), "momentum"),
        (lambda: iterations_to_tol(np.eye(2), -0.1), "lr"),
        (lambda: two_feature_hessian(0.0, 1.0), "scale_ratio"),
        (lambda: two_feature_hessian(1.0, float("inf")), "mean"),
        (lambda: gd_path(np.eye(2), 0.1, start=[0.0]), "start"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_top_eigenvalue_matches_the_full_hessian():
    torch.manual_seed(0)
    inputs = torch.randn(40, 3)
    labels = torch.randint(0, 2, (40,))
    model = StackedMLP([0, 1], n_inputs=3, n_hidden=4, n_outputs=2, activation="tanh")
    estimate = top_hessian_eigenvalues(model, inputs.expand(2, 40, 3), labels, iterations=200)
    for index in range(model.n_models):
        params = list(model.member(index).parameters())
        flat = torch.cat([p.detach().flatten() for p in params])

        def loss_of(vector: torch.Tensor) -> torch.Tensor:
            parts, i = [], 0
            for p in params:
                parts.append(vector[i : i + p.numel()].view_as(p))
                i += p.numel()
            hidden = torch.tanh(inputs @ parts[0].T + parts[1])
            return torch.nn.functional.cross_entropy(hidden @ parts[2].T + parts[3], labels)

        eigenvalues = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss_of, flat))
        top = eigenvalues[eigenvalues.abs().argmax()].item()
        assert estimate[index] == pytest.approx(top, rel=1e-3)


def test_top_eigenvalue_rejects_bad_shapes():
    model = StackedMLP([0], n_inputs=3, n_hidden=4, n_outputs=2)
    with pytest.raises(ValueError, match="inputs must have shape"):
        top_hessian_eigenvalues(model, torch.zeros(2, 5, 3), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="NaN"):
        top_hessian_eigenvalues(model, torch.full((1, 5, 3), float("nan")), torch.zeros(5, dtype=torch.long))


def _curvature_problem():
    torch.manual_seed(0)
    inputs = torch.randn(64, 3)
    labels = (inputs[:, 0] > 0).long()
    return inputs, labels


def test_curvature_along_training_matches_a_fresh_measurement():
    """Warm-started power iteration along training agrees with a cold one on the trained network."""
    from utils.curvature import curvature_along_training

    inputs, labels = _curvature_problem()
    model = StackedMLP([0, 1], n_inputs=3, n_hidden=4, n_outputs=2, activation="tanh")
    probe = (inputs.expand(2, -1, -1), labels)
    history, measured, values = curvature_along_training(model, inputs, labels, "sgd", [0.1, 0.3], [0, 1], 20, probe,
                                                         every=[0, 5, 20], iterations=50, batch_size=16)
    assert measured.tolist() == [0, 5, 20] and values.shape == (3, 2) and history.losses.shape == (20, 2)
    assert np.allclose(values[-1], top_hessian_eigenvalues(model, *probe, iterations=300), rtol=1e-3)


def test_curvature_along_training_marks_diverged_models():
    from utils.curvature import curvature_along_training

    inputs, labels = _curvature_problem()
    model = StackedMLP([0, 1], n_inputs=3, n_hidden=4, n_outputs=2)
    _, measured, values = curvature_along_training(model, inputs * 100, labels, "sgd", [0.01, 1e4], [0, 1], 10,
                                                   (inputs.expand(2, -1, -1) * 100, labels), every=5, batch_size=16)
    assert measured.tolist() == [0, 5, 10]
    assert np.isfinite(values[:, 0]).all() and np.isnan(values[-1, 1])


def test_curvature_along_training_rejects_bad_settings():
    from utils.curvature import curvature_along_training

    inputs, labels = _curvature_problem()
    model = StackedMLP([0], n_inputs=3, n_hidden=4, n_outputs=2)
    probe = (inputs[None], labels)
    for every in (0, 30, [], [-1], [5, 40], True):
        with pytest.raises(ValueError, match="every"):
            curvature_along_training(model, inputs, labels, "sgd", [0.1], [0], 20, probe, every=every)
    with pytest.raises(ValueError, match="inputs must have shape"):
        curvature_along_training(model, inputs, labels, "sgd", [0.1], [0], 20, (inputs[None, :, :2], labels))
    with pytest.raises(TypeError, match="integer class"):
        curvature_along_training(model, inputs, labels, "sgd", [0.1], [0], 20, (inputs[None], labels.float()))
    with pytest.raises(ValueError, match="iterations"):
        curvature_along_training(model, inputs, labels, "sgd", [0.1], [0], 20, probe, iterations=0)
