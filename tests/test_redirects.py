"""Old chapter addresses redirect to the renamed pages (the file number is the chapter number)."""

from __future__ import annotations

import yaml

from conftest import ROOT
from _ext.sphinx_redirects import redirect_page


def test_redirect_page_points_relative_to_the_new_page():
    page = redirect_page("chapters/04b_training", "chapters/05_training")
    assert 'url=05_training.html"' in page and 'href="05_training.html"' in page


def test_every_redirect_leaves_an_old_name_and_reaches_a_chapter_of_the_book():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    redirects = config["sphinx"]["config"]["book_redirects"]
    toc = (ROOT / "_toc.yml").read_text()
    assert redirects, "no redirects configured"
    for old, new in redirects.items():
        assert not (ROOT / f"{old}.ipynb").exists(), f"{old} still exists: it cannot redirect"
        assert (ROOT / f"{new}.ipynb").exists() and f"file: {new}" in toc, f"{new} is not a chapter of the book"


def test_the_built_site_holds_the_redirect_pages():
    html = ROOT / "_build" / "html"
    if not (html / "index.html").exists():
        import pytest

        pytest.skip("the site is built by test_build.py (make test builds it first)")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    for old, new in config["sphinx"]["config"]["book_redirects"].items():
        page = (html / f"{old}.html").read_text()
        assert f"{new.split('/')[-1]}.html" in page
