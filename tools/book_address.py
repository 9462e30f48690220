"""The book's one address: the repository URL and the release, read from ``_config.yml``.

Everything that names the repository (the chapters' launch set-up cell, the clone line of
the intro and the README) is generated from here, so changing ``repository.url`` or
``repository.release`` in ``_config.yml`` and re-running the ``tools/set_*.py`` scripts is
the whole move. Tests fail when a generated line no longer matches.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
# The variables a reader (or a test) sets to fetch the book from elsewhere, e.g. a fork or a
# local checkout; the launch cell reads them before falling back to the embedded defaults.
URL_VARIABLE = "BOOK_REPOSITORY"
REF_VARIABLE = "BOOK_REF"


class Address(NamedTuple):
    url: str  # where `git clone` fetches the book
    release: str  # the tag (or branch) the launch cell fetches
    folder: str  # the folder `git clone <url>` creates


def read(config: Path = ROOT / "_config.yml") -> Address:
    """The address in ``_config.yml`` (``repository.url`` and ``repository.release``).

    >>> read().url.startswith("https://")
    True
    """
    repository = (yaml.safe_load(Path(config).read_text()) or {}).get("repository") or {}
    url, release = repository.get("url"), repository.get("release")
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"{config}: repository.url must name the book's repository")
    if not isinstance(release, str) or not release.strip():
        raise ValueError(f"{config}: repository.release must name the tag the launch cell fetches")
    url = url.strip().rstrip("/")
    folder = url.rsplit("/", 1)[-1].removesuffix(".git")
    return Address(url, release.strip(), folder)
