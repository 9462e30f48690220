"""The PDF editions (`make pdf`): instructor (with solutions) and student (without).

Slow (`make test-editions`, which builds them first): page count, every chapter title and
figure number, extractable text with rendered math, no "??" or unresolved reference, no
solution text in the student edition (while the instructor edition has it), at most 30 MB.
"""

from __future__ import annotations

import re
import unicodedata

import nbformat
import pytest
import yaml

from conftest import ROOT
from editions import slow, tool

PDF = ROOT / "_build" / "pdf"
MAX_BYTES = 30 * 2**20
student = tool("student_edition")
printer = tool("print_pdf")
pytestmark = slow


def _numbered_chapters() -> list:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [chapter["file"] for part in toc["parts"] if part.get("numbered") for chapter in part["chapters"]]
    return [nbformat.read(ROOT / f"{name}.ipynb", as_version=4) for name in files]


CHAPTERS = _numbered_chapters()


def _flat(text: str) -> str:
    """Whitespace collapsed, and ligatures (the PDF's "ﬀ") spelled out, so titles compare as written."""
    flat = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()
    flat = flat.translate(str.maketrans("“”‘’", "\"\"''"))  # Sphinx's smart quotes
    return re.sub(r"(\w)- (\w)", r"\1-\2", flat)  # a line broken after a hyphen ("min- max")


@pytest.fixture(scope="module", params=printer.EDITIONS)
def edition(request) -> tuple[str, str, int, int]:
    from pypdf import PdfReader

    path = PDF / printer.NAME.format(edition=request.param)
    if not path.is_file():
        pytest.fail(f"{path} not found: run `make pdf`")
    reader = PdfReader(path)
    text = _flat(" ".join(page.extract_text() or "" for page in reader.pages))
    return request.param, text, len(reader.pages), path.stat().st_size


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    from pypdf import PdfReader

    return {
        name: _flat(" ".join(page.extract_text() or "" for page in PdfReader(PDF / printer.NAME.format(edition=name)).pages))
        for name in printer.EDITIONS
    }


def test_size_pages_and_extractable_text(edition):
    name, text, pages, size = edition
    assert size <= MAX_BYTES, f"{name}: {size / 2**20:.1f} MB (budget 30 MB)"
    assert 8 * len(CHAPTERS) <= pages <= 400, f"{name}: {pages} pages"
    assert len(text) >= 2000 * pages // 2, f"{name}: only {len(text)} characters of text in {pages} pages"


def test_every_chapter_title_and_figure_number(edition):
    name, text, _, _ = edition
    for number, notebook in enumerate(CHAPTERS, start=1):
        title = _flat(student.title(notebook))
        assert title in text, f"{name}: chapter title missing: {title}"
        prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
        figures = len(re.findall(r"```\{(?:glue:figure|figure)\}", prose))
        if name == "student":  # figures inside solutions go with them
            kept = "\n".join(c.source for c in student.split_solutions(notebook).student.cells if c.cell_type == "markdown")
            figures = len(re.findall(r"```\{(?:glue:figure|figure)\}", kept))
        for figure in range(1, figures + 1):
            assert f"Fig. {number}.{figure}" in text, f"{name}: figure {number}.{figure} ({title}) not numbered in the PDF"


def test_no_unresolved_reference_or_raw_markup(edition):
    name, text, _, _ = edition
    for marker in ("??", "{ref}", "{numref}", "{glue", "{cite", "\\(", "\\[", "$$", "Traceback"):
        assert marker not in text, f"{name}: {marker!r} in the PDF text"


def _plain_runs(markdown: str) -> list[str]:
    """Runs of plain words (no markup) from solution prose, to look for in the PDF text."""
    text = re.sub(r"\{[a-z:]+\}`[^`]*`|`[^`]*`|\$[^$]*\$|\*+|\[|\]\([^)]*\)", "|", markdown)
    return [_flat(run) for run in re.split(r"[|\n(){}]", text) if len(_flat(run)) >= 40]


def test_student_edition_has_no_solution_text(texts):
    checked = 0
    for notebook in CHAPTERS:
        for solution in student.split_solutions(notebook).solutions:
            runs = [run for kind, part in solution.parts if kind == "markdown" for run in _plain_runs(part)]
            for run in runs[:2]:
                assert run in texts["instructor"], f"{solution.label}: the instructor PDF lacks its solution: {run}"
                assert run not in texts["student"], f"{solution.label}: solution text in the student PDF: {run}"
                checked += 1
    assert checked >= len(CHAPTERS), "too few solution sentences to check"
    assert "Solution to" in texts["instructor"] and "Solution to" not in texts["student"]


@pytest.fixture(scope="module", params=printer.EDITIONS)
def pages(request) -> tuple[str, list[str]]:
    from pypdf import PdfReader

    reader = PdfReader(PDF / printer.NAME.format(edition=request.param))
    return request.param, [_flat(page.extract_text() or "") for page in reader.pages]


def test_title_page_first_and_no_blank_page(pages):
    name, texts_by_page = pages
    meta = printer.book_metadata()
    assert _flat(meta["title"]) in texts_by_page[0], f"{name}: page 1 is not the title page"
    assert f"Version {meta['version']}" in texts_by_page[0] and re.search(r"printed \d{4}-\d\d-\d\d", texts_by_page[0])
    blank = [number for number, text in enumerate(texts_by_page, start=1) if not re.sub(r"\d+ / \d+", "", text).strip()]
    assert not blank, f"{name}: pages without text (only the page number): {blank}"


def test_no_code_toggle_titles(edition):
    name, text, _, _ = edition
    for title in ("Hide code cell", "Show code cell"):
        assert title not in text, f"{name}: {title!r} box printed"


def test_long_code_lines_wrap_instead_of_being_cut(edition):
    name, text, _, _ = edition
    visible = [cell for notebook in CHAPTERS for cell in notebook.cells
               if cell.cell_type == "code" and "remove-cell" not in cell.metadata.get("tags", [])]
    longest = sorted((line for cell in visible for line in cell.source.splitlines() if not line.lstrip().startswith("#")),
                     key=len)[-3:]
    squeezed = re.sub(r"\s+", "", text)
    for line in longest:
        assert re.sub(r"\s+", "", _flat(line)) in squeezed, f"{name}: code line cut at the margin: {line[:60]}..."
