"""Which way imports point: chapters -> utils -> torch / scikit-learn; _config.yml -> _ext -> utils.

``utils`` is the science the chapters import; it never imports the book's Sphinx machinery (``_ext``)
nor Sphinx, docutils or myst-parser (myst-nb's ``glue``, which publishes numbers, is allowed).
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_UTILS = ("sphinx", "sphinxcontrib", "docutils", "myst_parser", "_ext")
UTILS_MODULES = sorted(path.stem for path in (ROOT / "utils").glob("*.py") if path.stem != "__init__")


def _imported_roots(source: str) -> set[str]:
    """Top-level names of every module a piece of Python source imports, wherever the import is."""
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("module", UTILS_MODULES)
def test_utils_never_imports_the_book_machinery(module):
    roots = _imported_roots((ROOT / "utils" / f"{module}.py").read_text())
    assert not roots & set(FORBIDDEN_IN_UTILS), f"utils/{module}.py imports {sorted(roots & set(FORBIDDEN_IN_UTILS))}"


def test_importing_every_utils_module_loads_no_sphinx():
    code = ("import sys\n" + "".join(f"import utils.{m}\n" for m in UTILS_MODULES)
            + f"print([m for m in {FORBIDDEN_IN_UTILS!r} if m in sys.modules])")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    assert loaded.strip() == "[]"


@pytest.mark.parametrize("notebook", sorted((ROOT / "chapters").glob("*.ipynb")), ids=lambda path: path.stem)
def test_chapters_import_utils_not_the_machinery(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    for cell in cells:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
            assert "_ext" not in _imported_roots("\n".join(lines)), f"{notebook.name} imports _ext"


def test_config_loads_the_sphinx_package_from_ext():
    config = (ROOT / "_config.yml").read_text()
    for name in ("sphinx_site", "sphinx_lists", "sphinx_reader_notebooks", "sphinx_seed_cache"):
        assert f"_ext.{name}" in config
        assert not (ROOT / "utils" / f"{name}.py").exists()


def test_the_execution_cache_is_kept_per_seed(tmp_path):
    from _ext.sphinx_seed_cache import keep_cache_for_seed

    cache = tmp_path / ".jupyter_cache"
    assert not keep_cache_for_seed(cache, "0")  # nothing to keep; stamped
    (cache / "global.db").write_text("outputs of seed 0")
    assert keep_cache_for_seed(cache, "0") and (cache / "global.db").exists()
    # Another seed: seed 0's outputs must not be served, so the cache is emptied and restamped.
    assert not keep_cache_for_seed(cache, "7") and not (cache / "global.db").exists()
    assert (cache / "BOOK_SEED").read_text().strip() == "7"
    # A cache without a stamp (filled before this extension) is not trusted either.
    (cache / "BOOK_SEED").unlink()
    (cache / "global.db").write_text("unknown seed")
    assert not keep_cache_for_seed(cache, "7") and not (cache / "global.db").exists()
