"""Can a convolution undo an input normalization? Absorbing a per-channel affine map into a Conv2d.

A per-channel map ``x' = (x - shift_c) / scale_c`` is absorbed by a first convolution with a bias
exactly where the kernel sees only real pixels: divide the weights by ``scale_c`` and move
``-sum(w * shift_c / scale_c)`` into the bias. Where the kernel overlaps the padding it is not,
because zero padding in normalized units is padding with ``shift_c`` in raw units.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from utils.checks import as_float_array


def _images(values: object, name: str, channels: int | None = None) -> torch.Tensor:
    """A finite float64 tensor of shape (N, C, H, W), or a clear error."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    array = as_float_array(values, name)  # rejects NaN, inf, non-numbers
    if array.ndim != 4:
        raise ValueError(f"{name} must be 4-D (images, channels, height, width), got shape {array.shape}")
    if channels is not None and array.shape[1] != channels:
        raise ValueError(f"{name} has {array.shape[1]} channel(s) but the convolution expects {channels}")
    return torch.from_numpy(array)


def _per_channel(values: object, channels: int, name: str, nonzero: bool = False) -> torch.Tensor:
    vector = as_float_array(np.atleast_1d(np.asarray(values, dtype=np.float64)), name).ravel()
    if vector.size not in (1, channels):
        raise ValueError(f"{name} must be a scalar or have {channels} entries (one per channel), got {vector.size}")
    if nonzero and (vector == 0).any():
        raise ValueError(f"{name} contains 0")
    return torch.from_numpy(np.broadcast_to(vector, (channels,)).copy())


def absorb_channel_affine(conv: nn.Conv2d, shift: object, scale: object) -> nn.Conv2d:
    """A float64 twin ``t`` with ``t(x) == conv((x - shift) / scale)`` wherever no padding is read.

    The twin keeps the convolution's padding and padding mode. A bias-free convolution can
    absorb a scale but not a shift (a shift needs somewhere to go), so that case raises.

    >>> conv = nn.Conv2d(1, 1, 3, bias=True)
    >>> twin = absorb_channel_affine(conv, shift=10.0, scale=2.0)
    >>> x = torch.rand(1, 1, 5, 5, dtype=torch.float64) * 20
    >>> bool(torch.allclose(twin(x), conv.double()((x - 10.0) / 2.0)))
    True
    """
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(f"conv must be a torch.nn.Conv2d, got {type(conv).__name__}")
    if conv.groups != 1:
        raise ValueError("only convolutions with groups=1 are supported")
    shift = _per_channel(shift, conv.in_channels, "shift")
    scale = _per_channel(scale, conv.in_channels, "scale", nonzero=True)
    if conv.bias is None and (shift != 0).any():
        raise ValueError("a bias-free convolution cannot absorb a shift: the constant term has nowhere to go")
    weight = conv.weight.detach().double()
    new_weight = weight / scale.view(1, -1, 1, 1)
    twin = nn.Conv2d(
        conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
        conv.dilation, bias=conv.bias is not None, padding_mode=conv.padding_mode, dtype=torch.float64,
    )
    with torch.no_grad():
        twin.weight.copy_(new_weight)
        if conv.bias is not None:
            twin.bias.copy_(conv.bias.detach().double() - (new_weight * shift.view(1, -1, 1, 1)).sum(dim=(1, 2, 3)))
    return twin


def pad_then_convolve(conv: nn.Conv2d, images: object, values: object) -> torch.Tensor:
    """Pad each channel with its own constant (e.g. the channel mean), then apply ``conv`` without padding.

    Padding raw images with the channel mean is what zero padding means after centering,
    so ``pad_then_convolve(twin, raw, mean)`` matches ``conv`` on standardized images everywhere.

    >>> conv = nn.Conv2d(1, 1, 3, padding=1)
    >>> pad_then_convolve(conv, torch.ones(1, 1, 4, 4), [0.0]).shape
    torch.Size([1, 1, 4, 4])
    """
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(f"conv must be a torch.nn.Conv2d, got {type(conv).__name__}")
    x = _images(images, "images", conv.in_channels)
    values = _per_channel(values, conv.in_channels, "values")
    pad_h, pad_w = conv.padding if isinstance(conv.padding, tuple) else (conv.padding, conv.padding)
    padded = F.pad(x - values.view(1, -1, 1, 1), (pad_w, pad_w, pad_h, pad_h)) + values.view(1, -1, 1, 1)
    weight, bias = conv.weight.detach().double(), None if conv.bias is None else conv.bias.detach().double()
    return F.conv2d(padded, weight, bias, conv.stride, 0, conv.dilation)


def absorption_difference(conv: nn.Conv2d, raw_images: object, shift: object, scale: object) -> torch.Tensor:
    """|conv(standardized images) - twin(raw images)| per output value, shape (N, C_out, H', W').

    ``shift`` and ``scale`` are per channel; the twin is :func:`absorb_channel_affine`'s, with the
    same padding as ``conv``, so the result is zero (to rounding) exactly where absorption works.
    """
    x = _images(raw_images, "raw_images", conv.in_channels)
    twin = absorb_channel_affine(conv, shift, scale)
    shift_t = _per_channel(shift, conv.in_channels, "shift").view(1, -1, 1, 1)
    scale_t = _per_channel(scale, conv.in_channels, "scale", nonzero=True).view(1, -1, 1, 1)
    original = _as_double(conv)
    with torch.no_grad():
        return (original((x - shift_t) / scale_t) - twin(x)).abs()


def _as_double(conv: nn.Conv2d) -> nn.Conv2d:
    copy = nn.Conv2d(
        conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
        bias=conv.bias is not None, padding_mode=conv.padding_mode, dtype=torch.float64,
    )
    copy.load_state_dict({name: value.detach().double() for name, value in conv.state_dict().items()})
    return copy


def best_shared_kernel_residual(
    conv: nn.Conv2d, raw_images: object, normalized_images: object, with_bias: bool = True
) -> float:
    """How well can ONE kernel on raw images reproduce ``conv`` on normalized images? (0 = exactly.)

    Fits a single kernel and bias by least squares so that ``valid_conv(raw)`` matches
    ``valid_conv_original(normalized)`` at every position, and returns the relative residual
    ``||fit - target|| / ||target - mean(target)||``. A per-channel normalization gives ~0;
    a per-pixel one cannot be matched, because its effective kernel would vary with position.
    ``with_bias=False`` fits a bias-free kernel, which cannot absorb a shift.
    """
    raw = _images(raw_images, "raw_images", conv.in_channels)
    normalized = _images(normalized_images, "normalized_images", conv.in_channels)
    if raw.shape != normalized.shape:
        raise ValueError(f"raw_images {tuple(raw.shape)} and normalized_images {tuple(normalized.shape)} differ in shape")
    weight = conv.weight.detach().double()
    bias = None if conv.bias is None else conv.bias.detach().double()
    target = F.conv2d(normalized, weight, bias)  # valid positions only: padding is a separate question
    patches = F.unfold(raw, conv.kernel_size)  # (N, C*k*k, L)
    design = patches.transpose(1, 2).reshape(-1, patches.shape[1])
    if with_bias:
        design = torch.cat([design, torch.ones(len(design), 1, dtype=design.dtype)], dim=1)
    goal = target.flatten(2).transpose(1, 2).reshape(-1, target.shape[1])
    solution = torch.linalg.lstsq(design, goal, driver="gelsd").solution
    residual = torch.linalg.norm(design @ solution - goal)
    spread = torch.linalg.norm(goal - goal.mean(dim=0))
    return float(residual / spread)
