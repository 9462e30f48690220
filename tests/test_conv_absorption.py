import numpy as np
import pytest
import torch
from torch import nn

from utils.conv_absorption import absorb_channel_affine, absorption_difference, best_shared_kernel_residual, pad_then_convolve


@pytest.fixture
def raw():
    return torch.rand(6, 3, 9, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 255


SHIFT, SCALE = torch.tensor([100.0, 50.0, 20.0], dtype=torch.float64), torch.tensor([60.0, 30.0, 90.0], dtype=torch.float64)


def test_valid_convolution_absorbs_exactly(raw):
    assert absorption_difference(nn.Conv2d(3, 4, 3), raw, SHIFT, SCALE).max() < 1e-10


def test_zero_padding_differs_exactly_on_the_border_ring(raw):
    differs = absorption_difference(nn.Conv2d(3, 4, 3, padding=1), raw, SHIFT, SCALE).amax(dim=(0, 1)) > 1e-9
    ring = torch.ones(9, 9, dtype=torch.bool)
    ring[1:-1, 1:-1] = False
    assert torch.equal(differs, ring)


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_copying_padding_modes_absorb_exactly(raw, mode):
    assert absorption_difference(nn.Conv2d(3, 4, 3, padding=1, padding_mode=mode), raw, SHIFT, SCALE).max() < 1e-10


def test_padding_raw_pixels_with_the_mean_reproduces_zero_padding(raw):
    conv = nn.Conv2d(3, 4, 3, padding=1).double()
    twin = absorb_channel_affine(conv, SHIFT, SCALE)
    reference = conv((raw - SHIFT.view(1, 3, 1, 1)) / SCALE.view(1, 3, 1, 1))
    assert (pad_then_convolve(twin, raw, SHIFT) - reference).abs().max() < 1e-10


def test_bias_free_convolution_cannot_absorb_a_shift_but_can_absorb_a_scale(raw):
    torch.manual_seed(0)  # the kernel's random init sets how much of its output the shift carries
    conv = nn.Conv2d(3, 4, 3, bias=False)
    with pytest.raises(ValueError, match="bias-free"):
        absorb_channel_affine(conv, SHIFT, SCALE)
    assert absorption_difference(conv, raw, 0.0, SCALE).max() < 1e-10
    shifted = raw - SHIFT.view(1, 3, 1, 1)
    # With a bias one kernel reproduces the shifted images exactly; without one it cannot. Over 200 random
    # kernels the bias-free residual was 0.011 at least (median 0.09), the biased one below 1e-13.
    assert best_shared_kernel_residual(conv, raw, shifted, with_bias=True) < 1e-10
    assert best_shared_kernel_residual(conv, raw, shifted, with_bias=False) > 1e-3


def test_per_pixel_map_leaves_a_residual_per_channel_map_does_not(raw):
    conv = nn.Conv2d(3, 4, 3)
    per_channel = (raw - SHIFT.view(1, 3, 1, 1)) / SCALE.view(1, 3, 1, 1)
    pixel_scale = torch.linspace(1, 100, 81, dtype=torch.float64).view(1, 1, 9, 9)
    assert best_shared_kernel_residual(conv, raw, per_channel) < 1e-8
    assert best_shared_kernel_residual(conv, raw, raw / pixel_scale) > 0.05


def test_bad_inputs_raise_clear_errors(raw):
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match="channel"):
        absorption_difference(conv, raw[:, :2], SHIFT[:2], SCALE[:2])  # wrong channel count
    with pytest.raises(ValueError, match="4-D"):
        absorption_difference(conv, raw[0], SHIFT, SCALE)  # wrong shape
    bad = raw.clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        absorption_difference(conv, bad, SHIFT, SCALE)
    with pytest.raises(ValueError, match="one per channel"):
        absorb_channel_affine(conv, [1.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="contains 0"):
        absorb_channel_affine(conv, 0.0, [1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="inf"):
        absorb_channel_affine(conv, float("inf"), 1.0)
    with pytest.raises(TypeError, match="Conv2d"):
        absorb_channel_affine(nn.Linear(3, 3), 0.0, 1.0)
    with pytest.raises(ValueError, match="shape"):
        best_shared_kernel_residual(conv, raw, raw[:, :, :8])
