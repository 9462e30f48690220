"""Sphinx extension: a self-contained, clean reader's site.

- MathJax 3 is served from the site instead of a CDN, because readers behind course
  firewalls (and the offline browser tests) need every script to come from the site
  itself. MathJax 3.2.2 comes from the ``django-static-mathjax`` package (pinned in
  requirements.txt), which ships the official ``es5`` build; only the TeX-to-CommonHTML
  bundle and its web fonts are copied, which keeps the site small.
- The unused Thebe ("live code") scripts are dropped: the book uses Binder and Colab
  launch buttons instead, and sphinx-thebe's inline configuration was included twice,
  which made the browser report an error on every page.
- The theme's colour mode gets an explicit default, so the first visit does not log
  "invalid theme mode".
"""

from __future__ import annotations

import shutil
from pathlib import Path

BUNDLE = "tex-chtml.js"
FONTS = Path("output") / "chtml" / "fonts" / "woff-v2"
TARGET = "mathjax"  # inside _static


def mathjax_es5_dir() -> Path:
    """Folder of the installed MathJax ``es5`` build; a clear error if the package is missing."""
    try:
        import mathjax  # the django-static-mathjax package
    except ImportError:
        raise RuntimeError("MathJax is not installed: pip install -r requirements.txt (django-static-mathjax)") from None
    folder = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (folder / BUNDLE).is_file():
        raise RuntimeError(f"MathJax bundle {BUNDLE} not found in {folder}")
    return folder


def _use_local_copy(app) -> None:
    if app.builder.format == "html":
        # A relative mathjax_path is resolved against _static by sphinx.ext.mathjax.
        app.config.mathjax_path = f"{TARGET}/{BUNDLE}"
        app.config.html_context.setdefault("default_mode", "auto")


def _is_thebe(asset) -> bool:
    name = str(getattr(asset, "filename", None) or asset)
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return "thebe" in name.lower() or "THEBE_JS_URL" in body


def _drop_thebe(app, pagename, templatename, context, doctree) -> None:
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not _is_thebe(asset)]


def _copy_files(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = mathjax_es5_dir()
    target = Path(app.outdir) / "_static" / TARGET
    (target / FONTS).mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / BUNDLE, target / BUNDLE)
    shutil.copy2(source.parent / "LICENSE", target / "LICENSE")
    for font in (source / FONTS).glob("*.woff"):
        shutil.copy2(font, target / FONTS / font.name)


def setup(app) -> dict:
    app.connect("builder-inited", _use_local_copy)
    app.connect("html-page-context", _drop_thebe)
    app.connect("build-finished", _copy_files)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
