"""The book's two lists — reasons to normalize, and ways a small change is lost — from ONE file.

``book_lists.yml`` at the repository root holds both lists. Pages never type them: a page writes

    ```{book-list} harms
    ```

(the directive lives in :mod:`_ext.sphinx_lists`), and a notebook that wants a table of its own
calls :func:`as_frame`. Both go through :func:`load`, which validates the file, so a typo in it
fails the build with a message that names the item.

Numbers are never copied into the file: each item names the notebook and glue key that computes
them, and the rendered MyST pastes them with ``{glue:text}``.

How to use it (the whole API):

- In a page or a notebook's markdown cell: ```` ```{book-list} harms ```` with ``:style:`` ``table``
  (default: every measured effect, with links), ``bullets`` or ``brief`` (titles and links only), and
  for the harms ``:side: normalized`` or ``:side: not-normalized``. ``{book-list} reasons`` and
  ``{book-list} mechanisms`` work the same way. A notebook that computes some of the numbers itself
  (the sensitivity chapter) gets them under their plain glue keys; others come by relative path.
- In a notebook's code: ``as_frame("harms", values={"offset_distinct": 17})`` returns the list as a
  DataFrame (index: item ids), with that notebook's own numbers filled in.
- In Python: ``load()`` (validated items), ``list_myst(...)`` (the MyST the directive parses).
- To add or change an item, edit ``book_lists.yml`` only. An item whose numbers come from a chapter not
  written yet carries ``pending: true``; tests/test_book_lists.py fails as soon as those numbers exist,
  so the flag is removed when the chapter lands.

>>> lists = load()
>>> sorted(lists)
['harms', 'mechanisms', 'reasons']
>>> {item.side for item in lists["harms"]} == {"normalized", "not-normalized"}
True
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA_FILE = ROOT / "book_lists.yml"
LIST_NAMES = ("reasons", "harms")
SIDES = {"normalized": "because you normalized", "not-normalized": "because you did not normalize"}
MECHANISMS = ("information", "optimizer and budget", "prior", "too few samples", "number format")
PLACEHOLDER = re.compile(r"\[\[([a-z_0-9]+)\]\]")
# The same pattern as tests/test_notebook_hygiene.py: what a notebook glues.
GLUED = re.compile(r"""glue(?:_number|_figure)?\(\s*["']([A-Za-z0-9_]+)["']""")
LABEL = re.compile(r"^\(([A-Za-z0-9_-]+)\)=", re.M)


@dataclass(frozen=True)
class Number:
    """One glued number: the notebook that computes it, its glue key and its format spec."""

    page: str
    key: str
    format: str


@dataclass(frozen=True)
class Evidence:
    """A measured effect: MyST text with ``[[name]]`` placeholders, its numbers and where it is."""

    effect: str
    numbers: dict[str, Number]
    label: str
    pending: bool = False


@dataclass(frozen=True)
class Item:
    """One entry of a list; ``side`` and ``mechanism`` are set for harms only."""

    id: str
    title: str
    evidence: Evidence
    controls: tuple[Evidence, ...] = field(default_factory=tuple)
    side: str | None = None
    mechanism: str | None = None

    def all_evidence(self) -> tuple[Evidence, ...]:
        return (self.evidence, *self.controls)


def _evidence(raw: dict, where: str) -> Evidence:
    for name in ("effect", "numbers", "label"):
        if name not in raw:
            raise ValueError(f"{where}: missing field {name!r}")
    numbers = {}
    for name, spec in raw["numbers"].items():
        if not isinstance(spec, dict) or set(spec) != {"page", "key", "format"}:
            raise ValueError(f"{where}: number {name!r} needs exactly page, key and format, got {spec!r}")
        numbers[name] = Number(str(spec["page"]), str(spec["key"]), str(spec["format"]))
    used = set(PLACEHOLDER.findall(raw["effect"]))
    if used != set(numbers):
        raise ValueError(f"{where}: placeholders {sorted(used)} do not match numbers {sorted(numbers)}")
    if "{glue" in raw["effect"]:
        raise ValueError(f"{where}: write [[name]] placeholders, not glue roles, in the effect text")
    pending = raw.get("pending", False)
    if not isinstance(pending, bool):
        raise ValueError(f"{where}: pending must be true or false, got {pending!r}")
    return Evidence(" ".join(raw["effect"].split()), numbers, str(raw["label"]), pending)


def _item(raw: dict, list_name: str) -> Item:
    where = f"{list_name}/{raw.get('id', '?')}"
    for name in ("id", "title"):
        if name not in raw:
            raise ValueError(f"{where}: missing field {name!r}")
    side = mechanism = None
    if list_name == "harms":
        side, mechanism = raw.get("side"), raw.get("mechanism")
        if side not in SIDES:
            raise ValueError(f"{where}: side must be one of {sorted(SIDES)}, got {side!r}")
        if mechanism not in MECHANISMS:
            raise ValueError(f"{where}: mechanism must be one of {MECHANISMS}, got {mechanism!r}")
    controls = tuple(_evidence(control, f"{where}/control {index}") for index, control in enumerate(raw.get("controls", [])))
    return Item(str(raw["id"]), str(raw["title"]), _evidence(raw, where), controls, side, mechanism)


def load(path: Path | str = DATA_FILE) -> dict:
    """Read and validate the lists: ``{"reasons": [Item], "harms": [Item], "mechanisms": {name: text}}``.

    Raises ValueError naming the item when a field is missing or wrong.
    """
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not all(name in raw for name in (*LIST_NAMES, "mechanisms")):
        raise ValueError(f"{path}: needs top-level keys {LIST_NAMES} and 'mechanisms'")
    if set(raw["mechanisms"]) != set(MECHANISMS):
        raise ValueError(f"{path}: mechanisms must be exactly {MECHANISMS}")
    lists: dict = {"mechanisms": dict(raw["mechanisms"])}
    for list_name in LIST_NAMES:
        items = [_item(entry, list_name) for entry in raw[list_name]]
        ids = [item.id for item in items]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{path}: duplicate ids in {list_name}: {ids}")
        lists[list_name] = items
    return lists


def glued_keys(notebook: Path) -> set[str]:
    """Glue keys a notebook computes (an empty set when the notebook does not exist yet)."""
    if not notebook.is_file():
        return set()
    import nbformat

    cells = nbformat.read(notebook, as_version=4).cells
    return set(GLUED.findall("\n".join(cell.source for cell in cells if cell.cell_type == "code")))


def known_labels(root: Path = ROOT) -> set[str]:
    """Every ``(label)=`` target in the book's pages and notebooks (for pending links)."""
    import nbformat

    labels: set[str] = set()
    for path in [*root.glob("*.md"), *root.glob("chapters/*.md")]:
        labels.update(LABEL.findall(path.read_text(encoding="utf-8")))
    for path in root.glob("chapters/*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                labels.update(LABEL.findall(cell.source))
    return labels


def missing_numbers(evidence: Evidence, root: Path = ROOT) -> list[str]:
    """``page::key`` of every number that its notebook does not glue (yet)."""
    return [f"{number.page}::{number.key}" for number in evidence.numbers.values()
            if number.key not in glued_keys(root / number.page)]


def effect_myst(evidence: Evidence, current_page: str | None = None, root: Path = ROOT) -> str | None:
    """The effect as MyST with ``{glue:text}`` roles and a link; None for a pending item without its numbers.

    ``current_page`` is the page being rendered (e.g. ``"chapters/07_lost.ipynb"``): numbers
    glued by that page use the plain key, others a path from the book's root.
    A non-pending item whose numbers are missing raises ValueError (the build must fail).
    """
    missing = missing_numbers(evidence, root)
    if missing:
        if evidence.pending:
            return None
        raise ValueError(f"numbers not glued by their notebooks: {missing} (mark the item pending: true "
                         "only while its chapter is being written)")

    def role(match: re.Match) -> str:
        number = evidence.numbers[match.group(1)]
        if number.page == current_page:
            source = number.key
        else:  # a path relative to the page, as myst-nb resolves it
            source = f"{posixpath.relpath(number.page, posixpath.dirname(current_page or 'index.md'))}::{number.key}"
        return f"{{glue:text}}`{source}:{number.format}`"

    return f"{PLACEHOLDER.sub(role, evidence.effect)} ({{ref}}`{evidence.label}`)"


def item_myst(item: Item, current_page: str | None = None, root: Path = ROOT) -> str:
    """Every measured effect of one item, joined with "; "."""
    parts = [effect_myst(evidence, current_page, root) for evidence in item.all_evidence()]
    return "; ".join(part for part in parts if part)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


STYLES = ("table", "bullets", "brief")


def list_myst(name: str, style: str = "table", side: str | None = None, current_page: str | None = None,
              path: Path | str = DATA_FILE, root: Path = ROOT) -> str:
    """A list rendered as MyST.

    ``name``: "reasons", "harms" or "mechanisms". ``style``: "table" (every measured effect),
    "bullets" (the same as a list) or "brief" (titles and links only, for a summary). ``side``
    keeps only the harms of one side ("normalized" or "not-normalized").
    """
    if name == "mechanisms":
        return "\n".join(f"- **{mechanism}**: {text}." for mechanism, text in load(path)["mechanisms"].items())
    if name not in LIST_NAMES:
        raise ValueError(f"unknown list {name!r}; choose one of {(*LIST_NAMES, 'mechanisms')}")
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; choose one of {STYLES}")
    if side is not None and (name != "harms" or side not in SIDES):
        raise ValueError(f"side {side!r} applies to harms only, one of {sorted(SIDES)}")
    items = [item for item in load(path)[name] if side is None or item.side == side]
    if style == "brief":
        def brief(item: Item) -> str:
            extra = f"{item.mechanism}; " if item.mechanism else ""
            link = "" if item.evidence.pending else f"{extra}see {{ref}}`{item.evidence.label}`"
            return f"{item.title} ({link or extra.rstrip('; ')})" if (link or extra) else item.title
        if name == "harms" and side is None:
            def lowered(item: Item) -> str:  # mid-sentence
                text = brief(item)
                return text[0].lower() + text[1:]
            return "\n".join(f"- *Lost {SIDES[key]}:* " + "; ".join(lowered(item) for item in items if item.side == key) + "."
                             for key in SIDES)
        return "\n".join(f"- {brief(item)}" for item in items)
    if style == "bullets":
        return "\n".join(f"- **{item.title}**: {item_myst(item, current_page, root)}." for item in items)
    if name == "reasons":
        header = "| reason | measured effect |\n|---|---|"
        rows = [f"| {_cell(item.title)} | {_cell(item_myst(item, current_page, root))} |" for item in items]
    elif side is not None:
        header = "| case | mechanism | measured effect |\n|---|---|---|"
        rows = [f"| {_cell(item.title)} | {item.mechanism} | {_cell(item_myst(item, current_page, root))} |" for item in items]
    else:
        header = "| a small change is lost … | case | mechanism | measured effect |\n|---|---|---|---|"
        rows = [f"| {SIDES[item.side]} | {_cell(item.title)} | {item.mechanism} | "
                f"{_cell(item_myst(item, current_page, root))} |" for item in items]
    return "\n".join([header, *rows])


def as_frame(name: str, values: dict[str, float] | None = None, side: str | None = None,
             path: Path | str = DATA_FILE):
    """The list as a pandas DataFrame for a notebook (plain text, no links).

    ``values`` maps glue keys to numbers the calling notebook has computed; an effect whose numbers
    are all in ``values`` is filled in with its format spec, otherwise the column says where it is
    measured. The index is the item id, so no pandas row numbers leak into the page.

    >>> frame = as_frame("harms", side="not-normalized")
    >>> list(frame.columns)
    ['case', 'mechanism', 'measured effect', 'where']
    """
    import pandas as pd

    if name not in LIST_NAMES:
        raise ValueError(f"unknown list {name!r}; choose one of {LIST_NAMES}")
    values = values or {}
    rows = {}
    for item in load(path)[name]:
        if side is not None and item.side != side:
            continue
        evidence = item.evidence
        if all(number.key in values for number in evidence.numbers.values()):
            effect = PLACEHOLDER.sub(lambda match: format(values[evidence.numbers[match.group(1)].key],
                                                          evidence.numbers[match.group(1)].format), evidence.effect)
        else:
            effect = "measured in " + sorted({number.page for number in evidence.numbers.values()})[0]
        row = {"case": item.title}
        if name == "harms":
            row = {"lost": SIDES[item.side], **row, "mechanism": item.mechanism}
            if side is not None:
                row.pop("lost")
        rows[item.id] = {**row, "measured effect": effect, "where": evidence.label}
    return pd.DataFrame.from_dict(rows, orient="index")
