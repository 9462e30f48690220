"""How much a classifier's answer moves when one input feature moves, measured in the data's own units.

A network sees ``(x - shift) / scale`` of the raw data ``x``. Its sensitivity to the raw data must
be measured in raw units (one pixel level for an 8-bit image), and with outputs whose size means
the same thing for every network. Logits do not: they are defined only up to a per-sample constant,
and independently trained networks put them on different scales. So this module offers

- :func:`output_gradients`: gradients of the predicted class's logit, of its log-probability and of
  the margin (its logit minus the runner-up's), all in raw units, from one batched Jacobian;
- :func:`smallest_change`: the behavioural measure, the smallest change of one feature (in raw
  units, within the data's range) that flips the prediction or moves the predicted probability by
  a stated amount;
- :func:`probability_change` and :func:`fraction_moved`: how much one step of one feature moves the
  predicted probability, and for what fraction of (sample, feature) pairs that exceeds a threshold.

For stacked convolutional networks on images (:class:`utils.models.StackedCNN`), the same two
measures, per model of the stack: :func:`raw_unit_gradients` (log-probability or margin gradients
in raw pixel levels, by the chain rule through each model's preprocessing) and
:func:`smallest_flip` (the smallest change of one pixel, in whole levels, that flips the prediction);
and the "blind" chapter's criterion for a stack, :func:`one_level_changes` (every pixel moved by one
level, for every model) with :func:`registering_share` (the share of pairs at or above a threshold).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from utils.checks import as_float_matrix, per_feature

MEASURES = ("logit", "log_prob", "margin")
# The book's criterion for "blind", fixed after a pilot run of the chapter's networks (justified in the chapter
# "Is a trained network blind?"). A one-level change of one pixel *registers* when it moves the
# predicted class's probability by more than REGISTER_THRESHOLD: a tenth of a percentage point, the
# smallest change that shows when a probability is printed as a percentage with one decimal.
REGISTER_THRESHOLD = 1e-3
# A network is *blind* to one-level changes when fewer than BLIND_SHARE of its (digit, pixel) pairs
# register: with about 700 pixels that vary in MNIST, fewer than about 7 pixels per digit.
BLIND_SHARE = 0.01
# Changes of one feature tried by smallest_change, in raw units: about 1.5x apart, so the answer
# is within a factor 1.5 of the exact smallest integer change; the range ends are always tried too.
LADDER = np.array([1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 255], dtype=np.float64)


def _first_linear(model: nn.Module) -> nn.Linear | None:
    return next((module for module in model.modules() if isinstance(module, nn.Linear)), None)


def _check_model(model: nn.Module, n_features: int) -> torch.nn.Parameter:
    """The model's first parameter (for dtype and device); a clear error when its input width differs."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    first = _first_linear(model)
    if first is not None and first.in_features != n_features:
        raise ValueError(f"the model takes {first.in_features} input features, but the data have {n_features}")
    parameter = next(model.parameters(), None)
    if parameter is None:
        raise ValueError("the model has no parameters to take dtype and device from")
    return parameter


def _model_inputs(raw: np.ndarray, shift: object, scale: object) -> tuple[np.ndarray, np.ndarray]:
    shift = per_feature(shift, raw.shape[1], "shift")
    scale = per_feature(scale, raw.shape[1], "scale", nonzero=True)
    return shift, scale


def output_gradients(
    model: nn.Module, raw_inputs: object, shift: object = 0.0, scale: object = 1.0
) -> dict[str, np.ndarray]:
    """Gradients of the predicted class's logit, log-probability and margin, per raw unit of each feature.

    The model receives ``(raw - shift) / scale`` (one value, or one per feature); the chain rule
    divides each gradient by ``scale``. Returns ``{"logit", "log_prob", "margin"}``, each (n, d).
    The margin is the predicted logit minus the largest other logit: positive, and zero on the
    decision boundary. One backward pass per class serves all three measures.

    >>> layer = nn.Linear(2, 2, bias=False)
    >>> _ = layer.weight.data.copy_(torch.tensor([[2.0, 0.0], [0.0, 1.0]]))
    >>> gradients = output_gradients(layer, [[3.0, 1.0]], scale=10.0)
    >>> gradients["logit"].round(3).tolist(), gradients["margin"].round(3).tolist()
    ([[0.2, 0.0]], [[0.2, -0.1]])
    """
    raw = as_float_matrix(raw_inputs, "raw_inputs")
    parameter = _check_model(model, raw.shape[1])
    shift, scale = _model_inputs(raw, shift, scale)
    inputs = torch.as_tensor((raw - shift) / scale, dtype=parameter.dtype, device=parameter.device)
    inputs.requires_grad_(True)
    logits = model(inputs)
    if logits.ndim != 2 or logits.shape[1] < 2:
        raise ValueError(f"the model must return (samples, classes >= 2), got shape {tuple(logits.shape)}")
    n_classes = logits.shape[1]
    # One backward pass per class, each over the whole batch: jacobian[k] = d logit_k / d inputs, (classes, n, d).
    jacobian = np.stack([torch.autograd.grad(logits[:, k].sum(), inputs, retain_graph=k < n_classes - 1)[0].double().cpu().numpy()
                         for k in range(n_classes)]) / scale
    values = logits.detach().double().cpu().numpy()
    order = np.argsort(-values, axis=1)
    rows = np.arange(len(raw))
    predicted, runner_up = jacobian[order[:, 0], rows], jacobian[order[:, 1], rows]
    probabilities = np.exp(values - values.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    expected = np.einsum("nk,knd->nd", probabilities, jacobian)  # d log p_c = d z_c - sum_k p_k d z_k
    return {"logit": predicted, "log_prob": predicted - expected, "margin": predicted - runner_up}


def _outputs_along(
    model: nn.Module, raw: np.ndarray, shift: np.ndarray, scale: np.ndarray, features: np.ndarray, changes: np.ndarray
) -> torch.Tensor:
    """Logits (n, len(features), k) x classes when feature ``features[j]`` of every sample moves by ``changes[:, j, k]``.

    When the model is an ``nn.Sequential`` that starts with a Linear layer, only that layer's output
    moves (by change / scale times one weight column), so the rest of the network runs on
    (n, features, k) hidden vectors instead of full inputs: exact, and about d times cheaper.
    """
    parameter = next(model.parameters())
    as_tensor = lambda array: torch.as_tensor(array, dtype=parameter.dtype, device=parameter.device)  # noqa: E731
    inputs = as_tensor((raw - shift) / scale)
    steps = as_tensor(changes / scale[features][None, :, None])  # (n, f, k) in model units
    with torch.no_grad():
        if isinstance(model, nn.Sequential) and isinstance(model[0], nn.Linear):
            base = model[0](inputs)  # (n, h)
            columns = model[0].weight[:, torch.as_tensor(features, device=parameter.device)].T  # (f, h)
            hidden = base.new_empty((*changes.shape, base.shape[1]))  # contiguous, so the view below is free
            torch.addcmul(base[:, None, None, :], steps[..., None], columns[None, :, None, :], out=hidden)
            return model[1:](hidden.view(-1, hidden.shape[-1])).view(*changes.shape, -1)
        moved = inputs[:, None, None, :].repeat(1, len(features), changes.shape[2], 1)
        index = torch.as_tensor(features, device=parameter.device)[None, :, None, None].expand(*changes.shape, 1)
        moved.scatter_add_(3, index, steps[..., None])
        return model(moved.reshape(-1, raw.shape[1])).reshape(*changes.shape, -1)


def _prepare(model, raw_inputs, shift, scale, low, high, features):
    raw = as_float_matrix(raw_inputs, "raw_inputs")
    _check_model(model, raw.shape[1])
    shift, scale = _model_inputs(raw, shift, scale)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"the data's range must be finite with low < high, got [{low}, {high}]")
    if (raw < low).any() or (raw > high).any():
        raise ValueError(f"raw_inputs must lie in the data's range [{low}, {high}]")
    features = np.arange(raw.shape[1]) if features is None else np.asarray(features)
    if features.ndim != 1 or features.size == 0 or not np.issubdtype(features.dtype, np.integer):
        raise ValueError("features must be a non-empty 1-D array of feature indices")
    if features.min() < 0 or features.max() >= raw.shape[1]:
        raise ValueError(f"features must index the {raw.shape[1]} input features")
    return raw, shift, scale, features


def smallest_change(
    model: nn.Module,
    raw_inputs: object,
    shift: object = 0.0,
    scale: object = 1.0,
    *,
    probability: float | None = None,
    low: float = 0.0,
    high: float = 255.0,
    ladder: object = LADDER,
    features: object = None,
    chunk: int = 64,
) -> np.ndarray:
    """Smallest change of one feature, in raw units, that flips the prediction (default) or moves
    the predicted class's probability by at least ``probability``.

    For every sample and feature (all, or the indices in ``features``) the changes ``+-ladder``
    that stay inside ``[low, high]`` are tried, and so are the moves to ``low`` and to ``high``.
    Returns (n, len(features)) absolute changes; ``inf`` where no change inside the range does
    it. The answer is exact on those candidates; between ladder steps it is an upper bound.

    >>> layer = nn.Linear(1, 2)
    >>> _ = layer.weight.data.copy_(torch.tensor([[1.0], [-1.0]])); _ = layer.bias.data.zero_()
    >>> smallest_change(layer, [[10.0], [0.0]], shift=100.0, scale=10.0).tolist()  # flips where x crosses 100
    [[96.0], [128.0]]
    """
    raw, shift, scale, features = _prepare(model, raw_inputs, shift, scale, low, high, features)
    if probability is not None and not 0 < probability < 1:
        raise ValueError(f"probability must be in (0, 1), got {probability}")
    steps = as_float_matrix(np.asarray(ladder, dtype=np.float64).ravel(), "ladder").ravel()
    if (steps <= 0).any():
        raise ValueError("ladder must hold positive changes")
    with torch.no_grad():
        parameter = next(model.parameters())
        base = model(torch.as_tensor((raw - shift) / scale, dtype=parameter.dtype, device=parameter.device)).double().cpu()
    predicted = base.argmax(dim=1)
    base_probability = torch.softmax(base, dim=1)[torch.arange(len(raw)), predicted].numpy()
    answer = np.full((len(raw), len(features)), np.inf)
    for start in range(0, len(features), chunk):  # bounded memory: n * chunk * candidates at a time
        part = features[start : start + chunk]
        values = raw[:, part]  # (n, f)
        changes = np.concatenate(
            [np.broadcast_to(np.concatenate([steps, -steps]), (*values.shape, 2 * len(steps))),
             (low - values)[..., None], (high - values)[..., None]], axis=2)
        inside = (values[..., None] + changes >= low) & (values[..., None] + changes <= high) & (changes != 0)
        logits = _outputs_along(model, raw, shift, scale, part, changes).cpu()
        if probability is None:
            done = (logits.argmax(dim=3) != predicted[:, None, None]).numpy()
        else:
            logits = logits.double()
            moved = torch.softmax(logits, dim=3).gather(3, predicted[:, None, None, None].expand(*changes.shape, 1))[..., 0]
            done = np.abs(moved.numpy() - base_probability[:, None, None]) >= probability
        answer[:, start : start + len(part)] = np.where(done & inside, np.abs(changes), np.inf).min(axis=2)
    return answer


def _check_step(step: float, low: float, high: float) -> None:
    if not np.isfinite(step) or step <= 0 or step > high - low:
        raise ValueError(f"step must be positive and fit in the range, got {step}")


def _probabilities(model: nn.Module, raw: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> torch.Tensor:
    """Softmax of the model on ``(raw - shift) / scale``, in float64 on the CPU: (n, classes)."""
    parameter = next(model.parameters())
    with torch.no_grad():
        logits = model(torch.as_tensor((raw - shift) / scale, dtype=parameter.dtype, device=parameter.device))
    return torch.softmax(logits.double().cpu(), dim=1)


def probability_change(
    model: nn.Module,
    raw_inputs: object,
    shift: object = 0.0,
    scale: object = 1.0,
    *,
    step: float = 1.0,
    low: float = 0.0,
    high: float = 255.0,
    features: object = None,
    chunk: int = 128,
) -> np.ndarray:
    """|change of the predicted class's probability| when one feature moves by ``step`` raw units.

    The step goes up, or down where going up would leave ``[low, high]``. Returns (n, len(features)).

    >>> layer = nn.Linear(1, 2, bias=False)
    >>> _ = layer.weight.data.copy_(torch.tensor([[1.0], [0.0]]))
    >>> probability_change(layer, [[0.0]], high=10.0).round(4).tolist()  # sigmoid(1) - sigmoid(0)
    [[0.2311]]
    """
    raw, shift, scale, features = _prepare(model, raw_inputs, shift, scale, low, high, features)
    _check_step(step, low, high)
    base = _probabilities(model, raw, shift, scale)
    predicted = base.argmax(dim=1)
    answer = np.empty((len(raw), len(features)))
    for start in range(0, len(features), chunk):
        part = features[start : start + chunk]
        changes = np.where(raw[:, part] + step <= high, step, -step)[..., None]
        logits = _outputs_along(model, raw, shift, scale, part, changes).double().cpu()
        moved = torch.softmax(logits[:, :, 0], dim=2).gather(2, predicted[:, None, None].expand(len(raw), len(part), 1))[..., 0]
        answer[:, start : start + len(part)] = np.abs(moved.numpy() - base.gather(1, predicted[:, None]).numpy())
    return answer


def all_features_change(
    model: nn.Module,
    raw_inputs: object,
    shift: object = 0.0,
    scale: object = 1.0,
    *,
    step: float = 1.0,
    low: float = 0.0,
    high: float = 255.0,
    features: object = None,
    signs: object = None,
) -> np.ndarray:
    """Drop of the predicted class's probability when every feature moves ``step`` raw units at once: (n,).

    Each feature in ``features`` moves against the sign of the predicted class's log-probability
    gradient (the steepest first-order descent within a box of ``step`` per feature, the attack budget
    of the adversarial literature in raw units), clipped to ``[low, high]``: one step of a first-order
    attack, so a lower bound on the worst drop within the box. ``signs`` (n, len(features)) of +1/-1
    replaces the gradient's direction (e.g. random signs, the direction's control). The counterpart of
    :func:`probability_change`, which moves one feature at a time.

    >>> layer = nn.Linear(2, 2, bias=False)
    >>> _ = layer.weight.data.copy_(torch.tensor([[1.0, 1.0], [0.0, 0.0]]))
    >>> all_features_change(layer, [[5.0, 5.0]], step=1.0, high=10.0).round(4).tolist()  # sigmoid(10) - sigmoid(8)
    [0.0003]
    """
    raw, shift, scale, features = _prepare(model, raw_inputs, shift, scale, low, high, features)
    _check_step(step, low, high)
    if signs is None:
        direction = -np.sign(output_gradients(model, raw, shift, scale)["log_prob"][:, features])
    else:
        direction = as_float_matrix(signs, "signs")
        if direction.shape != (len(raw), len(features)) or not np.isin(direction, (-1.0, 1.0)).all():
            raise ValueError(f"signs must be +1 or -1 with shape {(len(raw), len(features))}, got shape {direction.shape}")
    moved = raw.copy()
    moved[:, features] = np.clip(raw[:, features] + step * direction, low, high)
    probabilities = [_probabilities(model, values, shift, scale).numpy() for values in (raw, moved)]
    rows, predicted = np.arange(len(raw)), probabilities[0].argmax(axis=1)
    return probabilities[0][rows, predicted] - probabilities[1][rows, predicted]


def fraction_moved(changes: object, threshold: float) -> float:
    """Fraction of (sample, feature) pairs whose probability change exceeds ``threshold``.

    >>> fraction_moved([[0.1, 0.0], [0.3, 0.0]], threshold=0.05)
    0.5
    """
    values = np.asarray(changes, dtype=np.float64)
    if values.size == 0 or np.isnan(values).any():
        raise ValueError("changes must be non-empty and free of NaN")
    if not np.isfinite(threshold) or threshold < 0:
        raise ValueError(f"threshold must be a non-negative number, got {threshold}")
    return float((values > threshold).mean())


def shares_moved(changes: object, thresholds: object) -> np.ndarray:
    """:func:`fraction_moved` at each of several thresholds (the threshold curve), as an array.

    >>> shares_moved([[0.1, 0.0], [0.3, 0.0]], [0.05, 0.2]).tolist()
    [0.5, 0.25]
    """
    levels = np.asarray(thresholds, dtype=np.float64)
    if levels.ndim != 1 or levels.size == 0:
        raise ValueError("thresholds must be a non-empty 1-D sequence")
    return np.array([fraction_moved(changes, level) for level in levels])


def blind_from(thresholds: object, shares: object, blind_share: float = BLIND_SHARE) -> float:
    """Smallest threshold at which a network is blind (share of pairs that register < ``blind_share``).

    ``shares[i]`` is the share at ``thresholds[i]`` (increasing thresholds, so non-increasing shares).
    Linear interpolation in log(threshold) between the two grid points around the crossing;
    ``inf`` when the network registers at every threshold of the grid, the first threshold when at none.

    >>> blind_from([1e-4, 1e-3, 1e-2], [0.2, 0.02, 0.0], blind_share=0.01) > 1e-3
    True
    """
    levels, values = np.asarray(thresholds, dtype=np.float64), np.asarray(shares, dtype=np.float64)
    if levels.ndim != 1 or levels.shape != values.shape or levels.size < 2:
        raise ValueError("thresholds and shares must be 1-D of the same length, at least 2")
    if (levels <= 0).any() or (np.diff(levels) <= 0).any() or not np.isfinite(values).all():
        raise ValueError("thresholds must be positive and increasing, shares finite")
    if not 0 < blind_share < 1:
        raise ValueError(f"blind_share must be in (0, 1), got {blind_share}")
    below = np.flatnonzero(values < blind_share)
    if below.size == 0:
        return float("inf")
    first = below[0]
    if first == 0:
        return float(levels[0])
    # values[first - 1] >= blind_share > values[first]: interpolate log(threshold) linearly in share.
    weight = (values[first - 1] - blind_share) / (values[first - 1] - values[first])
    return float(np.exp(np.log(levels[first - 1]) + weight * (np.log(levels[first]) - np.log(levels[first - 1]))))


# --- Stacked convolutional networks on images: every model sees raw pixels through its own transform.

STACKED_MEASURES = ("logprob", "margin")  # the names the images chapter uses


def _stacked_score(logits: torch.Tensor, measure: str, predicted: torch.Tensor) -> torch.Tensor:
    if measure == "logprob":
        return torch.log_softmax(logits, dim=-1).gather(-1, predicted[..., None])[..., 0]
    top2 = logits.topk(2, dim=-1).values
    return top2[..., 0] - top2[..., 1]


def raw_unit_gradients(model: Callable, raw: torch.Tensor, transforms: list[Callable], measure: str = "logprob") -> torch.Tensor:
    """d(score)/d(raw pixel) for every model and image: (n_models, N, C, H, W).

    ``transforms[i]`` maps raw pixels to model ``i``'s inputs (differentiable torch code), so
    the chain rule through it puts every gradient in the same raw units, whatever the preprocessing.
    """
    if measure not in STACKED_MEASURES:
        raise ValueError(f"measure must be one of {STACKED_MEASURES}, got {measure!r}")
    if raw.ndim != 4 or not torch.isfinite(raw).all():
        raise ValueError(f"raw must be finite images (N, C, H, W), got shape {tuple(raw.shape)}")
    x = raw.detach().clone().expand(len(transforms), *raw.shape).clone().requires_grad_(True)
    inputs = torch.stack([transform(x[i]) for i, transform in enumerate(transforms)])
    logits = model(inputs)
    predicted = logits.argmax(dim=-1).detach()
    (gradient,) = torch.autograd.grad(_stacked_score(logits, measure, predicted).sum(), x)
    return gradient


@torch.no_grad()
def smallest_flip(
    model: Callable, raw: torch.Tensor, transforms: list[Callable], pixels: torch.Tensor, levels: int = 256
) -> np.ndarray:
    """Smallest |change| in whole levels (0..levels-1) of one candidate pixel that changes the prediction.

    ``pixels`` (n_models, N, k) are flat indices (into C*H*W) of candidate pixels per model and image,
    e.g. the k largest margin gradients. Every level of every candidate is tried; the result is
    (n_models, N), ``inf`` where no single candidate pixel can flip the prediction.
    """
    m, (n, c, h, w) = len(transforms), raw.shape
    if pixels.ndim != 3 or pixels.shape[:2] != (m, n):
        raise ValueError(f"pixels must be (n_models={m}, N={n}, k), got {tuple(pixels.shape)}")
    k = pixels.shape[2]
    values = torch.arange(levels, dtype=raw.dtype, device=raw.device)
    base = torch.stack([transform(raw) for transform in transforms])
    predicted = model(base).argmax(-1)  # (m, n)
    best = torch.full((m, n), float("inf"), device=raw.device)
    flat_raw = raw.reshape(n, -1)
    for j in range(k):  # k candidate pixels, all levels and images at once
        candidates = flat_raw.expand(m, levels, n, c * h * w).clone()
        index = pixels[:, :, j]  # (m, n)
        candidates.scatter_(3, index[:, None, :, None].expand(m, levels, n, 1), values.view(1, levels, 1, 1).expand(m, levels, n, 1))
        images = candidates.reshape(m, levels * n, c, h, w)
        inputs = torch.stack([transforms[i](images[i]) for i in range(m)])
        flipped = model(inputs).argmax(-1).view(m, levels, n) != predicted[:, None, :]
        original = flat_raw.gather(1, index.T).T  # (m, n): the pixel's current level
        distance = (values.view(1, levels, 1) - original[:, None, :]).abs()
        distance = torch.where(flipped, distance, torch.full_like(distance, float("inf")))
        best = torch.minimum(best, distance.min(dim=1).values)
    return best.cpu().numpy()


@torch.no_grad()
def one_level_changes(
    model: Callable, raw: torch.Tensor, transforms: list[Callable], step: float = 1.0,
    low: float = 0.0, high: float = 255.0, pixels_per_pass: int = 28,
) -> np.ndarray:
    """|change of the predicted class's probability| when one raw pixel moves by ``step`` levels.

    Every pixel of every image is tried, for every model: ``transforms[i]`` maps raw pixels to
    model ``i``'s inputs. The step goes up, or down where going up would leave ``[low, high]``
    (the rule of :func:`utils.sensitivity.probability_change`). Returns (n_models, N, C*H*W).
    """
    if raw.ndim != 4 or not torch.isfinite(raw).all():
        raise ValueError(f"raw must be finite images (N, C, H, W), got shape {tuple(raw.shape)}")
    if not np.isfinite(step) or step <= 0 or step > high - low:
        raise ValueError(f"step must be positive and fit in [low, high], got {step}")
    if raw.min() < low or raw.max() > high:
        raise ValueError(f"raw pixels must lie in [{low}, {high}]")
    if not transforms:
        raise ValueError("need one transform per model")
    m, (n, c, h, w) = len(transforms), raw.shape
    p = c * h * w
    base = torch.softmax(model(torch.stack([f(raw) for f in transforms])).double(), dim=-1)  # (m, n, K)
    predicted = base.argmax(-1)
    base_probability = base.gather(-1, predicted[..., None])[..., 0]
    flat = raw.reshape(n, p)
    delta = torch.where(flat + step <= high, step, -step)  # (n, p)
    answer = np.empty((m, n, p))
    for start in range(0, p, pixels_per_pass):
        part = torch.arange(start, min(start + pixels_per_pass, p), device=raw.device)
        moved = flat[:, None, :].repeat(1, len(part), 1)  # (n, k, p): image i with pixel part[j] moved
        moved[:, torch.arange(len(part)), part] += delta[:, part]
        images = moved.reshape(n * len(part), c, h, w)
        probability = torch.softmax(model(torch.stack([f(images) for f in transforms])).double(), dim=-1)
        probability = probability.view(m, n, len(part), -1).gather(-1, predicted[:, :, None, None].expand(m, n, len(part), 1))[..., 0]
        answer[:, :, start : start + len(part)] = (probability - base_probability[..., None]).abs().cpu().numpy()
    return answer


def registering_share(changes: object, thresholds: object) -> np.ndarray:
    """Share of (sample, pixel) pairs per model whose change is more than each threshold: (n_models, T).

    "More than", as the criterion REGISTER_THRESHOLD is stated.

    >>> registering_share(np.array([[[0.1, 0.0], [0.3, 0.001]]]), [1e-3, 0.2]).tolist()
    [[0.5, 0.25]]
    """
    values = np.asarray(changes, dtype=np.float64)
    levels = np.asarray(thresholds, dtype=np.float64)
    if values.ndim != 3 or values.size == 0 or not np.isfinite(values).all():
        raise ValueError(f"changes must be finite (n_models, samples, pixels), got shape {values.shape}")
    if levels.ndim != 1 or levels.size == 0 or not np.isfinite(levels).all() or (levels <= 0).any():
        raise ValueError("thresholds must be a non-empty 1-D array of positive numbers")
    # The same count as the dense networks' threshold curve, one stacked model at a time.
    return np.stack([shares_moved(model_changes, levels) for model_changes in values])
