"""The offline site archive (`make site-zip`), unpacked and opened from the file system.

Slow (`make test-editions`, which builds it first). Pages open through file:// in Chromium
with nothing requested from elsewhere, images and math render, next/previous work, and the
search page says that search is limited there and how to serve the folder (a note that a
served site never shows).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from conftest import ROOT
from editions import slow, tool
from test_site import PAGES

site_zip = tool("site_zip")
ARCHIVE = ROOT / "_build" / f"{site_zip.TOP}.zip"


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory) -> Path:
    if not ARCHIVE.is_file():
        pytest.fail(f"{ARCHIVE} not found: run `make site-zip`")
    folder = tmp_path_factory.mktemp("offline")
    with zipfile.ZipFile(ARCHIVE) as bundle:
        assert all(name.startswith(site_zip.TOP + "/") for name in bundle.namelist()), "one top folder"
        bundle.extractall(folder)
    return folder / site_zip.TOP


def _open(browser, url: str):
    page = browser.new_page()
    outside, errors = [], []

    def route(request_route):
        if request_route.request.url.startswith(("file://", "data:")):
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url, wait_until="load")
    return page, outside, errors


@slow
@pytest.mark.parametrize("name", [PAGES[0], PAGES[1], "chapters/05_sensitivity"])
def test_page_works_from_the_file_system(browser, unpacked, name):
    page, outside, errors = _open(browser, (unpacked / f"{name}.html").as_uri())
    try:
        assert page.title(), f"{name}: empty title"
        assert not outside, f"{name}: requests outside the archive: {outside}"
        assert not errors, f"{name}: script errors: {errors}"
        images = page.eval_on_selector_all("main img", "els => els.map(e => e.complete && e.naturalWidth > 0)")
        assert all(images), f"{name}: an image did not load from file://"
        if page.locator(".math").count():
            page.wait_for_selector("mjx-container", state="attached", timeout=30_000)
            assert page.locator("mjx-merror").count() == 0
    finally:
        page.close()


@slow
def test_next_link_works_from_the_file_system(browser, unpacked):
    page, _, _ = _open(browser, (unpacked / f"{PAGES[1]}.html").as_uri())
    try:
        page.click("a.right-next")
        page.wait_for_load_state("load")
        assert page.url == (unpacked / f"{PAGES[2]}.html").as_uri()
    finally:
        page.close()


@slow
def test_search_works_or_says_why_not(browser, unpacked):
    page, outside, _ = _open(browser, (unpacked / "search.html").as_uri() + "?q=standardization")
    try:
        assert not outside
        page.wait_for_timeout(3000)  # give search its chance
        results = page.locator("#search-results li").count()
        note = page.locator(f"#{site_zip.NOTE_ID}")
        # From file:// Chromium blocks search's fetches of the pages (excerpts): the page must say so.
        assert results > 0 or note.is_visible(), "search found nothing from file:// and the page does not say why"
        assert note.is_visible() and "http.server" in note.inner_text(), "no file:// note on the search page"
    finally:
        page.close()


def test_the_note_is_only_for_the_file_system():
    html = site_zip.with_note("<html><body><main></main></body></html>")
    assert 'location.protocol !== "file:"' in html and html.count(site_zip.NOTE_ID) == 1
    with pytest.raises(ValueError, match="body"):
        site_zip.with_note("<p>no body</p>")
