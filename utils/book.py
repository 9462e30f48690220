"""Publishing computed results into the prose (myst-nb ``glue``), with checks.

numpy 2 scalars print as ``np.float64(1.6)``, which myst-nb cannot format, and a
NaN would silently become the text "nan"; these wrappers prevent both.
"""

from __future__ import annotations

import numbers

import numpy as np


def _glue(name: str, value: object) -> None:
    """myst-nb's ``glue`` (display off); without myst-nb, nothing.

    The glue only feeds the book build. A chapter launched on a hosted service (Colab, a bare
    Jupyter) has no myst-nb, and its reader sees the values and figures in the cell outputs
    anyway, so the chapter runs there without it instead of installing the build toolchain.
    """
    try:
        from myst_nb import glue  # imported late: only needed when a chapter publishes
    except ImportError:
        return
    glue(name, value, display=False)


def glue_number(name: str, value: object) -> float | int:
    """Glue a finite number under ``name`` for ``{glue:text}`name:.2f``` in the prose; return it.

    In a chapter: ``glue_number("n_test", len(features_test))``.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"glued value {name!r} must be a real number, got {type(value).__name__}")
    plain = int(value) if isinstance(value, numbers.Integral) else float(value)
    if isinstance(plain, float) and not np.isfinite(plain):
        raise ValueError(f"glued value {name!r} is {plain}: the prose would show a meaningless number")
    _glue(name, plain)
    return plain


def glue_figure(name: str, figure: object) -> None:
    """Glue a matplotlib figure as a PNG for a ``{glue:figure}`` directive.

    The PNG is rendered here rather than by IPython's display hooks, which
    produce only text under a non-interactive backend (``MPLBACKEND=agg``).
    The same PNG is shown as the cell's output (so JupyterLab readers see the
    figure; the book hides that cell's output and shows the captioned glue), and
    the figure is closed, so it is rendered once, not twice.
    """
    import io

    import matplotlib.pyplot as plt
    from IPython.display import Image, display
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        raise TypeError(f"glued figure {name!r} must be a matplotlib Figure, got {type(figure).__name__}")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")  # dpi and bbox come from the book style (savefig.*)
    png = buffer.getvalue()
    _glue(name, Image(data=png, format="png"))
    display(Image(data=png, format="png"))
    plt.close(figure)  # returns nothing, so a notebook cell ending here prints no bytes
