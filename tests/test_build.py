"""The strict site build: zero warnings, and a failing notebook fails the build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import ROOT

JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


def _build(source: Path, strict: bool = True) -> subprocess.CompletedProcess:
    flags = ["-W", "-n", "--keep-going"] if strict else []
    return subprocess.run(
        [str(JUPYTER_BOOK), "build", str(source), *flags],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


@pytest.fixture(scope="module")
def strict_build() -> subprocess.CompletedProcess:
    return _build(ROOT)


def test_strict_build_passes_with_zero_warnings(strict_build):
    log = strict_build.stdout + strict_build.stderr
    assert strict_build.returncode == 0, log[-4000:]
    # Sphinx warnings read "path: WARNING: message"; the kernel's own "WARNING |" notice about
    # its TCP transport is not a build warning.
    sphinx_warnings = [line for line in log.splitlines() if "WARNING:" in line]
    assert not sphinx_warnings, "\n".join(sphinx_warnings)


def test_built_pages_contain_computed_numbers(strict_build):
    html = ROOT / "_build" / "html"
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            page = (html / f"{chapter['file']}.html").read_text()
            assert "glue:" not in page, f"an unresolved glue reference in {chapter['file']}"
    words = (html / "chapters" / "01_words.html").read_text()
    assert "<img" in words and 'alt="Eight histograms' in words


def test_rebuild_with_nothing_changed_executes_nothing(strict_build):
    """make book relies on the execution cache: a second build must not run any notebook."""
    assert strict_build.returncode == 0
    again = _build(ROOT)
    log = again.stdout + again.stderr
    assert again.returncode == 0, log[-2000:]
    assert "Executing notebook" not in log, "a rebuild with nothing changed re-executed a notebook"


def test_failing_notebook_fails_the_build(tmp_path):
    """Proves that nb_execution_raise_on_error in _config.yml takes effect (jupyter-book 1 exits 0 otherwise)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    small = {
        "title": "failing",
        "execute": config["execute"],
        "sphinx": {"config": {"nb_execution_raise_on_error": config["sphinx"]["config"]["nb_execution_raise_on_error"]}},
    }
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(small))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: broken\n")
    (tmp_path / "intro.md").write_text("# Intro\n")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("raise RuntimeError('boom')")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, tmp_path / "broken.ipynb")
    # Not strict: with -W the failure would only be a warning turned into an error, proving nothing.
    result = _build(tmp_path, strict=False)
    assert result.returncode != 0
    assert "boom" in result.stdout + result.stderr
