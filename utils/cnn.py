"""Training and scoring many small CNNs at once (:class:`utils.models.StackedCNN`), one learning rate each.

A sweep over preprocessings x learning rates x seeds is a few hundred tiny networks, trained as
one stacked model by the loop every stacked model shares (:func:`utils.training.fit_stacked`)
and :class:`utils.optim.StackedOptimizer` ("sgd", "momentum" or "adam").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from utils.models import StackedCNN  # also importable from here, as the chapters do
from utils.optim import ADAM_EPS, StackedOptimizer
from utils.training import History, fit_stacked


def _check_inputs(inputs: torch.Tensor, labels: torch.Tensor, input_index: torch.Tensor, n_models: int) -> None:
    if inputs.ndim != 5:
        raise ValueError(f"inputs must be (versions, samples, C, H, W), got shape {tuple(inputs.shape)}")
    if not torch.isfinite(inputs).all():
        raise ValueError("inputs contain NaN or inf")
    if labels.ndim != 1 or len(labels) != inputs.shape[1]:
        raise ValueError(f"labels must be 1-D with {inputs.shape[1]} entries, got shape {tuple(labels.shape)}")
    if input_index.shape != (n_models,) or input_index.min() < 0 or input_index.max() >= inputs.shape[0]:
        raise ValueError(f"input_index must hold one version in [0, {inputs.shape[0]}) per model")


def train_stacked_cnn(
    model: StackedCNN,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    input_index: Sequence[int],
    optimizer: str,
    learning_rates: Sequence[float],
    batch_seeds: Sequence[int],
    steps: int = 200,
    batch_size: int = 32,
    layer_multipliers: Sequence[float] | Sequence[Sequence[float]] | None = None,
    adam_eps: float = ADAM_EPS,
    callback: Callable[[int, StackedCNN], None] | None = None,
) -> History:
    """Train every member on its own preprocessed copy of the data; return its :class:`History`.

    ``inputs`` holds every preprocessed version, shape (versions, samples, C, H, W); model ``i``
    trains on ``inputs[input_index[i]]`` at ``learning_rates[i]``, mini-batches drawn by a
    generator seeded with ``batch_seeds[i]``. ``layer_multipliers`` ((n_params,) or
    (n_models, n_params), in the order of ``model.parameter_names()``) multiplies each parameter
    tensor's rate; ``adam_eps`` is Adam's ε; ``callback(step, model)`` runs before each step
    and after the last (see :func:`utils.training.fit_stacked`). The loop is :func:`utils.training.fit_stacked`, shared with the stacked MLP:
    a diverged model is frozen and its later losses are NaN.
    """
    m = model.n_models
    index = torch.as_tensor(np.asarray(input_index), dtype=torch.long)
    _check_inputs(inputs, labels, index, m)
    lrs = np.asarray(learning_rates, dtype=np.float64)
    if lrs.shape != (m,) or len(batch_seeds) != m or not np.isfinite(lrs).all() or (lrs <= 0).any():
        raise ValueError("need one positive, finite learning rate and one batch seed per model")
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be positive, got {steps} and {batch_size}")
    index = index.to(inputs.device)
    params = [model.get_parameter(name) for name in model.parameter_names()]
    opt = StackedOptimizer(params, optimizer, lrs, layer_multipliers, adam_eps=adam_eps)

    def batch(sample_index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        sample_index = sample_index.to(inputs.device)
        return inputs[index[:, None], sample_index], labels[sample_index]

    history = fit_stacked(model, batch, inputs.shape[1], opt, batch_seeds, steps, batch_size, callback=callback)
    model.eval()
    return history


@torch.no_grad()
def stacked_logits(
    model: StackedCNN, inputs: torch.Tensor, input_index: Sequence[int], chunk: int | None = None
) -> torch.Tensor:
    """Logits of every member on its own version of the inputs: (n_models, samples, classes).

    ``inputs`` is (versions, samples, C, H, W) as in :func:`train_stacked_cnn`; evaluated in chunks
    of ``chunk`` samples (default: about 2,000 member-images at a time, at least 8 samples).
    """
    index = torch.as_tensor(np.asarray(input_index), dtype=torch.long, device=inputs.device)
    if inputs.ndim != 5 or index.shape != (model.n_models,):
        raise ValueError("inputs must be (versions, samples, C, H, W) with one version index per model")
    if chunk is None:
        # Small chunks keep a stack's activations in the CPU's cache: with 300 members, chunks of 8
        # samples evaluate 2.8x faster than chunks of 500 (measured on the book's 2-core machine).
        chunk = max(8, 2048 // model.n_models)
    if chunk < 1:
        raise ValueError(f"chunk must be a positive number of samples, got {chunk}")
    parts = [model(inputs[index, start : start + chunk]) for start in range(0, inputs.shape[1], chunk)]
    return torch.cat(parts, dim=1)


def stacked_accuracy(model: StackedCNN, inputs: torch.Tensor, labels: torch.Tensor, input_index: Sequence[int]) -> np.ndarray:
    """Accuracy of every member (a member with NaN weights predicts one class everywhere).

    >>> model = StackedCNN([0], 1, 8, 2)
    >>> stacked_accuracy(model, torch.zeros(1, 4, 1, 8, 8), torch.zeros(4, dtype=torch.long), [0]).shape
    (1,)
    """
    logits = stacked_logits(model, inputs, input_index)
    return (logits.argmax(dim=2) == labels.to(logits.device)).float().mean(dim=1).cpu().numpy()


def _multiplier_rows(runs: list[dict], default: Sequence[float] | None, parameters: list[str]) -> np.ndarray | None:
    """One row of learning-rate multipliers per run (None when no run has any)."""
    if default is None and all("layer_multipliers" not in run for run in runs):
        return None
    rows = []
    for i, run in enumerate(runs):
        given = run.get("layer_multipliers", default)
        row = np.ones(len(parameters)) if given is None else np.asarray(given, dtype=np.float64)
        if row.shape != (len(parameters),):
            raise ValueError(f"layer_multipliers of run {i} must have one factor per parameter tensor {parameters}, got shape {row.shape}")
        rows.append(row)
    return np.stack(rows)


def sweep_cnn(
    splits: dict[str, tuple[torch.Tensor, torch.Tensor]],
    runs: list[dict],
    optimizer: str,
    *,
    batch_norm: bool = False,
    steps: int = 200,
    batch_size: int = 32,
    channels: tuple[int, int] = (4, 8),
    layer_multipliers: Sequence[float] | None = None,
    score_test: bool = True,
) -> tuple[StackedCNN, "pd.DataFrame"]:
    """Train one stacked CNN per run and score it on validation and test data.

    ``splits`` maps "train", "val", "test" to (inputs (versions, n, C, H, W), labels (n,)).
    Each run is a dict with ``version`` (index of its preprocessing), ``lr``, ``seed`` and
    optionally ``init_scale`` and ``layer_multipliers`` (one factor per parameter tensor, in the
    order of ``StackedCNN.parameter_names()``, for this run; ``layer_multipliers=`` gives the
    default of every run); other keys (e.g. a preprocessing name) are copied into the records.
    Returns the trained model (member ``i`` is run ``i``) and one record per run.
    ``score_test=False`` leaves the test digits unread (no ``test_accuracy`` column): a sweep that
    chooses its rates on validation digits then scores only the chosen members, with
    :func:`stacked_accuracy` on ``model.select(...)``, and saves the forward passes of the others.
    """
    import pandas as pd

    if set(splits) != {"train", "val", "test"}:
        raise ValueError(f"splits must have keys 'train', 'val', 'test', got {sorted(splits)}")
    if not runs:
        raise ValueError("runs is empty")
    inputs, labels = splits["train"]
    n_classes = int(labels.max()) + 1
    model = StackedCNN(
        [run["seed"] for run in runs], inputs.shape[2], inputs.shape[3], n_classes, channels,
        batch_norm, [run.get("init_scale", 1.0) for run in runs],
    ).to(inputs.device)
    versions = [run["version"] for run in runs]
    history = train_stacked_cnn(
        model, inputs, labels, versions, optimizer, [run["lr"] for run in runs], [run["seed"] for run in runs],
        steps, batch_size, _multiplier_rows(runs, layer_multipliers, model.parameter_names()),
    )
    scored = ("val", "test") if score_test else ("val",)
    scores = {name: stacked_accuracy(model, splits[name][0], splits[name][1], versions) for name in scored}
    tail = max(1, steps // 10)
    records = [
        {**run, "optimizer": optimizer, "batch_norm": batch_norm,
         **{f"{name}_accuracy": float(scores[name][i]) for name in scored},
         "final_loss": float(np.mean(history.losses[-tail:, i])), "diverged": bool(history.diverged[i])}
        for i, run in enumerate(runs)
    ]
    return model, pd.DataFrame.from_records(records)
