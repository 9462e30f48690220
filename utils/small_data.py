"""Hundreds of small networks, each on its own small data set, trained in one full-batch loop.

Cross-validation and repeated experiments train one network per (data set, fold, setting).
``utils.training`` stacks networks that share their samples; here every network has its own
inputs and labels, its own learning rate and its own weight decay, and the parameters of all of
them live in a few stacked tensors, so one Adam step updates every network at once. Full batch:
the data sets this is for have tens to a few thousand samples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import StratifiedKFold
from torch.nn import functional as F

from utils.models import StackedMLP
from utils.optim import StackedOptimizer



def _per_model(values: object, n_models: int, name: str, positive: bool) -> torch.Tensor:
    vector = np.broadcast_to(np.asarray(values, dtype=np.float64), (n_models,)) if np.ndim(values) == 0 else np.asarray(values, dtype=np.float64)
    if vector.shape != (n_models,) or not np.isfinite(vector).all() or (vector < 0).any() or (positive and (vector == 0).any()):
        raise ValueError(f"{name} must be one {'positive' if positive else 'non-negative'} finite value, or one per model ({n_models})")
    return torch.tensor(vector, dtype=torch.float32)  # a copy: broadcast views are read-only


def fit_small_networks(
    inputs: object,
    labels: object,
    learning_rates: object,
    seeds: Sequence[int],
    *,
    weight_decay: object = 0.0,
    decoupled: bool = False,
    n_hidden: int = 16,
    steps: int = 200,
) -> StackedMLP:
    """Train model ``i`` on ``inputs[i]`` (n, d) and ``labels[i]`` (n,) with full-batch Adam.

    ``learning_rates`` and ``weight_decay`` are one value or one per model. ``decoupled=False`` is
    ``torch.optim.Adam(weight_decay=...)``: the L2 gradient ``wd * w`` joins the loss gradient
    before Adam divides by its running RMS. ``decoupled=True`` is ``AdamW``: every weight shrinks
    by ``lr * wd * w`` per step, whatever its gradients. Returns the trained ``StackedMLP``
    (``.member(i)`` is network ``i``); ``seeds[i]`` fixes its initial weights.

    >>> X = np.random.default_rng(0).normal(size=(2, 32, 3)); y = (X[..., 0] > 0).astype(int)
    >>> model = fit_small_networks(X, y, 0.05, [0, 1], steps=100)
    >>> [round(float((model.member(i)(torch.tensor(X[i], dtype=torch.float32)).argmax(1).numpy() == y[i]).mean()), 1) for i in range(2)]
    [1.0, 1.0]
    """
    x = torch.as_tensor(np.asarray(inputs), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(labels))
    if x.ndim != 3 or y.shape != x.shape[:2]:
        raise ValueError(f"inputs must be (models, n, d) and labels (models, n), got {tuple(x.shape)} and {tuple(y.shape)}")
    if y.dtype.is_floating_point or y.dtype == torch.bool or (y < 0).any():
        raise TypeError(f"labels must be non-negative integer classes, got {y.dtype}")
    if not torch.isfinite(x).all():
        raise ValueError("inputs contain NaN or inf")
    if len(seeds) != len(x) or steps < 1:
        raise ValueError(f"need one seed per model ({len(x)}) and at least one step")
    n_models = len(x)
    lr = _per_model(learning_rates, n_models, "learning_rates", positive=True)
    wd = _per_model(weight_decay, n_models, "weight_decay", positive=False)
    net = StackedMLP(list(seeds), x.shape[2], n_hidden, int(y.max()) + 1)  # nn.Linear's default start, per seed
    params = [net.get_parameter(name) for name in net.parameter_names()]
    optimizer = StackedOptimizer(params, "adam", lr.numpy(), weight_decay=wd.numpy(), decoupled_weight_decay=decoupled)
    y = y.long()
    for _ in range(steps):
        logits = net(x)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view(n_models, -1).mean(1)
        optimizer.zero_grad()
        loss.sum().backward()  # the sum keeps each model's gradient its own
        optimizer.step()
    return net.eval()


@torch.no_grad()
def accuracies(model: StackedMLP, inputs: object, labels: object) -> np.ndarray:
    """Accuracy of network ``i`` on ``inputs[i]`` (n, d) and ``labels[i]``, for every network.

    >>> X = np.zeros((2, 4, 3)); model = fit_small_networks(X, np.zeros((2, 4), int), 0.1, [0, 1], steps=20)
    >>> accuracies(model, X, np.zeros((2, 4), int)).tolist()
    [1.0, 1.0]
    """
    x = torch.as_tensor(np.asarray(inputs), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(labels))
    if x.ndim != 3 or len(x) != model.n_models or y.shape != x.shape[:2]:
        raise ValueError(f"inputs must be (models={model.n_models}, n, d) with labels (models, n)")
    return (model(x).argmax(dim=2) == y).float().mean(dim=1).numpy()


@dataclass
class CrossValidated:
    """Networks refitted on all training samples with the setting cross-validation chose, one per data set.

    ``model.member(i)`` is data set ``i``'s network, trained on ``scalers[i]``'s output with
    ``settings[i]`` = (learning rate, weight decay); ``scores`` holds the mean validation accuracy of
    every (data set, setting) over the folds.
    """

    model: StackedMLP
    settings: list[tuple[float, float]]
    scores: pd.DataFrame
    scalers: list

    def transform(self, raw: object) -> np.ndarray:
        """``raw[i]`` (n, d) through data set ``i``'s fitted scaler, for every data set: (sets, n, d)."""
        stack = np.asarray(raw, dtype=np.float64)
        if stack.ndim != 3 or len(stack) != len(self.scalers):
            raise ValueError(f"raw must be (data sets={len(self.scalers)}, n, d), got shape {stack.shape}")
        return np.stack([scaler.transform(x) for scaler, x in zip(self.scalers, stack)])


def cross_validated_networks(
    inputs: object,
    labels: object,
    grid: Sequence[tuple[float, float]],
    *,
    scaler: Callable[[], object],
    seed: int,
    n_folds: int = 5,
    steps: int = 200,
    decoupled: bool = False,
) -> CrossValidated:
    """Choose (learning rate, weight decay) per data set by stratified k-fold cross-validation, then refit.

    ``inputs`` (sets, n, d) are raw features and ``labels`` (sets, n) classes. Inside every fold the
    scaler (``scaler()`` must return a fresh scikit-learn transformer, e.g. ``StandardScaler``) is
    fitted on the fold's training part only, so no statistic leaks from the validation part. Every
    (data set, fold, setting) network trains in one call of :func:`fit_small_networks`; the setting
    with the best mean fold accuracy is refitted on all of the data set's samples. ``decoupled`` picks
    the weight decay's kind, as in :func:`fit_small_networks` (coupled L2 or AdamW).

    >>> X = np.random.default_rng(0).normal(size=(2, 40, 2)); y = (X[..., 0] > 0).astype(int)
    >>> from sklearn.preprocessing import StandardScaler
    >>> result = cross_validated_networks(X, y, [(0.01, 0.0), (0.05, 0.0)], scaler=StandardScaler, seed=0, steps=20)
    >>> len(result.settings), result.transform(X).shape
    (2, (2, 40, 2))
    """
    x, y = np.asarray(inputs, dtype=np.float64), np.asarray(labels)
    if x.ndim != 3 or y.shape != x.shape[:2]:
        raise ValueError(f"inputs must be (sets, n, d) and labels (sets, n), got {x.shape} and {y.shape}")
    if not np.isfinite(x).all():
        raise ValueError("inputs contain NaN or inf")
    settings = [(float(lr), float(decay)) for lr, decay in grid]
    if not settings or any(lr <= 0 or decay < 0 or not np.isfinite(lr + decay) for lr, decay in settings):
        raise ValueError("grid must hold (learning rate > 0, weight decay >= 0) pairs")
    if not callable(scaler):
        raise TypeError("scaler must be a callable that returns a fresh transformer, e.g. StandardScaler")
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    train_x, train_y, val_x, val_y, keys = [], [], [], [], []
    for data_set in range(len(x)):
        for train_index, val_index in folds.split(x[data_set], y[data_set]):
            fitted = scaler().fit(x[data_set][train_index])
            for setting in range(len(settings)):
                train_x.append(fitted.transform(x[data_set][train_index]))
                val_x.append(fitted.transform(x[data_set][val_index]))
                train_y.append(y[data_set][train_index])
                val_y.append(y[data_set][val_index])
                keys.append((data_set, setting))
    rates, decays = np.array([settings[setting] for _, setting in keys]).T
    fold_models = fit_small_networks(np.stack(train_x), np.stack(train_y), rates, [data_set for data_set, _ in keys],
                                     weight_decay=decays, steps=steps, decoupled=decoupled)
    scores = pd.DataFrame(keys, columns=["data set", "setting"]).assign(
        accuracy=accuracies(fold_models, np.stack(val_x), np.stack(val_y)))
    mean_scores = scores.groupby(["data set", "setting"])["accuracy"].mean().unstack()
    best = [settings[setting] for setting in mean_scores.idxmax(axis=1).to_numpy()]
    scalers = [scaler().fit(features) for features in x]
    scaled = np.stack([fitted.transform(features) for fitted, features in zip(scalers, x)])
    refit = fit_small_networks(scaled, y, [lr for lr, _ in best], list(range(len(x))), weight_decay=[decay for _, decay in best],
                               steps=steps, decoupled=decoupled)
    return CrossValidated(refit, best, mean_scores, scalers)


def lbfgs_network(inputs: object, labels: object, seed: int, *, n_hidden: int = 16, iterations: int = 300) -> torch.nn.Module:
    """One MLP (the same start as ``StackedMLP`` member ``seed``) trained by full-batch L-BFGS.

    A quasi-Newton method with a line search: it does not depend on a step size, so it separates
    "the optimizer and its budget" from "the information is not there".

    >>> X = np.random.default_rng(0).normal(size=(64, 2)); y = (X[:, 0] > 0).astype(int)
    >>> network = lbfgs_network(X, y, seed=0, iterations=50)
    >>> float((network(torch.tensor(X, dtype=torch.float32)).argmax(1).numpy() == y).mean()) > 0.9
    True
    """
    x = torch.as_tensor(np.asarray(inputs), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(labels))
    if x.ndim != 2 or y.shape != x.shape[:1] or not torch.isfinite(x).all():
        raise ValueError(f"inputs must be finite (n, d) with labels (n,), got {tuple(x.shape)} and {tuple(y.shape)}")
    if iterations < 1:
        raise ValueError("iterations must be at least 1")
    network = StackedMLP([seed], x.shape[1], n_hidden, int(y.max()) + 1).member(0)
    optimizer = torch.optim.LBFGS(network.parameters(), max_iter=iterations, history_size=20, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(network(x), y.long())
        loss.backward()
        return loss

    optimizer.step(closure)
    return network.eval()
