"""Numbers the chapters compute about data: shape statistics, distinct values, conditioning."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from utils.checks import as_float_matrix, as_float_vector


def shape_summary(columns: Mapping[str, object]) -> pd.DataFrame:
    """One row per named 1-D array: mean, std, min, max, skewness and excess kurtosis.

    Skewness and kurtosis are scipy's population (biased) estimates, which an
    affine map ``a*x + b`` with ``a > 0`` leaves exactly unchanged.

    >>> shape_summary({"x": [1.0, 2.0, 6.0]}).loc["x", "min"]
    np.float64(1.0)
    """
    if not isinstance(columns, Mapping) or not columns:
        raise TypeError("columns must be a non-empty mapping of name -> 1-D array")
    rows = {}
    for name, values in columns.items():
        x = as_float_vector(values, f"column {name!r}")
        if np.ptp(x) == 0:
            raise ValueError(f"column {name!r} is constant: skewness and kurtosis are undefined")
        rows[name] = {
            "mean": x.mean(),
            "std": x.std(),
            "min": x.min(),
            "max": x.max(),
            "skewness": stats.skew(x),
            "excess kurtosis": stats.kurtosis(x),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def distinct_values(values: object) -> int:
    """Number of distinct values in an array of any shape and numeric dtype (NaN is rejected).

    >>> distinct_values([0, 1, 1, 255])
    3
    """
    array = np.asarray(values)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"values must be numeric, got dtype {array.dtype}")
    if array.size == 0:
        raise ValueError("values is empty")
    if np.issubdtype(array.dtype, np.floating) and np.isnan(array).any():
        raise ValueError("values contains NaN, which has no well-defined count of distinct values")
    return int(np.unique(array).size)


def condition_number(features: object, add_bias: bool = False) -> float:
    """Condition number of the least-squares Hessian ``X^T X / n`` (ratio of extreme eigenvalues).

    This is the quantity that sets how slowly gradient descent converges on a
    linear model. ``add_bias=True`` appends a column of ones, as a bias term does.

    >>> round(condition_number([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]), 6)
    1.0
    """
    X = as_float_matrix(features, "features")
    if add_bias:
        X = np.hstack([X, np.ones((X.shape[0], 1))])
    eigenvalues = np.linalg.eigvalsh(X.T @ X / X.shape[0])
    if eigenvalues[0] <= eigenvalues[-1] * np.finfo(float).eps * X.shape[1]:
        raise ValueError("the Hessian is singular (a constant or duplicated column): condition number is infinite")
    return float(eigenvalues[-1] / eigenvalues[0])


def distinct_values_per_column(values: object) -> np.ndarray:
    """Number of distinct values in each column of a 2-D array (vectorized: one sort, no Python loop).

    >>> distinct_values_per_column([[0, 1], [0, 2], [0, 2]]).tolist()
    [1, 2]
    """
    array = np.asarray(values)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"values must be numeric, got dtype {array.dtype}")
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"values must be a non-empty 2-D array, got shape {array.shape}")
    if np.issubdtype(array.dtype, np.floating) and np.isnan(array).any():
        raise ValueError("values contains NaN, which has no well-defined count of distinct values")
    ordered = np.sort(array, axis=0)
    return 1 + (np.diff(ordered, axis=0) != 0).sum(axis=0)
