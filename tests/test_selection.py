import numpy as np
import pandas as pd
import pytest

from utils.selection import best_at_grid_end, chosen_on_validation, logistic_cv, seeds_at_chosen, three_way_split


def _records():
    return pd.DataFrame({"preprocessing": ["a"] * 4 + ["b"] * 4, "optimizer": ["adam"] * 8,
                         "lr": [0.1, 0.1, 1.0, 1.0] * 2, "seed": [0, 1] * 4,
                         "val_accuracy": [0.8, 0.9, 0.5, 0.6, 0.1, 0.2, 0.7, 0.7],
                         "test_accuracy": [0.7, 0.8, 0.4, 0.5, 0.0, 0.1, 0.6, 0.9]})


def test_three_way_split_is_disjoint_stratified_and_complete():
    X = np.arange(200.0).reshape(100, 2)
    y = np.arange(100) % 2
    x_train, y_train, x_val, y_val, x_test, y_test = three_way_split(X, y, test_size=0.2, val_size=0.25)
    assert (len(x_train), len(x_val), len(x_test)) == (60, 20, 20)
    rows = np.concatenate([x_train[:, 0], x_val[:, 0], x_test[:, 0]])
    assert sorted(rows) == sorted(X[:, 0])
    assert y_val.mean() == 0.5 and y_test.mean() == 0.5


def test_choice_is_made_on_validation_and_every_seed_is_reported():
    chosen = chosen_on_validation(_records())
    assert chosen["lr"].tolist() == [0.1, 1.0]
    assert chosen.loc["b", "test"] == pytest.approx(0.75)
    table = seeds_at_chosen(_records(), chosen)
    assert table.loc["b"].tolist() == [0.6, 0.9]  # the seed behind the median is visible


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="test_size"):
        three_way_split(np.zeros((10, 2)), np.zeros(10), test_size=1.5, val_size=0.2)
    with pytest.raises(ValueError, match="columns"):
        chosen_on_validation(pd.DataFrame({"lr": [0.1]}))
    with pytest.raises(ValueError, match="validation"):
        chosen_on_validation(_records().assign(val_accuracy=np.nan))
    with pytest.raises(ValueError, match="chosen"):
        seeds_at_chosen(_records(), pd.DataFrame({"x": [1]}))


def test_cross_validated_penalty_on_separable_data():
    X = np.random.default_rng(1).normal(size=(300, 3))
    y = (X[:, 0] > 0).astype(int)
    accuracy, chosen_c = logistic_cv(X[:200], y[:200], X[200:], y[200:], standardize=False, seed=0)
    assert accuracy > 0.9 and chosen_c > 0


def test_plateau_choice_takes_the_middle_of_equally_good_rates_and_rejects_bad_widths():
    records = pd.DataFrame({"preprocessing": ["a"] * 4 + ["b"] * 4, "optimizer": "adam",
                            "lr": [1e-3, 1e-2, 1e-1, 1.0] * 2, "seed": 0,
                            "val_accuracy": [0.5, 0.90, 0.91, 0.905, 0.9, 0.2, 0.2, 0.2],
                            "test_accuracy": 0.8})
    chosen = chosen_on_validation(records, within=0.02)
    # a: three rates within two points of the best, the middle is 0.1; b: a plateau of one rate.
    assert chosen.loc["a", "lr"] == 0.1 and chosen.loc["b", "lr"] == 1e-3
    assert chosen_on_validation(records, within=0.0).loc["a", "lr"] == 0.1
    for bad in (-0.01, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="within"):
            chosen_on_validation(records, within=bad)


def test_best_at_grid_end_names_the_side_and_skips_curves_near_chance():
    index = pd.MultiIndex.from_tuples([(key, rate) for key in "lhmc" for rate in (1e-3, 1e-2, 1e-1)])
    curves = pd.Series([0.9, 0.8, 0.7,  0.5, 0.6, 0.9,  0.6, 0.9, 0.7,  0.12, 0.10, 0.11], index=index)
    assert best_at_grid_end(curves, "lhmc") == {"l": -1, "h": 1, "c": -1}
    assert best_at_grid_end(curves, "lhmc", min_best=0.2) == {"l": -1, "h": 1}  # "c" stays near chance
    with pytest.raises(ValueError, match="indexed by"):
        best_at_grid_end(curves.droplevel(1), "l")
