"""Sphinx extension: a chapter's launch and download buttons open its reader notebook.

sphinx-book-theme builds the Binder and Colab links, and the ``.ipynb`` download, from the page's
own source path (``chapters/01_words.ipynb``). That source is MyST: outside the site it shows raw
roles and directives. ``tools/make_reader_notebooks.py`` writes the same chapter in plain notebook
markdown to ``notebooks/01_words.ipynb``; when that file exists, this hook (which runs after the
theme's, at priority 501) points the buttons at it and copies it into the site for the download.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

READER_FOLDER = "notebooks"  # in the repository and in the built site
SOURCE_FOLDER = "chapters"


def reader_notebook(srcdir: str | Path, pagename: str) -> Path | None:
    """The reader notebook of a chapter page, or None if the page has none.

    >>> reader_notebook("/nowhere", "intro") is None
    True
    """
    if not isinstance(pagename, str):
        raise TypeError(f"pagename must be a Sphinx docname (str), got {type(pagename).__name__}")
    if not pagename.startswith(f"{SOURCE_FOLDER}/"):
        return None
    path = Path(srcdir) / READER_FOLDER / f"{Path(pagename).name}.ipynb"
    return path if path.is_file() else None


def point_buttons(context: dict[str, Any], pagename: str, reader_name: str, download_url: str) -> int:
    """Rewrite the theme's launch and download buttons in ``context``; return how many changed.

    >>> buttons = [{"label": "launch-buttons", "buttons": [{"url": "https://colab/x/chapters/a.ipynb"}]}]
    >>> point_buttons({"header_buttons": buttons}, "chapters/a", "a.ipynb", "../notebooks/a.ipynb")
    1
    >>> buttons[0]["buttons"][0]["url"]
    'https://colab/x/notebooks/a.ipynb'
    """
    source, target = f"{pagename}.ipynb", f"{READER_FOLDER}/{reader_name}"
    changed = 0
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []):
            url = button.get("url", "")
            if group.get("label") == "launch-buttons" and url.endswith(source):
                button["url"] = url[: -len(source)] + target
                changed += 1
            elif group.get("label") == "download-buttons" and button.get("label") == "download-source-button":
                button["url"] = download_url
                button["tooltip"] = "Download the notebook (reader's edition)"
                changed += 1
    return changed


def _point_buttons(app, pagename, templatename, context, doctree) -> None:
    reader = reader_notebook(app.srcdir, pagename)
    if reader is not None and "pathto" in context:
        point_buttons(context, pagename, reader.name, context["pathto"](f"{READER_FOLDER}/{reader.name}", 1))


def _copy_reader_notebooks(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / READER_FOLDER
    for docname in sorted(app.env.found_docs):
        reader = reader_notebook(app.srcdir, docname)
        if reader is not None:
            target.mkdir(exist_ok=True)
            shutil.copy2(reader, target / reader.name)


def _note_dependency(app, docname, source) -> None:
    # A rewritten reader notebook makes Sphinx re-read (cached, not re-executed) and re-write its chapter.
    reader = reader_notebook(app.srcdir, docname)
    if reader is not None:
        app.env.dependencies[docname].add(str(reader))


def _newly_generated(app, env, added, changed, removed) -> list[str]:
    # A reader notebook that appeared after its chapter was read: the chapter's buttons must change.
    return [
        docname
        for docname in env.found_docs
        if (reader := reader_notebook(app.srcdir, docname)) is not None
        and str(reader) not in env.dependencies.get(docname, set())
        and docname not in added | changed
    ]


def setup(app) -> dict:
    app.connect("source-read", _note_dependency)
    app.connect("env-get-outdated", _newly_generated)
    app.connect("html-page-context", _point_buttons, priority=502)  # after the theme's buttons (501)
    app.connect("build-finished", _copy_reader_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
