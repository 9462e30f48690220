import numpy as np
import pytest

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
