"""Reader notebooks (tools/make_reader_notebooks.py): generated from the build, plain markdown, complete.

The reader notebooks are build outputs, never committed: they quote one build's numbers, and some
of those (rounding-level residuals, iteration counts of ill-conditioned solves) differ between
machines. So these tests generate them from the site's own build state (execution cache and Sphinx
environment), write them into the built site as `make notebooks` does, and check them against that
same build. In `make test` the strict build of test_build.py has just produced that state, so this
costs a few seconds; run alone, the `facts` fixture builds the book first. The slow checks (reader
notebooks under nbval, one opened in JupyterLab) are in test_reader_notebooks_lab.py (`make test-notebooks`).
"""

from __future__ import annotations

import doctest
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import CHAPTERS, ROOT

NAMES = [path.name for path in CHAPTERS]
MYST_ONLY = ["{glue", "```{", ":::{", "{cite", "{ref}", "{numref}", "{exercise", "{solution", "{eq}", "{doc}", "{term}"]
MYST_LINES = re.compile(r"^\s*(\([^)\s]+\)=\s*$|:(name|alt|label|class|figwidth|width):\s)", re.M)


def _load_tool():
    if str(ROOT / "tools") not in sys.path:
        sys.path.insert(0, str(ROOT / "tools"))  # the tool's parts: tools/reader_notebooks/
    spec = importlib.util.spec_from_file_location("make_reader_notebooks", ROOT / "tools" / "make_reader_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


@pytest.fixture(scope="session")
def facts():
    """What the site shows, from its build; builds the book if no current build exists."""
    if os.environ.get("BOOK_SEED", "0") != "0":
        pytest.skip("reader notebooks quote the seed-0 site; this run uses another BOOK_SEED")
    try:
        return tool.collect_facts(ROOT)
    except tool.ReaderNotebookError:
        command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(ROOT), "-W", "-n", "--keep-going"]
        subprocess.run(command, check=True, capture_output=True, timeout=1200)
        return tool.collect_facts(ROOT)


@pytest.fixture(scope="session")
def rendered(facts) -> dict[str, nbformat.NotebookNode]:
    """Every reader notebook of this build, written into the built site as `make notebooks` does."""
    texts = tool.render_all(facts)
    tool.write(ROOT / tool.SITE_FOLDER, texts)
    return {name: nbformat.reads(text, as_version=4) for name, text in texts.items()}


def _markdown(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


# -- the generated notebooks ------------------------------------------------------------------


def test_every_chapter_has_a_reader_notebook_in_the_site(rendered):
    assert set(rendered) == set(NAMES)
    texts = {name: nbformat.writes(notebook) + "\n" for name, notebook in rendered.items()}
    assert not tool.stale_files(ROOT / tool.SITE_FOLDER, texts)


def test_reader_notebooks_are_not_committed():
    tracked = subprocess.run(["git", "ls-files", tool.OUTPUT_FOLDER], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert not tracked.strip(), f"generated reader notebooks are committed: {tracked.split()}"
    ignored = subprocess.run(["git", "check-ignore", "-q", f"{tool.OUTPUT_FOLDER}/x.ipynb"], cwd=ROOT)
    assert ignored.returncode == 0, f"{tool.OUTPUT_FOLDER}/ is not in .gitignore"


@pytest.mark.parametrize("name", NAMES, ids=[Path(name).stem for name in NAMES])
def test_reader_notebook_is_plain_markdown(rendered, name):
    prose = _markdown(rendered[name])
    for syntax in MYST_ONLY:
        assert syntax not in prose, f"{name}: MyST-only syntax {syntax!r} left"
    leftover = MYST_LINES.search(prose)
    assert not leftover, f"{name}: MyST line left: {leftover.group(0)!r}"
    empty_quote = re.search(r"^> \*\*[^*\n]+\*\*\n(?!>)", prose + "\n", re.M)
    assert not empty_quote, f"{name}: an empty titled quote (a directive rendered as nothing): {empty_quote.group(0)!r}"


@pytest.mark.parametrize("name", NAMES, ids=[Path(name).stem for name in NAMES])
def test_reader_notebook_has_no_outputs_and_hides_checks(rendered, name):
    notebook = rendered[name]
    nbformat.validate(notebook)
    chapter = nbformat.read(ROOT / "chapters" / name, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code[0].source == next(c for c in chapter.cells if c.cell_type == "code").source, "set-up cell not verbatim"
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, f"{name}: output in a reader notebook"
    for cell in code[1:]:
        if "remove-cell" in cell.metadata.get("tags", []):
            assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, f"{name}: visible check cell"
            assert cell.metadata.get("cellView") == "form" and cell.source.startswith("#@title ")


def test_every_glued_value_appears(facts, rendered):
    """Each {glue:text} of a chapter cell shows up, formatted as in this build, in the same cell of its reader notebook."""
    checked = 0
    for docname in facts.chapters:
        renderer = tool.Renderer(facts, docname)
        chapter = nbformat.read(ROOT / f"{docname}.ipynb", as_version=4)
        reader = {cell.get("id"): cell.source for cell in rendered[f"{Path(docname).name}.ipynb"].cells}
        for cell in chapter.cells:
            if cell.cell_type != "markdown":
                continue
            for name, content in re.findall(r"\{(glue:text|glue)\}`([^`]+)`", cell.source):
                value = renderer.glue_text(name, content)
                assert value in reader.get(cell.get("id"), ""), f"{docname}: {content} = {value!r} missing"
                checked += 1
    assert checked > 50


def test_figures_keep_their_numbers(facts, rendered):
    chapter = facts.chapters[0]
    number = next(t.number for t in facts.targets.values() if t.docname == chapter and t.figtype == "figure")
    assert f"**Figure {number}:**" in _markdown(rendered[f"{Path(chapter).name}.ipynb"])


def test_book_lists_are_rendered_not_left_empty(rendered):
    users = [name for name in NAMES if "{book-list}" in (ROOT / "chapters" / name).read_text()]
    assert users, "no chapter uses {book-list}: this test needs another target"
    for name in users:
        prose = _markdown(rendered[name])
        harms = [item["title"] for item in yaml.safe_load((ROOT / "book_lists.yml").read_text())["harms"]]
        # Brief lists group items under "*Lost ...*" headings; tables list every item's title.
        assert "*Lost " in prose or sum(title in prose for title in harms) >= len(harms) // 2, f"{name}: the harms list is missing"
        assert "> **harms**" not in prose and "> **reasons**" not in prose


def test_launch_and_download_buttons_open_the_published_reader_notebook(facts, rendered):
    page = ROOT / "_build" / "html" / f"{facts.chapters[0]}.html"
    name = f"{Path(facts.chapters[0]).name}.ipynb"
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    branch = config["sphinx"]["config"]["reader_notebooks_branch"]  # the one setting: where they are published
    repository = config["repository"]["url"].removeprefix("https://github.com/")
    html = page.read_text()
    assert f"colab.research.google.com/github/{repository}/blob/{branch}/notebooks/{name}" in html
    assert f"/v2/gh/{repository}/{branch}?urlpath=lab/tree/notebooks/{name}" in html
    assert f'href="../notebooks/{name}"' in html, "download button does not serve the reader notebook"
    assert (ROOT / tool.SITE_FOLDER / name).is_file()


def test_site_hook_rewrites_only_chapter_buttons():
    from _ext.sphinx_reader_notebooks import point_buttons, reader_notebook

    assert reader_notebook("chapters/01_a") == "01_a.ipynb" and reader_notebook("intro") is None
    with pytest.raises(TypeError, match="docname"):
        reader_notebook(None)
    buttons = [
        {"label": "launch-buttons", "buttons": [{"url": "https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/chapters/01_a.ipynb"},
                                                {"url": "https://colab.research.google.com/github/o/r/blob/main/chapters/01_a.ipynb"}]},
        {"label": "download-buttons", "buttons": [{"label": "download-source-button", "url": "../_sources/chapters/01_a.ipynb"},
                                                  {"label": "download-pdf-button", "type": "javascript"}]},
    ]
    assert point_buttons({"header_buttons": buttons}, "chapters/01_a", "01_a.ipynb", "../notebooks/01_a.ipynb", "gh-pages") == 3
    assert buttons[0]["buttons"][0]["url"] == "https://mybinder.org/v2/gh/o/r/gh-pages?urlpath=lab/tree/notebooks/01_a.ipynb"
    assert buttons[0]["buttons"][1]["url"] == "https://colab.research.google.com/github/o/r/blob/gh-pages/notebooks/01_a.ipynb"
    assert buttons[1]["buttons"][0]["url"] == "../notebooks/01_a.ipynb" and "url" not in buttons[1]["buttons"][1]
    assert point_buttons({}, "chapters/01_a", "01_a.ipynb", "x", "gh-pages") == 0
    with pytest.raises(ValueError, match="reader_notebooks_branch"):
        point_buttons({}, "chapters/01_a", "01_a.ipynb", "x", "")


# -- the converter, on small inputs -----------------------------------------------------------


class FakeCitations:
    def render(self, role, content, fromdocname):
        return {"p": f"([Doe, 2001]({BASE}references.html#id1))", "t": f"[Doe]({BASE}references.html#id1) (2001)"}[role]


BASE = "https://example.org/book/"


def _facts(**changes):
    facts = tool.BookFacts(
        root=ROOT,
        base_url=BASE,
        repository_url="https://github.com/org/book",
        branch="main",
        chapters=["chapters/01_a", "chapters/02_b"],
        glue={
            "chapters/01_a": {"ratio": {"text/plain": "0.12345"}, "n": {"text/plain": "42"}, "name": {"text/plain": "'adam'"}},
            "chapters/02_b": {"other": {"text/plain": "3.5"}},
        },
        targets={
            "ch-b": tool.Target("chapters/02_b", "ch-b", "The second chapter", "2", "section"),
            "fig-a": tool.Target("chapters/01_a", "fig-a", "A caption", "1.1", "figure"),
            "a-ex-one": tool.Target("chapters/01_a", "a-ex-one", "", "1.1", "exercise"),
        },
        terms={"affine map": tool.Target("glossary", "term-affine-map", "affine map")},
        equations={},
        titles={"chapters/02_b": "The second chapter", "intro": "Welcome"},
        numfig_format={"figure": "Fig. %s", "exercise": "Exercise %s", "section": "Section %s"},
        substitutions={},
        citations=FakeCitations(),
    )
    for key, value in changes.items():
        setattr(facts, key, value)
    return facts


def _convert(*cells, facts=None):
    notebook = nbformat.v4.new_notebook(cells=list(cells))
    return tool.ChapterConverter(facts or _facts(), "chapters/01_a").convert(notebook)


def md(text):
    return nbformat.v4.new_markdown_cell(text)


def code(text, *tags):
    cell = nbformat.v4.new_code_cell(text)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def test_glue_roles_are_formatted_as_myst_nb_formats_them():
    renderer = tool.Renderer(_facts(), "chapters/01_a")
    text = "r {glue:text}`ratio:.2f`, n {glue:text}`n`, {glue:text}`ratio:.1%`, {glue}`name`, {glue:text}`02_b.ipynb::other:.0f`"
    assert renderer.inline(text) == "r 0.12, n 42, 12.3%, 'adam', 4"


def test_code_spans_and_code_fences_are_left_alone():
    renderer = tool.Renderer(_facts(), "chapters/01_a")
    assert renderer.inline("use ``{glue:text}`n` `` like `{ref}`") == "use ``{glue:text}`n` `` like `{ref}`"
    fenced = "```python\nx = '{glue:text}`n`'\n```"
    assert renderer.blocks(fenced) == fenced


def test_references_become_links_to_the_site():
    renderer = tool.Renderer(_facts(), "chapters/01_a")
    assert renderer.inline("{ref}`ch-b`") == f"[The second chapter]({BASE}chapters/02_b.html#ch-b)"
    assert renderer.inline("{numref}`fig-a`") == f"[Fig. 1.1]({BASE}chapters/01_a.html#fig-a)"
    assert renderer.inline("{numref}`Figure %s <fig-a>`") == f"[Figure 1.1]({BASE}chapters/01_a.html#fig-a)"
    assert renderer.inline("{ref}`that chapter <ch-b>`") == f"[that chapter]({BASE}chapters/02_b.html#ch-b)"
    assert renderer.inline("{ref}`a-ex-one`") == f"[Exercise 1.1]({BASE}chapters/01_a.html#a-ex-one)"
    assert renderer.inline("{term}`Affine map`") == f"[Affine map]({BASE}glossary.html#term-affine-map)"
    assert renderer.inline("[see](02_b.ipynb)") == f"[see]({BASE}chapters/02_b.html)"
    assert renderer.inline("[see](#ch-b)") == f"[see]({BASE}chapters/02_b.html#ch-b)"
    assert renderer.inline("[data](../data/x.csv)") == "[data](../data/x.csv)"
    assert renderer.inline("{cite:t}`doe2001` and {cite:p}`doe2001`").startswith("[Doe](")


def test_admonitions_become_titled_block_quotes():
    text = "```{warning}\nFit on the training split.\n\n- one\n```\n\n:::{admonition} Why $x$\nBecause.\n:::"
    out = tool.Renderer(_facts(), "chapters/01_a").blocks(text)
    assert out == "> **Warning**\n>\n> Fit on the training split.\n>\n> - one\n\n> **Why $x$**\n>\n> Because."


def test_glue_figure_becomes_a_numbered_caption():
    text = "```{glue:figure} fig_key\n:name: fig-a\n:alt: Two bars.\n\nThe bars differ by {glue:text}`n`.\n```"
    assert tool.Renderer(_facts(), "chapters/01_a").blocks(text) == "**Figure 1.1:** The bars differ by 42."


def test_gated_exercise_and_solution_across_cells():
    notebook = _convert(
        md("(ch-a)=\n# A\n\nIntro."),
        code("from utils import setup\n\nsetup()", "remove-cell"),
        md("## Exercises\n\n```{exercise-start}\n:label: a-ex-one\n```\nWhy?\n```{exercise-end}\n```\n\n"
           "```{solution-start} a-ex-one\n:class: dropdown\n```\nBecause {glue:text}`n`."),
        code("print(42)"),
        code("assert 42 == 42", "remove-cell"),
        md("```{solution-end}\n```\n\nAfter."),
    )
    cells = notebook.cells
    assert cells[0].source.startswith("# A\n\n> *Reader's edition") and "(ch-a)=" not in cells[0].source
    assert cells[1].source == "from utils import setup\n\nsetup()" and "jupyter" not in cells[1].metadata
    assert "### Exercise 1.1\n\nWhy?" in cells[2].source
    assert "<details>\n<summary><b>Solution to Exercise 1.1</b></summary>\n\nBecause 42." in cells[2].source
    assert cells[3].source.startswith("#@title Solution to Exercise 1.1: code\n")
    assert cells[3].metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
    assert cells[4].source.startswith("#@title Solution to Exercise 1.1: checks\n")
    assert cells[4].metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
    assert cells[5].source == "After."
    assert notebook.metadata["reader_notebook"]["source"] == "chapters/01_a.ipynb"


def test_check_cells_stay_in_place_hidden_and_titled():
    notebook = _convert(md("# A"), code("setup()"), code("x = 1"), code("assert x == 1", "remove-cell"), code("y = 2", "remove-cell"))
    checks, numbers = notebook.cells[3], notebook.cells[4]
    assert checks.source == f"{tool.CHECKS_TITLE}\nassert x == 1"
    assert numbers.source.startswith(tool.NUMBERS_TITLE)
    assert checks.metadata["jupyter"] == {"source_hidden": True} and checks.metadata["cellView"] == "form"
    assert "jupyter" not in notebook.cells[2].metadata


def test_unknown_glue_key_label_or_citation_raise_clear_errors():
    renderer = tool.Renderer(_facts(), "chapters/01_a")
    with pytest.raises(tool.ReaderNotebookError, match="'missing' is not glued"):
        renderer.inline("{glue:text}`missing:.2f`")
    with pytest.raises(tool.ReaderNotebookError, match="unknown label 'nowhere'"):
        renderer.inline("{ref}`nowhere`")
    with pytest.raises(tool.ReaderNotebookError, match="not an executed chapter"):
        renderer.inline("{glue:text}`../intro.md::x:.2f`")


def test_unclosed_exercise_is_an_error():
    with pytest.raises(tool.ReaderNotebookError, match="never closed"):
        _convert(md("```{exercise-start}\n:label: a-ex-one\n```\nWhy?"))


def test_unknown_directive_or_role_fails_the_conversion():
    renderer = tool.Renderer(_facts(), "chapters/01_a")
    with pytest.raises(tool.ReaderNotebookError, match=r"directive \{mystery\} has no reader-notebook form"):
        renderer.blocks("```{mystery} Odd title\nText.\n```")
    with pytest.raises(tool.ReaderNotebookError, match=r"role \{mystery\} has no reader-notebook form"):
        renderer.inline("a {mystery}`b` c")


def test_interactive_html_points_to_the_site():
    out = tool.Renderer(_facts(), "chapters/01_a").blocks("```{raw} html\n<input type=range><script>go()</script>\n```")
    assert out.startswith("> **Interactive**") and f"({BASE}chapters/01_a.html)" in out and "<script" not in out


def test_nested_directives_with_longer_fences():
    text = "````{note}\n```{tip}\nInner.\n```\n````"
    assert tool.Renderer(_facts(), "chapters/01_a").blocks(text) == "> **Note**\n>\n> > **Tip**\n> >\n> > Inner."


def test_missing_build_is_reported(tmp_path):
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://github.com/org/book\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    with pytest.raises(tool.ReaderNotebookError, match="build the book first"):
        tool.collect_facts(tmp_path)


def test_tool_doctests():
    import reader_notebooks

    tried = 0
    for module in (reader_notebooks.facts, reader_notebooks.inline, reader_notebooks.blocks, reader_notebooks.chapter):
        result = doctest.testmod(module)
        assert result.failed == 0, module.__name__
        tried += result.attempted
    assert tried > 0
