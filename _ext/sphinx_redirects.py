"""Old chapter addresses keep working: a small page at each old path sends the reader to the new one.

The chapter files were renamed so that a file's number is its chapter's number; readers, courses and
search engines may still hold the old addresses. ``book_redirects`` in ``_config.yml`` (sphinx.config)
maps an old document name to its new one; each becomes an HTML page with a meta refresh, a canonical
link and a plain link for readers without automatic redirects.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from sphinx.application import Sphinx

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Moved: {title}</title>
<link rel="canonical" href="{target}">
<meta http-equiv="refresh" content="0; url={target}">
</head>
<body>
<p>This page has moved to <a href="{target}">{target}</a>.</p>
</body>
</html>
"""


def redirect_page(old: str, new: str) -> str:
    """The HTML of the page left at ``old``.html, pointing to ``new``.html by a relative link."""
    target = os.path.relpath(f"{new}.html", start=os.path.dirname(f"{old}.html") or ".")
    return PAGE.format(title=html.escape(new), target=html.escape(Path(target).as_posix()))


def _write_redirects(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html" or app.builder.name == "singlehtml":
        return
    known = set(app.env.found_docs)
    for old, new in app.config.book_redirects.items():
        if new not in known:
            raise ValueError(f"book_redirects: {old!r} points to {new!r}, which is not a document of the book")
        if old in known:
            raise ValueError(f"book_redirects: {old!r} is still a document of the book; it cannot redirect")
        page = Path(app.outdir) / f"{old}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(redirect_page(old, new), encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.add_config_value("book_redirects", {}, "html")
    app.connect("build-finished", _write_redirects)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
