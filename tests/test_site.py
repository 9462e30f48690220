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
import json
import http.server
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


# --- Accessibility: axe-core on every page, light and dark ------------------------------------



def _axe_script() -> Path:
    import axe_playwright_python

    path = Path(axe_playwright_python.__file__).parent / "axe.min.js"
    assert path.is_file(), f"axe.min.js not found in {path.parent}"
    return path


# Violations below "serious" that the book accepts, each with its reason (none at present). Anything else fails.
ACCEPTED: dict[str, str] = {}


def _open_in_mode(browser, url: str, mode: str, width: int = 1280, javascript: bool = True) -> tuple:
    """Like _open, with the theme in light or dark mode (the theme follows prefers-color-scheme)."""
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=mode, java_script_enabled=javascript)
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
    page.goto(url, wait_until="networkidle")
    if javascript:
        page.wait_for_function(f"document.documentElement.dataset.theme === '{mode}'", timeout=10_000)
        if page.locator(".math").count() > 0:
            page.wait_for_selector("mjx-container", state="attached", timeout=15_000)
    return context, page, record


def _axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(_axe_script()))
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " | " + (n.failureSummary || "").split("\\n").slice(0, 2).join(" "))}));
        }"""
    )


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_accessibility_violations(browser, server, name, mode):
    context, page, record = _open_in_mode(browser, f"{server}/{name}.html", mode)
    try:
        violations = _axe_violations(page)
        assert not record.outside, record.outside
        blocking = [v for v in violations if v["impact"] in ("critical", "serious")]
        assert not blocking, f"{name} ({mode}): {blocking}"
        unexplained = [v for v in violations if v["id"] not in ACCEPTED]
        assert not unexplained, f"{name} ({mode}): fix these or justify them in ACCEPTED: {unexplained}"
    finally:
        context.close()


# --- The explorable: the page shows what utils.curvature computes --------------------------------

def _explorable_page() -> str:
    """The first page of the book that mounts the explorable (the convergence chapter, once it has it)."""
    for name in sorted(PAGES, key=lambda page: "convergence" not in page):
        if 'class="gd-explorable"' in (HTML / f"{name}.html").read_text():
            return name
    pytest.fail("no page mounts the explorable (<div class=\"gd-explorable\">)")


def _move_slider(page, name: str, index: int) -> None:
    """Set a slider with the keyboard only (Home, or arrow keys from where it is)."""
    slider = page.locator(f".gd-explorable input[name='{name}']").first
    slider.focus()
    current = int(slider.input_value())
    if index == 0 and current != 0:
        slider.press("Home")
    for _ in range(abs(index - current) if index else 0):
        slider.press("ArrowRight" if index > current else "ArrowLeft")
    assert slider.input_value() == str(index)


def _readout(page) -> dict:
    return page.eval_on_selector(
        ".gd-explorable-readout",
        "el => ({kappa: Number(el.dataset.kappa), iterations: el.dataset.iterations ? Number(el.dataset.iterations) : null, diverged: el.dataset.diverged === 'true', text: el.textContent})",
    )


def _near(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def test_explorable_shows_what_the_python_helpers_compute(browser, server, site):
    table = json.loads((site / "_static" / "gd-explorable-table.json").read_text())
    context, page, record = _open(browser, f"{server}/{_explorable_page()}.html")
    try:
        grid = page.evaluate("window.gdExplorable.GRID")
        assert grid == table["grid"], "the sliders' grid in gd-explorable.js differs from GRID in _ext/sphinx_site.py"
        assert page.evaluate("[window.gdExplorable.TOL, window.gdExplorable.MAX_ITER]") == [table["tol"], table["max_iter"]]
        # Every row of the table, through the page's own computation.
        shown = page.evaluate(
            "rows => rows.map(r => window.gdExplorable.compute(r))"
            ".map(o => [o.kappa, Number.isFinite(o.iterations) ? o.iterations : null, o.diverged])",
            table["rows"],
        )
        assert len(shown) == len(table["rows"]) >= 400
        for row, (kappa, iterations, diverged) in zip(table["rows"], shown):
            assert _near(kappa, row["kappa"]), (row, kappa)
            assert iterations == row["iterations"] and diverged == row["diverges"], (row, iterations, diverged)
        # A sample through the keyboard and the live region, as a reader would see it.
        sample = [row for row in table["rows"] if row["iterations"] is not None][::41]
        sample += [row for row in table["rows"] if row["momentum"] > 0 and row["iterations"] is not None][::37]
        assert len(sample) >= 8
        for row in sample:
            for name in grid:
                _move_slider(page, name, grid[name].index(row[name]))
            out = _readout(page)
            assert _near(out["kappa"], row["kappa"]) and out["iterations"] == row["iterations"], (row, out)
            assert f"{row['iterations']:,}" in out["text"] and "κ = " in out["text"], out["text"]
            assert not out["diverged"]
            valuetext = page.get_attribute(".gd-explorable input[name='momentum']", "aria-valuetext")
            assert valuetext == str(row["momentum"]).removesuffix(".0") or valuetext == str(row["momentum"])
        assert not record.console_errors, record.console_errors
    finally:
        context.close()


def test_explorable_marks_divergence_past_two_over_lambda_max(browser, server, site):
    table = json.loads((site / "_static" / "gd-explorable-table.json").read_text())
    context, page, _ = _open(browser, f"{server}/{_explorable_page()}.html")
    try:
        grid = table["grid"]
        _move_slider(page, "momentum", grid["momentum"].index(0))
        for fraction in grid["lr_fraction"]:
            _move_slider(page, "lr_fraction", grid["lr_fraction"].index(fraction))
            out = _readout(page)
            assert out["diverged"] == (fraction > 1), (fraction, out)
            assert ("Diverges" in out["text"]) == (fraction > 1), out["text"]
        # The Python helpers agree: without momentum, every rate past 2/lambda_max diverges and none
        # reaches the tolerance; every rate from 1/lambda_max to just below the limit converges within
        # the budget on a bowl with kappa <= 1000 (about 14 kappa steps at worst).
        plain = [row for row in table["rows"] if row["momentum"] == 0]
        past = [row for row in plain if row["lr_fraction"] > 1]
        assert past and all(row["diverges"] and row["iterations"] is None for row in past)
        below = [row for row in plain if 0.5 <= row["lr_fraction"] < 1 and row["kappa"] <= 1000]
        assert below and all(not row["diverges"] and row["iterations"] is not None for row in below)
    finally:
        context.close()


def test_explorable_is_labelled_for_screen_readers(browser, server):
    context, page, _ = _open(browser, f"{server}/{_explorable_page()}.html")
    try:
        sliders = page.locator(".gd-explorable input[type='range']")
        assert sliders.count() == 4
        for index in range(4):
            slider = sliders.nth(index)
            label = page.locator(f"label[for='{slider.get_attribute('id')}']")
            assert label.count() == 1 and label.inner_text().strip()
            assert slider.get_attribute("aria-valuetext")
        readout = page.locator(".gd-explorable-readout")
        assert readout.get_attribute("aria-live") == "polite"
        canvas = page.locator(".gd-explorable canvas")
        assert canvas.get_attribute("role") == "img" and "κ" in canvas.get_attribute("aria-label")
    finally:
        context.close()


# --- Self-test on "The thread, checked" ---------------------------------------------------------

def test_thread_self_test_hides_verdicts_until_the_reader_answers(browser, server):
    context, page, record = _open(browser, f"{server}/thread-checked.html")
    try:
        claims = page.locator(".thread-claim")
        assert claims.count() >= 3, "no .thread-claim containers on the page"
        expected = {"verdict-true": "true", "verdict-false": "false", "verdict-depends": "depends"}
        for index in range(claims.count()):
            claim = claims.nth(index)
            verdict = next(expected[c] for c in claim.get_attribute("class").split() if c in expected)
            answer = claim.locator(".thread-claim-answer")
            assert claim.locator("strong").first.is_visible()
            assert not answer.is_visible(), "the verdict shows before the reader answers"
            buttons = claim.locator("button.thread-claim-button")
            assert [buttons.nth(i).inner_text() for i in range(buttons.count())] == ["True", "False", "It depends"]
            wrong = next(value for value in ("true", "false", "depends") if value != verdict)
            # Keyboard only: focus the button, press Space.
            claim.locator(f"button[data-answer='{wrong}']").focus()
            page.keyboard.press("Space")
            assert answer.is_visible()
            assert claim.locator(f"button[data-answer='{wrong}']").get_attribute("aria-pressed") == "true"
            feedback = claim.locator(".thread-claim-feedback")
            assert feedback.get_attribute("aria-live") == "polite" and "the verdict below is" in feedback.inner_text()
            claim.locator(f"button[data-answer='{verdict}']").focus()
            page.keyboard.press("Enter")
            assert "matches the verdict" in feedback.inner_text()
        assert not record.console_errors, record.console_errors
    finally:
        context.close()


def test_thread_page_reads_as_before_without_javascript(browser, server):
    context, page, _ = _open_in_mode(browser, f"{server}/thread-checked.html", "light", javascript=False)
    try:
        assert page.locator("button.thread-claim-button").count() == 0
        claims = page.locator(".thread-claim")
        for index in range(claims.count()):
            text = claims.nth(index).inner_text()
            assert any(word in text for word in ("False", "True", "true", "depends", "One usage")), text
            assert claims.nth(index).locator("em").first.is_visible()
    finally:
        context.close()


def test_figures_have_an_opaque_background_in_dark_mode(browser, server):
    context, page, _ = _open_in_mode(browser, f"{server}/chapters/04_convergence.html", "dark")
    try:
        backgrounds = page.eval_on_selector_all("main img", "els => els.map(e => getComputedStyle(e).backgroundColor)")
        assert backgrounds and set(backgrounds) == {"rgb(255, 255, 255)"}, backgrounds
    finally:
        context.close()


def test_tables_have_no_empty_header_cells(site):
    """pandas writes an empty <th> above the index; _ext.sphinx_site turns it into a <td>."""
    from _ext.sphinx_site import EMPTY_HEADER

    for name in PAGES:
        html = (site / f"{name}.html").read_text()
        assert not EMPTY_HEADER.search(html), f"{name}: empty table header cell {EMPTY_HEADER.search(html).group(0)}"
