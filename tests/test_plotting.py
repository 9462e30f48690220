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
