"""The student edition: chapters without their solutions, and an instructor answer key.

Solutions are the sphinx-exercise gated regions, from a ``{solution-start}`` fence to its
``{solution-end}`` fence: the prose between them and every code cell in between (the executed
solution and its hidden checks). A region may start or end inside a markdown cell that also
holds other prose; that prose stays. The answer key (one Markdown page) gives each exercise
with its solution, chapter by chapter.

    .venv/bin/python tools/student_edition.py [--out _build/student]
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
FENCE = r"^(?P<fence>`{{3,}}|:{{3,}})\{{{name}\}}(?P<argument>[^\n]*)\n(?:.*?\n)??(?P=fence)[ \t]*$"
SOLUTION_START = re.compile(FENCE.format(name="solution-start"), re.M | re.S)
SOLUTION_END = re.compile(FENCE.format(name="solution-end"), re.M | re.S)
EXERCISE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{exercise-start\}[^\n]*\n(?P<options>(?::[^\n]*\n)*)(?P=fence)[ \t]*\n"
    r"(?P<body>.*?)^(?P=fence)\{exercise-end\}",
    re.M | re.S,
)


@dataclass
class Solution:
    label: str
    parts: list[tuple[str, str]] = field(default_factory=list)  # ("markdown" | "code", text)


@dataclass
class Split:
    student: nbformat.NotebookNode
    solutions: list[Solution]


def split_solutions(notebook: nbformat.NotebookNode) -> Split:
    """The notebook without its solution regions, and the regions themselves in order.

    >>> cell = nbformat.v4.new_markdown_cell
    >>> nb = nbformat.v4.new_notebook(cells=[cell("Q?\\n```{solution-start} q\\n```\\nA."), nbformat.v4.new_code_cell("1"), cell("```{solution-end}\\n```\\nNext")])
    >>> split = split_solutions(nb)
    >>> [c.source for c in split.student.cells], split.solutions[0].label
    (['Q?', 'Next'], 'q')
    """
    student = nbformat.from_dict(notebook)
    kept, solutions, inside = [], [], None
    for cell in student.cells:
        if cell.cell_type != "markdown":
            if inside is not None:
                inside.parts.append((cell.cell_type, cell.source))
            else:
                kept.append(cell)
            continue
        text, position, keep = cell.source, 0, []
        while True:
            if inside is None:
                start = SOLUTION_START.search(text, position)
                if start is None:
                    keep.append(text[position:])
                    break
                keep.append(text[position : start.start()])
                inside = Solution(label=start.group("argument").strip())
                solutions.append(inside)
                position = start.end()
            else:
                end = SOLUTION_END.search(text, position)
                stop = len(text) if end is None else end.start()
                if text[position:stop].strip():
                    inside.parts.append(("markdown", text[position:stop].strip("\n")))
                if end is None:
                    break
                inside, position = None, end.end()
        remaining = re.sub(r"\n{3,}", "\n\n", "".join(keep)).strip("\n")
        if remaining.strip():
            cell.source = remaining
            kept.append(cell)
    if inside is not None:
        raise ValueError(f"solution {inside.label!r} has a {{solution-start}} without a {{solution-end}}")
    student.cells = kept
    return Split(student, solutions)


def exercises(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """Each exercise's label and statement, in order."""
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    found = {}
    for match in EXERCISE.finditer(prose):
        label = re.search(r"^:label:\s*(\S+)", match.group("options"), re.M)
        body = match.group("body").strip()
        found[label.group(1) if label else f"exercise-{len(found) + 1}"] = body
    return found


def title(notebook: nbformat.NotebookNode) -> str:
    for cell in notebook.cells:
        heading = re.search(r"^# (.+)$", cell.source, re.M) if cell.cell_type == "markdown" else None
        if heading:
            return heading.group(1).strip()
    return "Untitled chapter"


def answer_key(chapters: list[tuple[nbformat.NotebookNode, Split]]) -> str:
    lines = [
        "# Answer key",
        "",
        "Every exercise of the book with its solution, for instructors. Code blocks are the executed",
        "solutions; they run inside their chapter, after the cells before the exercise. Numbers written",
        "as `{glue:text}` roles are computed when the chapter runs (see the instructor PDF for them).",
    ]
    for notebook, split in chapters:
        statements = exercises(notebook)
        lines += ["", f"## {title(notebook)}"]
        for solution in split.solutions:
            lines += ["", f"### Exercise `{solution.label}`", "", statements.get(solution.label, "(statement not found)"), "", "**Solution.**"]
            for kind, text in solution.parts:
                lines += ["", f"```python\n{text}\n```" if kind == "code" else text]
    return "\n".join(lines) + "\n"


def build(chapter_paths: list[Path], out: Path) -> list[Path]:
    """Write the student notebooks to ``out/chapters`` and ``out/answer-key.md``; return the notebooks."""
    (out / "chapters").mkdir(parents=True, exist_ok=True)
    written, chapters = [], []
    for path in chapter_paths:
        notebook = nbformat.read(path, as_version=4)
        split = split_solutions(notebook)
        if not split.solutions:
            raise ValueError(f"{path.name}: no solution regions found; is the exercise markup still sphinx-exercise's gated form?")
        target = out / "chapters" / path.name
        nbformat.write(split.student, target)
        written.append(target)
        chapters.append((notebook, split))
    (out / "answer-key.md").write_text(answer_key(chapters))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "student")
    args = parser.parse_args(argv)
    written = build(sorted((ROOT / "chapters").glob("*.ipynb")), args.out)
    print(f"wrote {len(written)} student notebooks to {args.out / 'chapters'} and {args.out / 'answer-key.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
