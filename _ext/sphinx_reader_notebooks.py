"""Sphinx extension: a chapter's launch and download buttons open its reader notebook.

sphinx-book-theme builds the Binder and Colab links, and the ``.ipynb`` download, from the page's
own source path (``chapters/01_words.ipynb``) on ``repository.branch``. That source is MyST: outside
the site it shows raw roles and directives. ``tools/make_reader_notebooks.py`` writes the same
chapter in plain notebook markdown into the built site (``notebooks/01_words.ipynb``), and
``make publish`` puts the site on the branch named by ``reader_notebooks_branch`` (``_config.yml``,
``sphinx.config``; GitHub Pages serves it). This hook (which runs after the theme's, at priority
501) points every chapter's launch buttons at that published reader notebook and its download
button at the site's copy.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

READER_FOLDER = "notebooks"  # in the built site, and so on the published branch
SOURCE_FOLDER = "chapters"
# Binder: .../v2/gh/<org>/<repo>/<branch>?urlpath=...; Colab: .../github/<org>/<repo>/blob/<branch>/<path>
BRANCH_IN_URL = re.compile(r"(/v2/gh/[^/]+/[^/?]+/|/github/[^/]+/[^/]+/blob/)([^/?]+)")


def reader_notebook(pagename: str) -> str | None:
    """The file name of a chapter page's reader notebook, or None if the page is not a chapter.

    >>> reader_notebook("chapters/01_words"), reader_notebook("intro")
    ('01_words.ipynb', None)
    """
    if not isinstance(pagename, str):
        raise TypeError(f"pagename must be a Sphinx docname (str), got {type(pagename).__name__}")
    if not pagename.startswith(f"{SOURCE_FOLDER}/"):
        return None
    return f"{Path(pagename).name}.ipynb"


def point_buttons(context: dict[str, Any], pagename: str, reader_name: str, download_url: str, branch: str) -> int:
    """Rewrite the theme's launch and download buttons in ``context``; return how many changed.

    >>> buttons = [{"label": "launch-buttons", "buttons": [{"url": "https://colab/github/o/r/blob/main/chapters/a.ipynb"}]}]
    >>> point_buttons({"header_buttons": buttons}, "chapters/a", "a.ipynb", "../notebooks/a.ipynb", "gh-pages")
    1
    >>> buttons[0]["buttons"][0]["url"]
    'https://colab/github/o/r/blob/gh-pages/notebooks/a.ipynb'
    """
    if not isinstance(branch, str) or not branch:
        raise ValueError(f"reader_notebooks_branch must name a git branch, got {branch!r}")
    source, target = f"{pagename}.ipynb", f"{READER_FOLDER}/{reader_name}"
    changed = 0
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []):
            url = button.get("url", "")
            if group.get("label") == "launch-buttons" and url.endswith(source):
                url = url[: -len(source)] + target
                button["url"] = BRANCH_IN_URL.sub(lambda match: match.group(1) + branch, url, count=1)
                changed += 1
            elif group.get("label") == "download-buttons" and button.get("label") == "download-source-button":
                button["url"] = download_url
                button["tooltip"] = "Download the notebook (reader's edition)"
                changed += 1
    return changed


def _point_buttons(app, pagename, templatename, context, doctree) -> None:
    reader = reader_notebook(pagename)
    if reader is not None and "pathto" in context:
        download = context["pathto"](f"{READER_FOLDER}/{reader}", 1)
        point_buttons(context, pagename, reader, download, app.config.reader_notebooks_branch)


def setup(app) -> dict:
    # Where `make publish` puts the site and its reader notebooks (a branch of repository.url).
    app.add_config_value("reader_notebooks_branch", "gh-pages", "html", types=[str])
    app.connect("html-page-context", _point_buttons, priority=502)  # after the theme's buttons (501)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
