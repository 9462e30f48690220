"""Reader notebooks: the chapters in plain Jupyter markdown, with the book's numbers filled in.

The chapters in ``chapters/`` are MyST sources. Outside the site (JupyterLab, Colab, Binder) their
roles and directives show as raw text. This tool writes the same chapters in markdown that every
notebook front end renders (glued numbers filled in as on the site, figures as numbered captions,
admonitions as block quotes, exercises as headings with collapsed solutions, citations and
cross-references as links to the site, hidden check cells collapsed in place, the launch set-up cell
verbatim). How, part by part: ``tools/reader_notebooks/`` (facts, inline, blocks, chapter).

The reader notebooks are **build outputs**, like the site: they quote one build's numbers, so they
are generated from that build and published with it, never committed. Run the strict build first;
``make notebooks`` does both::

    python tools/make_reader_notebooks.py           # write _build/html/notebooks/ and notebooks/
    python tools/make_reader_notebooks.py --check   # exit 1 if the site's copies differ from the build

``_build/html/notebooks/`` is what ``make publish`` puts on the site (where the launch buttons open
them); ``notebooks/`` is a working copy for ``make lab`` (git ignores both).

The tool does not import the book's ``utils``: it is publishing machinery, not science.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: find reader_notebooks/
from reader_notebooks import *  # noqa: E402,F401,F403  (the tests use the tool's names through this module)
from reader_notebooks import OUTPUT_FOLDER, ROOT, BookFacts, ChapterConverter, ReaderNotebookError, collect_facts  # noqa: E402

SITE_FOLDER = Path("_build") / "html" / OUTPUT_FOLDER  # published with the site (make publish)


def reader_path(root: Path, docname: str, folder: Path | str = OUTPUT_FOLDER) -> Path:
    """Where the reader notebook of chapter ``docname`` goes, under ``root / folder``."""
    return root / folder / f"{Path(docname).name}.ipynb"


def render_chapter(facts: BookFacts, docname: str) -> str:
    """The reader notebook of one chapter, as the exact text to write."""
    source = nbformat.read(facts.root / f"{docname}.ipynb", as_version=4)
    reader = ChapterConverter(facts, docname).convert(source)
    nbformat.validate(reader)
    return nbformat.writes(reader) + "\n"


def render_all(facts: BookFacts) -> dict[str, str]:
    """Every chapter's reader notebook: file name -> text."""
    return {reader_path(facts.root, docname).name: render_chapter(facts, docname) for docname in facts.chapters}


def stale_files(folder: Path, rendered: dict[str, str]) -> list[str]:
    """Reader notebooks in ``folder`` that differ from ``rendered``, are missing, or have no chapter."""
    stale = [name for name, text in rendered.items() if not (folder / name).is_file() or (folder / name).read_text() != text]
    orphans = sorted({path.name for path in folder.glob("*.ipynb")} - set(rendered))
    return stale + [f"{name} (no chapter)" for name in orphans]


def write(folder: Path, rendered: dict[str, str]) -> list[str]:
    """Make ``folder`` hold exactly ``rendered``; return what changed."""
    folder.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in rendered.items():
        path = folder / name
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            changed.append(f"wrote {path}")
    for path in folder.glob("*.ipynb"):
        if path.name not in rendered:
            path.unlink()
            changed.append(f"removed {path} (its chapter is gone)")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report site copies that differ from the build (exit 1)")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    try:
        rendered = render_all(collect_facts(args.root))
    except ReaderNotebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.check:
        stale = stale_files(args.root / SITE_FOLDER, rendered)
        for name in stale:
            print(f"stale: {SITE_FOLDER / name} (run make notebooks)", file=sys.stderr)
        return 1 if stale else 0
    for folder in (args.root / SITE_FOLDER, args.root / OUTPUT_FOLDER):
        for line in write(folder, rendered):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
