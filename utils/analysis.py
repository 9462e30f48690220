"""Numbers the chapters compute about data: shape statistics, distinct values, conditioning."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from utils.checks import as_float_matrix, as_float_vector, per_feature


def shape_summary(columns: Mapping[str, object]) -> pd.DataFrame:
    """One row per named 1-D array: mean, std, min, max, skewness and excess kurtosis.

    Skewness and kurtosis are scipy's population (biased) estimates, which an
    affine map ``a*x + b`` with ``a > 0`` leaves exactly unchanged.

    >>> shape_summary({"x": [1.0, 2.0, 6.0]}).loc["x", "min"]
    np.float64(1.0)
    """
    if not isinstance(columns, Mapping) or not columns:
        raise TypeError("columns must be a non-empty mapping of name -> 1-D array")
    rows = {}
    for name, values in columns.items():
        x = as_float_vector(values, f"column {name!r}")
        if np.ptp(x) == 0:
            raise ValueError(f"column {name!r} is constant: skewness and kurtosis are undefined")
        rows[name] = {
            "mean": x.mean(),
            "std": x.std(),
            "min": x.min(),
            "max": x.max(),
            "skewness": stats.skew(x),
            "excess kurtosis": stats.kurtosis(x),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def distinct_values(values: object) -> int:
    """Number of distinct values in an array of any shape and numeric dtype (NaN is rejected).

    >>> distinct_values([0, 1, 1, 255])
    3
    """
    array = np.asarray(values)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"values must be numeric, got dtype {array.dtype}")
    if array.size == 0:
        raise ValueError("values is empty")
    if np.issubdtype(array.dtype, np.floating) and np.isnan(array).any():
        raise ValueError("values contains NaN, which has no well-defined count of distinct values")
    return int(np.unique(array).size)


def condition_number(features: object, add_bias: bool = False) -> float:
    """Condition number of the least-squares Hessian ``X^T X / n`` (ratio of extreme eigenvalues).

    This is the quantity that sets how slowly gradient descent converges on a
    linear model. ``add_bias=True`` appends a column of ones, as a bias term does.

    >>> round(condition_number([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]), 6)
    1.0
    """
    X = as_float_matrix(features, "features")
    if add_bias:
        X = np.hstack([X, np.ones((X.shape[0], 1))])
    eigenvalues = np.linalg.eigvalsh(X.T @ X / X.shape[0])
    if eigenvalues[0] <= eigenvalues[-1] * np.finfo(float).eps * X.shape[1]:
        raise ValueError("the Hessian is singular (a constant or duplicated column): condition number is infinite")
    return float(eigenvalues[-1] / eigenvalues[0])


def distinct_values_per_column(values: object) -> np.ndarray:
    """Number of distinct values in each column of a 2-D array (vectorized: one sort, no Python loop).

    >>> distinct_values_per_column([[0, 1], [0, 2], [0, 2]]).tolist()
    [1, 2]
    """
    array = np.asarray(values)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"values must be numeric, got dtype {array.dtype}")
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"values must be a non-empty 2-D array, got shape {array.shape}")
    if np.issubdtype(array.dtype, np.floating) and np.isnan(array).any():
        raise ValueError("values contains NaN, which has no well-defined count of distinct values")
    ordered = np.sort(array, axis=0)
    return 1 + (np.diff(ordered, axis=0) != 0).sum(axis=0)


def absorb_affine(layer: "torch.nn.Linear", shift: object, scale: object) -> "torch.nn.Linear":
    """A copy of ``layer`` that gives the same outputs on inputs ``(x - shift) / scale`` as ``layer`` on ``x``.

    With ``x = scale * x_new + shift``: ``W x + b = (W diag(scale)) x_new + (b + W shift)``.
    ``shift`` and ``scale`` are scalars or one value per input feature; ``scale``
    must be non-zero. The converse map (a layer for raw inputs from one trained on
    standardized inputs) is ``absorb_affine(layer, -mean / std, 1 / std)``.

    >>> import torch
    >>> layer = torch.nn.Linear(2, 1)
    >>> x = torch.tensor([[10.0, 200.0]])
    >>> new = absorb_affine(layer, shift=[10.0, 100.0], scale=[2.0, 50.0])
    >>> bool(torch.allclose(new((x - torch.tensor([10.0, 100.0])) / torch.tensor([2.0, 50.0])), layer(x)))
    True
    """
    import torch

    if not isinstance(layer, torch.nn.Linear):
        raise TypeError(f"layer must be a torch.nn.Linear, got {type(layer).__name__}")
    n_inputs = layer.in_features
    shift = per_feature(shift, n_inputs, "shift")
    scale = per_feature(scale, n_inputs, "scale (0 would erase an input, which no layer can undo)", nonzero=True)
    weight = layer.weight.detach().double()
    new = torch.nn.Linear(n_inputs, layer.out_features, bias=True, dtype=layer.weight.dtype)
    with torch.no_grad():
        new.weight.copy_(weight * torch.from_numpy(scale))
        bias = layer.bias.detach().double() if layer.bias is not None else torch.zeros(layer.out_features, dtype=torch.float64)
        new.bias.copy_(bias + weight @ torch.from_numpy(shift))
    return new.to(layer.weight.device)


def input_gradients(model: "torch.nn.Module", model_inputs: object, scale: object = 1.0, target: object = None) -> np.ndarray:
    """Gradient of one output per sample with respect to the inputs, in the inputs' *original* units.

    ``model_inputs`` are what the model receives, ``(x - shift) / scale`` of the
    original ``x``; the chain rule turns the gradient into original units by
    dividing by ``scale``. The output differentiated is the logit of ``target``
    (one class per sample), or of the predicted class when ``target`` is None.

    >>> import torch
    >>> input_gradients(torch.nn.Linear(1, 1, bias=False).requires_grad_(False).eval(), [[1.0]], scale=2.0).shape
    (1, 1)
    """
    import torch

    parameter = next(model.parameters())  # the inputs follow the model's dtype and device (CPU or GPU)
    inputs = torch.as_tensor(as_float_matrix(model_inputs, "model_inputs"), dtype=parameter.dtype, device=parameter.device)
    scale = per_feature(scale, inputs.shape[1], "scale", nonzero=True)
    inputs.requires_grad_(True)
    outputs = model(inputs)
    if outputs.ndim != 2:
        raise ValueError(f"the model must return (samples, outputs), got shape {tuple(outputs.shape)}")
    chosen = outputs.argmax(dim=1) if target is None else torch.as_tensor(np.asarray(target), device=inputs.device).long()
    if chosen.shape != (len(inputs),):
        raise ValueError(f"target must hold one class per sample ({len(inputs)}), got shape {tuple(chosen.shape)}")
    selected = outputs.gather(1, chosen[:, None]).sum()
    (gradient,) = torch.autograd.grad(selected, inputs)
    return gradient.detach().cpu().double().numpy() / scale


def least_squares_gd(
    features: object, target: object, iterations: int, step: float | None = None, add_bias: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Plain gradient descent on the mean-squared-error loss ``||X w - y||^2 / (2n)`` from ``w = 0``.

    Returns ``(path, loss_gap)``: the weights after each iteration, shape
    ``(iterations + 1, d)``, and the relative loss gap ``(L(w_k) - L*) / (L(w_0) - L*)``.
    ``step`` defaults to ``1 / lambda_max``, a stable step for any conditioning.

    >>> path, gap = least_squares_gd([[1.0], [2.0], [3.0]], [2.0, 4.0, 6.0], iterations=200, add_bias=False)
    >>> round(float(path[-1, 0]), 6), bool(gap[-1] < 1e-12)
    (2.0, True)
    """
    X = as_float_matrix(features, "features")
    y = as_float_vector(target, "target")
    if len(y) != len(X):
        raise ValueError(f"features has {len(X)} rows but target has {len(y)}")
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise ValueError(f"iterations must be a non-negative int, got {iterations!r}")
    if add_bias:
        X = np.hstack([X, np.ones((len(X), 1))])
    hessian, moment = X.T @ X / len(X), X.T @ y / len(X)
    eigenvalues = np.linalg.eigvalsh(hessian)
    step = 1.0 / eigenvalues[-1] if step is None else float(step)
    if not np.isfinite(step) or step <= 0:
        raise ValueError(f"step must be positive and finite, got {step}")
    optimum = np.linalg.lstsq(X, y, rcond=None)[0]
    path = np.empty((iterations + 1, X.shape[1]))
    path[0] = 0.0
    for k in range(iterations):
        path[k + 1] = path[k] - step * (hessian @ path[k] - moment)
    offset = path - optimum
    gaps = 0.5 * np.einsum("ki,ij,kj->k", offset, hessian, offset)
    return path, gaps / gaps[0] if gaps[0] > 0 else gaps


def gd_iterations_to_tol(
    hessians: object, tol: float = 1e-6, max_iter: int = 1_000_000, start: object | None = None
) -> np.ndarray:
    """Iterations plain gradient descent needs on quadratics ``(w - w*)^T H (w - w*) / 2`` until the
    relative loss gap is below ``tol``, with the optimal fixed step ``2 / (lambda_min + lambda_max)``.

    ``hessians`` is one symmetric positive-definite matrix (d, d) or a stack (r, d, d), run
    together. The start is ``w* + start`` (default: all ones, so every direction carries error).
    Returns one count per matrix; ``max_iter`` means "did not converge".

    >>> gd_iterations_to_tol(np.diag([1.0, 1.0])).tolist()
    [1]
    """
    H = np.asarray(hessians, dtype=np.float64)
    H = H[None] if H.ndim == 2 else H
    if H.ndim != 3 or H.shape[1] != H.shape[2] or not np.isfinite(H).all():
        raise ValueError(f"hessians must be finite square matrices (d, d) or (r, d, d), got shape {H.shape}")
    eigenvalues = np.linalg.eigvalsh(H)
    if (eigenvalues[:, 0] <= 0).any():
        raise ValueError("every Hessian must be positive definite")
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    steps = 2.0 / (eigenvalues[:, 0] + eigenvalues[:, -1])
    error = np.broadcast_to(np.ones(H.shape[1]) if start is None else as_float_vector(start, "start"), H.shape[:2]).copy()
    initial = np.einsum("ri,rij,rj->r", error, H, error)
    counts = np.full(len(H), max_iter)
    active = np.ones(len(H), dtype=bool)
    for k in range(1, max_iter + 1):
        error[active] -= steps[active, None] * np.einsum("rij,rj->ri", H[active], error[active])
        gap = np.einsum("ri,rij,rj->r", error, H, error) / initial
        done = active & (gap < tol)
        counts[done] = k
        active &= ~done
        if not active.any():
            break
    return counts


def finite_difference_sensitivity(
    model: "torch.nn.Module", raw_inputs: object, transform, step: float = 1.0, chunk: int = 64
) -> np.ndarray:
    """Change of the predicted class's logit when each raw input feature moves by ``step`` (raw units).

    ``transform`` maps raw inputs (n, d) to what the model receives (``lambda x: x / 255``,
    ``scaler.transform``, ...). Returns an (n, d) array of ``(logit(x + step e_j) - logit(x)) / step``
    for the class the model predicts at ``x``: the sensitivity to one unit of the data's
    own resolution (one pixel level for 8-bit images), whatever the preprocessing.

    >>> import torch
    >>> layer = torch.nn.Linear(2, 2, bias=False)
    >>> _ = layer.weight.data.copy_(torch.tensor([[1.0, 0.0], [0.0, 3.0]]))
    >>> finite_difference_sensitivity(layer, [[0.0, 1.0]], lambda x: x / 10).round(6).tolist()
    [[0.0, 0.3]]
    """
    import torch

    raw = as_float_matrix(raw_inputs, "raw_inputs")
    if not np.isfinite(step) or step == 0:
        raise ValueError(f"step must be finite and non-zero, got {step}")
    if not callable(transform):
        raise TypeError("transform must be a callable mapping raw inputs to model inputs")
    parameter = next(model.parameters())  # follow the model's dtype and device (CPU or GPU)

    def logits(batch: np.ndarray) -> torch.Tensor:
        with torch.no_grad():
            inputs = torch.as_tensor(np.asarray(transform(batch)), dtype=parameter.dtype, device=parameter.device)
            return model(inputs).cpu()

    base = logits(raw)
    predicted = base.argmax(dim=1)
    base_chosen = base.gather(1, predicted[:, None])[:, 0].double().numpy()
    n, d = raw.shape
    changes = np.empty((n, d))
    for start in range(0, d, chunk):  # bounded memory: chunk * n perturbed copies at a time
        features = np.arange(start, min(start + chunk, d))
        perturbed = np.repeat(raw[None], len(features), axis=0)
        perturbed[np.arange(len(features)), :, features] += step
        out = logits(perturbed.reshape(-1, d)).reshape(len(features), n, -1)
        chosen = out.gather(2, predicted[None, :, None].expand(len(features), n, 1))[..., 0].double().numpy()
        changes[:, features] = ((chosen - base_chosen) / step).T
    return changes
