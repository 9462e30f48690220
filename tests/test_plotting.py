import matplotlib

matplotlib.use("agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from utils import plotting  # noqa: E402


def test_histogram_panels_draw_one_axis_per_column():
    figure = plotting.histogram_panels({"a": np.arange(10.0), "b": np.arange(5.0)}, xlabels={"a": "pixels"})
    visible = [axis for axis in figure.axes if axis.get_visible()]
    assert len(visible) == 2
    assert visible[0].get_xlabel() == "pixels" and visible[1].get_xlabel() == "value"


def test_histogram_panels_hide_unused_axes():
    columns = {name: np.arange(4.0) for name in "abcde"}
    figure = plotting.histogram_panels(columns, ncols=4)
    assert sum(axis.get_visible() for axis in figure.axes) == 5


@pytest.mark.parametrize(
    "columns, kwargs, error",
    [({}, {}, TypeError), ({"a": [np.nan]}, {}, ValueError), ({"a": [1.0]}, {"bins": 0}, ValueError)],
)
def test_histogram_panels_reject_bad_input(columns, kwargs, error):
    with pytest.raises(error):
        plotting.histogram_panels(columns, **kwargs)


def test_palette_is_the_colour_blind_safe_one():
    plotting.use_book_style()
    assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] == plotting.OKABE_ITO


def _records():
    import pandas as pd

    rows = []
    for prep in ("raw", "scaled"):
        for lr in (0.01, 0.1, 1.0):
            for seed in (0, 1):
                rows.append({"preprocessing": prep, "lr": lr, "seed": seed, "test_accuracy": lr / 2 + seed / 10,
                             "diverged": prep == "raw" and lr == 1.0})
    return pd.DataFrame(rows)


def test_lr_sweep_plot_draws_median_lines_and_marks_divergence():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    plotting.lr_sweep_plot(_records(), ax=ax)
    lines = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(lines) == 2 and ax.get_xscale() == "log"
    assert np.allclose(lines[0].get_ydata(), [0.055, 0.1, 0.55])
    crosses = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(crosses[0].get_xdata()) == 1 and len(crosses[1].get_xdata()) == 0
    with pytest.raises(ValueError, match="lack columns"):
        plotting.lr_sweep_plot(_records().drop(columns="diverged"), ax=ax)


def test_loss_curves_median_and_bad_input():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    losses = np.array([[1.0, 3.0, 2.0], [0.5, np.nan, 1.0]])
    plotting.loss_curves({"a": losses}, ax=ax)
    assert np.allclose(ax.get_lines()[0].get_ydata(), [2.0, 0.75])
    with pytest.raises(ValueError):
        plotting.loss_curves({"a": np.ones(3)}, ax=ax)
    with pytest.raises(TypeError):
        plotting.loss_curves({}, ax=ax)


def test_quadratic_contours_centre_on_the_optimum():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    plotting.quadratic_contours(ax, np.diag([1.0, 10.0]), [1.0, 2.0], path=[[0.0, 0.0], [1.0, 2.0]])
    low, high = ax.get_xlim()
    assert low < 0.0 and high > 1.0
    with pytest.raises(ValueError):
        plotting.quadratic_contours(ax, np.eye(3), [0.0, 0.0])


def test_lr_sweep_by_optimizer_makes_one_panel_per_optimizer():
    records = _records().assign(optimizer="sgd")
    records = __import__("pandas").concat([records, records.assign(optimizer="adam")])
    figure = plotting.lr_sweep_by_optimizer(records, chance=0.1)
    assert [axis.get_title() for axis in figure.axes] == ["SGD", "Adam"]
    assert all(any(line.get_linestyle() == ":" for line in axis.get_lines()) for axis in figure.axes)
    with pytest.raises(ValueError):
        plotting.lr_sweep_by_optimizer(_records(), chance=0.1)


def test_lr_sweep_by_optimizer_legend_names_every_group_in_one_colour_each():
    import pandas as pd

    records = pd.concat([_records().assign(optimizer="sgd"),
                         _records().assign(optimizer="adam").query("preprocessing == 'scaled'")])
    figure = plotting.lr_sweep_by_optimizer(records, chance=0.1)
    assert [text.get_text() for text in figure.legends[0].get_texts()] == ["raw", "scaled"]
    sgd, adam = ([line for line in axis.get_lines() if line.get_marker() == "o"] for axis in figure.axes)
    assert adam[0].get_label() == "scaled" and adam[0].get_color() == sgd[1].get_color() != sgd[0].get_color()


def test_lr_sweep_plot_colours_must_cover_every_group():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="colours lack"):
        plotting.lr_sweep_plot(_records(), ax=ax, colours={"raw": "#000000"})
