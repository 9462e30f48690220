"""tools/tag_hide_input.py: plotting and table-formatting cells sit behind a toggle, computation stays visible."""

from __future__ import annotations

import doctest
import importlib.util

import nbformat
import pytest

from conftest import CHAPTERS, ROOT

spec = importlib.util.spec_from_file_location("tag_hide_input", ROOT / "tools" / "tag_hide_input.py")
tag_hide_input = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tag_hide_input)


@pytest.mark.parametrize("path", CHAPTERS, ids=[path.stem for path in CHAPTERS])
def test_chapter_is_tagged_as_the_script_would_tag_it(path):
    notebook = nbformat.read(path, as_version=4)
    changed = tag_hide_input.tag_notebook(notebook)
    assert not changed, f"{path.name}: run `python tools/tag_hide_input.py` (untagged presentation cells {changed})"


def test_the_script_is_idempotent_and_keeps_computation_visible():
    cells = [
        nbformat.v4.new_code_cell("hessian = features.T @ features / len(features)"),
        nbformat.v4.new_code_cell("figure, axis = plt.subplots()\naxis.plot(x, y)\nglue_figure('f', figure)"),
        nbformat.v4.new_code_cell("table.style.format('{:.2f}')"),
        nbformat.v4.new_code_cell("assert a > b\nplt.subplots()", metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_markdown_cell("```{solution-start} ex\n```"),
        nbformat.v4.new_code_cell("figure = plt.figure()  # a solution's code stays in its dropdown"),
        nbformat.v4.new_markdown_cell("```{solution-end}\n```"),
        nbformat.v4.new_code_cell("x = 1  # plt.subplots() in a comment is not a figure"),
        nbformat.v4.new_code_cell("rates = sweep(data)\nfigure, axis = plt.subplots()\nglue_figure('g', figure)"),
        nbformat.v4.new_code_cell("labels = {'a': 'x'}\nfigure = panels(labels)\nglue_figure('h', figure)", metadata={"tags": ["remove-output"]}),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    assert len(tag_hide_input.tag_notebook(notebook)) == 3
    tags = [cell.metadata.get("tags", []) for cell in notebook.cells]
    assert tags == [[], ["hide-input"], ["hide-input"], ["remove-cell"], [], [], [], [], [], ["remove-output", "hide-input"]]
    assert tag_hide_input.tag_notebook(notebook) == []  # a second run changes nothing


def test_the_script_doctests_pass():
    assert doctest.testmod(tag_hide_input).failed == 0


def test_check_mode_reports_without_writing(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("figure = plt.figure()")])
    path = tmp_path / "chapter.ipynb"
    nbformat.write(notebook, path)
    before = path.read_bytes()
    assert tag_hide_input.main(["--check", str(path)]) == 1
    assert path.read_bytes() == before
    assert tag_hide_input.main([str(path)]) == 0
    assert tag_hide_input.main(["--check", str(path)]) == 0
