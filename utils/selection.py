"""Choosing settings honestly: splits with a validation part, and the choice made on it.

Settings (a learning rate, a penalty) are chosen on validation data and reported on test data, so
the reported number is not the best of many tries on the same samples.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from utils.data import split


def three_way_split(features: object, labels: object, test_size: float, val_size: float) -> tuple:
    """Stratified, seeded (train, validation, test) splits: ``(x_train, y_train, x_val, y_val, x_test, y_test)``.

    ``test_size`` is the share of all samples held out for testing, ``val_size`` the share of the
    rest held out for validation.

    >>> X = np.arange(40.0).reshape(20, 2); y = np.arange(20) % 2
    >>> [len(part) for part in three_way_split(X, y, test_size=0.2, val_size=0.25)[::2]]
    [12, 4, 4]
    """
    for name, value in (("test_size", test_size), ("val_size", val_size)):
        if not 0 < value < 1:
            raise ValueError(f"{name} must be a share in (0, 1), got {value}")
    rest, x_test, y_rest, y_test = split(features, labels, test_size=test_size)
    x_train, x_val, y_train, y_val = split(rest, y_rest, test_size=val_size)
    return x_train, y_train, x_val, y_val, x_test, y_test


def chosen_on_validation(records: pd.DataFrame, within: float = 0.0) -> pd.DataFrame:
    """Per preprocessing: the (optimizer, lr) with the best median validation accuracy, and its test accuracy.

    ``records`` is a sweep's table (``utils.training.sweep(...).records``) with a validation split.
    Returns one row per preprocessing: optimizer, lr, val (median), test (median), test_min, test_max.
    With ``within`` > 0 the choice is the middle of the *plateau*: of the settings whose median validation
    accuracy lies within ``within`` of the best, ordered by learning rate, the middle one (the lower of two
    middles). Among equally good rates the arg max picks by noise; a quantity that moves with the rate
    (sensitivity, chapter 6) then moves with the seed.

    >>> records = pd.DataFrame({"preprocessing": ["a"] * 4, "optimizer": ["adam"] * 4, "lr": [0.1, 0.1, 1.0, 1.0],
    ...                         "seed": [0, 1, 0, 1], "val_accuracy": [0.8, 0.9, 0.5, 0.6], "test_accuracy": [0.7, 0.8, 0.4, 0.5]})
    >>> chosen_on_validation(records)[["lr", "test"]].round(2).values.tolist()
    [[0.1, 0.75]]
    >>> flat = pd.DataFrame({"preprocessing": ["a"] * 3, "optimizer": ["adam"] * 3, "lr": [0.01, 0.1, 1.0], "seed": 0,
    ...                      "val_accuracy": [0.90, 0.89, 0.91], "test_accuracy": [0.9, 0.9, 0.9]})
    >>> chosen_on_validation(flat)["lr"].tolist(), chosen_on_validation(flat, within=0.02)["lr"].tolist()
    ([1.0], [0.1])
    """
    needed = {"preprocessing", "optimizer", "lr", "val_accuracy", "test_accuracy"}
    if not isinstance(records, pd.DataFrame) or not needed <= set(records.columns):
        raise ValueError(f"records must be a sweep's table with columns {sorted(needed)}")
    if records["val_accuracy"].isna().all():
        raise ValueError("records have no validation accuracy: sweep with a validation split")
    runs = records.groupby(["preprocessing", "optimizer", "lr"], sort=False)
    by_setting = runs.agg(val=("val_accuracy", "median"), test=("test_accuracy", "median"),
                          test_min=("test_accuracy", "min"), test_max=("test_accuracy", "max"))
    if not np.isfinite(within) or within < 0:
        raise ValueError(f"within must be a finite accuracy difference >= 0, got {within}")
    if within == 0:
        best = by_setting.loc[by_setting.groupby(level="preprocessing", sort=False)["val"].idxmax()]
        return best.reset_index(level=["optimizer", "lr"])
    rows = []
    for _, settings in by_setting.groupby(level="preprocessing", sort=False):
        plateau = settings[settings["val"] >= settings["val"].max() - within].sort_index(level="lr")
        rows.append(plateau.iloc[[(len(plateau) - 1) // 2]])
    return pd.concat(rows).reset_index(level=["optimizer", "lr"])


def seeds_at_chosen(records: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy of every seed at each preprocessing's chosen learning rate: (preprocessings, seeds).

    ``chosen`` is :func:`chosen_on_validation`'s table for the same ``records``; a median over seeds
    can hide a seed at chance, this table cannot.

    >>> records = pd.DataFrame({"preprocessing": ["a"] * 4, "optimizer": ["adam"] * 4, "lr": [0.1, 0.1, 1.0, 1.0],
    ...                         "seed": [0, 1, 0, 1], "val_accuracy": [0.8, 0.9, 0.5, 0.6], "test_accuracy": [0.7, 0.8, 0.4, 0.5]})
    >>> seeds_at_chosen(records, chosen_on_validation(records)).values.tolist()
    [[0.7, 0.8]]
    """
    if not isinstance(chosen, pd.DataFrame) or "lr" not in chosen.columns:
        raise ValueError("chosen must be chosen_on_validation's table")
    rows = records.merge(chosen["lr"].rename("chosen lr"), left_on="preprocessing", right_index=True)
    at_chosen = rows[np.isclose(rows["lr"], rows["chosen lr"])]
    return at_chosen.pivot(index="preprocessing", columns="seed", values="test_accuracy")


def best_at_grid_end(curves: pd.Series, keys: object, min_best: float = -np.inf) -> dict:
    """Keys whose best value lies at an end of their grid of rates: -1 (the low end) or +1 (the high end).

    ``curves`` is indexed by (key, rate), e.g. a sweep's median validation accuracy per (input, lr); a
    best rate at an end of its grid means the grid may have stopped short of a better one, so it should
    grow that way. Keys whose best value is below ``min_best`` (near chance: the arg max is noise) are left out.

    >>> curves = pd.Series([0.5, 0.9, 0.7, 0.6, 0.8], index=pd.MultiIndex.from_tuples(
    ...     [("a", 0.01), ("a", 0.1), ("a", 1.0), ("b", 0.01), ("b", 0.1)]))
    >>> best_at_grid_end(curves, ["a", "b"])
    {'b': 1}
    """
    if not isinstance(curves, pd.Series) or curves.index.nlevels != 2:
        raise ValueError("curves must be a Series indexed by (key, rate)")
    ends = {}
    for key in keys:
        curve = curves.loc[key]
        best, rates = curve.idxmax(), curve.index
        if curve.max() >= min_best and best in (rates.min(), rates.max()):
            ends[key] = -1 if best == rates.min() else 1
    return ends


def logistic_cv(train: object, train_labels: object, test: object, test_labels: object, *,
                standardize: bool, seed: int, Cs: object = np.logspace(-4, 6, 11),
                max_iter: int = 100) -> tuple[float, float]:
    """L2 logistic regression with C chosen by stratified 5-fold CV on the training split: (test accuracy, C).

    ``max_iter`` bounds Newton's iterations per fit; raise it where large C on raw features converges slowly.

    With ``standardize=True`` a ``StandardScaler`` is fitted inside the pipeline, so every fold's
    scaler sees only its own training part.

    >>> X = np.random.default_rng(0).normal(size=(200, 2)); y = (X[:, 0] > 0).astype(int)
    >>> logistic_cv(X[:100], y[:100], X[100:], y[100:], standardize=True, seed=0)[0] > 0.9
    True
    """
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    search = LogisticRegressionCV(Cs=np.asarray(Cs, dtype=np.float64), cv=StratifiedKFold(5, shuffle=True, random_state=seed),
                                  solver="newton-cholesky", l1_ratios=(0.0,), scoring="accuracy", use_legacy_attributes=False,
                                  max_iter=max_iter)
    model = make_pipeline(StandardScaler(), search) if standardize else make_pipeline(search)
    model.fit(train, train_labels)
    return float(model.score(test, test_labels)), float(np.ravel(model[-1].C_)[0])
