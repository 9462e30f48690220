import matplotlib

matplotlib.use("agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from _ext import sphinx_site  # noqa: E402
from utils import book  # noqa: E402


def test_glue_number_returns_plain_python_numbers():
    assert book.glue_number("an_int", np.int64(3)) == 3 and isinstance(book.glue_number("an_int", np.int64(3)), int)
    value = book.glue_number("a_float", np.float64(0.25))
    assert value == 0.25 and type(value) is float
    assert book.glue_number("zero_d", np.array(1.5)) == 1.5


@pytest.mark.parametrize("value, error", [(np.nan, ValueError), (np.inf, ValueError), ("3", TypeError),
                                          (True, TypeError), ([1.0], TypeError)])
def test_glue_number_rejects_values_the_prose_cannot_show(value, error):
    with pytest.raises(error):
        book.glue_number("bad", value)


def test_glue_figure_closes_the_figure_and_returns_nothing():
    figure, axis = plt.subplots()
    axis.plot([0, 1], [0, 1])
    assert book.glue_figure("a_figure", figure) is None
    assert not plt.fignum_exists(figure.number)
    with pytest.raises(TypeError):
        book.glue_figure("not_a_figure", axis)


def test_mathjax_bundle_is_installed_with_its_fonts():
    folder = sphinx_site.mathjax_es5_dir()
    assert (folder / sphinx_site.BUNDLE).stat().st_size > 500_000
    assert len(list((folder / sphinx_site.FONTS).glob("*.woff"))) >= 20


def test_thebe_assets_are_recognised():
    class Script:
        def __init__(self, filename, body=""):
            self.filename, self.attributes = filename, {"body": body}

    assert sphinx_site._is_thebe(Script("sphinx-thebe.js"))
    assert sphinx_site._is_thebe(Script(None, 'const THEBE_JS_URL = "x"'))
    assert not sphinx_site._is_thebe(Script("doctools.js"))
