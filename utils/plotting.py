"""One plot style for the whole book, and small generic figure helpers (no chapter-specific figures)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from utils.checks import as_float_vector

if TYPE_CHECKING:
    import pandas as pd

# Okabe & Ito's palette: distinguishable with the common forms of colour blindness.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]


def use_book_style() -> None:
    """Apply the book's matplotlib style: colour-blind-safe cycle, readable sizes, compact PNGs."""
    mpl.rcParams.update(
        {
            "axes.prop_cycle": mpl.cycler(color=OKABE_ITO),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "figure.figsize": (7.0, 3.6),
            "figure.dpi": 100,
            "savefig.dpi": 110,
            "savefig.bbox": "tight",
            "font.size": 10,
            "axes.titlesize": 10,
            "legend.frameon": False,
        }
    )


def histogram_panels(
    columns: Mapping[str, object], xlabels: Mapping[str, str] | None = None, bins: int = 40, ncols: int = 4
) -> plt.Figure:
    """Small multiples: one histogram per named 1-D array, each on its own x axis.

    >>> fig = histogram_panels({"raw": [1, 2, 3], "scaled": [0, 0.5, 1]})
    >>> len(fig.axes)
    2
    """
    if not isinstance(columns, Mapping) or not columns:
        raise TypeError("columns must be a non-empty mapping of name -> 1-D array")
    if bins < 1 or ncols < 1:
        raise ValueError("bins and ncols must be positive")
    names = list(columns)
    nrows = int(np.ceil(len(names) / ncols))
    fig, axes = plt.subplots(nrows, min(ncols, len(names)), figsize=(2.3 * min(ncols, len(names)), 2.0 * nrows))
    axes = np.atleast_1d(axes).ravel()
    for index, (axis, name) in enumerate(zip(axes, names)):
        values = as_float_vector(columns[name], f"column {name!r}")
        axis.hist(values, bins=bins, color=OKABE_ITO[index % len(OKABE_ITO)])
        axis.set_title(name)
        axis.set_xlabel((xlabels or {}).get(name, "value"))
        axis.set_yticks([])
    for axis in axes[len(names):]:
        axis.set_visible(False)
    fig.tight_layout()
    return fig


def lr_sweep_plot(
    records: "pd.DataFrame",
    metric: str = "test_accuracy",
    group: str = "preprocessing",
    ax: plt.Axes | None = None,
    colours: Mapping[str, str] | None = None,
) -> plt.Axes:
    """Median of ``metric`` over seeds against learning rate (log axis), one line per ``group``,
    with the range over seeds shaded; learning rates where some run diverged are marked with x.

    ``records`` needs columns ``lr``, ``seed``, ``diverged``, ``group`` and ``metric`` (as from ``utils.training.sweep``).
    ``colours`` maps each group to its colour (default: the palette in order of appearance), so that
    panels showing different subsets of the groups colour each group alike.
    """
    required = {"lr", "seed", "diverged", group, metric}
    if not required <= set(records.columns):
        raise ValueError(f"records lack columns {sorted(required - set(records.columns))}")
    if colours is not None and not set(records[group]) <= set(colours):
        raise ValueError(f"colours lack groups {sorted(set(map(str, records[group])) - set(map(str, colours)))}")
    ax = plt.gca() if ax is None else ax
    for index, (name, runs) in enumerate(records.groupby(group, sort=False)):
        colour = OKABE_ITO[index % len(OKABE_ITO)] if colours is None else colours[name]
        by_lr = runs.groupby("lr")[metric]
        lrs = np.array(sorted(runs["lr"].unique()))
        ax.plot(lrs, by_lr.median().loc[lrs], "o-", color=colour, label=str(name), markersize=4)
        ax.fill_between(lrs, by_lr.min().loc[lrs], by_lr.max().loc[lrs], color=colour, alpha=0.2, linewidth=0)
        diverged = runs.groupby("lr")["diverged"].any().loc[lrs]
        ax.plot(lrs[diverged.to_numpy()], np.zeros(diverged.sum()), "x", color=colour, markersize=7)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel(metric.replace("_", " "))
    return ax


def loss_curves(curves: Mapping[str, object], ax: plt.Axes | None = None) -> plt.Axes:
    """Loss against step, one line per label: the median over runs with the range over runs shaded.

    Each value is an array (steps, runs); NaN marks steps after a run diverged.
    """
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError("curves must be a non-empty mapping of label -> (steps, runs) array")
    ax = plt.gca() if ax is None else ax
    for index, (label, losses) in enumerate(curves.items()):
        losses = np.asarray(losses, dtype=float)
        if losses.ndim != 2:
            raise ValueError(f"curve {label!r} must be (steps, runs), got shape {losses.shape}")
        steps = np.arange(1, len(losses) + 1)
        colour = OKABE_ITO[index % len(OKABE_ITO)]
        ax.plot(steps, np.nanmedian(losses, axis=1), color=colour, label=str(label))
        ax.fill_between(steps, np.nanmin(losses, axis=1), np.nanmax(losses, axis=1), color=colour, alpha=0.2, linewidth=0)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss (log scale)")
    return ax


def quadratic_contours(
    ax: plt.Axes, hessian: object, optimum: object, path: object | None = None, extent: float | None = None, n_levels: int = 8
) -> plt.Axes:
    """Contours of the quadratic ``(w - w*)^T H (w - w*) / 2`` in 2-D, with an optional optimizer path.

    Levels are spaced geometrically, so both the narrow and the wide directions show.
    The window is square (equal axes), centered on the optimum, and wide enough for the path.
    """
    H = np.asarray(hessian, dtype=float)
    optimum = np.asarray(optimum, dtype=float)
    if H.shape != (2, 2) or optimum.shape != (2,) or not np.isfinite(H).all():
        raise ValueError("hessian must be a finite 2x2 matrix and optimum a 2-vector")
    points = np.asarray(path, dtype=float) if path is not None else optimum[None]
    half = extent or 1.15 * max(np.abs(points - optimum).max(), 1e-12)
    grid = np.linspace(-half, half, 201)
    d1, d2 = np.meshgrid(grid, grid)
    values = 0.5 * (H[0, 0] * d1**2 + 2 * H[0, 1] * d1 * d2 + H[1, 1] * d2**2)
    top = values.max()
    ax.contour(optimum[0] + d1, optimum[1] + d2, values, levels=top * np.geomspace(1e-4, 0.5, n_levels), colors="#999999", linewidths=0.7)
    if path is not None:
        ax.plot(points[:, 0], points[:, 1], ".-", color=OKABE_ITO[3], markersize=3, linewidth=1)
    ax.plot(*optimum, "*", color="#000000", markersize=9)
    ax.set_aspect("equal")
    ax.grid(False)
    return ax


def lr_sweep_by_optimizer(
    records: "pd.DataFrame", chance: float, metric: str = "test_accuracy", figsize: tuple[float, float] = (9.0, 3.4)
) -> plt.Figure:
    """One ``lr_sweep_plot`` panel per optimizer in ``records`` (shared y axis), with a dotted chance line.

    Each preprocessing keeps one colour in every panel, and one legend below the panels names every
    preprocessing, also those that only some optimizers ran.

    >>> import pandas as pd
    >>> runs = pd.DataFrame({"preprocessing": "raw", "optimizer": ["sgd", "adam"], "lr": 0.1, "seed": 0,
    ...                      "test_accuracy": [0.5, 0.6], "diverged": False})
    >>> [axis.get_title() for axis in lr_sweep_by_optimizer(runs, chance=0.5).axes]
    ['SGD', 'Adam']
    """
    if "optimizer" not in records.columns:
        raise ValueError("records lack an 'optimizer' column")
    names = {"sgd": "SGD", "momentum": "SGD with momentum", "adam": "Adam"}
    optimizers = list(dict.fromkeys(records["optimizer"]))
    groups = list(dict.fromkeys(records["preprocessing"])) if "preprocessing" in records.columns else []
    colours = {name: OKABE_ITO[index % len(OKABE_ITO)] for index, name in enumerate(groups)}
    fig, axes = plt.subplots(1, len(optimizers), figsize=figsize, sharey=True, squeeze=False)
    for axis, optimizer in zip(axes[0], optimizers):
        lr_sweep_plot(records[records["optimizer"] == optimizer], metric=metric, ax=axis, colours=colours)
        axis.axhline(chance, color="#999999", linestyle=":", linewidth=1)
        axis.set_title(names.get(optimizer, optimizer))
    axes[0][0].set_ylabel(metric.replace("_", " "))
    for axis in axes[0][1:]:
        axis.set_ylabel("")
    handles = [plt.Line2D([], [], color=colours[name], marker="o", markersize=4, label=str(name)) for name in groups]
    columns = min(len(groups), 6)
    rows = -(-len(groups) // columns)
    fig.legend(handles=handles, loc="lower center", ncol=columns, fontsize=8, frameon=False)
    # Room below the panels for the legend's rows (in inches, whatever the figure's height).
    fig.tight_layout(rect=(0, min(0.4, 0.25 * rows / figsize[1] + 0.02), 1, 1))
    return fig
