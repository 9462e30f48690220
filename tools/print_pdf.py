"""Print the single-page build of the book (``_build/singlehtml``) to PDF with the system Chromium.

jupyter-book's own ``pdfhtml`` builder downloads a browser, which cannot work offline; this
prints the same kind of page through Playwright and the Chromium the browser tests use. Two
editions come out of one build:

- instructor: every dropdown (solutions, hidden code) opened;
- student: the exercise solutions removed from the page before printing.

Math is rendered by MathJax before printing, figures keep their numbers (Sphinx numfig), and
the text stays extractable (Chromium writes real text, not images of it). The first page is a
title page with the book's version (CITATION.cff, which a test keeps equal to _config.yml's
release) and the printing date; hidden-code toggles are unwrapped (their code printed, their
"Hide code cell" titles dropped, empty ones removed), and long code lines wrap at the margin.

    .venv/bin/python tools/print_pdf.py [--html _build/singlehtml] [--out _build/pdf]
"""

from __future__ import annotations

import argparse
import datetime
import functools
import html as html_text
import http.server
import os
import shutil
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDITIONS = ("instructor", "student")
NAME = "scaling-vs-normalization-{edition}.pdf"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-dev-shm-usage"]

EDITION_TITLES = {"instructor": "Instructor edition, with solutions", "student": "Student edition, without solutions"}

# Run in the page before printing. Opening dropdowns matters: a closed one prints as its title only.
PREPARE = """
([edition, titlePage]) => {
  if (edition === "student") {
    document.querySelectorAll(".solution").forEach((element) => element.remove());
  }
  // Hidden-code toggles: print the code itself, without the "Show/Hide code cell" box around it;
  // a toggle with nothing visible inside (its output removed, its code empty) goes entirely.
  document.querySelectorAll("details.hide").forEach((element) => {
    element.querySelectorAll(":scope > summary").forEach((summary) => summary.remove());
    if (!element.textContent.trim() && !element.querySelector("img, svg")) { element.remove(); return; }
    element.replaceWith(...Array.from(element.childNodes));
  });
  document.querySelectorAll(".cell").forEach((cell) => {
    if (!cell.textContent.trim() && !cell.querySelector("img, svg")) cell.remove();
  });
  // The theme's print header (the book title as an <h1>, which our page rule breaks before, then
  // the contents) comes before the article: printed as it is, it leaves page 1 blank. The title
  // page goes first, the contents follow it without the repeated title.
  const article = document.querySelector(".bd-article") || document.body;
  const printHeader = document.getElementById("jb-print-docs-body");
  if (printHeader) {
    printHeader.querySelectorAll(":scope > h1").forEach((heading) => heading.remove());
    article.insertAdjacentElement("afterbegin", printHeader);
  }
  article.insertAdjacentHTML("afterbegin", titlePage);
  document.querySelectorAll("details").forEach((element) => element.setAttribute("open", ""));
  document.querySelectorAll(".toggle-hidden").forEach((element) => element.classList.remove("toggle-hidden"));
  document.querySelectorAll("img[loading]").forEach((image) => { image.loading = "eager"; });
  const style = document.createElement("style");
  style.textContent = `
    @page { size: A4; margin: 16mm 14mm 18mm 14mm; }
    .toggle-button, button.toggle-button, .headerlink, .bd-header, .bd-sidebar-primary,
    .bd-sidebar-secondary, .header-article, .prev-next-area, .bd-footer, .bd-footer-content,
    .search-button-field, .theme-switch-button { display: none !important; }
    .bd-main .bd-content .bd-article-container { max-width: 100% !important; }
    .toggle-hidden, .dropdown .admonition-title ~ * { display: block !important; visibility: visible !important; }
    figure, img, .cell_output { break-inside: avoid; }
    h1 { break-before: page; }
    .print-title-page { break-after: page; text-align: center; padding-top: 30vh; }
    .print-title-page .print-book-title { font-size: 2.2em; font-weight: bold; margin-bottom: 1em; }
    .print-title-page p { font-size: 1.2em; margin: 0.6em 0; }
    pre, .highlight pre, div.highlight pre { white-space: pre-wrap !important; overflow-wrap: anywhere;
      overflow-x: visible !important; word-break: normal; }
  `;
  document.head.appendChild(style);
  return Promise.all(Array.from(document.images).map((image) => image.complete ? null :
    new Promise((done) => { image.onload = image.onerror = done; })));
}
"""


def book_metadata(root: Path = ROOT) -> dict[str, str]:
    """Title, authors and version of the book, from CITATION.cff (the citable record)."""
    import yaml

    citation = yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))
    version = str(citation.get("version", "")).strip()
    if not version:
        raise ValueError("CITATION.cff has no version: the PDF's title page needs one")
    authors = ", ".join(author.get("name") or " ".join(filter(None, [author.get("given-names"), author.get("family-names")]))
                        for author in citation.get("authors", []))
    return {"title": str(citation["title"]), "authors": authors, "version": version}


def title_page(edition: str, date: datetime.date | None = None, root: Path = ROOT) -> str:
    """The HTML of the PDF's first page: title, authors, edition, version and printing date."""
    if edition not in EDITION_TITLES:
        raise ValueError(f"unknown edition {edition!r}; choose from {EDITIONS}")
    meta = {key: html_text.escape(value) for key, value in book_metadata(root).items()}
    printed = (date or datetime.date.today()).isoformat()
    return (f'<div class="print-title-page"><div class="print-book-title">{meta["title"]}</div><p>{meta["authors"]}</p>'
            f"<p>{EDITION_TITLES[edition]}</p><p>Version {meta['version']} · printed {printed}</p></div>")


FOOTER = '<div style="font-size:8px;width:100%;text-align:center;color:#555"><span class="pageNumber"></span> / <span class="totalPages"></span></div>'


def chromium() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise RuntimeError("no Chromium found: apt-get install chromium, or set CHROMIUM=/path/to/chrome")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serve(folder: Path):
    """Serve ``folder`` on 127.0.0.1 (MathJax loads its fonts by URL; file:// would block some)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


def print_editions(html: Path, out: Path, editions: tuple[str, ...] = EDITIONS) -> list[Path]:
    """Print ``html/index.html`` once per edition into ``out``; return the PDF paths."""
    if not (html / "index.html").is_file():
        raise FileNotFoundError(f"{html / 'index.html'} not found: build it with `jupyter-book build . --builder singlehtml`")
    unknown = set(editions) - set(EDITIONS)
    if unknown:
        raise ValueError(f"unknown edition(s) {sorted(unknown)}; choose from {EDITIONS}")
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with serve(html) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), headless=True, args=CHROMIUM_FLAGS)
        try:
            for edition in editions:
                page = browser.new_page(viewport={"width": 1000, "height": 1400})
                # Offline: anything not served from 127.0.0.1 is refused rather than waited for.
                page.route("**/*", lambda route: route.continue_() if route.request.url.startswith((base, "data:")) else route.abort())
                page.goto(f"{base}/index.html", wait_until="networkidle", timeout=120_000)
                if page.locator(".math").count():
                    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
                    page.evaluate("() => MathJax.startup.promise")
                page.evaluate(PREPARE, [edition, title_page(edition)])
                path = out / NAME.format(edition=edition)
                page.pdf(path=str(path), format="A4", print_background=True, display_header_footer=True,
                         header_template="<div></div>", footer_template=FOOTER, prefer_css_page_size=True)
                page.close()
                written.append(path)
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "singlehtml")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "pdf")
    args = parser.parse_args(argv)
    for path in print_editions(args.html, args.out):
        print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
