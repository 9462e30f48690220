"""Sensitivity of stacked CNNs in the units of the original pixels (0-255).

A minimal version of the sensitivity chapter's measures for image models: the gradient of the
predicted class's log-probability or of the margin (top logit minus runner-up), converted to raw
units by the chain rule, and a behavioural measure, the smallest change of one pixel, in whole
levels, that changes the prediction; and the "blind" chapter's criterion for stacked CNNs, the
change of the predicted class's probability when one pixel moves by one level.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

MEASURES = ("logprob", "margin")


def _score(logits: torch.Tensor, measure: str, predicted: torch.Tensor) -> torch.Tensor:
    if measure == "logprob":
        return torch.log_softmax(logits, dim=-1).gather(-1, predicted[..., None])[..., 0]
    top2 = logits.topk(2, dim=-1).values
    return top2[..., 0] - top2[..., 1]


def raw_unit_gradients(model: Callable, raw: torch.Tensor, transforms: list[Callable], measure: str = "logprob") -> torch.Tensor:
    """d(score)/d(raw pixel) for every model and image: (n_models, N, C, H, W).

    ``transforms[i]`` maps raw pixels to model ``i``'s inputs (differentiable torch code), so
    the chain rule through it puts every gradient in the same raw units, whatever the preprocessing.
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    if raw.ndim != 4 or not torch.isfinite(raw).all():
        raise ValueError(f"raw must be finite images (N, C, H, W), got shape {tuple(raw.shape)}")
    x = raw.detach().clone().expand(len(transforms), *raw.shape).clone().requires_grad_(True)
    inputs = torch.stack([transform(x[i]) for i, transform in enumerate(transforms)])
    logits = model(inputs)
    predicted = logits.argmax(dim=-1).detach()
    (gradient,) = torch.autograd.grad(_score(logits, measure, predicted).sum(), x)
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
    """Share of (sample, pixel) pairs per model whose change is at least each threshold: (n_models, T).

    >>> registering_share(np.array([[[0.1, 0.0], [0.3, 0.001]]]), [1e-3, 0.2]).tolist()
    [[0.75, 0.25]]
    """
    values = np.asarray(changes, dtype=np.float64)
    levels = np.asarray(thresholds, dtype=np.float64)
    if values.ndim != 3 or values.size == 0 or not np.isfinite(values).all():
        raise ValueError(f"changes must be finite (n_models, samples, pixels), got shape {values.shape}")
    if levels.ndim != 1 or levels.size == 0 or not np.isfinite(levels).all() or (levels <= 0).any():
        raise ValueError("thresholds must be a non-empty 1-D array of positive numbers")
    flat = values.reshape(len(values), -1)
    return (flat[:, :, None] >= levels[None, None, :]).mean(axis=1)
