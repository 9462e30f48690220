"""Print the single-page build of the book (``_build/singlehtml``) to PDF with the system Chromium.

jupyter-book's own ``pdfhtml`` builder downloads a browser, which cannot work offline; this
prints the same kind of page through Playwright and the Chromium the browser tests use. Two
editions come out of one build:

- instructor: every dropdown (solutions, hidden code) opened;
- student: the exercise solutions removed from the page before printing.

Math is rendered by MathJax before printing, figures keep their numbers (Sphinx numfig), and
the text stays extractable (Chromium writes real text, not images of it).

    .venv/bin/python tools/print_pdf.py [--html _build/singlehtml] [--out _build/pdf]
"""

from __future__ import annotations

import argparse
import functools
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

# Run in the page before printing. Opening dropdowns matters: a closed one prints as its title only.
PREPARE = """
(edition) => {
  if (edition === "student") {
    document.querySelectorAll(".solution").forEach((element) => element.remove());
  }
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
  `;
  document.head.appendChild(style);
  return Promise.all(Array.from(document.images).map((image) => image.complete ? null :
    new Promise((done) => { image.onload = image.onerror = done; })));
}
"""
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
                page.evaluate(PREPARE, edition)
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
