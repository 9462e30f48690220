"""What the site shows, read from its build: glued values, labels, numbers, titles, citations.

Everything "as on the site" is read from the site's own build, never recomputed: glued values from
the execution cache (``_build/.jupyter_cache``), labels, figure and exercise numbers and the
formatted citations from Sphinx's environment (``_build/.doctrees/environment.pickle``).
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]
SOURCE_FOLDER = "chapters"


class ReaderNotebookError(RuntimeError):
    """The build is missing or stale, or a chapter uses something the tool cannot render."""


@dataclass
class Target:
    """A place on the site that a ``{ref}``/``{numref}`` can point to."""

    docname: str
    anchor: str
    title: str
    number: str | None = None  # "4.1" for a numbered figure or exercise
    figtype: str | None = None  # "figure", "exercise", "section", ...


@dataclass
class BookFacts:
    """What the site shows, read from its build: the tool's only input besides the chapters."""

    root: Path
    base_url: str
    repository_url: str
    branch: str
    chapters: list[str]  # docnames of the notebook chapters, in table-of-contents order
    glue: dict[str, dict[str, dict[str, Any]]]  # docname -> key -> mime bundle
    targets: dict[str, Target]
    terms: dict[str, Target]
    equations: dict[str, Target]
    titles: dict[str, str]  # docname -> page title
    numfig_format: dict[str, str]
    substitutions: dict[str, str]
    citations: "Citations | None" = None

    def url(self, docname: str, anchor: str = "") -> str:
        """The page's address on the published site."""
        return f"{self.base_url}{docname}.html" + (f"#{anchor}" if anchor else "")


def site_base_url(config: dict) -> str:
    """The published site's address: ``html.baseurl`` if set, else GitHub Pages of ``repository.url``.

    >>> site_base_url({"html": {"baseurl": "https://example.org/book"}})
    'https://example.org/book/'
    >>> site_base_url({"repository": {"url": "https://github.com/org/book"}})
    'https://org.github.io/book/'
    """
    base = (config.get("html") or {}).get("baseurl") or ""
    if not base:
        repository = (config.get("repository") or {}).get("url", "")
        match = re.match(r"https://github\.com/([^/]+)/([^/#?]+?)(?:\.git)?/?$", repository)
        if not match:
            raise ReaderNotebookError("set html.baseurl in _config.yml: the site address cannot be derived")
        base = f"https://{match.group(1)}.github.io/{match.group(2)}/"
    return base.rstrip("/") + "/"


def notebook_chapters(root: Path) -> list[str]:
    """Docnames of the ``chapters/*.ipynb`` pages in the table of contents, in order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files: list[str] = []

    def walk(entries: Iterable[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(str(entry["file"]).removesuffix(".ipynb").removesuffix(".md"))
            walk(entry.get("sections", []))
            walk(entry.get("chapters", []))
            for part in entry.get("parts", []):
                walk(part.get("chapters", []))

    walk([toc])
    return [name for name in files if name.startswith(f"{SOURCE_FOLDER}/") and (root / f"{name}.ipynb").is_file()]


def load_environment(root: Path) -> Any:
    """Sphinx's pickled build environment; a clear error if the book has not been built."""
    path = root / "_build" / ".doctrees" / "environment.pickle"
    if not path.is_file():
        raise ReaderNotebookError(f"{path} not found: build the book first (make book)")
    with path.open("rb") as handle:
        return pickle.load(handle)


def check_environment_is_current(env: Any, root: Path, docnames: Iterable[str]) -> None:
    """Fail if a chapter changed after the build read it (its labels or numbers may have moved)."""
    for docname in docnames:
        if docname not in env.all_docs:
            raise ReaderNotebookError(f"{docname} is not in the last build: run make book first")
        source = root / f"{docname}.ipynb"
        # Sphinx's own test for an outdated page: modified (microseconds) after it was read.
        if source.stat().st_mtime_ns // 1000 > env.all_docs[docname]:
            raise ReaderNotebookError(f"{source.name} changed after the last build: run make book first")


def executed_glue(root: Path, docname: str) -> dict[str, dict[str, Any]]:
    """Glued mime bundles of a chapter, from the build's execution cache (matched by content)."""
    from jupyter_cache import get_cache
    from myst_nb.ext.glue import extract_glue_data_cell

    cache_path = root / "_build" / ".jupyter_cache"
    if not cache_path.is_dir():
        raise ReaderNotebookError(f"{cache_path} not found: build the book first (make book)")
    cache = get_cache(str(cache_path))
    source = nbformat.read(root / f"{docname}.ipynb", as_version=4)
    try:
        record = cache.match_cache_notebook(source)
    except KeyError:
        record = None
    if record is None:
        raise ReaderNotebookError(f"{docname}.ipynb has no up-to-date executed copy in {cache_path}: run make book first")
    executed = cache.get_cache_bundle(record.pk).nb
    glue: dict[str, dict[str, Any]] = {}
    for cell in executed.cells:
        if cell.cell_type == "code":
            for key, output in extract_glue_data_cell(cell):
                glue[key] = dict(output["data"])
    return glue


def collect_facts(root: Path = ROOT) -> BookFacts:
    """Everything the reader notebooks quote from the site, read from ``_build``."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    chapters = notebook_chapters(root)
    env = load_environment(root)
    check_environment_is_current(env, root, chapters)
    std = env.domaindata["std"]
    numbers: dict[tuple[str, str], tuple[str, str]] = {}
    for docname, by_type in env.toc_fignumbers.items():
        for figtype, ids in by_type.items():
            for node_id, number in ids.items():
                numbers[docname, node_id] = (figtype, ".".join(str(part) for part in number))
    targets: dict[str, Target] = {}
    for label, (docname, anchor) in std.get("anonlabels", {}).items():
        figtype, number = numbers.get((docname, anchor), (None, None))
        targets[label] = Target(docname, anchor, "", number, figtype)
    for label, (docname, anchor, title) in std.get("labels", {}).items():
        figtype, number = numbers.get((docname, anchor), (None, None))
        targets[label] = Target(docname, anchor, title, number, figtype)
    for docname, by_anchor in env.toc_secnumbers.items():
        for label, target in targets.items():
            if target.docname == docname and target.number is None:
                secnumber = by_anchor.get(f"#{target.anchor}") or (by_anchor.get("") if target.anchor == label else None)
                if secnumber:
                    target.number, target.figtype = ".".join(map(str, secnumber)), "section"
    terms = {
        name.lower(): Target(docname, anchor, name)
        for (kind, name), (docname, anchor) in std.get("objects", {}).items()
        if kind == "term"
    }
    equations = {
        label: Target(docname, f"equation-{label}", "", str(number))
        for label, (docname, number) in env.domaindata.get("math", {}).get("objects", {}).items()
    }
    titles = {docname: title.astext() for docname, title in env.titles.items()}
    repository = config.get("repository") or {}
    facts = BookFacts(
        root=root,
        base_url=site_base_url(config),
        repository_url=str(repository.get("url", "")).rstrip("/"),
        branch=str(repository.get("branch", "main")),
        chapters=chapters,
        glue={docname: executed_glue(root, docname) for docname in chapters},
        targets=targets,
        terms=terms,
        equations=equations,
        titles=titles,
        numfig_format=dict(getattr(env.config, "numfig_format", {}) or {}),
        substitutions={str(k): str(v) for k, v in ((config.get("parse") or {}).get("myst_substitutions") or {}).items()},
    )
    facts.citations = Citations.from_environment(env, facts)
    return facts


class Citations:
    """``{cite:p}``/``{cite:t}`` as the site formats them (sphinxcontrib-bibtex's own style code)."""

    def __init__(self, domain_data: dict, style: Any, facts: BookFacts):
        self.by_key = {citation.key: citation for citation in domain_data["citations"]}
        self.style = style
        self.facts = facts

    @classmethod
    def from_environment(cls, env: Any, facts: BookFacts) -> "Citations | None":
        if "cite" not in env.domaindata:
            return None
        from sphinxcontrib.bibtex.plugin import find_plugin

        style = find_plugin("sphinxcontrib.bibtex.style.referencing", env.config.bibtex_reference_style)()
        return cls(env.domaindata["cite"], style, facts)

    def render(self, role: str, content: str, fromdocname: str) -> str:
        from pybtex.plugin import find_plugin
        from sphinxcontrib.bibtex.citation_target import parse_citation_targets
        from sphinxcontrib.bibtex.domain import SphinxReferenceInfo
        from sphinxcontrib.bibtex.richtext import BaseReferenceText
        from sphinxcontrib.bibtex.style.referencing import format_references

        plaintext = find_plugin("pybtex.backends", "plaintext")()
        references = []
        for target in parse_citation_targets(content):
            citation = self.by_key.get(target.key)
            if citation is None:
                raise ReaderNotebookError(f"{fromdocname}: unknown citation key {target.key!r}")
            info = SphinxReferenceInfo(
                builder=None,
                fromdocname=fromdocname,
                todocname=citation.bibliography_key.docname,
                citation_id=citation.citation_id,
                title=None,
                pre_text=target.pre,
                post_text=target.post,
            )
            references.append((citation.entry, citation.formatted_entry, info))
        text = format_references(self.style, role or "p", references)

        def markdown(part: Any) -> str:
            if isinstance(part, BaseReferenceText):
                info = part.info[0]
                inner = "".join(markdown(child) for child in part.parts)
                return f"[{inner}]({self.facts.url(info.todocname, info.citation_id)})"
            children = getattr(part, "parts", None)
            if children is not None and _contains(part, BaseReferenceText):
                return "".join(markdown(child) for child in children)
            return part.render(plaintext)

        return markdown(text)


def _contains(text: Any, kind: type) -> bool:
    return isinstance(text, kind) or any(_contains(child, kind) for child in getattr(text, "parts", []))

