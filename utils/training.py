"""Training loops: one for an ordinary module (:func:`train`), one for every stacked model
(:func:`fit_stacked`), and the stacked MLP's learning-rate x seed sweep (a thin layer over torch).

Data live in memory as tensors; mini-batches are index tensors, so there is no
per-sample Python loop and no DataLoader. A run whose loss becomes non-finite, or
grows past ``DIVERGENCE_FACTOR`` times its first value, is recorded as diverged
instead of raising, because divergence is a result the book reports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from utils.models import StackedMLP  # also importable from here, as the chapters do
from utils.optim import ADAM_EPS, StackedOptimizer
from utils.repro import book_seed, device

# "momentum" is SGD with heavy-ball momentum 0.9, the form of SGD practitioners actually use.
OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "momentum": lambda groups, **kwargs: torch.optim.SGD(groups, momentum=0.9, **kwargs),
    "adam": torch.optim.Adam,
}
# A run has diverged when its loss is non-finite or exceeds this multiple of its first loss:
# cross-entropy grows without bound once weights explode, long before it overflows.
DIVERGENCE_FACTOR = 1000.0


@dataclass
class History:
    """Loss per step of one or more runs; a diverged run's losses are NaN from its divergence on."""

    losses: np.ndarray  # shape (steps,) for one run, (steps, runs) for several
    diverged: np.ndarray | bool

    @property
    def final_loss(self) -> np.ndarray | float:
        """Mean loss over the last tenth of the steps (NaN for a diverged run)."""
        tail = max(1, len(self.losses) // 10)
        value = self.losses[-tail:].mean(axis=0)
        return float(value) if np.ndim(value) == 0 else value


def _as_tensors(features: object, labels: object) -> tuple[torch.Tensor, torch.Tensor]:
    features = torch.as_tensor(np.asarray(features), dtype=torch.float32)
    labels = torch.as_tensor(np.asarray(labels))
    if features.ndim != 2:
        raise ValueError(f"features must be 2-D (samples x features), got shape {tuple(features.shape)}")
    if labels.ndim != 1 or len(labels) != len(features):
        raise ValueError(f"labels must be 1-D with {len(features)} entries, got shape {tuple(labels.shape)}")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise TypeError(f"labels must be integer class indices, got {labels.dtype}")
    if not torch.isfinite(features).all():
        raise ValueError("features contain NaN or inf")
    return features, labels.long()


def _check_schedule(learning_rates: Sequence[float], steps: int, batch_size: int) -> None:
    if len(learning_rates) == 0 or any(not np.isfinite(lr) or lr <= 0 for lr in learning_rates):
        raise ValueError(f"learning rates must be positive and finite, got {list(learning_rates)}")
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be positive, got {steps} and {batch_size}")


def _batch_indices(generators: list[torch.Generator], n_samples: int, batch_size: int) -> torch.Tensor:
    """One random mini-batch of sample indices per generator: shape (len(generators), batch_size)."""
    size = min(batch_size, n_samples)
    return torch.stack([torch.randperm(n_samples, generator=g)[:size] for g in generators])


def _per_model_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    n_models, batch, n_classes = logits.shape
    losses = F.cross_entropy(logits.reshape(-1, n_classes), targets.reshape(-1), reduction="none")
    return losses.view(n_models, batch).mean(dim=1)


def fit_stacked(
    model: nn.Module,
    batch: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    n_samples: int,
    optimizer: StackedOptimizer,
    batch_seeds: Sequence[int],
    steps: int,
    batch_size: int,
    freeze_diverged: bool = True,
    schedule: object = None,
    callback: Callable[[int, nn.Module], None] | None = None,
) -> History:
    """The training loop of every stacked model (:class:`StackedMLP`, :class:`utils.models.StackedCNN`).

    Each step draws one mini-batch of sample indices per model, from a generator seeded with
    ``batch_seeds[i]`` (models with the same seed see the same batches); ``batch(index)`` turns
    the (n_models, batch) indices into the models' inputs and targets. Every model's loss is its
    own mean cross-entropy. A model whose loss becomes non-finite or exceeds ``DIVERGENCE_FACTOR``
    times its first loss is diverged: its later losses are NaN and its loss leaves the sum, so it
    sends no gradient to the others. ``freeze_diverged=True`` also stops its updates (its weights
    stay as they were when it diverged); ``False`` lets its optimizer state keep moving it, as the
    stacked MLP's sweeps always have (its final weights, and so its scored accuracy, depend on it).
    ``schedule`` ((steps,) or (steps, n_models) positive factors) multiplies the learning rates at
    each step, e.g. a warmup; ``callback(step, model)`` runs before each step's update and once
    after the last (``step = steps``), e.g. to measure the model along training.
    """
    if len(batch_seeds) != optimizer.n_models:
        raise ValueError(f"need one batch seed per model ({optimizer.n_models}), got {len(batch_seeds)}")
    if schedule is not None:
        schedule = np.asarray(schedule, dtype=np.float64)
        if schedule.ndim == 1:
            schedule = np.repeat(schedule[:, None], optimizer.n_models, axis=1)
        if schedule.shape != (steps, optimizer.n_models) or not np.isfinite(schedule).all() or (schedule <= 0).any():
            raise ValueError(f"schedule must hold positive finite factors of shape ({steps},) or ({steps}, {optimizer.n_models}), "
                             f"got {schedule.shape}")
    # Runs with the same seed see the same mini-batches, so draw each seed's batches once.
    distinct_seeds = sorted({int(seed) for seed in batch_seeds})
    generators = [torch.Generator().manual_seed(seed) for seed in distinct_seeds]
    seed_of_model = torch.as_tensor([distinct_seeds.index(int(seed)) for seed in batch_seeds])
    losses = np.full((steps, len(batch_seeds)), np.nan)
    alive = torch.ones(len(batch_seeds), dtype=torch.bool)
    limit = None
    model.train()
    for step in range(steps):
        inputs, targets = batch(_batch_indices(generators, n_samples, batch_size)[seed_of_model])
        per_model = _per_model_loss(model(inputs), targets)
        current = per_model.detach().cpu()
        limit = DIVERGENCE_FACTOR * current if limit is None else limit
        alive &= torch.isfinite(current) & (current <= limit)
        losses[step, alive.numpy()] = current.numpy()[alive.numpy()]
        if not alive.any():
            break
        if callback is not None:
            callback(step, model)
        model.zero_grad(set_to_none=True)
        # A diverged model's loss is left out of the sum, so it sends no gradient to the others' slices.
        per_model.masked_fill(~alive.to(per_model.device), 0.0).sum().backward()
        if schedule is not None:
            optimizer.scale_rates(schedule[step])
        optimizer.step(alive if freeze_diverged else None)
    if callback is not None and alive.any():
        callback(steps, model)
    return History(losses=losses, diverged=~alive.numpy())


def train_stacked(
    model: StackedMLP,
    features: torch.Tensor,
    labels: torch.Tensor,
    optimizer: str,
    learning_rates: Sequence[float],
    batch_seeds: Sequence[int],
    steps: int,
    batch_size: int,
    weight_decay: float = 0.0,
    feature_sets: Sequence[int] | None = None,
    layer_multipliers: Sequence[float] | Sequence[Sequence[float]] | None = None,
    schedule: object = None,
    callback: Callable[[int, nn.Module], None] | None = None,
    adam_eps: float = ADAM_EPS,
) -> History:
    """Train every model of ``model`` at its own learning rate; mini-batch order follows ``batch_seeds``.

    ``features`` is (n, d), shared by all models, or (sets, n, d) with ``feature_sets`` naming the
    set each model trains on (several preprocessings of the same samples, trained together).
    ``layer_multipliers`` ((n_params,) or (n_models, n_params), in the order of
    ``model.parameter_names()``) multiplies each parameter tensor's learning rate.
    ``schedule`` and ``callback`` are :func:`fit_stacked`'s; ``adam_eps`` is Adam's ``eps``. The loop is :func:`fit_stacked`, shared with the
    stacked CNN (which freezes diverged models).
    """
    _check_schedule(learning_rates, steps, batch_size)
    if not len(learning_rates) == len(batch_seeds) == model.n_models:
        raise ValueError("need one learning rate and one batch seed per model")
    params = [model.get_parameter(name) for name in model.parameter_names()]
    opt = StackedOptimizer(params, optimizer, list(learning_rates), layer_multipliers, weight_decay, adam_eps=adam_eps)
    sets = _feature_set_index(features, feature_sets, model.n_models)

    def batch(index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        index = index.to(features.device)
        return (features[index] if sets is None else features[sets[:, None], index]), labels[index]

    # The book's MLP sweeps were published with diverged models still stepped; kept for identical results.
    return fit_stacked(model, batch, len(labels), opt, batch_seeds, steps, batch_size, freeze_diverged=False,
                       schedule=schedule, callback=callback)


def _feature_set_index(features: torch.Tensor, feature_sets: Sequence[int] | None, n_models: int) -> torch.Tensor | None:
    if features.ndim == 2 and feature_sets is None:
        return None
    if features.ndim != 3 or feature_sets is None or len(feature_sets) != n_models:
        raise ValueError("features (sets, n, d) need feature_sets with one set index per model, and only they do")
    sets = torch.as_tensor(list(feature_sets), dtype=torch.long, device=features.device)
    if sets.min() < 0 or sets.max() >= len(features):
        raise ValueError(f"feature_sets must index the {len(features)} feature sets")
    return sets


@torch.no_grad()
def stacked_accuracy(
    model: StackedMLP, features: torch.Tensor, labels: torch.Tensor, feature_sets: Sequence[int] | None = None, chunk: int = 250
) -> np.ndarray:
    """Accuracy of every model (a model with NaN logits predicts class 0 everywhere).

    ``features`` is (n, d) for all models, or (sets, n, d) with ``feature_sets`` as in
    :func:`train_stacked`. Samples go through in chunks to bound memory.
    """
    sets = _feature_set_index(features, feature_sets, model.n_models)
    correct = torch.zeros(model.n_models, device=labels.device)
    for start in range(0, len(labels), chunk):
        part = slice(start, start + chunk)
        inputs = features[part].expand(model.n_models, -1, -1) if sets is None else features[sets, part]
        correct += (model(inputs).argmax(dim=2) == labels[part]).float().sum(dim=1)
    return (correct / len(labels)).cpu().numpy()


def train_many(
    features: object,
    labels: object,
    optimizer: str,
    learning_rates: Sequence[float],
    seeds: Sequence[int],
    *,
    n_hidden: int = 32,
    steps: int = 200,
    batch_size: int = 128,
    activation: str = "relu",
    weight_decay: float = 0.0,
    hidden_layers: int = 1,
    first_layer_init_scale: float = 1.0,
) -> tuple[StackedMLP, History]:
    """Train one MLP per (learning rate, seed) pair, all together; model ``i`` uses
    ``learning_rates[i]`` and ``seeds[i]`` (initial weights and mini-batch order).

    >>> X = np.random.default_rng(0).normal(size=(64, 2)); y = (X[:, 0] > 0).astype(int)
    >>> model, history = train_many(X, y, "adam", [0.01, 0.01], [0, 1], steps=50, batch_size=16)
    >>> history.losses.shape
    (50, 2)
    """
    if len(learning_rates) != len(seeds) or len(seeds) == 0:
        raise ValueError("need one seed per learning rate, and at least one of each")
    features, labels = _as_tensors(features, labels)
    features, labels = features.to(device()), labels.to(device())
    n_classes = int(labels.max()) + 1
    model = StackedMLP(
        list(seeds), features.shape[1], n_hidden, n_classes, activation,
        hidden_layers=hidden_layers, first_layer_init_scale=first_layer_init_scale,
    ).to(device())
    history = train_stacked(
        model, features, labels, optimizer, list(learning_rates), list(seeds), steps, batch_size, weight_decay
    )
    return model, history


@dataclass
class SweepResult:
    """Tidy records (one row per run), loss curves and the trained models, keyed by (preprocessing, optimizer).

    Preprocessings of the same samples train together in one ``StackedMLP``: ``models[key]`` is
    that shared stack and ``offsets[key]`` the index of the key's first model in it.
    """

    records: pd.DataFrame
    curves: dict[tuple[str, str], np.ndarray]  # (steps, len(grids[preprocessing]), len(seeds))
    models: dict[tuple[str, str], StackedMLP]
    grids: dict[str, list[float]]  # learning rates per preprocessing
    seeds: list[int]
    offsets: dict[tuple[str, str], int]

    @property
    def learning_rates(self) -> list[float]:
        """All learning rates of the sweep, in increasing order."""
        return sorted({lr for grid in self.grids.values() for lr in grid})

    def member_index(self, preprocessing: str, optimizer: str, lr: float, seed: int) -> int:
        """Index, in ``models[(preprocessing, optimizer)]``, of the run at (lr, seed)."""
        grid = self.grids.get(preprocessing, [])
        matches = [i for i, value in enumerate(grid) if np.isclose(value, lr)]
        if not matches or seed not in self.seeds or (preprocessing, optimizer) not in self.offsets:
            raise ValueError(f"no run of {preprocessing!r} with {optimizer!r} at lr={lr}, seed={seed} in this sweep")
        return self.offsets[(preprocessing, optimizer)] + matches[0] * len(self.seeds) + self.seeds.index(seed)

    def member(self, preprocessing: str, optimizer: str, lr: float, seed: int) -> nn.Sequential:
        """The trained network of one run, so analyses reuse it instead of training it again."""
        index = self.member_index(preprocessing, optimizer, lr, seed)
        return self.models[(preprocessing, optimizer)].member(index)


def _prepare_splits(name: str, arrays: tuple) -> list[tuple[torch.Tensor, torch.Tensor]]:
    if len(arrays) not in (4, 6):
        raise ValueError(f"dataset {name!r} must be (X_train, y_train, X_test, y_test) or with a validation pair, got {len(arrays)} arrays")
    splits = [_as_tensors(arrays[i], arrays[i + 1]) for i in range(0, len(arrays), 2)]
    return [(x.to(device()), y.to(device())) for x, y in splits]


def _fusable(a: list, b: list) -> bool:
    """Two preprocessings can train in one stack when they hold the same samples, labels and widths."""
    return len(a) == len(b) and all(xa.shape == xb.shape and torch.equal(ya, yb) for (xa, ya), (xb, yb) in zip(a, b))


def _multiplier_rows(multipliers: Mapping[str, Sequence[float] | None], names: list[str], parameters: list[str]) -> np.ndarray | None:
    """One row of learning-rate multipliers per run (None when no preprocessing has any)."""
    if all(value is None for value in multipliers.values()):
        return None
    rows = []
    for name in names:
        row = np.ones(len(parameters)) if multipliers[name] is None else np.asarray(multipliers[name], dtype=np.float64)
        if row.shape != (len(parameters),):
            raise ValueError(f"layer_multipliers of {name!r} must have one factor per parameter tensor {parameters}, got shape {row.shape}")
        rows.append(row)
    return np.stack(rows)


def sweep(
    datasets: Mapping[str, tuple],
    optimizers: Sequence[str],
    learning_rates: Sequence[float] | Mapping[str, Sequence[float]],
    seeds: Sequence[int] | None = None,
    *,
    n_hidden: int = 32,
    steps: int = 200,
    batch_size: int = 128,
    activation: str = "relu",
    input_norm: str | None = None,
    hidden_layers: int = 1,
    first_layer_init_scale: float | Mapping[str, float] = 1.0,
    weight_decay: float = 0.0,
    layer_multipliers: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
    init: str = "default",
) -> SweepResult:
    """Train MLPs for every preprocessing x optimizer x learning rate x seed.

    ``datasets`` maps a preprocessing name to ``(X_train, y_train, X_test, y_test)`` or
    ``(X_train, y_train, X_val, y_val, X_test, y_test)``; with a validation split the records
    carry ``val_accuracy`` (choose settings on it) next to ``test_accuracy`` (report it).
    ``learning_rates`` is one grid, or one grid per preprocessing. ``seeds=None`` uses
    ``BOOK_SEED`` + 0, 1, 2; a seed fixes the initial weights and the mini-batch order, so runs
    are paired across preprocessings and learning rates.
    Optimizers: ``"sgd"`` (plain), ``"momentum"`` (SGD, momentum 0.9), ``"adam"``.
    ``input_norm`` puts a ``BatchNorm1d`` (``"batch"``) or ``LayerNorm`` (``"layer"``)
    in front of every network; ``hidden_layers`` sets the depth; ``first_layer_init_scale``
    (one value, or one per preprocessing) multiplies the first layer's initial weights;
    ``layer_multipliers`` (one factor per parameter tensor, in the order of
    ``StackedMLP.parameter_names()``; one list, or one per preprocessing) multiplies each tensor's
    learning rate, e.g. ``[1 / 255**2, 1, 1, 1]`` trains the first layer at ``lr / 255**2``;
    ``init`` is ``"default"`` or ``"he"`` (see :class:`StackedMLP`).
    Preprocessings of the same samples train together, one stack per optimizer, which is
    what makes a sweep of hundreds of networks fast.

    >>> rng = np.random.default_rng(0); X = rng.normal(size=(64, 3)); y = (X[:, 0] > 0).astype(int)
    >>> result = sweep({"raw": (X, y, X, y)}, ["sgd"], [0.1, 1.0], seeds=[0], steps=5, batch_size=16)
    >>> len(result.records)
    2
    """
    seeds = [book_seed() + offset for offset in range(3)] if seeds is None else list(seeds)
    if not datasets or not optimizers or not seeds:
        raise ValueError("datasets, optimizers and seeds must be non-empty")
    grids = {name: [float(lr) for lr in (learning_rates[name] if isinstance(learning_rates, Mapping) else learning_rates)]
             for name in datasets}
    scales = {name: float(first_layer_init_scale[name] if isinstance(first_layer_init_scale, Mapping) else first_layer_init_scale)
              for name in datasets}
    multipliers = {name: (layer_multipliers.get(name) if isinstance(layer_multipliers, Mapping) else layer_multipliers)
                   for name in datasets}
    for grid in grids.values():
        _check_schedule(grid, steps, batch_size)
    prepared = {name: _prepare_splits(name, arrays) for name, arrays in datasets.items()}
    groups: list[list[str]] = []
    for name in prepared:
        group = next((g for g in groups if _fusable(prepared[g[0]], prepared[name])), None)
        group.append(name) if group is not None else groups.append([name])
    records, curves, models, offsets = [], {}, {}, {}
    for group in groups:
        splits = [[prepared[name][i] for name in group] for i in range(len(prepared[group[0]]))]
        stacked = [(torch.stack([x for x, _ in split]), split[0][1]) for split in splits]  # (sets, n, d), labels
        n_classes = int(max(y.max() for _, y in stacked)) + 1
        runs = [(name, lr, seed) for name in group for lr in grids[name] for seed in seeds]
        feature_sets = [group.index(name) for name, _, _ in runs]
        for optimizer in optimizers:
            model = StackedMLP(
                [seed for *_, seed in runs], stacked[0][0].shape[2], n_hidden, n_classes, activation, input_norm,
                hidden_layers=hidden_layers, first_layer_init_scale=[scales[name] for name, _, _ in runs], init=init,
            ).to(device())
            history = train_stacked(
                model, *stacked[0], optimizer, [lr for _, lr, _ in runs], [seed for *_, seed in runs], steps,
                batch_size, weight_decay, feature_sets=feature_sets,
                layer_multipliers=_multiplier_rows(multipliers, [name for name, _, _ in runs], model.parameter_names()),
            )
            model.eval()  # BatchNorm: use the running statistics, as a deployed model would
            accuracy = stacked_accuracy(model, *stacked[-1], feature_sets=feature_sets)
            val_accuracy = (stacked_accuracy(model, *stacked[1], feature_sets=feature_sets) if len(stacked) == 3
                            else np.full(len(runs), np.nan))
            final = history.final_loss
            for run, (name, lr, seed) in enumerate(runs):
                records.append(
                    {
                        "preprocessing": name,
                        "optimizer": optimizer,
                        "lr": lr,
                        "seed": seed,
                        "initial_loss": history.losses[0, run],
                        "final_loss": final[run],
                        "val_accuracy": val_accuracy[run],
                        # Scored on its final weights even when diverged: non-finite logits make the
                        # network predict a single class, i.e. chance accuracy, which is what a user gets.
                        "test_accuracy": accuracy[run],
                        "diverged": bool(history.diverged[run]),
                    }
                )
            for name in group:
                first = next(run for run, (other, _, _) in enumerate(runs) if other == name)
                width = len(grids[name]) * len(seeds)
                curves[(name, optimizer)] = history.losses[:, first : first + width].reshape(steps, len(grids[name]), len(seeds))
                models[(name, optimizer)] = model
                offsets[(name, optimizer)] = first
    return SweepResult(pd.DataFrame.from_records(records), curves, models, grids, seeds, offsets)


def train(
    model: nn.Module,
    features: object,
    labels: object,
    optimizer: str = "adam",
    lr: float = 1e-3,
    steps: int = 300,
    batch_size: int = 128,
    seed: int | None = None,
    weight_decay: float = 0.0,
) -> History:
    """Train a classifier (inputs (n, d) -> logits (n, classes)) with cross-entropy on in-memory tensors.

    Mini-batches are drawn with a generator seeded by ``seed`` (default ``BOOK_SEED``).
    Training stops when the loss becomes non-finite or exceeds ``DIVERGENCE_FACTOR`` times
    its first value, and the history then says ``diverged=True``.

    >>> net = nn.Linear(2, 2); X = np.array([[0.0, 1.0], [1.0, 0.0]]); y = np.array([0, 1])
    >>> train(net, X, y, lr=0.1, steps=50, batch_size=2).final_loss < 0.3
    True
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}")
    _check_schedule([lr], steps, batch_size)
    features, labels = _as_tensors(features, labels)
    target_device = next(model.parameters()).device
    features, labels = features.to(target_device), labels.to(target_device)
    generator = torch.Generator().manual_seed(book_seed() if seed is None else int(seed))
    opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay)
    losses = np.full(steps, np.nan)
    for step in range(steps):
        index = _batch_indices([generator], len(features), batch_size)[0].to(target_device)
        loss = F.cross_entropy(model(features[index]), labels[index])
        if not torch.isfinite(loss) or (step > 0 and loss.item() > DIVERGENCE_FACTOR * losses[0]):
            return History(losses=losses, diverged=True)
        losses[step] = loss.item()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return History(losses=losses, diverged=False)


@torch.no_grad()
def accuracy(model: nn.Module, features: object, labels: object) -> float:
    """Fraction of samples whose largest logit is the true class.

    >>> accuracy(nn.Identity(), np.array([[2.0, 1.0], [0.0, 3.0]]), np.array([0, 0]))
    0.5
    """
    features, labels = _as_tensors(features, labels)
    target_device = next(iter(model.parameters()), torch.empty(0)).device  # a GPU model gets GPU inputs
    predicted = model(features.to(target_device)).argmax(dim=1).cpu()
    return float((predicted == labels).float().mean())
