"""Curvature and what it predicts: step-size rules, momentum and iteration counts on quadratics,
and the top Hessian eigenvalue of a network's training loss.

On a quadratic loss ``(w - w*)^T H (w - w*) / 2`` every eigen-direction of ``H`` evolves on its own,
so the eigenvalues of ``H`` (and the step size and momentum) decide everything: which steps are
stable, how fast the error shrinks, how many iterations a tolerance costs. For a network the
Hessian is not constant: its top eigenvalue moves as the network trains (:func:`curvature_along_training`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

STEP_RULES = ("optimal", "max")


def _as_hessians(hessians: object) -> tuple[np.ndarray, np.ndarray]:
    """A stack (r, d, d) of symmetric positive-definite matrices and their eigenvalues (ascending)."""
    H = np.asarray(hessians, dtype=np.float64)
    H = H[None] if H.ndim == 2 else H
    if H.ndim != 3 or H.shape[1] != H.shape[2] or H.shape[1] == 0:
        raise ValueError(f"hessians must be square matrices (d, d) or a stack (r, d, d), got shape {H.shape}")
    if not np.isfinite(H).all():
        raise ValueError("hessians contain NaN or inf")
    if not np.allclose(H, np.swapaxes(H, 1, 2), rtol=1e-10, atol=1e-12 * np.abs(H).max()):
        raise ValueError("hessians must be symmetric")
    eigenvalues = np.linalg.eigvalsh(H)
    if (eigenvalues[:, 0] <= 0).any():
        raise ValueError("every Hessian must be positive definite (a zero eigenvalue never converges)")
    return H, eigenvalues


def _per_matrix(values: object, count: int, name: str, low: float, high: float = np.inf) -> np.ndarray:
    array = np.broadcast_to(np.asarray(values, dtype=np.float64), (count,)).copy() if np.ndim(values) == 0 else np.asarray(values, dtype=np.float64)
    if array.shape != (count,):
        raise ValueError(f"{name} must be a scalar or one value per Hessian ({count}), got shape {array.shape}")
    if not np.isfinite(array).all() or (array < low).any() or (array >= high).any():
        raise ValueError(f"{name} must be finite and in [{low}, {high}), got {array.tolist()}")
    return array


def _step_parameters(lr: object, momentum: object, count: int) -> tuple[np.ndarray, np.ndarray]:
    """One positive learning rate and one momentum in [0, 1) per Hessian (scalars broadcast)."""
    lr = _per_matrix(lr, count, "lr", 0.0)
    if (lr == 0).any():
        raise ValueError("lr must be positive")
    return lr, _per_matrix(momentum, count, "momentum", 0.0, 1.0)


def two_feature_hessian(scale_ratio: float, mean: float) -> np.ndarray:
    """Second-moment matrix ``E[x x^T]`` of two features ``x_i = s_i (mean + z_i)``, ``s = (1, scale_ratio)``,
    with ``z_i`` independent, zero-mean, unit-variance: ``D [[1+m^2, m^2], [m^2, 1+m^2]] D``, ``D = diag(s)``.

    This is the Hessian of least squares on those two features. ``mean = 0`` is centered data.

    >>> two_feature_hessian(1.0, 0.0).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    for name, value in (("scale_ratio", scale_ratio), ("mean", mean)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if scale_ratio <= 0:
        raise ValueError(f"scale_ratio must be positive, got {scale_ratio}")
    m2 = float(mean) ** 2
    D = np.diag([1.0, float(scale_ratio)])
    return D @ np.array([[1.0 + m2, m2], [m2, 1.0 + m2]]) @ D


def step_size(hessians: object, rule: str) -> np.ndarray:
    """Fixed step for gradient descent: ``"optimal"`` = 2/(lambda_min + lambda_max), which needs the
    smallest eigenvalue, or ``"max"`` = 1/lambda_max, which needs only the largest. One per Hessian.

    >>> step_size(np.diag([1.0, 3.0]), "optimal").tolist(), step_size(np.diag([1.0, 3.0]), "max").tolist()
    ([0.5], [0.3333333333333333])
    """
    if rule not in STEP_RULES:
        raise ValueError(f"rule must be one of {STEP_RULES}, got {rule!r}")
    _, eigenvalues = _as_hessians(hessians)
    if rule == "optimal":
        return 2.0 / (eigenvalues[:, 0] + eigenvalues[:, -1])
    return 1.0 / eigenvalues[:, -1]


def heavy_ball_tuned(hessians: object) -> tuple[np.ndarray, np.ndarray]:
    """Polyak's tuned heavy-ball parameters: lr = 4/(sqrt(l_max) + sqrt(l_min))^2 and
    momentum = ((sqrt(k) - 1)/(sqrt(k) + 1))^2, which contract the error by (sqrt(k) - 1)/(sqrt(k) + 1) per step.

    >>> lr, momentum = heavy_ball_tuned(np.diag([1.0, 1.0]))
    >>> lr.tolist(), momentum.tolist()
    ([1.0], [0.0])
    """
    _, eigenvalues = _as_hessians(hessians)
    low, high = np.sqrt(eigenvalues[:, 0]), np.sqrt(eigenvalues[:, -1])
    return 4.0 / (high + low) ** 2, ((high - low) / (high + low)) ** 2


def contraction_rate(hessians: object, lr: object, momentum: object = 0.0) -> np.ndarray:
    """Asymptotic factor by which the error shrinks per step (spectral radius of the iteration).

    For each eigenvalue l, heavy ball's error obeys e_{k+1} = (1 + b - lr l) e_k - b e_{k-1}; the rate is
    the largest root modulus over all eigenvalues. A rate >= 1 means no convergence; > 1, divergence.

    >>> contraction_rate(np.diag([1.0, 4.0]), 0.4).round(6).tolist()  # 2/(1+4): (k-1)/(k+1) = 0.6
    [0.6]
    """
    H, eigenvalues = _as_hessians(hessians)
    lr, momentum = _step_parameters(lr, momentum, len(H))
    trace = 1.0 + momentum[:, None] - lr[:, None] * eigenvalues  # sum of the two roots
    discriminant = (trace**2 - 4.0 * momentum[:, None]).astype(complex)
    roots = np.stack([(trace + np.sqrt(discriminant)) / 2, (trace - np.sqrt(discriminant)) / 2])
    return np.abs(roots).max(axis=(0, 2))


def gd_path(
    hessian: object,
    lr: float,
    momentum: float = 0.0,
    steps: int = 50,
    start: object | None = None,
    optimum: object | None = None,
) -> np.ndarray:
    """Iterates of heavy-ball gradient descent ``w_{k+1} = w_k - lr H (w_k - w*) + momentum (w_k - w_{k-1})``.

    Starts at ``start`` (default 0) with no velocity; ``optimum`` defaults to all ones.
    Returns ``(steps + 1, d)``; ``momentum=0`` is plain gradient descent.

    >>> gd_path(np.eye(2), lr=1.0, steps=1)[-1].tolist()
    [1.0, 1.0]
    """
    H, _ = _as_hessians(hessian)
    if len(H) != 1:
        raise ValueError("gd_path takes one Hessian (d, d)")
    H = H[0]
    d = len(H)
    _per_matrix(lr, 1, "lr", 0.0)
    _per_matrix(momentum, 1, "momentum", 0.0, 1.0)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a non-negative int, got {steps!r}")
    w_star = np.ones(d) if optimum is None else np.asarray(optimum, dtype=np.float64)
    w0 = np.zeros(d) if start is None else np.asarray(start, dtype=np.float64)
    for name, vector in (("optimum", w_star), ("start", w0)):
        if vector.shape != (d,) or not np.isfinite(vector).all():
            raise ValueError(f"{name} must be a finite vector of length {d}, got shape {vector.shape}")
    path = np.empty((steps + 1, d))
    path[0] = w0
    previous = w0
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging path is a result, not an error
        for k in range(steps):
            path[k + 1] = path[k] - lr * H @ (path[k] - w_star) + momentum * (path[k] - previous)
            previous = path[k]
    return path


def iterations_to_tol(
    hessians: object,
    lr: object,
    momentum: object = 0.0,
    tol: float = 1e-6,
    max_iter: int = 1_000_000,
    optimum: object | None = None,
) -> np.ndarray:
    """Iterations until the relative distance to the optimum ``||w_k - w*|| / ||w_0 - w*||`` first
    drops below ``tol``.

    The same iteration as :func:`gd_path` (start ``w_0 = 0``, optimum ``w*``, all ones by default), run for a
    stack of Hessians at once, each with its own ``lr`` and ``momentum`` (scalars broadcast).
    Distance, not loss, is the criterion: every direction counts alike, so the count is set by
    the slowest direction, ``ln(1/tol) / ln(1/rate)`` (see :func:`predicted_iterations`).
    Returns floats: ``inf`` where the run diverges or needs more than ``max_iter`` steps.

    >>> iterations_to_tol(np.diag([1.0, 1.0]), lr=1.0).tolist()
    [1.0]
    """
    H, _ = _as_hessians(hessians)
    lr, momentum = _step_parameters(lr, momentum, len(H))
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive int, got {max_iter!r}")
    # Work on the error e = w - w*: the start w = 0 is e = -w*.
    w_star = np.ones(H.shape[1]) if optimum is None else np.asarray(optimum, dtype=np.float64)
    if w_star.shape != (H.shape[1],) or not np.isfinite(w_star).all() or not w_star.any():
        raise ValueError(f"optimum must be a finite, non-zero vector of length {H.shape[1]}, got {w_star!r}")
    error = -np.broadcast_to(w_star, H.shape[:2]).copy()
    previous = error.copy()
    initial = np.einsum("ri,ri->r", error, error)
    counts = np.full(len(H), np.inf)
    active = np.arange(len(H))
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, max_iter + 1):
            e, p, h = error[active], previous[active], H[active]
            new = e - lr[active, None] * np.einsum("rij,rj->ri", h, e) + momentum[active, None] * (e - p)
            previous[active], error[active] = e, new
            gap = np.einsum("ri,ri->r", new, new) / initial[active]  # squared relative distance
            done = gap < tol**2
            counts[active[done]] = k
            # A run whose distance grew a thousand-fold (or overflowed) has diverged: stop tracking it.
            keep = ~done & np.isfinite(gap) & (gap < 1e6)
            active = active[keep]
            if not active.size:
                break
    return counts


def predicted_iterations(rate: object, tol: float = 1e-6) -> np.ndarray:
    """Iterations ``ln(1/tol) / ln(1/rate)`` that a contraction ``rate`` per step predicts for a
    relative distance ``tol`` to the optimum. ``inf`` for rate >= 1.

    >>> predicted_iterations(0.5, tol=0.25).tolist()
    2.0
    """
    rate = np.asarray(rate, dtype=np.float64)
    if not np.isfinite(rate).all() or (rate < 0).any():
        raise ValueError("rate must be finite and non-negative")
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    with np.errstate(divide="ignore"):
        return np.where(rate < 1, np.log(1 / tol) / np.log(1 / np.maximum(rate, 1e-300)), np.inf)


def _check_probe(model: "torch.nn.Module", inputs: "torch.Tensor", labels: "torch.Tensor", iterations: int) -> None:
    import torch

    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be a positive int, got {iterations!r}")
    n_models = model.n_models
    if inputs.ndim != 3 or inputs.shape[0] != n_models or inputs.shape[2] != model.n_inputs:
        raise ValueError(f"inputs must have shape ({n_models}, samples, {model.n_inputs}), got {tuple(inputs.shape)}")
    if labels.ndim != 1 or len(labels) != inputs.shape[1]:
        raise ValueError(f"labels must be 1-D with {inputs.shape[1]} entries, got shape {tuple(labels.shape)}")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise TypeError(f"labels must be integer class indices, got {labels.dtype}")
    if not torch.isfinite(inputs).all():
        raise ValueError("inputs contain NaN or inf")


def _power_iteration(model, inputs, labels, iterations: int, vectors: list | None, seed: int) -> tuple[np.ndarray, list]:
    """Power iteration on every stacked model's Hessian block at once; returns eigenvalues and the last vectors."""
    import torch
    from torch.nn import functional as F

    n_models = model.n_models
    # Every parameter tensor is (models, ...): slice m of each is model m's block of the Hessian.
    params = [*model.weights, *model.biases]
    logits = model(inputs)
    per_model = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.repeat(n_models), reduction="none")
    loss = per_model.view(n_models, -1).mean(dim=1).sum()
    gradients = torch.autograd.grad(loss, params, create_graph=True)

    def per_model_dot(a: list, b: list) -> torch.Tensor:
        return sum((x * y).flatten(1).sum(dim=1) for x, y in zip(a, b))

    def normalized(vs: list) -> list:
        norms = per_model_dot(vs, vs).sqrt()
        return [v / norms.view(-1, *[1] * (v.ndim - 1)) for v in vs]

    if vectors is None:
        generator = torch.Generator().manual_seed(int(seed))
        vectors = [torch.randn(p.shape, generator=generator).to(p) for p in params]
    vectors = normalized(vectors)
    for _ in range(iterations):
        products = [h.detach() for h in torch.autograd.grad(gradients, params, grad_outputs=vectors, retain_graph=True)]
        eigenvalues = per_model_dot(vectors, products).detach().cpu()
        vectors = normalized(products)
    return eigenvalues.numpy().astype(np.float64), vectors


def top_hessian_eigenvalues(
    model: "torch.nn.Module",
    inputs: "torch.Tensor",
    labels: "torch.Tensor",
    iterations: int = 30,
    seed: int = 0,
) -> np.ndarray:
    """Top eigenvalue of each stacked model's training-loss Hessian, by power iteration with
    Hessian-vector products (double backward through ``torch.autograd``).

    ``model`` is a :class:`utils.training.StackedMLP` (``forward`` maps (models, n, d) to
    (models, n, classes)); ``inputs`` is (models, n, d), so each model can see its own
    preprocessing; ``labels`` is (n,). The stacked loss is the sum of the models' mean
    cross-entropies, so its Hessian is block-diagonal and one product serves every model.
    Returns the Rayleigh quotient of each block after ``iterations`` products.
    """
    _check_probe(model, inputs, labels, iterations)
    return _power_iteration(model, inputs, labels, iterations, None, seed)[0]


def curvature_along_training(
    model: "torch.nn.Module",
    features: "torch.Tensor",
    labels: "torch.Tensor",
    optimizer: str,
    learning_rates: Sequence[float],
    batch_seeds: Sequence[int],
    steps: int,
    probe: tuple,
    *,
    every: int | Sequence[int] = 10,
    iterations: int = 8,
    batch_size: int = 128,
    feature_sets: Sequence[int] | None = None,
    layer_multipliers: object = None,
    schedule: object = None,
) -> tuple["object", np.ndarray, np.ndarray]:
    """Train a stack (as :func:`utils.training.train_stacked`) and measure every model's top Hessian
    eigenvalue on ``probe = (inputs (models, n, d), labels (n,))`` every ``every`` steps, or at the
    steps listed in ``every`` (``steps`` itself means after the last update).

    Each measurement starts the power iteration from the previous one's vectors, because the top
    eigenvector moves little between checkpoints; the first gets ``4 * iterations`` products.
    Returns the training history, the steps measured (0, every, ..., steps) and the eigenvalues
    (checkpoints, models); NaN for a model whose loss has diverged.
    """
    import torch

    from utils.training import train_stacked

    probe_inputs, probe_labels = probe
    _check_probe(model, probe_inputs, probe_labels, iterations)
    if isinstance(every, (int, np.integer)) and not isinstance(every, bool):
        if not 1 <= every <= steps:
            raise ValueError(f"every must be in [1, steps={steps}], got {every!r}")
        wanted = set(range(0, steps + 1, int(every)))
    else:
        wanted = {int(step) for step in every} if isinstance(every, Sequence) and len(every) else set()
        if not wanted or any(isinstance(step, bool) or step != int(step) for step in every) or min(wanted) < 0 or max(wanted) > steps:
            raise ValueError(f"every must be a positive int or a non-empty list of steps in [0, {steps}], got {every!r}")
    measured_steps, eigenvalues, state = [], [], {"vectors": None}

    def measure(step: int, current: "torch.nn.Module") -> None:
        if step not in wanted:
            return
        with torch.enable_grad():
            values, vectors = _power_iteration(current, probe_inputs, probe_labels,
                                               iterations * (4 if state["vectors"] is None else 1), state["vectors"], 0)
        # A diverged model's NaN vector would stay NaN: restart it from a fresh random direction.
        state["vectors"] = [torch.nan_to_num(v, nan=1.0, posinf=1.0, neginf=1.0) for v in vectors]
        measured_steps.append(step)
        eigenvalues.append(values)

    history = train_stacked(model, features, labels, optimizer, learning_rates, batch_seeds, steps, batch_size,
                            feature_sets=feature_sets, layer_multipliers=layer_multipliers, schedule=schedule, callback=measure)
    values, measured = np.array(eigenvalues).reshape(-1, model.n_models), np.array(measured_steps, dtype=int)
    # From the step a model's loss left the finite range on, its weights mean nothing.
    gone = np.isnan(history.losses[np.minimum(measured, steps - 1)])
    values[gone] = np.nan
    return history, measured, values
