"""The PDF's title page (tools/print_pdf.py), fast: version and date, and bad input."""

from __future__ import annotations

import datetime

import pytest
import yaml

from conftest import ROOT
from editions import tool

printer = tool("print_pdf")


def test_version_matches_the_release_in_config():
    release = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["release"]
    assert f"v{printer.book_metadata()['version']}" == release


def test_title_page_has_title_edition_version_and_date():
    page = printer.title_page("student", datetime.date(2026, 12, 4))
    meta = printer.book_metadata()
    assert meta["title"] in page and "Student edition" in page
    assert f"Version {meta['version']}" in page and "printed 2026-12-04" in page
    assert "Instructor edition" in printer.title_page("instructor")


def test_title_page_rejects_an_unknown_edition():
    with pytest.raises(ValueError, match="unknown edition"):
        printer.title_page("teacher")


def test_metadata_without_version_is_an_error(tmp_path):
    (tmp_path / "CITATION.cff").write_text("title: A book\nauthors: [{name: Someone}]\n")
    with pytest.raises(ValueError, match="no version"):
        printer.book_metadata(tmp_path)
