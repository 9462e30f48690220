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
- Tables printed by pandas get no empty header cells: the blank corner above the index
  (``<th></th>``) is written as a data cell, so screen readers do not announce a nameless
  column header (axe-core rule ``empty-table-header``). Done once here, for every chapter.
- Two ARIA problems of the theme and of Sphinx are repaired in the written pages: the primary
  sidebar (logo, search button, table of contents) sits in no landmark, so screen-reader users
  cannot jump to it or past it (axe-core rule ``region``); it becomes a labelled navigation region.
  The bibliography's entries carry ``role="doc-biblioentry"``, deprecated in WAI-ARIA and not a
  list item, so their ``role="list"`` container has no valid items (``aria-required-children``,
  critical); they become ``role="listitem"``.
- The explorable in the convergence chapter (``_static/gd-explorable.js``) is checked against
  the book's own Python: the build writes ``_static/gd-explorable-table.json``, the condition
  number and iteration counts that ``utils.curvature`` computes on the explorable's grid, and a
  browser test compares the page with it.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from docutils import nodes

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


# An empty header cell, as pandas writes it above the index (``<th></th>``, ``<th>&nbsp;</th>``,
# or the Styler's ``<th class="blank level0" >&nbsp;</th>``).
EMPTY_HEADER = re.compile(r"<th(\s[^>]*)?>(?:\s|&nbsp;|&#160;)*</th>")


def without_empty_headers(html: str) -> str:
    """Write empty ``<th>`` cells of an HTML table as ``<td>`` cells, keeping their attributes.

    >>> without_empty_headers('<tr><th></th><th>kappa</th></tr><tr><th class="blank" >&nbsp;</th></tr>')
    '<tr><td></td><th>kappa</th></tr><tr><td class="blank" >&nbsp;</td></tr>'
    """
    return EMPTY_HEADER.sub(lambda match: f"<td{match.group(1) or ''}>{match.group(0)[match.group(0).index('>') + 1:-5]}</td>", html)


def _fix_table_headers(app, doctree, docname) -> None:
    for raw in doctree.findall(nodes.raw):
        if "html" in raw.get("format", "").split() and "<th" in raw.astext():
            fixed = without_empty_headers(raw.astext())
            if fixed != raw.astext():
                raw.children = [nodes.Text(fixed)]


# (what the theme or Sphinx writes, what the page gets); each replacement is idempotent.
ARIA_REPAIRS = [
    (
        '<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar">',
        '<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar" role="navigation" aria-label="Book">',
    ),
    ('role="doc-biblioentry"', 'role="listitem"'),
]


def repair_aria(html: str) -> str:
    """Apply ARIA_REPAIRS to one page.

    >>> repair_aria('<div class="citation" id="id1" role="doc-biblioentry">')
    '<div class="citation" id="id1" role="listitem">'
    """
    for old, new in ARIA_REPAIRS:
        html = html.replace(old, new)
    return html


def _repair_pages(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        repaired = repair_aria(html)
        if repaired != html:
            page.write_text(repaired, encoding="utf-8")


# The explorable's slider positions; _static/gd-explorable.js holds the same grid (a browser test
# checks both agree). No learning rate sits exactly on a stability limit 2 (1 + momentum) / lambda_max,
# where rounding alone would decide between "converges slowly" and "diverges".
GRID = {
    "scale_ratio": [1, 2, 3, 5, 10, 20, 30, 50, 100],
    "mean": [0, 0.25, 0.5, 1, 1.5, 2, 3],
    "lr_fraction": [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.01, 1.05, 1.1, 1.2, 1.4, 1.6, 2.0],
    "momentum": [0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95],
}
EXPLORABLE_TOL = 1e-6
EXPLORABLE_MAX_ITER = 50_000
TABLE = "gd-explorable-table.json"


def _table_settings() -> list[dict[str, float]]:
    """Every scale ratio and mean at the default rate without momentum, and every rate and momentum
    at three shapes of the bowl: 9*7 + 3*19*7 = 462 settings."""
    settings = [
        {"scale_ratio": r, "mean": m, "lr_fraction": 0.5, "momentum": 0} for r in GRID["scale_ratio"] for m in GRID["mean"]
    ]
    for r, m in ((10, 1), (3, 0), (30, 0.5)):
        settings += [
            {"scale_ratio": r, "mean": m, "lr_fraction": f, "momentum": b} for f in GRID["lr_fraction"] for b in GRID["momentum"]
        ]
    return settings


def explorable_table() -> dict:
    """What the explorable must show for each setting, computed by utils.curvature: the condition
    number, whether the iteration diverges (contraction rate above 1), and the iterations to a
    relative distance of 1e-6 from the optimum (``None``: not within EXPLORABLE_MAX_ITER steps)."""
    import numpy as np

    from utils.curvature import contraction_rate, iterations_to_tol, two_feature_hessian

    settings = _table_settings()
    hessians = np.stack([two_feature_hessian(s["scale_ratio"], s["mean"]) for s in settings])
    eigenvalues = np.linalg.eigvalsh(hessians)
    lr = np.array([s["lr_fraction"] for s in settings]) * 2.0 / eigenvalues[:, -1]
    momentum = np.array([s["momentum"] for s in settings], dtype=np.float64)
    iterations = iterations_to_tol(hessians, lr, momentum, tol=EXPLORABLE_TOL, max_iter=EXPLORABLE_MAX_ITER)
    rates = contraction_rate(hessians, lr, momentum)
    rows = [
        {
            **setting,
            "kappa": float(high / low),
            "diverges": bool(rate > 1),
            "iterations": int(count) if np.isfinite(count) else None,
        }
        for setting, (low, high), rate, count in zip(settings, eigenvalues[:, [0, -1]], rates, iterations)
    ]
    return {"grid": GRID, "tol": EXPLORABLE_TOL, "max_iter": EXPLORABLE_MAX_ITER, "rows": rows}


def _export_table(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    import hashlib

    import utils.curvature

    # The table depends only on utils.curvature and the grid: skip the work when neither changed.
    key = hashlib.sha256(Path(utils.curvature.__file__).read_bytes() + json.dumps(GRID).encode()).hexdigest()
    target = Path(app.outdir) / "_static" / TABLE
    if target.is_file() and json.loads(target.read_text()).get("source") == key:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"source": key, **explorable_table()}, indent=1))


def _hide_cells_in_single_page(app) -> None:
    """myst-nb registers its hide-input toggle for the ``html`` builder only; the single-page build
    behind the PDF edition needs the same visitor, or cells tagged ``hide-input`` stop it."""
    from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput

    app.registry.add_translation_handlers(HideCodeCellNode, singlehtml=(visit_HideCellInput, depart_HideCellInput))


def setup(app) -> dict:
    _hide_cells_in_single_page(app)
    app.connect("builder-inited", _use_local_copy)
    app.connect("html-page-context", _drop_thebe)
    app.connect("doctree-resolved", _fix_table_headers)
    app.connect("build-finished", _copy_files)
    app.connect("build-finished", _export_table)
    app.connect("build-finished", _repair_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
