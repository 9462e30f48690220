"""The reader's site in a real browser (Playwright driving the system Chromium), fully offline.

For every page in the table of contents: it loads, logs no console errors, makes no
failed requests and no request outside 127.0.0.1, every image loads and has alt text,
math is rendered, and nothing overflows a 390-px phone screen. Also: search works and
next/previous navigation follows the table of contents. Screenshots go to
_build/screenshots/.

Without a Chromium these tests are skipped with a clear reason, unless
REQUIRE_BROWSER=1 (set by .ci/run), which turns a missing browser into a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from conftest import ROOT

HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
PHONE_WIDTH = 390
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc["parts"]:
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


PAGES = _pages()


@pytest.fixture(scope="session")
def site() -> Path:
    """The built site; built here if an earlier test has not built it."""
    if not (HTML / "index.html").is_file():
        subprocess.run([str(Path(sys.executable).with_name("jupyter-book")), "build", str(ROOT)], check=True, capture_output=True)
    return HTML


@pytest.fixture(scope="session")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output readable
        pass


@pytest.fixture(scope="session")
def browser():
    executable = _chromium()
    if executable is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but no Chromium found (apt-get install chromium)")
        pytest.skip("browser tests skipped: no Chromium found (install Debian's chromium, or set CHROMIUM=/path)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


class PageRecord:
    """Everything a page did while loading: console errors, failures, blocked outside requests."""

    def __init__(self):
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.outside: list[str] = []


def _open(browser, url: str, width: int = 1280) -> tuple:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    record = PageRecord()

    def route(request_route):
        host = urlparse(request_route.request.url).hostname
        if request_route.request.url.startswith("data:") or host == "127.0.0.1":
            request_route.continue_()
        else:
            record.outside.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.on("console", lambda message: message.type == "error" and record.console_errors.append(message.text))
    page.on("pageerror", lambda error: record.console_errors.append(str(error)))
    page.on("requestfailed", lambda request: record.failed.append(f"{request.url} {request.failure}"))
    page.on("response", lambda response: response.status >= 400 and record.failed.append(f"{response.url} {response.status}"))
    page.goto(url, wait_until="networkidle")
    return context, page, record


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_offline_without_errors(browser, server, name):
    context, page, record = _open(browser, f"{server}/{name}.html")
    try:
        assert page.title(), f"{name}: empty title"
        assert not record.outside, f"{name}: requests left 127.0.0.1: {record.outside}"
        assert not record.failed, f"{name}: failed requests: {record.failed}"
        assert not record.console_errors, f"{name}: console errors: {record.console_errors}"
        images = page.eval_on_selector_all(
            "main img", "els => els.map(e => ({src: e.src, ok: e.complete && e.naturalWidth > 0, alt: (e.getAttribute('alt') || '').trim()}))"
        )
        for image in images:
            assert image["ok"], f"{name}: image did not load: {image['src']}"
            assert image["alt"], f"{name}: image without alt text: {image['src']}"
            assert not image["alt"].lower().endswith((".png", ".svg", ".jpg")), f"{name}: alt text is a file name: {image['alt']}"
        if page.locator(".math").count() > 0:  # the page has math for MathJax to render
            page.wait_for_selector("mjx-container", state="attached", timeout=15_000)
            assert page.locator("mjx-container").count() > 0, f"{name}: math not rendered"
            assert page.locator("mjx-merror").count() == 0, f"{name}: MathJax reported an error"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name.replace('/', '_')}.png"), full_page=False)
    finally:
        context.close()


@pytest.mark.parametrize("name", PAGES)
def test_nothing_overflows_a_phone_screen(browser, server, name):
    context, page, _ = _open(browser, f"{server}/{name}.html", width=PHONE_WIDTH)
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_WIDTH + 1, f"{name}: page is {width} px wide on a {PHONE_WIDTH}-px screen"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"phone_{name.replace('/', '_')}.png"))
    finally:
        context.close()


def test_search_finds_standardization(browser, server):
    context, page, record = _open(browser, f"{server}/search.html?q=standardization")
    try:
        page.wait_for_selector("#search-results li", timeout=20_000)
        assert page.locator("#search-results li").count() >= 3
        assert not record.outside and not record.console_errors
    finally:
        context.close()


def test_next_and_previous_follow_the_table_of_contents(browser, server):
    context, page, _ = _open(browser, f"{server}/{PAGES[1]}.html")
    try:
        page.click("a.right-next")
        page.wait_for_load_state("networkidle")
        assert page.url.endswith(f"{PAGES[2]}.html"), page.url
        page.click("a.left-prev")
        page.wait_for_load_state("networkidle")
        assert page.url.endswith(f"{PAGES[1]}.html"), page.url
    finally:
        context.close()


def test_page_weight(site):
    files = [path for path in site.rglob("*") if path.is_file()]
    total = sum(path.stat().st_size for path in files)
    assert total <= 25 * 1024 * 1024, f"_build/html is {total / 2**20:.1f} MB (budget 25 MB)"
    images = [path for path in files if path.suffix.lower() in {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}]
    heavy = [f"{path.name} {path.stat().st_size // 1024} kB" for path in images if path.stat().st_size > 300 * 1024]
    assert not heavy, f"images over 300 kB: {heavy}"


def test_reader_features_are_configured(site):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["launch_buttons"]["binderhub_url"] and config["launch_buttons"]["colab_url"]
    assert config["repository"]["url"].startswith("https://")
    chapter = (site / "chapters" / "04_convergence.html").read_text()
    assert "mybinder.org" in chapter and "colab.research.google.com" in chapter
    assert "Fig. 4.1" in chapter, "figures are not numbered"
    assert "CC BY 4.0" in chapter and "MIT" in chapter, "licences missing from the footer"


def test_intro_cites_the_book_as_citation_cff_says(site):
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    intro = (site / "intro.html").read_text()
    assert citation["title"].split(":")[0] in intro
    assert citation["version"] in intro
    assert citation["authors"][0]["name"] in intro
    assert str(citation["date-released"])[:4] in intro
