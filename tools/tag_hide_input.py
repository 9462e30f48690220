"""Tag plotting and table-formatting code cells ``hide-input`` in every chapter notebook.

The reader then sees the figure or table, with the code behind a "Show code cell source" toggle,
while the computation that carries the argument stays visible. Idempotent: a second run changes
nothing. The script only adds the tag; a tag that an author added or kept by hand stays.

    python tools/tag_hide_input.py            # tag chapters/*.ipynb in place
    python tools/tag_hide_input.py --check    # exit 1 and list the cells that would change

tests/test_tag_hide_input.py fails when a chapter differs from what this script produces, so
after merging new chapters run it once and commit the result.

Which cells: a code cell is presentation when its first statement (after imports and comments)
- draws a figure: creates one (``plt.subplots(``, ``plt.figure(``), publishes one (``glue_figure(``)
  or calls one of the book's figure helpers (``utils.plotting``);
- or formats a table: a pandas Styler (``.style``) or an explicit rendering (``.to_html(``,
  ``.to_markdown(``, ``.to_latex(``).
A cell tagged ``remove-output`` that publishes a figure (``glue_figure(``) is a figure cell too:
its only product is the figure, which the book shows through the glue directive. Any other cell
that first computes something and then plots it stays visible: its computation is part of the
argument (split such a cell in two to hide the plotting half).
Cells already hidden or removed (``remove-cell``, ``remove-input``, ``hide-cell``) and the code of
exercise solutions (between ``solution-start`` and ``solution-end``, which already sits in a
dropdown) are left alone.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
TAG = "hide-input"
ALREADY_HIDDEN = {"remove-cell", "remove-input", "hide-cell", TAG}
FIGURE = re.compile(
    r"\bplt\.(subplots|figure|subplot_mosaic)\(|\bglue_figure\(|"
    r"\b(histogram_panels|lr_sweep_plot|lr_sweep_by_optimizer|loss_curves|quadratic_contours)\("
)
TABLE_FORMAT = re.compile(r"\.style\b|\.to_(html|markdown|latex)\(")


def is_presentation(source: str) -> bool:
    """True for a cell whose first statement draws a figure or formats a table.

    >>> is_presentation("figure, axis = plt.subplots()\\naxis.plot(x, y)")
    True
    >>> is_presentation("import numpy as np\\n# the table, rounded\\ntable.style.format('{:.2f}')")
    True
    >>> is_presentation("hessian = features.T @ features / len(features)")
    False
    >>> is_presentation("rates = sweep(data)\\nfigure, axis = plt.subplots()")  # computes first: stays visible
    False
    """
    for line in source.splitlines():
        code = line.split("#", 1)[0].strip()  # ignore comments
        if not code or code.startswith(("import ", "from ")):
            continue
        return bool(FIGURE.search(code) or TABLE_FORMAT.search(code))
    return False


def tag_notebook(notebook: nbformat.NotebookNode) -> list[str]:
    """Add ``hide-input`` to the presentation cells of ``notebook`` in place; return the changed cell ids."""
    changed = []
    in_solution = False
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            if "solution-start" in cell.source:
                in_solution = True
            if "solution-end" in cell.source:
                in_solution = False
            continue
        if cell.cell_type != "code" or in_solution:
            continue
        tags = cell.metadata.get("tags", [])
        figure_only = "remove-output" in tags and "glue_figure(" in cell.source
        if ALREADY_HIDDEN & set(tags) or not (is_presentation(cell.source) or figure_only):
            continue
        cell.metadata["tags"] = [*tags, TAG]
        changed.append(cell.get("id", "?"))
    return changed


def chapters(root: Path = ROOT) -> list[Path]:
    return sorted((root / "chapters").glob("*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook would change")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: chapters/*.ipynb")
    args = parser.parse_args(argv)
    stale = 0
    for path in args.notebooks or chapters():
        notebook = nbformat.read(path, as_version=4)
        changed = tag_notebook(notebook)
        if not changed:
            continue
        stale += 1
        print(f"{path}: {TAG} on cells {', '.join(changed)}")
        if not args.check:
            nbformat.write(notebook, path)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
