"""utils.stats: medians with bootstrap intervals over seeds, paired, and the share of a gap."""

from __future__ import annotations

import numpy as np
import pytest

from utils.stats import bootstrap_ci, median_ci, share_of_gap


def test_median_interval_contains_the_median_and_lies_within_the_data():
    values = np.array([0.88, 0.90, 0.91, 0.93, 0.97])
    median, low, high = median_ci(values)
    assert median == 0.91
    assert values.min() <= low <= median <= high <= values.max()


def test_pairing_narrows_the_interval_of_a_difference():
    rng = np.random.default_rng(0)
    seed_effect = rng.normal(0, 0.05, size=8)  # shared by both cells, as a seed's luck is
    a, b = 0.8 + seed_effect, 0.82 + seed_effect + rng.normal(0, 0.002, size=8)
    _, low, high = bootstrap_ci(lambda x, y: np.median(y - x), a, b)
    assert 0 < low < high < 0.05  # paired: the shared luck cancels


def test_share_of_gap_on_named_cells():
    assert share_of_gap([0.7, 0.7], [0.85, 0.85], [0.9, 0.9]) == pytest.approx(0.75)
    assert np.isnan(share_of_gap([0.7], [0.8], [0.7]))  # no gap: no share


def test_a_ratio_with_a_vanishing_denominator_gives_an_unbounded_interval():
    start, end = [0.70, 0.70, 0.70, 0.70], [0.70, 0.70, 0.70, 0.71]
    _, low, high = bootstrap_ci(share_of_gap, start, [0.705] * 4, end)
    assert high == np.inf


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (([1.0],), ValueError, "at least 2"),
        (([1.0, np.nan],), ValueError, "NaN"),
        (([[1.0, 2.0]],), ValueError, "1-D"),
        ((["a", "b"],), TypeError, "numbers"),
        (("ab",), TypeError, "numbers"),
        (([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "equal lengths"),
    ],
)
def test_bad_input_is_named(args, error, message):
    with pytest.raises(error, match=message):
        bootstrap_ci(lambda *x: np.median(x[0]), *args)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="level"):
        median_ci([1.0, 2.0], level=1.5)
    with pytest.raises(ValueError, match="n_resamples"):
        bootstrap_ci(np.median, [1.0, 2.0], n_resamples=10)
    with pytest.raises(ValueError, match="at least one sample"):
        bootstrap_ci(np.median)


def test_corrected_paired_interval_matches_nadeau_bengio_by_hand():
    from scipy import stats as scipy_stats

    from utils.stats import corrected_paired_interval

    differences = np.array([0.01, -0.02, 0.03, 0.0, 0.02, 0.01])
    mean, low, high = corrected_paired_interval(differences, test_share=0.25)
    half = scipy_stats.t.ppf(0.975, 5) * np.sqrt((1 / 6 + 1 / 3) * differences.var(ddof=1))
    assert np.isclose(mean, differences.mean()) and np.isclose(high - mean, half) and np.isclose(mean - low, half)
    naive = scipy_stats.t.ppf(0.975, 5) * differences.std(ddof=1) / np.sqrt(6)
    assert half > naive  # overlapping splits: wider than the plain t interval
    with pytest.raises(ValueError, match="test_share"):
        corrected_paired_interval(differences, test_share=1.0)
    with pytest.raises(ValueError, match="NaN"):
        corrected_paired_interval([0.1, np.nan], test_share=0.25)


@pytest.mark.parametrize("statistic", [np.median, np.mean])
def test_vectorized_bootstrap_gives_the_loops_interval(statistic):
    values = np.random.default_rng(3).normal(size=7)
    loop = bootstrap_ci(lambda x: statistic(x), values)  # a lambda is not recognised: one call per resample
    assert bootstrap_ci(statistic, values) == loop  # recognised: one vectorized call, the same resamples
    combine = lambda x, y, axis=None: np.median(y - x, axis=axis)  # noqa: E731 (a paired statistic)
    other = values[::-1].copy()
    assert bootstrap_ci(combine, values, other, vectorized=True) == bootstrap_ci(combine, values, other)


def test_vectorized_share_of_gap_matches_the_scalar_one():
    start, moved, end = [0.10, 0.12, 0.11, 0.13], [0.5, 0.6, 0.55, 0.7], [0.9, 0.88, 0.91, 0.92]
    assert bootstrap_ci(share_of_gap, start, moved, end) == bootstrap_ci(lambda *x: share_of_gap(*x), start, moved, end)
    rows = share_of_gap(np.array([[0.1, 0.1], [0.5, 0.5]]), np.array([[0.2, 0.2], [0.6, 0.6]]), np.array([[0.5, 0.5], [0.5, 0.5]]), axis=-1)
    assert rows[0] == pytest.approx(0.25) and np.isnan(rows[1])  # the second row has no gap


def test_a_vectorized_statistic_must_return_one_value_per_resample():
    with pytest.raises(ValueError, match="one value per resample"):
        bootstrap_ci(lambda x, axis=None: np.median(x), [1.0, 2.0, 3.0], vectorized=True)  # ignores axis: one value
