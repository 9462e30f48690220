import numpy as np
import pytest
from scipy import stats

from utils import analysis


def test_shape_summary_matches_scipy_and_is_affine_invariant():
    x = np.random.default_rng(0).exponential(size=500)
    table = analysis.shape_summary({"raw": x, "affine": 3.0 * x - 7.0})
    assert table.loc["raw", "skewness"] == pytest.approx(stats.skew(x))
    assert table.loc["raw", "excess kurtosis"] == pytest.approx(stats.kurtosis(x))
    assert table.loc["affine", "skewness"] == pytest.approx(table.loc["raw", "skewness"], rel=1e-10)
    assert table.loc["affine", "min"] == pytest.approx(3.0 * x.min() - 7.0)


@pytest.mark.parametrize(
    "columns, error",
    [
        ({}, TypeError),
        ([1, 2, 3], TypeError),
        ({"x": [1.0, np.nan]}, ValueError),
        ({"x": [1.0, np.inf]}, ValueError),
        ({"x": [2.0, 2.0, 2.0]}, ValueError),
        ({"x": [[1.0, 2.0]]}, ValueError),
    ],
)
def test_shape_summary_rejects_bad_input(columns, error):
    with pytest.raises(error):
        analysis.shape_summary(columns)


def test_distinct_values_counts_pixels():
    pixels = np.arange(256, dtype=np.uint8)
    assert analysis.distinct_values(pixels) == 256
    assert analysis.distinct_values(pixels / 255) == 256
    assert analysis.distinct_values(np.zeros((3, 3))) == 1


@pytest.mark.parametrize("values, error", [([], ValueError), ([1.0, np.nan], ValueError), (["a"], TypeError)])
def test_distinct_values_rejects_bad_input(values, error):
    with pytest.raises(error):
        analysis.distinct_values(values)


def test_condition_number_of_scaled_columns():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((10_000, 2))
    assert analysis.condition_number(x) == pytest.approx(1.0, abs=0.1)
    assert analysis.condition_number(x * [1.0, 100.0]) == pytest.approx(1e4, rel=0.1)


def test_condition_number_rejects_singular_and_bad_input():
    with pytest.raises(ValueError, match="singular"):
        analysis.condition_number(np.ones((5, 1)), add_bias=True)
    with pytest.raises(ValueError, match="NaN"):
        analysis.condition_number([[np.nan, 1.0]])


def test_distinct_values_per_column_matches_unique():
    rng = np.random.default_rng(2)
    values = rng.integers(0, 7, size=(50, 5))
    expected = [np.unique(values[:, j]).size for j in range(5)]
    assert analysis.distinct_values_per_column(values).tolist() == expected


@pytest.mark.parametrize("values, error", [(np.ones(3), ValueError), ([[np.nan]], ValueError), ([["a"]], TypeError)])
def test_distinct_values_per_column_rejects_bad_input(values, error):
    with pytest.raises(error):
        analysis.distinct_values_per_column(values)
