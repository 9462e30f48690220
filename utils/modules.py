"""Small torch modules the book needs and PyTorch lacks: a model input that carries its own normalization."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class Standardize(nn.Module):
    """``(x - mean) / std`` with ``mean`` and ``std`` stored as buffers.

    Buffers travel with ``state_dict()``, so a saved model carries the statistics
    it was trained with, and new raw data can be fed to it directly. Use one value
    per feature, shape (d,), for tabular data, or one per channel, shape (C, 1, 1),
    for images in (N, C, H, W) layout.

    >>> layer = Standardize(mean=[10.0, 0.0], std=[2.0, 1.0])
    >>> layer(torch.tensor([[12.0, 3.0]])).tolist()
    [[1.0, 3.0]]
    >>> sorted(layer.state_dict())
    ['mean', 'std']
    """

    def __init__(self, mean: object, std: object):
        super().__init__()
        mean = torch.as_tensor(np.asarray(mean, dtype=np.float32))
        std = torch.as_tensor(np.asarray(std, dtype=np.float32))
        if mean.shape != std.shape:
            raise ValueError(f"mean and std must have the same shape, got {tuple(mean.shape)} and {tuple(std.shape)}")
        if not (torch.isfinite(mean).all() and torch.isfinite(std).all()):
            raise ValueError("mean and std must be finite (no NaN or inf)")
        if (std <= 0).any():
            raise ValueError("std must be positive; give constant features a std of 1, as StandardScaler does")
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    @classmethod
    def fit(cls, training_inputs: object, dims: tuple[int, ...] = (0,)) -> "Standardize":
        """Statistics from training data only: mean and std over ``dims`` (``(0,)`` per feature,
        ``(0, 2, 3)`` per image channel). Constant features get std 1.

        >>> Standardize.fit(np.array([[0.0, 5.0], [2.0, 5.0]])).std.tolist()
        [1.0, 1.0]
        """
        data = torch.as_tensor(np.asarray(training_inputs, dtype=np.float64))
        if data.ndim < 2 or not torch.isfinite(data).all():
            raise ValueError("training_inputs must be a finite array with a sample dimension")
        mean = data.mean(dim=dims, keepdim=True)
        std = data.std(dim=dims, keepdim=True, unbiased=False)
        std = torch.where(std == 0, torch.ones_like(std), std)
        return cls(mean.squeeze(0).numpy(), std.squeeze(0).numpy())

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return (inputs - self.mean) / self.std
