import numpy as np
import pytest
import torch

from utils.image_sensitivity import raw_unit_gradients, smallest_flip
from utils.images import downsample, photo_patch_task, shift_images


def test_downsample_averages_blocks_and_keeps_channels():
    images = np.arange(2 * 4 * 4 * 3, dtype=float).reshape(2, 4, 4, 3)
    small = downsample(images, 2)
    assert small.shape == (2, 2, 2, 3) and small[0, 0, 0, 0] == images[0, :2, :2, 0].mean()


def test_shift_moves_content_and_fills_without_wrapping():
    images = np.arange(9.0).reshape(1, 1, 3, 3)
    moved = shift_images(images, 1, -1, fill=-1.0)
    assert moved[0, 0].tolist() == [[-1, -1, -1], [1, 2, -1], [4, 5, -1]]
    assert np.array_equal(shift_images(images, 0, 0), images)


def test_photo_task_is_split_by_region_and_balanced():
    task = photo_patch_task(n_per_photo=20, seed=0)
    patches, labels = task["train"]
    assert patches.dtype == np.uint8 and patches.shape == (40, 3, 12, 12)
    assert np.bincount(labels).tolist() == [20, 20]
    assert task["test"][0].shape == (20, 3, 12, 12)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="4-D"):
        shift_images(np.zeros((3, 3)), 1, 0)
    with pytest.raises(ValueError, match="NaN"):
        shift_images(np.full((1, 1, 3, 3), np.nan), 1, 0)
    with pytest.raises(ValueError, match="out of the frame"):
        shift_images(np.zeros((1, 1, 3, 3)), 3, 0)
    with pytest.raises(TypeError, match="int"):
        shift_images(np.zeros((1, 1, 3, 3)), 1.5, 0)
    with pytest.raises(ValueError, match="factor"):
        downsample(np.zeros((1, 4, 4)), 0)
    with pytest.raises(ValueError, match="size"):
        photo_patch_task(size=4)


def _linear_model(weights):
    """A 'stack' of linear models on 1x2x2 images, each scoring two classes."""
    return lambda inputs: torch.einsum("mnchw,mkchw->mnk", inputs, weights)


def test_raw_unit_gradients_follow_the_chain_rule():
    weights = torch.randn(2, 2, 1, 2, 2, dtype=torch.float64)
    raw = torch.rand(3, 1, 2, 2, dtype=torch.float64) * 255
    transforms = [lambda x: x / 255, lambda x: x / 255]
    gradient = raw_unit_gradients(_linear_model(weights), raw, transforms, "margin")
    predicted = torch.einsum("nchw,kchw->nk", raw / 255, weights[0]).argmax(1)
    sign = torch.where(predicted == 0, 1.0, -1.0).double()
    expected = sign.view(3, 1, 1, 1) * (weights[0, 0] - weights[0, 1]) / 255
    assert torch.allclose(gradient[0], expected)
    with pytest.raises(ValueError, match="measure"):
        raw_unit_gradients(_linear_model(weights), raw, transforms, "loss")
    with pytest.raises(ValueError, match="finite"):
        raw_unit_gradients(_linear_model(weights), raw * float("nan"), transforms)


def test_smallest_flip_finds_the_threshold_level():
    # class 1 wins when pixel 0 exceeds 100: score_1 = x0 - 100, score_0 = 0
    model = lambda inputs: torch.stack([torch.zeros_like(inputs[..., 0, 0, 0]), inputs[..., 0, 0, 0] - 100.5], -1)
    raw = torch.tensor([[[[90.0]]], [[[250.0]]]])
    flips = smallest_flip(model, raw, [lambda x: x], torch.zeros(1, 2, 1, dtype=torch.long))
    assert flips.tolist() == [[11.0, 150.0]]  # 90 -> 101 and 250 -> 100
    with pytest.raises(ValueError, match="pixels must be"):
        smallest_flip(model, raw, [lambda x: x], torch.zeros(2, 1, dtype=torch.long))


def test_one_level_changes_match_a_direct_computation():
    from utils.cnn import StackedCNN
    from utils.image_sensitivity import one_level_changes, registering_share

    net = StackedCNN([0, 1], 1, 8, 3)
    raw = torch.randint(0, 256, (3, 1, 8, 8)).float()
    raw[0, 0, 0, 0] = 255.0  # this pixel can only move down
    transforms = [lambda x: x / 255, lambda x: (x - 30.0) / 80.0]
    changes = one_level_changes(net, raw, transforms, pixels_per_pass=7)
    assert changes.shape == (2, 3, 64) and (changes >= 0).all()
    with torch.no_grad():
        for model, image, pixel in [(1, 0, 0), (0, 2, 37)]:
            moved = raw[image : image + 1].clone().flatten()
            moved[pixel] += 1.0 if moved[pixel] < 255 else -1.0
            inputs = torch.stack([transforms[model](raw[image : image + 1]), transforms[model](moved.view(1, 1, 8, 8))])
            logits = net.select([model])(torch.cat([inputs[0], inputs[1]])).double()
            p = torch.softmax(logits[0], dim=-1)
            top = p[0].argmax()
            assert abs(abs(p[1, top] - p[0, top]).item() - changes[model, image, pixel]) < 1e-6
    shares = registering_share(changes, [1e-12, 1.0])
    assert shares.shape == (2, 2) and (shares[:, 1] == 0).all()


def test_one_level_changes_and_shares_reject_bad_input():
    from utils.cnn import StackedCNN
    from utils.image_sensitivity import one_level_changes, registering_share

    net = StackedCNN([0], 1, 8, 3)
    with pytest.raises(ValueError, match="raw"):
        one_level_changes(net, torch.full((1, 1, 8, 8), float("nan")), [lambda x: x])
    with pytest.raises(ValueError, match=r"\[0.0, 255.0\]"):
        one_level_changes(net, torch.full((1, 1, 8, 8), 300.0), [lambda x: x])
    with pytest.raises(ValueError, match="step"):
        one_level_changes(net, torch.zeros(1, 1, 8, 8), [lambda x: x], step=0.0)
    with pytest.raises(ValueError, match="changes"):
        registering_share(np.zeros((2, 3)), [1e-3])
    with pytest.raises(ValueError, match="thresholds"):
        registering_share(np.zeros((1, 2, 3)), [0.0])
