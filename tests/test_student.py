"""The student edition (tools/student_edition.py, `make student`).

Fast (in `make test`): no solution prose or code remains in any student notebook, every
exercise statement does, and a malformed region is refused. Slow (`make test-editions`): the
student notebooks, written to a folder of their own, still run from top to bottom.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import CHAPTERS
from editions import slow, tool

student = tool("student_edition")


def _paragraphs(text: str) -> list[str]:
    return [block.strip() for block in re.split(r"\n\s*\n", text) if len(block.strip()) > 30]


@pytest.mark.parametrize("path", CHAPTERS, ids=[path.stem for path in CHAPTERS])
def test_student_notebook_has_no_solution_left(path):
    original = nbformat.read(path, as_version=4)
    split = student.split_solutions(original)
    prose = "\n".join(cell.source for cell in split.student.cells if cell.cell_type == "markdown")
    code_cells = {cell.source for cell in split.student.cells if cell.cell_type == "code"}
    assert "solution-start" not in prose and "solution-end" not in prose and "{solution}" not in prose
    statements = student.exercises(original)
    assert [solution.label for solution in split.solutions] == list(statements), "one solution per exercise, in order"
    for solution in split.solutions:
        assert solution.parts, f"{solution.label}: empty solution"
        for kind, text in solution.parts:
            if kind == "code":
                assert text not in code_cells, f"{solution.label}: solution code left in the student notebook"
            else:
                for paragraph in _paragraphs(text):
                    assert paragraph not in prose, f"{solution.label}: solution text left: {paragraph[:60]}..."
    for label, statement in statements.items():
        assert statement in prose, f"{label}: the exercise statement is missing from the student edition"
    # Everything outside the solutions stays: the student notebook loses only solution cells.
    solution_code = sum(kind == "code" for solution in split.solutions for kind, _ in solution.parts)
    assert sum(cell.cell_type == "code" for cell in split.student.cells) == sum(
        cell.cell_type == "code" for cell in original.cells
    ) - solution_code


def test_an_unclosed_solution_is_refused():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("```{solution-start} lost\n:class: dropdown\n```\nA.")])
    with pytest.raises(ValueError, match="lost"):
        student.split_solutions(notebook)


def test_a_chapter_without_solution_markup_is_refused(tmp_path):
    path = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Plain")]), path)
    with pytest.raises(ValueError, match="no solution regions"):
        student.build([path], tmp_path / "out")


def test_answer_key_has_every_exercise_and_solution(tmp_path):
    student.build(CHAPTERS, tmp_path)
    key = (tmp_path / "answer-key.md").read_text()
    for path in CHAPTERS:
        original = nbformat.read(path, as_version=4)
        assert f"## {student.title(original)}" in key
        for solution in student.split_solutions(original).solutions:
            assert f"### Exercise `{solution.label}`" in key
            assert all(text in key for _, text in solution.parts)
    assert "(statement not found)" not in key


@slow
@pytest.mark.parametrize("path", CHAPTERS, ids=[path.stem for path in CHAPTERS])
def test_student_notebook_still_runs(path, tmp_path_factory):
    folder = tmp_path_factory.getbasetemp() / "student"
    if not (folder / "chapters" / path.name).is_file():
        student.build(CHAPTERS, folder)
    notebook = nbformat.read(folder / "chapters" / path.name, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder / "chapters")}}).execute()

