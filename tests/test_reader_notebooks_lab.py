"""A reader notebook as a reader sees it: opened in the project's JupyterLab, in Chromium.

JupyterLab (the version pinned in requirements.txt) serves notebooks/ on 127.0.0.1 at a free port,
with no token; Playwright drives the system Chromium, as in test_site.py. The test checks that the
first paragraph whose source quotes a glued number shows that number, and that no raw role or
directive is visible anywhere in the notebook. Screenshot: _build/screenshots/reader_notebook_lab.png.

Slow (a JupyterLab start-up), so `make test` skips it and `make test-notebooks` runs it
(READER_NOTEBOOK_LAB=1). Without Chromium it skips, unless REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

from conftest import ROOT
from test_site import SCREENSHOTS

pytestmark = pytest.mark.skipif(
    os.environ.get("READER_NOTEBOOK_LAB") != "1", reason="slow: run by make test-notebooks (READER_NOTEBOOK_LAB=1)"
)

READER = ROOT / "notebooks"
RAW_SYNTAX = ["{glue", "{cite", "{ref}", "{numref}", "```{", ":::{", "{exercise", "{solution", ":label:", ":name:", ":alt:"]
GLUE_ROLE = re.compile(r"\{glue(?::text)?\}`")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1, token disabled, every cell rendered (no virtual scrolling)."""
    home = tmp_path_factory.mktemp("lab")
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    notifications = home / "settings" / "@jupyterlab" / "apputils-extension"
    notifications.mkdir(parents=True)  # no "Jupyter news?" pop-up over the screenshot
    (notifications / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port = _free_port()
    command = [
        str(Path(sys.executable).with_name("jupyter")), "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--allow-root",
        "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={READER}",
        f"--LabApp.user_settings_dir={home / 'settings'}", f"--LabApp.workspaces_dir={home / 'workspaces'}",
    ]  # fmt: skip
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTER_CONFIG_DIR": str(home / "config")}
    log = (home / "lab.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start:\n{(home / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _first_glued_sentence(name: str) -> tuple[str, str]:
    """Words before the chapter's first glued number, and the number the reader notebook shows there."""
    chapter = nbformat.read(ROOT / "chapters" / name, as_version=4)
    reader = {cell.get("id"): cell.source for cell in nbformat.read(READER / name, as_version=4).cells}
    for cell in chapter.cells:
        if cell.cell_type != "markdown":
            continue
        for paragraph in cell.source.split("\n\n"):
            match = GLUE_ROLE.search(paragraph)
            if match and "```" not in paragraph:
                words = re.findall(r"[A-Za-z]+", paragraph[: match.start()])[-3:]
                pattern = r"\W+".join(words) + r"\W+(-?[\d.,]+(?:e[-+]?\d+)?%?)"
                shown = re.search(pattern, reader[cell.get("id")])
                assert shown, f"{name}: no number after {' '.join(words)!r} in the reader notebook"
                return pattern, shown.group(1)
    raise AssertionError(f"{name}: no glued number in the prose")


def test_reader_notebook_shows_numbers_and_no_myst_in_jupyterlab(lab, browser):
    name = sorted(READER.glob("*.ipynb"))[0].name
    pattern, number = _first_glued_sentence(name)
    notebook = nbformat.read(READER / name, as_version=4)
    markdown_cells = sum(cell.cell_type == "markdown" for cell in notebook.cells)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    outside: list[str] = []

    def route(request_route):
        if urlparse(request_route.request.url).hostname in {"127.0.0.1", None} or request_route.request.url.startswith("data:"):
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    try:
        page.goto(f"{lab}/lab/tree/{name}", wait_until="domcontentloaded", timeout=120_000)
        page.wait_for_function(
            f"document.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown').length >= {markdown_cells}",
            timeout=120_000,
        )
        rendered = page.locator(".jp-MarkdownCell .jp-RenderedMarkdown")
        try:  # markdown renders asynchronously after the cells appear
            page.wait_for_function(
                "pattern => [...document.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown')]"
                ".some(cell => new RegExp(pattern).test(cell.innerText))",
                arg=pattern,
                timeout=60_000,
            )
        except Exception:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "reader_notebook_lab_failed.png"))
        texts = rendered.all_inner_texts()
        first = next((i for i, text in enumerate(texts) if re.search(pattern, text)), None)
        assert first is not None, f"{name}: the first glued sentence ({pattern}) is not rendered"
        assert re.search(pattern, texts[first]).group(1) == number, f"{name}: shows the wrong number"
        visible = page.locator(".jp-Notebook").inner_text()
        for syntax in RAW_SYNTAX:
            assert syntax not in visible, f"{name}: raw MyST {syntax!r} visible in JupyterLab"
        assert "assert " not in visible, f"{name}: a check cell's code is visible"
        rendered.nth(first).scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "reader_notebook_lab.png"))
        assert not outside, f"JupyterLab requested outside 127.0.0.1: {outside}"
    finally:
        context.close()
