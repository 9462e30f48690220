"""Hundreds of small networks, each on its own small data set, trained in one full-batch loop.

Cross-validation and repeated experiments train one network per (data set, fold, setting).
``utils.training`` stacks networks that share their samples; here every network has its own
inputs and labels, its own learning rate and its own weight decay, and the parameters of all of
them live in a few stacked tensors, so one Adam step updates every network at once. Full batch:
the data sets this is for have tens to a few thousand samples.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.nn import functional as F

from utils.models import StackedMLP

ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # torch.optim.Adam's defaults


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
    params = [net.weights[0], net.biases[0], net.weights[1], net.biases[1]]  # (models, in, out) and (models, 1, out)
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    (beta1, beta2), y = ADAM_BETAS, y.long()
    shape = (-1, 1, 1)  # one learning rate and one weight decay per model, broadcast over its tensors
    for step in range(1, steps + 1):
        logits = net(x)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view(n_models, -1).mean(1)
        gradients = torch.autograd.grad(loss.sum(), params)  # the sum keeps each model's gradient its own
        with torch.no_grad():
            for p, g, (m, v) in zip(params, gradients, moments):
                if not decoupled:
                    g = g + wd.view(shape) * p
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                update = (m / (1 - beta1**step)) / ((v / (1 - beta2**step)).sqrt() + ADAM_EPS)
                if decoupled:
                    p.mul_(1 - lr.view(shape) * wd.view(shape))
                p.sub_(lr.view(shape) * update)
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
