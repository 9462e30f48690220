"""The execution cache knows a notebook by its source, not by ``BOOK_SEED``: keep it per seed.

myst-nb's cache (``_build/.jupyter_cache``) reuses a notebook's outputs while its source is
unchanged, so a build at ``BOOK_SEED=7`` after one at seed 0 would serve seed 0's numbers and never
run the chapters' checks at seed 7. This extension stamps the cache with the seed it was filled at
and empties it (and Sphinx's environment) when the build's seed differs, so every build executes
(and checks) its own seed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config

STAMP = "BOOK_SEED"


def build_seed() -> str:
    """The seed the chapters will run at, as ``utils.repro.book_seed`` reads it (empty means 0)."""
    return os.environ.get("BOOK_SEED", "").strip() or "0"


def _cache_dir(app: Sphinx, config: Config) -> Path:
    configured = getattr(config, "nb_execution_cache_path", "") or ""
    return Path(configured) if configured else Path(app.outdir).parent / ".jupyter_cache"


def keep_cache_for_seed(cache: Path, seed: str) -> bool:
    """Empty ``cache`` unless it was filled at ``seed``; stamp it with ``seed``. True if it was kept."""
    stamp = cache / STAMP
    kept = cache.is_dir() and stamp.is_file() and stamp.read_text().strip() == seed
    if cache.exists() and not kept:
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(seed + "\n")
    return kept


def _on_config_inited(app: Sphinx, config: Config) -> None:
    if not keep_cache_for_seed(_cache_dir(app, config), build_seed()):
        # Sphinx re-reads (and myst-nb re-executes) only documents it thinks changed: forget its
        # environment too, so every chapter runs at the new seed. config-inited comes before the
        # environment is loaded, so the build starts fresh.
        (Path(app.doctreedir) / "environment.pickle").unlink(missing_ok=True)


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _on_config_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
