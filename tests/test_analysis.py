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


def test_least_squares_gd_reaches_the_closed_form():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(100, 2))
    y = X @ [2.0, -1.0] + 0.5
    path, gap = analysis.least_squares_gd(X, y, iterations=500)
    assert np.allclose(path[-1], [2.0, -1.0, 0.5], atol=1e-6)
    assert gap[0] == 1.0 and np.all(np.diff(gap) <= 1e-15)


def test_least_squares_gd_rejects_bad_input():
    with pytest.raises(ValueError):
        analysis.least_squares_gd([[1.0], [2.0]], [1.0], iterations=5)
    with pytest.raises(ValueError):
        analysis.least_squares_gd([[1.0], [2.0]], [1.0, 2.0], iterations=-1)
    with pytest.raises(ValueError):
        analysis.least_squares_gd([[1.0], [2.0]], [1.0, 2.0], iterations=5, step=-0.1)


def test_gd_iterations_follow_the_condition_number():
    counts = analysis.gd_iterations_to_tol(np.stack([np.diag([1.0, k]) for k in (1.0, 10.0, 100.0, 1000.0)]))
    assert counts[0] == 1
    # Theory: about kappa * ln(1/tol) / 4 iterations for the loss (squared error) gap.
    predicted = np.array([10.0, 100.0, 1000.0]) * np.log(1e6) / 4
    assert np.all(np.abs(counts[1:] / predicted - 1) < 0.2)


def test_gd_iterations_reject_bad_hessians():
    with pytest.raises(ValueError, match="positive definite"):
        analysis.gd_iterations_to_tol(np.diag([1.0, -1.0]))
    with pytest.raises(ValueError):
        analysis.gd_iterations_to_tol(np.ones((2, 3)))
    with pytest.raises(ValueError):
        analysis.gd_iterations_to_tol(np.eye(2), tol=2.0)


def test_absorb_affine_gives_the_same_function_both_ways():
    import torch

    torch.manual_seed(0)
    layer = torch.nn.Linear(3, 4).double()
    x = torch.randn(10, 3, dtype=torch.float64) * torch.tensor([1.0, 100.0, 0.01]) + 50
    mean, std = x.mean(0).numpy(), x.std(0).numpy()
    standardized = (x - torch.from_numpy(mean)) / torch.from_numpy(std)
    forward = analysis.absorb_affine(layer, mean, std)
    assert torch.allclose(forward(standardized), layer(x), atol=1e-10)
    back = analysis.absorb_affine(forward, -mean / std, 1 / std)
    assert torch.allclose(back(x), layer(x), atol=1e-9)


def test_absorb_affine_rejects_bad_input():
    import torch

    layer = torch.nn.Linear(2, 1)
    with pytest.raises(TypeError):
        analysis.absorb_affine(torch.nn.Conv1d(1, 1, 1), 0.0, 1.0)
    with pytest.raises(ValueError, match="0"):
        analysis.absorb_affine(layer, 0.0, [1.0, 0.0])
    with pytest.raises(ValueError, match="NaN"):
        analysis.absorb_affine(layer, [np.nan, 0.0], 1.0)
    with pytest.raises(ValueError):
        analysis.absorb_affine(layer, [0.0, 0.0, 0.0], 1.0)


def test_input_gradients_are_in_original_units():
    import torch

    layer = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    gradients = analysis.input_gradients(layer, [[1.0, 0.0]], scale=[10.0, 100.0], target=[0])
    assert np.allclose(gradients, [[0.1, 0.02]])
    with pytest.raises(ValueError):
        analysis.input_gradients(layer, [[1.0, 0.0]], target=[0, 1])
    with pytest.raises(ValueError):
        analysis.input_gradients(layer, [[np.inf, 0.0]])


def test_finite_differences_match_gradients_for_a_linear_model():
    import torch

    torch.manual_seed(0)
    layer = torch.nn.Linear(3, 4).double()
    raw = np.random.default_rng(0).normal(size=(5, 3)) * [1.0, 100.0, 0.01]
    mean, std = raw.mean(0), raw.std(0)
    changes = analysis.finite_difference_sensitivity(layer, raw, lambda x: (x - mean) / std, step=0.5, chunk=2)
    gradients = analysis.input_gradients(layer, (raw - mean) / std, scale=std)
    assert changes.shape == (5, 3)
    assert np.allclose(changes, gradients, rtol=1e-9)


def test_finite_differences_reject_bad_input():
    import torch

    layer = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError):
        analysis.finite_difference_sensitivity(layer, [[0.0, 1.0]], lambda x: x, step=0.0)
    with pytest.raises(TypeError):
        analysis.finite_difference_sensitivity(layer, [[0.0, 1.0]], "not callable")
    with pytest.raises(ValueError, match="NaN"):
        analysis.finite_difference_sensitivity(layer, [[np.nan, 1.0]], lambda x: x)
