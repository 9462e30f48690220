"""One chapter notebook in, one reader notebook out: cells, exercises across cells, hidden cells."""

from __future__ import annotations

import copy
import re

import nbformat

from .blocks import Directive, Renderer, _tidy, details, parse_blocks
from .facts import BookFacts, ReaderNotebookError

BOOK_SEED = "0"  # the published site's seed: `make notebooks` builds with it (the banner names it)
CHECKS_TITLE = "#@title Checks: the claims in the text, verified when the notebook runs"
NUMBERS_TITLE = "#@title Numbers quoted in the text, computed when the notebook runs"


class ChapterConverter:
    """One chapter notebook in, one reader notebook out."""

    def __init__(self, facts: BookFacts, docname: str):
        self.facts = facts
        self.docname = docname
        self.renderer = Renderer(facts, docname)
        self.mode: str | None = None  # None, "exercise" or "solution"
        self.solution_title = ""
        self.solution_started = False
        self.heading_level = 1

    def convert(self, source: nbformat.NotebookNode) -> nbformat.NotebookNode:
        cells: list[nbformat.NotebookNode] = []
        first_code = next((i for i, cell in enumerate(source.cells) if cell.cell_type == "code"), None)
        for index, cell in enumerate(source.cells):
            if "id" not in cell:  # ids keep the output stable (nbformat would draw random ones)
                cell = copy.copy(cell)
                cell["id"] = f"cell-{index}"
            if cell.cell_type == "markdown":
                text = self.markdown(cell.source, continues=self._solution_continues(source.cells, index))
                if text.strip():
                    cells.append(self._cell(cell, nbformat.v4.new_markdown_cell(text)))
            elif cell.cell_type == "code":
                cells.append(self.code(cell, is_setup=index == first_code))
            else:
                cells.append(copy.deepcopy(cell))
        if self.mode is not None:
            raise ReaderNotebookError(f"{self.docname}: an {self.mode} is never closed")
        self._add_banner(cells)
        reader = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(source.metadata))
        reader.nbformat, reader.nbformat_minor = source.nbformat, max(source.nbformat_minor, 5)
        reader.metadata["reader_notebook"] = {
            "source": f"{self.docname}.ipynb",
            "site": self.facts.url(self.docname),
            "generated_by": "tools/make_reader_notebooks.py (make notebooks): edit the source, not this file",
        }
        return reader

    def _solution_continues(self, cells: list, index: int) -> bool:
        """Is the next cell a code cell (so an open solution continues in code)?"""
        return index + 1 < len(cells) and cells[index + 1].cell_type == "code"

    @staticmethod
    def _cell(original: nbformat.NotebookNode, new: nbformat.NotebookNode) -> nbformat.NotebookNode:
        new["id"] = original["id"]
        kept = {key: value for key, value in original.metadata.items() if key in {"tags", "editable", "deletable"}}
        new.metadata.update(copy.deepcopy(kept))
        return new

    # -- markdown ----------------------------------------------------------------------------

    def markdown(self, text: str, continues: bool) -> str:
        pieces: list[str] = []
        solution: list[str] = []
        for block in parse_blocks(text):
            if isinstance(block, Directive) and block.name in {"exercise-start", "exercise-end", "solution-start", "solution-end", "exercise", "solution"}:
                pieces.extend(self._flush_solution(solution))
                pieces.append(self.exercise_directive(block))
                continue
            rendered = self.renderer.block(block)
            if isinstance(block, str):
                for heading in re.findall(r"^(#{1,6})\s", block, re.M):
                    self.heading_level = len(heading)
            (solution if self.mode == "solution" else pieces).append(rendered)
        if self.mode == "solution":
            if continues:
                solution.append("*The solution's code follows in collapsed cells: expand them, or run them.*")
            pieces.extend(self._flush_solution(solution))
        return _tidy("\n\n".join(piece.strip("\n") for piece in pieces if piece.strip()))

    def _flush_solution(self, solution: list[str]) -> list[str]:
        body = "\n\n".join(piece.strip("\n") for piece in solution if piece.strip())
        solution.clear()
        if not body:
            return []
        summary = self.solution_title + (" (continued)" if self.solution_started else "")
        self.solution_started = True
        return [details(summary, body)]

    def exercise_directive(self, block: Directive) -> str:
        name = block.name
        if name in {"exercise-start", "exercise"}:
            self._expect(None, name)
            label = block.options.get("label", "")
            number = self.renderer._number(label)
            title = f"Exercise {number}" if number else "Exercise"
            if block.argument:
                title += f" ({self.renderer.inline(block.argument)})"
            level = min(self.heading_level + 1, 6)
            heading = f"{'#' * level} {title}"
            if name == "exercise":
                return heading + "\n\n" + self.renderer.blocks(block.body)
            self.mode = "exercise"
            return heading
        if name == "exercise-end":
            self._expect("exercise", name)
            self.mode = None
            return ""
        if name in {"solution-start", "solution"}:
            self._expect(None, name)
            label = block.argument.split()[0] if block.argument else ""
            number = self.renderer._number(label)
            self.solution_title = f"Solution to Exercise {number}" if number else "Solution"
            self.solution_started = False
            if name == "solution":
                return details(self.solution_title, self.renderer.blocks(block.body))
            self.mode = "solution"
            return ""
        self._expect("solution", name)  # solution-end
        self.mode = None
        return ""

    def _expect(self, mode: str | None, name: str) -> None:
        if self.mode != mode:
            raise ReaderNotebookError(f"{self.docname}: {{{name}}} inside an open {self.mode or 'nothing'}")

    # -- code --------------------------------------------------------------------------------

    def code(self, cell: nbformat.NotebookNode, is_setup: bool) -> nbformat.NotebookNode:
        if is_setup:  # the launch set-up cell: verbatim, visible, first to run
            new = nbformat.v4.new_code_cell(cell.source)
            new.metadata.update(copy.deepcopy(cell.metadata))
            new["id"] = cell["id"]
            return new
        tags = set(cell.metadata.get("tags", []))
        source = cell.source
        hide_source = bool(tags & {"remove-cell", "remove-input", "hide-input", "hide-cell"}) or self.mode == "solution"
        hide_output = bool(tags & {"hide-output", "hide-cell"}) or self.mode == "solution"
        title = None
        if self.mode == "solution":
            checks = "remove-cell" in tags and re.search(r"^\s*assert\b", source, re.M)
            title = f"#@title {self.solution_title}: {'checks' if checks else 'code'}"
        elif "remove-cell" in tags:
            title = CHECKS_TITLE if re.search(r"^\s*assert\b", source, re.M) else NUMBERS_TITLE
        if title and not source.lstrip().startswith("#@title"):
            source = f"{title}\n{source}"
        new = self._cell(cell, nbformat.v4.new_code_cell(source))
        if hide_source or hide_output:
            jupyter = {}
            if hide_source:
                jupyter["source_hidden"] = True
                new.metadata["cellView"] = "form"  # Colab: show the #@title, hide the code
            if hide_output:
                jupyter["outputs_hidden"] = True
            new.metadata["jupyter"] = jupyter
        return new

    def _add_banner(self, cells: list[nbformat.NotebookNode]) -> None:
        banner = (
            f"> *Reader's edition of [this chapter]({self.facts.url(self.docname)}) of the book, in plain notebook "
            f"markdown. The numbers in the text are those of the book's own run (`BOOK_SEED={BOOK_SEED}`). Run the "
            "notebook to see the figures; the collapsed cells titled \"Checks\" verify every claim as they run.*"
        )
        for cell in cells:
            if cell.cell_type == "markdown":
                match = re.search(r"^# .*$", cell.source, re.M)
                if match:
                    cell.source = cell.source[: match.end()] + "\n\n" + banner + cell.source[match.end() :]
                    return
        cells.insert(0, nbformat.v4.new_markdown_cell(banner, id="reader-banner"))


