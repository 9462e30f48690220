"""Number formats: what survives a cast to float32, float16 or bfloat16, and how fine each grid is.

NumPy has no bfloat16, so casts go through torch, which has all three formats.
"""

from __future__ import annotations

import numpy as np
import torch

from utils.checks import as_float_array, as_float_vector

FORMATS: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}


def _torch_dtype(dtype: str) -> torch.dtype:
    if dtype not in FORMATS:
        raise ValueError(f"unknown format {dtype!r}; choose one of {sorted(FORMATS)}")
    return FORMATS[dtype]


def cast(values: object, dtype: str) -> np.ndarray:
    """Round ``values`` to the nearest number of format ``dtype``; return them as float64 again.

    >>> cast([1.0 + 2**-12], "float16").tolist()
    [1.0]
    """
    array = as_float_array(values)
    stored = torch.from_numpy(array).to(_torch_dtype(dtype))
    if torch.isinf(stored).any():
        raise ValueError(f"values overflow {dtype} (largest finite value {torch.finfo(_torch_dtype(dtype)).max:g})")
    return stored.to(torch.float64).numpy()


def distinct_after_cast(values: object, dtype: str) -> int:
    """How many distinct values remain after storing ``values`` in format ``dtype``.

    >>> distinct_after_cast(np.arange(256) / 255, "bfloat16")
    256
    """
    return int(np.unique(cast(values, dtype)).size)


def round_trip_is_exact(pixels: np.ndarray, shift: object, scale: object, dtype: str) -> bool:
    """Does ``(pixels - shift) / scale``, stored as ``dtype``, map back to exactly the same integers?

    ``shift`` and ``scale`` may be scalars or arrays that broadcast against ``pixels``
    (per-pixel or per-channel statistics). The inverse map is computed in float64
    and rounded to the nearest integer, as a program would do to recover the image.

    >>> round_trip_is_exact(np.arange(256, dtype=np.uint8), 0.0, 255.0, "bfloat16")
    True
    """
    pixels = np.asarray(pixels)
    if not np.issubdtype(pixels.dtype, np.integer):
        raise TypeError(f"pixels must have an integer dtype, got {pixels.dtype}")
    shift, scale = as_float_array(shift, "shift"), as_float_array(scale, "scale")
    if (scale == 0).any():
        raise ValueError("scale contains 0: a constant pixel needs scale 1 (as StandardScaler uses)")
    stored = cast((pixels - shift) / scale, dtype)
    recovered = np.rint(stored * scale + shift)
    return bool(np.array_equal(recovered, pixels))


def bit_depth_distinct(bits: int, dtype: str) -> int:
    """Distinct values left when all levels ``0 .. 2**bits - 1`` of a sensor are divided by ``2**bits - 1``.

    >>> bit_depth_distinct(12, "float16")
    3073
    """
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 24:
        raise ValueError(f"bits must be an integer from 1 to 24, got {bits!r}")
    levels = np.arange(2**bits, dtype=np.float64)
    return distinct_after_cast(levels / (2**bits - 1), dtype)


def spacing_at(value: float, dtype: str) -> float:
    """Gap between ``value`` and the next larger number of format ``dtype`` (for normal numbers).

    >>> spacing_at(1.7e9, "float32")
    128.0
    """
    info = torch.finfo(_torch_dtype(dtype))
    magnitude = abs(float(as_float_vector([value], "value")[0]))
    if not info.tiny <= magnitude <= info.max:
        raise ValueError(f"{value} is not a normal {dtype} number (range {info.tiny:g} to {info.max:g})")
    stored = abs(float(cast([magnitude], dtype)[0]))
    return float(info.eps * 2.0 ** np.floor(np.log2(stored)))


def representable_values(dtype: str, low: float, high: float) -> np.ndarray:
    """Every number of a 16-bit format ``dtype`` in ``[low, high]``, sorted (float32 has too many).

    >>> representable_values("bfloat16", 1.0, 1.05).tolist()
    [1.0, 1.0078125, 1.015625, 1.0234375, 1.03125, 1.0390625, 1.046875]
    """
    if dtype not in ("float16", "bfloat16"):
        raise ValueError(f"only the 16-bit formats can be enumerated, got {dtype!r}")
    if not (np.isfinite(low) and np.isfinite(high)) or low >= high:
        raise ValueError(f"need finite low < high, got [{low}, {high}]")
    # Every 16-bit pattern, read as the format: this enumerates the whole grid.
    patterns = torch.arange(-(2**15), 2**15, dtype=torch.int32).to(torch.int16)
    values = patterns.view(_torch_dtype(dtype)).to(torch.float64).numpy()
    values = values[np.isfinite(values)]
    return np.unique(values[(values >= low) & (values <= high)])
