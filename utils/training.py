"""A small full-tensor training loop and a vectorized learning-rate x seed sweep (a thin layer over torch).

Data live in memory as tensors; mini-batches are index tensors, so there is no
per-sample Python loop and no DataLoader. A run whose loss becomes non-finite, or
grows past ``DIVERGENCE_FACTOR`` times its first value, is recorded as diverged
instead of raising, because divergence is a result the book reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

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


class StackedMLP(nn.Module):
    """``n_models`` independent MLPs (``hidden_layers`` hidden layers of ``n_hidden`` units) evaluated
    together with batched matmuls.

    Each model keeps its own parameter tensors, so an optimizer can give each a
    different learning rate through parameter groups; ``forward`` stacks them.
    Initialization matches ``nn.Linear``'s default (kaiming_uniform with a = sqrt(5): weights
    uniform in +-1/sqrt(fan_in), variance 1/(3 fan_in)); ``first_layer_init_scale`` then
    multiplies the first layer's initial weights, e.g. 1/255 gives raw 0-255 inputs the
    starting function of a network built for inputs divided by 255.
    """

    def __init__(
        self,
        seeds: Sequence[int],
        n_inputs: int,
        n_hidden: int,
        n_outputs: int,
        activation: str = "relu",
        input_norm: str | None = None,
        hidden_layers: int = 1,
        first_layer_init_scale: float = 1.0,
    ):
        super().__init__()
        if activation not in ("relu", "tanh"):
            raise ValueError(f"activation must be 'relu' or 'tanh', got {activation!r}")
        if input_norm not in (None, "batch", "layer"):
            raise ValueError(f"input_norm must be None, 'batch' or 'layer', got {input_norm!r}")
        if isinstance(hidden_layers, bool) or not isinstance(hidden_layers, int) or hidden_layers < 1:
            raise ValueError(f"hidden_layers must be a positive int, got {hidden_layers!r}")
        if not np.isfinite(first_layer_init_scale) or first_layer_init_scale <= 0:
            raise ValueError(f"first_layer_init_scale must be positive and finite, got {first_layer_init_scale}")
        self.activation = torch.relu if activation == "relu" else torch.tanh
        self.n_inputs = n_inputs
        # BatchNorm1d over n_models * n_inputs channels keeps each model's statistics and affine
        # parameters separate; LayerNorm normalizes each sample, so it needs no per-model state.
        self.input_norm = {
            None: None,
            "batch": nn.BatchNorm1d(len(seeds) * n_inputs),
            "layer": nn.LayerNorm(n_inputs, elementwise_affine=False),
        }[input_norm]
        widths = [n_inputs] + [n_hidden] * hidden_layers + [n_outputs]
        self.models = nn.ModuleList()
        for seed in seeds:
            torch.manual_seed(int(seed))  # the same seed gives the same initial network at every lr
            layers = nn.Sequential(*[nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:])])
            with torch.no_grad():
                layers[0].weight.mul_(first_layer_init_scale)
            self.models.append(layers)

    def member(self, index: int) -> nn.Sequential:
        """Model ``index`` as an ordinary ``nn.Sequential`` (sharing its parameters), for analysis tools."""
        if self.input_norm is not None:
            raise ValueError("members of a model with an input normalization layer cannot be taken apart")
        parts: list[nn.Module] = []
        for layer in self.models[index]:
            parts += [layer, nn.ReLU() if self.activation is torch.relu else nn.Tanh()]
        return nn.Sequential(*parts[:-1])

    def hidden_activations(self, inputs: torch.Tensor) -> list[torch.Tensor]:
        """Post-activation outputs of every hidden layer, each (n_models, batch, n_hidden)."""
        if isinstance(self.input_norm, nn.BatchNorm1d):
            n_models, batch, width = inputs.shape
            flat = inputs.permute(1, 0, 2).reshape(batch, n_models * width)
            inputs = self.input_norm(flat).reshape(batch, n_models, width).permute(1, 0, 2)
        elif self.input_norm is not None:
            inputs = self.input_norm(inputs)
        outputs, current = [], inputs
        for depth in range(len(self.models[0]) - 1):
            weight = torch.stack([m[depth].weight.T for m in self.models])
            bias = torch.stack([m[depth].bias for m in self.models])
            current = self.activation(torch.baddbmm(bias[:, None, :], current, weight))
            outputs.append(current)
        return outputs

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``inputs`` (n_models, batch, n_inputs) -> logits (n_models, batch, n_outputs)."""
        hidden = self.hidden_activations(inputs)[-1]
        weight = torch.stack([m[-1].weight.T for m in self.models])
        bias = torch.stack([m[-1].bias for m in self.models])
        return torch.baddbmm(bias[:, None, :], hidden, weight)


def _per_model_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    n_models, batch, n_classes = logits.shape
    losses = F.cross_entropy(logits.reshape(-1, n_classes), targets.reshape(-1), reduction="none")
    return losses.view(n_models, batch).mean(dim=1)


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
) -> History:
    """Train every model of ``model`` at its own learning rate; mini-batch order follows ``batch_seeds``."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}")
    _check_schedule(learning_rates, steps, batch_size)
    if not len(learning_rates) == len(batch_seeds) == len(model.models):
        raise ValueError("need one learning rate and one batch seed per model")
    groups = [{"params": m.parameters(), "lr": float(lr)} for m, lr in zip(model.models, learning_rates)]
    opt = OPTIMIZERS[optimizer](groups, weight_decay=weight_decay)
    generators = [torch.Generator().manual_seed(int(seed)) for seed in batch_seeds]
    model.train()
    losses = np.full((steps, len(learning_rates)), np.nan)
    alive = torch.ones(len(learning_rates), dtype=torch.bool)
    limit = None
    for step in range(steps):
        index = _batch_indices(generators, len(features), batch_size).to(features.device)
        per_model = _per_model_loss(model(features[index]), labels[index])
        current = per_model.detach().cpu()
        limit = DIVERGENCE_FACTOR * current if limit is None else limit
        alive &= torch.isfinite(current) & (current <= limit)
        losses[step, alive.numpy()] = per_model.detach().cpu().numpy()[alive.numpy()]
        if not alive.any():
            break
        opt.zero_grad(set_to_none=True)
        # Dead models contribute nothing: their NaNs stay inside their own parameters.
        per_model.masked_fill(~alive.to(per_model.device), 0.0).sum().backward()
        opt.step()
    return History(losses=losses, diverged=~alive.numpy())


@torch.no_grad()
def stacked_accuracy(model: StackedMLP, features: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """Accuracy of every model on the same data (a model with NaN logits predicts class 0 everywhere)."""
    logits = model(features.expand(len(model.models), *features.shape))
    return (logits.argmax(dim=2) == labels).float().mean(dim=1).cpu().numpy()


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
    """Tidy records (one row per run), loss curves and the trained models, keyed by (preprocessing, optimizer)."""

    records: pd.DataFrame
    curves: dict[tuple[str, str], np.ndarray]  # (steps, len(learning_rates), len(seeds))
    models: dict[tuple[str, str], StackedMLP]  # model i trained at grid[i] = (lr, seed), lr-major
    learning_rates: list[float]
    seeds: list[int]

    def member(self, preprocessing: str, optimizer: str, lr: float, seed: int) -> nn.Sequential:
        """The trained network of one run, so analyses reuse it instead of training it again."""
        matches = [i for i, value in enumerate(self.learning_rates) if np.isclose(value, lr)]
        if not matches or seed not in self.seeds:
            raise ValueError(f"no run at lr={lr}, seed={seed} in this sweep")
        return self.models[(preprocessing, optimizer)].member(matches[0] * len(self.seeds) + self.seeds.index(seed))


def sweep(
    datasets: Mapping[str, tuple],
    optimizers: Sequence[str],
    learning_rates: Sequence[float],
    seeds: Sequence[int] | None = None,
    *,
    n_hidden: int = 32,
    steps: int = 200,
    batch_size: int = 128,
    activation: str = "relu",
    input_norm: str | None = None,
    hidden_layers: int = 1,
    first_layer_init_scale: float = 1.0,
    weight_decay: float = 0.0,
) -> SweepResult:
    """Train MLPs for every preprocessing x optimizer x learning rate x seed.

    ``datasets`` maps a preprocessing name to ``(X_train, y_train, X_test, y_test)`` or
    ``(X_train, y_train, X_val, y_val, X_test, y_test)``; with a validation split the records
    carry ``val_accuracy`` (choose settings on it) next to ``test_accuracy`` (report it).
    All learning rates and seeds of one (preprocessing, optimizer) pair train
    together in one ``StackedMLP``. ``seeds=None`` uses ``BOOK_SEED`` + 0, 1, 2.
    Optimizers: ``"sgd"`` (plain), ``"momentum"`` (SGD, momentum 0.9), ``"adam"``.
    ``input_norm`` puts a ``BatchNorm1d`` (``"batch"``) or ``LayerNorm`` (``"layer"``)
    in front of every network; ``hidden_layers`` sets the depth; ``first_layer_init_scale``
    multiplies the first layer's initial weights (see :class:`StackedMLP`).

    >>> rng = np.random.default_rng(0); X = rng.normal(size=(64, 3)); y = (X[:, 0] > 0).astype(int)
    >>> result = sweep({"raw": (X, y, X, y)}, ["sgd"], [0.1, 1.0], seeds=[0], steps=5, batch_size=16)
    >>> len(result.records)
    2
    """
    seeds = [book_seed() + offset for offset in range(3)] if seeds is None else list(seeds)
    if not datasets or not optimizers or not seeds:
        raise ValueError("datasets, optimizers and seeds must be non-empty")
    _check_schedule(learning_rates, steps, batch_size)
    records, curves, models = [], {}, {}
    for name, arrays in datasets.items():
        if len(arrays) not in (4, 6):
            raise ValueError(f"dataset {name!r} must be (X_train, y_train, X_test, y_test) or with a validation pair, got {len(arrays)} arrays")
        splits = [_as_tensors(arrays[i], arrays[i + 1]) for i in range(0, len(arrays), 2)]
        splits = [(x.to(device()), y.to(device())) for x, y in splits]
        (x_train, y_train), (x_test, y_test) = splits[0], splits[-1]
        validation = splits[1] if len(splits) == 3 else None
        n_classes = int(max(y.max() for _, y in splits)) + 1
        grid = [(lr, seed) for lr in learning_rates for seed in seeds]
        for optimizer in optimizers:
            model = StackedMLP(
                [s for _, s in grid], x_train.shape[1], n_hidden, n_classes, activation, input_norm,
                hidden_layers=hidden_layers, first_layer_init_scale=first_layer_init_scale,
            ).to(device())
            history = train_stacked(
                model, x_train, y_train, optimizer, [lr for lr, _ in grid], [s for _, s in grid], steps, batch_size,
                weight_decay,
            )
            model.eval()  # BatchNorm: use the running statistics, as a deployed model would
            accuracy = stacked_accuracy(model, x_test, y_test)
            val_accuracy = stacked_accuracy(model, *validation) if validation is not None else np.full(len(grid), np.nan)
            final = history.final_loss
            for run, (lr, seed) in enumerate(grid):
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
            curves[(name, optimizer)] = history.losses.reshape(steps, len(learning_rates), len(seeds))
            models[(name, optimizer)] = model
    return SweepResult(pd.DataFrame.from_records(records), curves, models, [float(lr) for lr in learning_rates], seeds)


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
