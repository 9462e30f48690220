"""Rules every chapter notebook follows (see BOOK-DESIGN.md, "Conventions")."""

from __future__ import annotations

import ast
import builtins
import re

import nbformat
import pytest
import yaml

from conftest import CHAPTERS, ROOT

GLUE_TEXT = re.compile(r"\{glue(?::text)?\}`([A-Za-z0-9_]+)")
GLUE_FIGURE = re.compile(r"```\{glue:figure\}\s+([A-Za-z0-9_]+)")
GLUED = re.compile(r"""glue(?:_number|_figure)?\(\s*["']([A-Za-z0-9_]+)["']""")
HAND_SEEDING = re.compile(r"(np\.random\.seed|torch\.manual_seed|random\.seed)\(")


def _toc_files() -> set[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = {toc["root"]}
    for part in toc.get("parts", []):
        files.update(chapter["file"] for chapter in part["chapters"])
    return files


@pytest.fixture(params=CHAPTERS, ids=[path.stem for path in CHAPTERS])
def notebook(request):
    return nbformat.read(request.param, as_version=4)


def test_there_are_chapters():
    assert CHAPTERS, "no notebooks found in chapters/"


def test_notebook_is_valid_and_has_no_outputs(notebook):
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"committed outputs in cell {cell.get('id')}"
            assert cell.execution_count is None, f"committed execution count in cell {cell.get('id')}"


def test_first_code_cell_calls_setup(notebook):
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert "from utils import setup" in first_code.source and "setup()" in first_code.source


def test_no_path_hacks_or_hand_seeding(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert "sys.path" not in cell.source
            assert not HAND_SEEDING.search(cell.source), "seeds come from utils.setup() only"


def test_every_glued_name_used_in_prose_is_computed(notebook):
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    glued = set(GLUED.findall(code))
    used = set(GLUE_TEXT.findall(prose)) | set(GLUE_FIGURE.findall(prose))
    assert used, "the prose quotes no computed number"
    assert used <= glued, f"prose uses names never glued: {sorted(used - glued)}"


def test_claims_are_checked_in_hidden_cells(notebook):
    hidden = [cell for cell in notebook.cells if "remove-cell" in cell.metadata.get("tags", [])]
    assert any("assert " in cell.source for cell in hidden), "no hidden assertion cell"


def test_figures_have_alt_text_and_captions(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and "{glue:figure}" in cell.source:
            for block in cell.source.split("```{glue:figure}")[1:]:
                body = block.split("```")[0]
                assert re.search(r"^:alt: \S", body, re.M), "figure without alt text"
                assert re.search(r"^:name: \S", body, re.M), "figure without a label"
                caption = [line for line in body.splitlines()[1:] if line.strip() and not line.startswith(":")]
                assert caption, "figure without a caption"


def test_exercises_have_executed_solutions(notebook):
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    exercises = re.findall(r"```\{exercise-start\}\n:label: (\S+)", prose)
    solutions = re.findall(r"```\{solution-start\} (\S+)", prose)
    assert 2 <= len(exercises) <= 4, f"{len(exercises)} exercises; the book asks for 2 to 4"
    assert sorted(exercises) == sorted(solutions), "every exercise needs exactly one gated solution"
    assert prose.count("{solution-start}") == prose.count("{solution-end}")
    assert ":class: dropdown" in prose


def test_every_chapter_is_in_the_table_of_contents():
    toc = _toc_files()
    for path in CHAPTERS:
        assert f"chapters/{path.stem}" in toc, f"{path.name} is not in _toc.yml"


CROSS_GLUE = re.compile(r"\{glue:text\}`([\w/.-]+\.ipynb)::([A-Za-z0-9_]+):[^`]+`")


def test_cross_page_numbers_exist_in_their_notebooks():
    pages = [path for path in ROOT.glob("*.md") if path.name != "README.md"]
    references = [(page, *match) for page in pages for match in CROSS_GLUE.findall(page.read_text())]
    assert references, "the thread page should quote computed numbers"
    for page, notebook_path, key in references:
        notebook = nbformat.read(ROOT / notebook_path, as_version=4)
        code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
        assert key in set(GLUED.findall(code)), f"{page.name} quotes {notebook_path}::{key}, which is never glued"


def test_exercise_index_lists_every_exercise():
    index = (ROOT / "exercises.md").read_text()
    in_book_order = []
    for path in CHAPTERS:
        notebook = nbformat.read(path, as_version=4)
        prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
        in_book_order += re.findall(r"```\{exercise-start\}\n:label: (\S+)", prose)
    listed = re.findall(r"\{ref\}`(\S+-ex-\S+)`", index)
    for label in in_book_order:
        assert label in listed, f"exercise {label} missing from exercises.md"
    # The index numbers nothing itself: its rows must follow the chapters' order, or 4.3 reads before 4.2.
    assert listed == in_book_order, "exercises.md lists the exercises out of the chapters' order"


def _reading_minutes(path) -> float:
    notebook = nbformat.read(path, as_version=4)
    words = len(re.findall(r"[A-Za-z]+", " ".join(c.source for c in notebook.cells if c.cell_type == "markdown")))
    # Code the page shows: not removed cells, and not cells whose code hides behind a click (figures, long set-ups).
    shown = lambda cell: not {"remove-cell", "remove-input", "hide-input"} & set(cell.metadata.get("tags", []))  # noqa: E731
    visible_code = [c for c in notebook.cells if c.cell_type == "code" and shown(c)]
    lines = sum(len(c.source.splitlines()) for c in visible_code)
    return words / 200 + lines / 15


def test_instructor_reading_times_match_the_chapters():
    page = (ROOT / "for-instructors.md").read_text()
    rows = {match[0]: int(match[1]) for match in re.findall(r"\{ref\}`(ch-[a-z-]+)` \|[^|]+\| (\d+) min", page)}
    labels = {}
    for path in CHAPTERS:
        first = nbformat.read(path, as_version=4).cells[0].source
        labels[path] = re.match(r"\((ch-[a-z-]+)\)=", first).group(1)
    assert set(rows) == set(labels.values()), "for-instructors.md must list every chapter"
    for path, label in labels.items():
        estimate = _reading_minutes(path)  # the page rounds to 5 minutes; allow that much
        assert abs(rows[label] - estimate) <= 5, f"{label}: page says {rows[label]} min, the chapter needs {estimate:.0f}"


IN_BRIEF = re.compile(r"^# [^\n]+\n\n```\{admonition\} In brief\n:class: tip\n(?P<body>.*?)\n```\n", re.M | re.S)
LINK = re.compile(r"\{(?:numref|ref)\}`([a-z0-9-]+)`")


def test_every_chapter_opens_with_an_in_brief_box(notebook):
    """Right after the title: the answer with a glued number and a link to a figure or section of the chapter."""
    match = IN_BRIEF.search(notebook.cells[0].source)
    assert match, "the first cell must put an 'In brief' tip box right after the title"
    body = match.group("body")
    assert len(re.findall(r"[.!?](?:\s|$)", re.sub(r"`[^`]*`|\$[^$]*\$", "", body))) <= 3, "at most three sentences"
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    keys = GLUE_TEXT.findall(body)
    assert keys, "the box gives the chapter's key number, glued"
    assert set(keys) <= set(GLUED.findall(code)), f"the box quotes numbers the chapter never glues: {set(keys) - set(GLUED.findall(code))}"
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    own = {label for label in LINK.findall(body) if f"({label})=" in prose or f":name: {label}" in prose}
    assert own, "the box links to the chapter's key figure (or, without one, its key section)"


def test_instructor_page_links_exist():
    page = (ROOT / "for-instructors.md").read_text()
    sources = {path: "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells) for path in CHAPTERS}
    labels = set()
    for text in [*sources.values(), *(path.read_text() for path in ROOT.glob("*.md"))]:
        labels.update(re.findall(r"\(([A-Za-z0-9-]+)\)=", text) + re.findall(r":(?:label|name): (\S+)", text))
    for label in re.findall(r"\{(?:ref|numref)\}`([^`<]+)`", page):
        assert label in labels, f"for-instructors.md links to {label}, which no page defines"
    for stem, anchor in re.findall(r"chapters/(\w+)\.html#([\w-]+)", page):
        assert f"({anchor})=" in sources[ROOT / "chapters" / f"{stem}.ipynb"], f"for-instructors.md quotes chapters/{stem}.html#{anchor}, which is gone"
    for label in re.findall(r"`(ch-[a-z-]+)`", page.split("## Linking and citing")[1]):
        assert any(f"({label})=" in source for source in sources.values()), f"no chapter is labelled {label}"
    for path in CHAPTERS:
        label = re.match(r"\((ch-[a-z-]+)\)=", nbformat.read(path, as_version=4).cells[0].source).group(1)
        assert f"`{label}`" in page.split("## Linking and citing")[1], f"the citing section omits {label}"
    assert "make student" in page and "answer key" in page, "the page points to the student edition and answer key"


HIDDEN_TAGS = {"remove-cell", "remove-input"}  # the reader sees neither the code of these cells nor a toggle


def _python_source(cell) -> str:
    """A code cell's source without IPython magics and shell lines, which ast cannot parse."""
    return "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))


def _bound_and_loaded(source: str) -> tuple[set[str], set[str]]:
    """Names a cell binds anywhere (assignments, imports, defs, arguments, loop targets) and names it reads."""
    bound, loaded = set(), set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound, loaded


def hidden_names_in_visible_code(notebook) -> dict[str, set[str]]:
    """Names that visible code reads but that only hidden cells define: cell id -> names.

    A reader who runs or copies the visible code alone would hit a NameError on each of them."""
    visible, hidden_bound = [], set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        bound, loaded = _bound_and_loaded(_python_source(cell))
        if HIDDEN_TAGS & set(cell.metadata.get("tags", [])):
            hidden_bound |= bound
        else:
            visible.append((cell.get("id"), bound, loaded))
    visible_bound = set().union(*(bound for _, bound, _ in visible)) if visible else set()
    only_hidden = hidden_bound - visible_bound - set(dir(builtins))
    return {cell_id: loaded & only_hidden for cell_id, _, loaded in visible if loaded & only_hidden}


def test_the_hygiene_check_finds_a_hidden_name():
    hidden = nbformat.v4.new_code_cell("SECRET = 1\nimport numpy as np", metadata={"tags": ["remove-cell"]})
    shown = nbformat.v4.new_code_cell("print(SECRET, np.pi, len([1]))\ndef f(x):\n    return x")
    shown_defines = nbformat.v4.new_code_cell("import numpy as np")
    notebook = nbformat.v4.new_notebook(cells=[hidden, shown])
    assert set().union(*hidden_names_in_visible_code(notebook).values()) == {"SECRET", "np"}
    notebook.cells.append(shown_defines)
    assert set().union(*hidden_names_in_visible_code(notebook).values()) == {"SECRET"}


def test_visible_code_uses_no_name_defined_only_in_hidden_cells(notebook):
    violations = hidden_names_in_visible_code(notebook)
    assert not violations, f"visible cells use names that only hidden cells define: {violations}"
