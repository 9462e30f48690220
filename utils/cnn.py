"""Many small CNNs trained at once: one grouped convolution holds every model (``groups = n_models``).

A sweep over preprocessings x learning rates x seeds is a few hundred tiny networks. Looping over
them in Python is slow; stacking them as the groups of one ``conv2d`` call runs them all in one
kernel. Every parameter has a leading model axis, so a per-model learning rate is a broadcast,
and the optimizers below (SGD with momentum, Adam) follow ``torch.optim``'s formulas exactly.

Architecture of each member: conv 3x3 (padding 1, zeros) -> [BatchNorm] -> ReLU -> max-pool 2
-> conv 3x3 (no padding) -> ReLU -> max-pool 2 -> linear.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

OPTIMIZERS = ("sgd", "momentum", "adam")
# A run has diverged when its loss is non-finite or exceeds this multiple of its first loss.
DIVERGENCE_FACTOR = 1000.0


def _uniform(generator: torch.Generator, shape: tuple[int, ...], fan_in: int) -> torch.Tensor:
    # nn.Conv2d's and nn.Linear's default initialization: uniform in +-1/sqrt(fan_in).
    bound = 1.0 / np.sqrt(fan_in)
    return (torch.rand(shape, generator=generator) * 2 - 1) * bound


class StackedCNN(nn.Module):
    """``len(seeds)`` independent two-convolution CNNs, evaluated together.

    ``first_layer_init_scale`` (one value, or one per model) multiplies conv1's initial
    weights: ``1/255`` gives a raw-pixel network the starting point of a ``/255`` network.
    ``batch_norm=True`` puts a BatchNorm after conv1 (and drops conv1's bias, which it cancels);
    ``batch_norm_eps`` is its ε, the only place where a global input scale survives it.

    >>> model = StackedCNN([0, 1], in_channels=1, image_size=14, n_classes=10)
    >>> model(torch.zeros(2, 5, 1, 14, 14)).shape
    torch.Size([2, 5, 10])
    """

    def __init__(
        self,
        seeds: Sequence[int],
        in_channels: int,
        image_size: int,
        n_classes: int,
        channels: tuple[int, int] = (4, 8),
        batch_norm: bool = False,
        first_layer_init_scale: float | Sequence[float] = 1.0,
        batch_norm_eps: float = 1e-5,
    ):
        super().__init__()
        if not np.isfinite(batch_norm_eps) or batch_norm_eps <= 0:
            raise ValueError(f"batch_norm_eps must be positive and finite, got {batch_norm_eps}")
        self.batch_norm_eps = float(batch_norm_eps)
        if len(seeds) == 0:
            raise ValueError("need at least one seed (one model)")
        if image_size < 8:
            raise ValueError(f"image_size must be at least 8 for two conv + pool stages, got {image_size}")
        scales = np.broadcast_to(np.asarray(first_layer_init_scale, dtype=np.float64), (len(seeds),))
        if not np.isfinite(scales).all() or (scales <= 0).any():
            raise ValueError("first_layer_init_scale must be positive and finite")
        c1, c2 = channels
        self.n_models, self.in_channels, self.image_size, self.channels = len(seeds), in_channels, image_size, channels
        self.batch_norm = batch_norm
        side = ((image_size // 2) - 2) // 2
        n_flat = c2 * side * side
        parts = {name: [] for name in ("w1", "b1", "w2", "b2", "wl", "bl")}
        for seed, scale in zip(seeds, scales):
            g = torch.Generator().manual_seed(int(seed))  # same seed -> same network, whatever else is stacked
            parts["w1"].append(_uniform(g, (c1, in_channels, 3, 3), 9 * in_channels) * float(scale))
            parts["b1"].append(_uniform(g, (c1,), 9 * in_channels))
            parts["w2"].append(_uniform(g, (c2, c1, 3, 3), 9 * c1))
            parts["b2"].append(_uniform(g, (c2,), 9 * c1))
            parts["wl"].append(_uniform(g, (n_flat, n_classes), n_flat))
            parts["bl"].append(_uniform(g, (n_classes,), n_flat))
        for name, values in parts.items():
            if name == "b1" and batch_norm:
                continue
            setattr(self, name, nn.Parameter(torch.stack(values)))
        if batch_norm:
            self.bn_weight = nn.Parameter(torch.ones(self.n_models, c1))
            self.bn_bias = nn.Parameter(torch.zeros(self.n_models, c1))
            self.register_buffer("running_mean", torch.zeros(self.n_models * c1))
            self.register_buffer("running_var", torch.ones(self.n_models * c1))

    def select(self, indices: Sequence[int]) -> "StackedCNN":
        """A new stack holding copies of members ``indices`` (in that order), for analyses of a few models.

        >>> StackedCNN([0, 1, 2], 1, 8, 2).select([2, 0]).n_models
        2
        """
        index = torch.as_tensor(list(indices), dtype=torch.long)
        if index.numel() == 0 or index.min() < 0 or index.max() >= self.n_models:
            raise ValueError(f"indices must be non-empty and in [0, {self.n_models}), got {list(indices)}")
        chosen = StackedCNN([0] * len(index), self.in_channels, self.image_size, self.wl.shape[2], self.channels,
                            self.batch_norm, batch_norm_eps=self.batch_norm_eps).to(self.wl.dtype)
        with torch.no_grad():
            for name, value in self.named_parameters():
                getattr(chosen, name).copy_(value[index.to(value.device)])
            if self.batch_norm:  # running statistics are stored flat, one per (model, channel)
                c1 = self.channels[0]
                for name in ("running_mean", "running_var"):
                    getattr(chosen, name).copy_(getattr(self, name).view(self.n_models, c1)[index].reshape(-1))
        return chosen.to(self.wl.device).eval()

    def parameter_names(self) -> list[str]:
        """Names of the parameter tensors in the order ``layer_multipliers`` uses (conv1's weight first).

        >>> StackedCNN([0], 1, 8, 2).parameter_names()
        ['w1', 'b1', 'w2', 'b2', 'wl', 'bl']
        """
        return [name for name, _ in self.named_parameters()]

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``inputs`` (n_models, batch, C, H, W), or (batch, C, H, W) shared by all -> logits (n_models, batch, K)."""
        m, c1, c2 = self.n_models, *self.channels
        if inputs.ndim == 4:
            inputs = inputs.expand(m, *inputs.shape)
        if inputs.ndim != 5 or inputs.shape[0] != m or inputs.shape[2] != self.in_channels:
            raise ValueError(
                f"inputs must have shape ({m}, batch, {self.in_channels}, H, W), got {tuple(inputs.shape)}"
            )
        batch = inputs.shape[1]
        # (M, B, C, H, W) -> (B, M*C, H, W): model i's channels are group i of every conv.
        x = inputs.transpose(0, 1).reshape(batch, m * self.in_channels, *inputs.shape[3:])
        bias1 = None if self.batch_norm else self.b1.reshape(-1)
        x = x.contiguous(memory_format=torch.channels_last)  # grouped conv on CPU runs faster in this layout
        x = F.conv2d(x, self.w1.reshape(m * c1, self.in_channels, 3, 3), bias1, padding=1, groups=m)
        if self.batch_norm:
            x = F.batch_norm(
                x, self.running_mean, self.running_var, self.bn_weight.reshape(-1), self.bn_bias.reshape(-1),
                training=self.training, eps=self.batch_norm_eps,
            )
        # relu(max_pool(x)) = max_pool(relu(x)) exactly (ReLU is monotone), on a quarter of the values.
        x = F.relu(F.max_pool2d(x, 2))
        x = F.relu(F.max_pool2d(F.conv2d(x, self.w2.reshape(m * c2, c1, 3, 3), self.b2.reshape(-1), groups=m), 2))
        x = x.reshape(batch, m, -1).transpose(0, 1)  # (M, B, features)
        return torch.baddbmm(self.bl[:, None, :], x, self.wl)


def _per_model_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    m, batch, k = logits.shape
    return F.cross_entropy(logits.reshape(-1, k), targets.reshape(-1), reduction="none").view(m, batch).mean(1)


def _check_inputs(inputs: torch.Tensor, labels: torch.Tensor, input_index: torch.Tensor, n_models: int) -> None:
    if inputs.ndim != 5:
        raise ValueError(f"inputs must be (versions, samples, C, H, W), got shape {tuple(inputs.shape)}")
    if not torch.isfinite(inputs).all():
        raise ValueError("inputs contain NaN or inf")
    if labels.ndim != 1 or len(labels) != inputs.shape[1]:
        raise ValueError(f"labels must be 1-D with {inputs.shape[1]} entries, got shape {tuple(labels.shape)}")
    if input_index.shape != (n_models,) or input_index.min() < 0 or input_index.max() >= inputs.shape[0]:
        raise ValueError(f"input_index must hold one version in [0, {inputs.shape[0]}) per model")


def _multipliers(layer_multipliers: object, n_models: int, n_params: int) -> np.ndarray:
    """(n_models, n_params) non-negative finite factors on each parameter tensor's learning rate."""
    if layer_multipliers is None:
        return np.ones((n_models, n_params))
    values = np.asarray(layer_multipliers, dtype=np.float64)
    if values.shape not in ((n_params,), (n_models, n_params)):
        raise ValueError(f"layer_multipliers must have shape ({n_params},) or ({n_models}, {n_params}), got {values.shape}")
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError("layer_multipliers must be finite and non-negative (0 freezes a parameter)")
    return np.broadcast_to(values, (n_models, n_params)).copy()


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
    layer_multipliers: object = None,
    callback: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Train every member on its own preprocessed copy of the data; return losses (steps, n_models).

    ``inputs`` holds every preprocessed version, shape (versions, samples, C, H, W); model ``i``
    trains on ``inputs[input_index[i]]`` at ``learning_rates[i]``, mini-batches drawn by a
    generator seeded with ``batch_seeds[i]``. ``optimizer`` is "sgd", "momentum" (SGD with
    momentum 0.9) or "adam", with torch.optim's formulas. Parameter tensor ``j`` of model ``i``
    moves at ``learning_rates[i] * layer_multipliers[i, j]`` (order: ``model.parameter_names()``;
    a multiplier 0 freezes that tensor). ``callback(step)`` runs after every update, e.g. to score
    the models along the way (it may switch the model to eval mode; each step switches it back). A diverged model is frozen and its later
    losses are NaN.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    m = model.n_models
    index = torch.as_tensor(np.asarray(input_index), dtype=torch.long)
    _check_inputs(inputs, labels, index, m)
    lrs = np.asarray(learning_rates, dtype=np.float64)
    if lrs.shape != (m,) or len(batch_seeds) != m or not np.isfinite(lrs).all() or (lrs <= 0).any():
        raise ValueError("need one positive, finite learning rate and one batch seed per model")
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be positive, got {steps} and {batch_size}")
    params = [p for p in model.parameters()]
    factors = _multipliers(layer_multipliers, m, len(params))
    target, dtype = inputs.device, params[0].dtype
    index = index.to(target)
    # One rate per (model, parameter tensor): the global rate times that tensor's multiplier.
    rates = torch.as_tensor(lrs[:, None] * factors, dtype=dtype, device=target)
    state = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    generators = [torch.Generator().manual_seed(int(seed)) for seed in batch_seeds]
    n, size = inputs.shape[1], min(batch_size, inputs.shape[1])
    losses = np.full((steps, m), np.nan)
    alive = torch.ones(m, dtype=torch.bool, device=target)
    first = None
    for step in range(steps):
        model.train()
        batch = torch.stack([torch.randperm(n, generator=g)[:size] for g in generators]).to(target)
        per_model = _per_model_loss(model(inputs[index[:, None], batch]), labels[batch])
        current = per_model.detach()
        first = current.clone() if first is None else first
        alive &= torch.isfinite(current) & (current <= DIVERGENCE_FACTOR * first)
        losses[step] = torch.where(alive, current, torch.nan).cpu().numpy()
        if not alive.any():
            break
        grads = torch.autograd.grad(per_model.masked_fill(~alive, 0.0).sum(), params)
        with torch.no_grad():
            for j, (p, g, (first_moment, second_moment)) in enumerate(zip(params, grads, state)):
                shape = (m,) + (1,) * (p.ndim - 1)
                keep = alive.view(shape)
                g = torch.where(keep, g, torch.zeros_like(g))  # a dead model's NaNs stay out of the update
                if optimizer == "sgd":
                    update = g
                elif optimizer == "momentum":  # torch.optim.SGD(momentum=0.9): buf = 0.9 buf + g; p -= lr buf
                    first_moment.mul_(0.9).add_(g)
                    update = first_moment
                else:  # torch.optim.Adam defaults: betas (0.9, 0.999), eps 1e-8, bias-corrected
                    first_moment.mul_(0.9).add_(g, alpha=0.1)
                    second_moment.mul_(0.999).addcmul_(g, g, value=0.001)
                    t = step + 1
                    update = (first_moment / (1 - 0.9**t)) / ((second_moment / (1 - 0.999**t)).sqrt() + 1e-8)
                p.sub_(torch.where(keep, rates[:, j].view(shape) * update, torch.zeros_like(p)))
        if callback is not None:
            callback(step)
    model.eval()
    return losses


@torch.no_grad()
def stacked_logits(model: StackedCNN, inputs: torch.Tensor, input_index: Sequence[int], chunk: int = 500) -> torch.Tensor:
    """Logits of every member on its own version of the inputs: (n_models, samples, classes).

    ``inputs`` is (versions, samples, C, H, W) as in :func:`train_stacked_cnn`; evaluated in chunks.
    """
    index = torch.as_tensor(np.asarray(input_index), dtype=torch.long, device=inputs.device)
    if inputs.ndim != 5 or index.shape != (model.n_models,):
        raise ValueError("inputs must be (versions, samples, C, H, W) with one version index per model")
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


def sweep_cnn(
    splits: dict[str, tuple[torch.Tensor, torch.Tensor]],
    runs: list[dict],
    optimizer: str,
    *,
    batch_norm: bool = False,
    steps: int = 200,
    batch_size: int = 32,
    channels: tuple[int, int] = (4, 8),
) -> tuple[StackedCNN, "pd.DataFrame"]:
    """Train one stacked CNN per run and score it on validation and test data.

    ``splits`` maps "train", "val", "test" to (inputs (versions, n, C, H, W), labels (n,)).
    Each run is a dict with ``version`` (index of its preprocessing), ``lr``, ``seed`` and
    optionally ``init_scale`` and ``multipliers`` (one learning-rate factor per parameter tensor,
    see :func:`train_stacked_cnn`); other keys (e.g. a preprocessing name) are copied into the records.
    Returns the trained model (member ``i`` is run ``i``) and one record per run.
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
    n_params = len(model.parameter_names())
    multipliers = [run.get("multipliers", [1.0] * n_params) for run in runs]
    losses = train_stacked_cnn(
        model, inputs, labels, versions, optimizer, [run["lr"] for run in runs], [run["seed"] for run in runs],
        steps, batch_size, layer_multipliers=multipliers,
    )
    scores = {name: stacked_accuracy(model, splits[name][0], splits[name][1], versions) for name in ("val", "test")}
    tail = max(1, steps // 10)
    records = [
        {**{k: v for k, v in run.items() if k != "multipliers"}, "optimizer": optimizer, "batch_norm": batch_norm, "val_accuracy": float(scores["val"][i]),
         "test_accuracy": float(scores["test"][i]), "final_loss": float(np.mean(losses[-tail:, i])),
         "diverged": bool(np.isnan(losses[-1, i]))}
        for i, run in enumerate(runs)
    ]
    return model, pd.DataFrame.from_records(records)
