"""Write the launch set-up cell: the first code cell of every chapter in ``chapters/``.

The cell makes a chapter run where the launch buttons send it (Colab, a bare Jupyter) as well
as in a clone. Where the book's helpers are not installed and the notebook does not sit in a
clone, it fetches the book at its release from the one address in ``_config.yml`` (overridable
through the ``BOOK_REPOSITORY`` and ``BOOK_REF`` environment variables), installs ``utils``
from it in editable mode with ``--no-deps`` (so the service's torch and scientific stack stay
as they are, and ``utils.data`` finds ``data/`` next to ``utils/``), and activates that
install in the running kernel. Where ``utils`` is installed (the project's .venv, Binder) it
does nothing but the set-up itself.

Idempotent: run it after adding a chapter or changing the address::

    .venv/bin/python tools/set_launch_cell.py          # rewrite the cells
    .venv/bin/python tools/set_launch_cell.py --check  # exit 1 if a chapter differs
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: find book_address
import book_address  # noqa: E402

CHAPTERS = book_address.ROOT / "chapters"
DISTRIBUTION = "scaling-vs-normalization-utils"  # pyproject.toml's project name
TAGS = ["remove-cell"]  # readers of the site never see the set-up

TEMPLATE = '''\
# Set-up for the whole chapter: seeds from BOOK_SEED, torch threads, the book's plot style.
# Launched without the book's helpers (Colab, a bare Jupyter), this first fetches the book at its
# release and installs `utils` alone (--no-deps: the service's torch and scientific stack stay).
# In a clone or the project's .venv it does nothing more. Written by tools/set_launch_cell.py.
import importlib.metadata, os, pathlib, site, subprocess, sys, sysconfig

try:
    importlib.metadata.version("{distribution}")
except importlib.metadata.PackageNotFoundError:
    here = pathlib.Path.cwd()
    if any((folder / "utils" / "repro.py").is_file() for folder in [here, *here.parents]):
        raise ModuleNotFoundError("utils is not installed: in a clone of the book, run `make lab`") from None
    BOOK_CODE = here / "{folder}"
    if not BOOK_CODE.is_dir():
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", os.environ.get("{ref_variable}", "{release}"),
                        os.environ.get("{url_variable}", "{url}"), str(BOOK_CODE)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(BOOK_CODE)], check=True)
    site.addsitedir(sysconfig.get_paths()["purelib"])  # activate the new install in this running kernel
from utils import setup

BOOK_SEED = setup()'''


def launch_cell_source(address: book_address.Address | None = None) -> str:
    """The set-up cell's source for ``address`` (default: the one in ``_config.yml``).

    >>> "--no-deps" in launch_cell_source() and "from utils import setup" in launch_cell_source()
    True
    """
    address = address or book_address.read()
    return TEMPLATE.format(
        distribution=DISTRIBUTION,
        folder=f"{address.folder}-{address.release}",
        release=address.release,
        url=address.url,
        ref_variable=book_address.REF_VARIABLE,
        url_variable=book_address.URL_VARIABLE,
    )


def first_code_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    for cell in notebook.cells:
        if cell.cell_type == "code":
            return cell
    raise ValueError("the notebook has no code cell to hold the set-up")


def with_launch_cell(notebook: nbformat.NotebookNode, source: str) -> bool:
    """Put ``source`` into the first code cell (tagged remove-cell); return whether it changed."""
    cell = first_code_cell(notebook)
    tags = list(cell.metadata.get("tags", []))
    new_tags = tags + [tag for tag in TAGS if tag not in tags]
    if cell.source == source and new_tags == tags:
        return False
    cell.source = source
    cell.metadata["tags"] = new_tags
    return True


def chapters(folder: Path = CHAPTERS) -> list[Path]:
    return sorted(folder.glob("*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a chapter differs")
    args = parser.parse_args(argv)
    source = launch_cell_source()
    stale = []
    for path in chapters():
        notebook = nbformat.read(path, as_version=4)
        if with_launch_cell(notebook, source):
            stale.append(path.name)
            if not args.check:
                nbformat.write(notebook, path)
    if args.check:
        if stale:
            print("set-up cell differs from tools/set_launch_cell.py in: " + ", ".join(stale))
            return 1
        return 0
    print(f"rewrote the set-up cell of {len(stale)} chapter(s)" + (f": {', '.join(stale)}" if stale else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
