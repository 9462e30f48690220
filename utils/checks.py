"""Input validation shared by the other modules: clear errors instead of silent wrong answers."""

from __future__ import annotations

import numpy as np


def as_float_matrix(values: object, name: str = "X", *, allow_constant: bool = True) -> np.ndarray:
    """Return ``values`` as a finite 2-D float64 array, or raise a clear error.

    A 1-D array is treated as one column. ``allow_constant=False`` also rejects
    columns with a single value (they have no spread to scale by).

    >>> as_float_matrix([1, 2, 3]).shape
    (3, 1)
    """
    array = _as_numeric_array(values, name)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D (samples x features), got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {array.shape})")
    _reject_non_finite(array, name)
    if not allow_constant:
        constant = np.flatnonzero(np.ptp(array, axis=0) == 0)
        if constant.size:
            raise ValueError(f"{name} has constant column(s) {constant.tolist()}: they cannot be scaled")
    return array


def as_float_vector(values: object, name: str = "x") -> np.ndarray:
    """Return ``values`` as a finite 1-D float64 array, or raise a clear error.

    >>> as_float_vector([1, 2]).dtype
    dtype('float64')
    """
    array = _as_numeric_array(values, name)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    _reject_non_finite(array, name)
    return array


def as_float_array(values: object, name: str = "values") -> np.ndarray:
    """Return ``values`` (any shape) as a finite, non-empty float64 array, or raise a clear error.

    >>> as_float_array([[1, 2]]).dtype
    dtype('float64')
    """
    array = _as_numeric_array(values, name)
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    _reject_non_finite(array, name)
    return array


def per_feature(values: object, n_features: int, name: str, nonzero: bool = False) -> np.ndarray:
    """One finite value per feature: a scalar is repeated, a vector must have ``n_features`` entries.

    >>> per_feature(2.0, 3, "scale").tolist()
    [2.0, 2.0, 2.0]
    """
    vector = as_float_vector(np.atleast_1d(values), name)
    if vector.size not in (1, n_features):
        raise ValueError(f"{name} must be a scalar or have {n_features} entries (one per feature), got {vector.size}")
    if nonzero and (vector == 0).any():
        raise ValueError(f"{name} contains 0")
    return np.broadcast_to(vector, (n_features,)).copy()


def _as_numeric_array(values: object, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.number)):
        raise TypeError(f"{name} must hold numbers, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must be real, got dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def _reject_non_finite(array: np.ndarray, name: str) -> None:
    if np.isnan(array).any():
        raise ValueError(f"{name} contains NaN ({int(np.isnan(array).sum())} value(s))")
    if np.isinf(array).any():
        raise ValueError(f"{name} contains inf ({int(np.isinf(array).sum())} value(s))")
