"""The two lists live in book_lists.yml; every page renders them from there (_ext.book_lists)."""

from __future__ import annotations

import re

import nbformat
import pytest
import yaml

from conftest import ROOT
from _ext import book_lists

LISTS = book_lists.load()


def _item(**changes) -> dict:
    item = {
        "id": "an-item", "title": "A case", "side": "normalized", "mechanism": "prior",
        "effect": "accuracy [[acc]]", "label": "ch-words",
        "numbers": {"acc": {"page": "chapters/01_words.ipynb", "key": "knn_accuracy_raw", "format": ".1%"}},
    }
    item.update(changes)
    return item


def _write(tmp_path, harms=None, reasons=None):
    data = yaml.safe_load(book_lists.DATA_FILE.read_text())
    if harms is not None:
        data["harms"] = harms
    if reasons is not None:
        data["reasons"] = reasons
    path = tmp_path / "lists.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_the_lists_have_both_sides_and_every_mechanism():
    assert len(LISTS["reasons"]) >= 5
    sides = [item.side for item in LISTS["harms"]]
    assert sides.count("normalized") >= 4 and sides.count("not-normalized") >= 4
    assert {item.mechanism for item in LISTS["harms"]} == set(book_lists.MECHANISMS)


@pytest.mark.parametrize("change, message", [
    ({"side": "sometimes"}, "side must be"),
    ({"mechanism": "magic"}, "mechanism must be"),
    ({"effect": "accuracy [[other]]"}, "placeholders"),
    ({"effect": "accuracy {glue:text}`x` [[acc]]"}, "glue roles"),
    ({"pending": "yes"}, "pending must be"),
    ({"numbers": {"acc": {"page": "chapters/01_words.ipynb", "key": "k"}}}, "exactly page, key and format"),
])
def test_a_broken_item_is_rejected_with_its_name(tmp_path, change, message):
    with pytest.raises(ValueError, match=message) as error:
        book_lists.load(_write(tmp_path, harms=[_item(**change)]))
    assert "an-item" in str(error.value)


def test_missing_fields_and_duplicates_are_rejected(tmp_path):
    broken = _item()
    del broken["label"]
    with pytest.raises(ValueError, match="missing field 'label'"):
        book_lists.load(_write(tmp_path, harms=[broken]))
    with pytest.raises(ValueError, match="duplicate ids"):
        book_lists.load(_write(tmp_path, harms=[_item(), _item()]))


def test_unknown_list_style_or_side_is_rejected():
    with pytest.raises(ValueError, match="unknown list"):
        book_lists.list_myst("causes")
    with pytest.raises(ValueError, match="unknown style"):
        book_lists.list_myst("harms", style="poem")
    with pytest.raises(ValueError, match="harms only"):
        book_lists.list_myst("reasons", side="normalized")


@pytest.mark.parametrize("list_name", book_lists.LIST_NAMES)
def test_every_number_is_glued_unless_pending_and_every_pending_number_is_still_missing(list_name):
    labels = book_lists.known_labels()
    for item in LISTS[list_name]:
        for evidence in item.all_evidence():
            missing = book_lists.missing_numbers(evidence)
            if evidence.pending:
                assert missing, f"{item.id}: its numbers exist now; remove `pending: true` from book_lists.yml"
            else:
                assert not missing, f"{item.id}: {missing} are not glued by their notebooks"
                assert evidence.label in labels, f"{item.id}: label {evidence.label!r} does not exist"


def test_a_missing_number_fails_unless_the_item_is_pending(tmp_path):
    ghost = {"acc": {"page": "chapters/01_words.ipynb", "key": "no_such_key", "format": ".1%"}}
    with pytest.raises(ValueError, match="no_such_key"):
        book_lists.list_myst("harms", path=_write(tmp_path, harms=[_item(numbers=ghost)]))
    pending = _write(tmp_path, harms=[_item(numbers=ghost, pending=True)])
    table = book_lists.list_myst("harms", path=pending)
    assert "no_such_key" not in table and "A case" in table  # shown, without the missing number


def test_rendered_table_has_one_row_per_item_with_glue_paths_relative_to_the_page():
    table = book_lists.list_myst("harms", current_page="chapters/07_lost.ipynb").splitlines()
    assert len(table) == 2 + len(LISTS["harms"])
    assert "{glue:text}`best_min_max:.1%`" in table[2]  # the page's own number: plain key
    assert "{glue:text}`02_pixels.ipynb::offset_distinct:,d`" in "\n".join(table)  # a sibling notebook
    root_page = book_lists.list_myst("harms", current_page="intro.md")
    assert "{glue:text}`chapters/02_pixels.ipynb::offset_distinct:,d`" in root_page


def test_as_frame_is_indexed_by_item_and_fills_the_notebook_s_own_numbers():
    frame = book_lists.as_frame("harms", values={"offset_distinct": 17}, side="not-normalized")
    assert list(frame.index) == [item.id for item in LISTS["harms"] if item.side == "not-normalized"]
    assert "keeps 17 of 256 levels" in frame.loc["offset-before-centering", "measured effect"]
    with pytest.raises(ValueError, match="unknown list"):
        book_lists.as_frame("causes")


# Pages that state the lists must render them from the data; none may state them by hand.
REQUIRED = {"intro.md": {"reasons", "harms"}, "why-normalize.md": {"reasons", "harms"}, "thread-checked.md": {"harms"}}
DIRECTIVE = re.compile(r"`{3,}\{book-list\} (\w+)")
COUNT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
N = r"(\d+|" + "|".join(COUNT_WORDS) + r")"
STATED_COUNTS = {  # a phrase that states a list's length -> the length the data gives
    re.compile(N + r" (?:named )?(?:ways|cases)(?: in which| where| that)? normali[sz](?:ation|ing) (?:really )?hurts?", re.I):
        sum(item.side == "normalized" for item in LISTS["harms"]),
    re.compile(N + r" reasons to normali[sz]e", re.I): len(LISTS["reasons"]),
    re.compile(N + r" (?:ways|cases) (?:in which |where )?a small change is (?:really )?lost", re.I): len(LISTS["harms"]),
}


def _all_sources() -> dict[str, str]:
    sources = {path.name: path.read_text() for path in ROOT.glob("*.md") if path.name != "README.md"}
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        sources[f"chapters/{path.name}"] = "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    return sources


def test_pages_that_state_the_lists_render_them_from_the_data():
    for page, needed in REQUIRED.items():
        rendered = set(DIRECTIVE.findall((ROOT / page).read_text()))
        assert needed <= rendered, f"{page} must render {sorted(needed - rendered)} with the book-list directive"


def test_no_page_states_a_list_length_that_differs_from_the_data():
    for page, text in _all_sources().items():
        flat = " ".join(text.split())
        for pattern, expected in STATED_COUNTS.items():
            for word in pattern.findall(flat):
                stated = int(word) if word.isdigit() else COUNT_WORDS[word.lower()]
                assert stated == expected, f"{page} says '{word}' where book_lists.yml has {expected} items"
