"""One plot style for the whole book, and small generic figure helpers (no chapter-specific figures)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from utils.checks import as_float_vector

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
