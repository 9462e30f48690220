import numpy as np
import pytest

from utils import precision
from utils.data import scale_to_unit_interval


def test_pixels_over_255_keep_all_values_in_every_format():
    pixels = np.arange(256) / 255
    for dtype in precision.FORMATS:
        assert precision.distinct_after_cast(pixels, dtype) == 256


@pytest.mark.parametrize(
    "bits, dtype, expected",
    [(9, "bfloat16", 385), (12, "bfloat16", 769), (12, "float16", 3073), (16, "float16", 7169),
     (16, "bfloat16", 1281), (16, "float32", 65536), (11, "float16", 2048)],
)
def test_bit_depth_losses_match_the_facts_sheet(bits, dtype, expected):
    assert precision.bit_depth_distinct(bits, dtype) == expected


def test_large_offset_in_float32_keeps_17_values():
    assert precision.distinct_after_cast(1e6 + np.arange(256) / 255, "float32") == 17


def test_round_trip_detects_loss():
    pixels = np.arange(256, dtype=np.uint8)
    assert precision.round_trip_is_exact(pixels, 0.0, 255.0, "float16")
    assert not precision.round_trip_is_exact(pixels, -1e6 * 255, 255.0, "float32")  # huge offset
    per_pixel = precision.round_trip_is_exact(pixels.reshape(2, 128), np.zeros(128), np.full(128, 255.0), "float32")
    assert per_pixel


@pytest.mark.parametrize(
    "pixels, shift, scale, error",
    [(np.arange(3.0), 0.0, 1.0, TypeError), (np.arange(3), 0.0, 0.0, ValueError),
     (np.arange(3), np.nan, 1.0, ValueError)],
)
def test_round_trip_rejects_bad_input(pixels, shift, scale, error):
    with pytest.raises(error):
        precision.round_trip_is_exact(pixels, shift, scale, "float32")


def test_spacing_matches_known_values():
    assert precision.spacing_at(1.0, "float32") == 2.0**-23
    assert precision.spacing_at(1.0, "float16") == 2.0**-10
    assert precision.spacing_at(0.75, "bfloat16") == 2.0**-8
    assert precision.spacing_at(1.7e9, "float32") == 128.0
    assert precision.spacing_at(-3.0, "float32") == precision.spacing_at(3.0, "float32")


@pytest.mark.parametrize("value, dtype", [(0.0, "float32"), (1e6, "float16"), (np.nan, "float32"), (1.0, "int8")])
def test_spacing_rejects_bad_input(value, dtype):
    with pytest.raises(ValueError):
        precision.spacing_at(value, dtype)


def test_representable_values_is_the_whole_grid():
    grid = precision.representable_values("float16", 1.0, 2.0)
    assert len(grid) == 2**10 + 1 and np.allclose(np.diff(grid), 2.0**-10)
    with pytest.raises(ValueError):
        precision.representable_values("float32", 0.0, 1.0)
    with pytest.raises(ValueError):
        precision.representable_values("float16", 1.0, 0.5)


def test_cast_rejects_overflow_and_bad_input():
    with pytest.raises(ValueError, match="overflow"):
        precision.cast([1e6], "float16")
    with pytest.raises(ValueError, match="inf"):
        precision.cast([np.inf], "float32")  # the error names the problem: inf
    with pytest.raises(TypeError):
        precision.cast(["a"], "float32")
    with pytest.raises(ValueError, match="unknown format"):
        precision.cast([1.0], "float8")


def test_scale_to_unit_interval_uses_the_dtype_maximum():
    assert scale_to_unit_interval(np.array([255], dtype=np.uint8))[0] == 1.0
    assert scale_to_unit_interval(np.array([65535], dtype=np.uint16))[0] == 1.0
    with pytest.raises(TypeError, match="unsigned integer"):
        scale_to_unit_interval(np.array([0.5]))
    with pytest.raises(TypeError):
        scale_to_unit_interval(np.array([-1], dtype=np.int16))
