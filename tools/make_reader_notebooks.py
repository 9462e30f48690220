"""Reader notebooks: the chapters in plain Jupyter markdown, with the book's numbers filled in.

The chapters in ``chapters/`` are MyST sources. Outside the site (JupyterLab, Colab, Binder) their
roles and directives show as raw text: ``{glue:text}`raw_skewness:.2f```, ``{exercise-start}``
fences, ``{cite:p}`` keys. This tool writes ``notebooks/<chapter>.ipynb``, the same chapter in
markdown that every notebook front end renders:

- glued numbers are replaced by their values, formatted as on the site (seed 0);
- ``{glue:figure}`` directives become "**Figure 4.2:** caption" (the figure itself is the output of
  the code cell above it);
- admonitions become block quotes with a bold title; exercises become numbered headings, their
  solutions a collapsed ``<details>`` (solution code cells are collapsed too);
- citations become "Author (year)" linked to the site's references page, cross-references links to
  the site;
- hidden assertion cells stay where they are (later cells may use what they compute) and are
  collapsed by cell metadata that JupyterLab (``jupyter.source_hidden``) and Colab (``cellView:
  form`` with an ``#@title``) honour;
- the chapter's first code cell (the launch set-up) is copied verbatim.

Everything "as on the site" is read from the site's own build, never recomputed: glued values
from the execution cache (``_build/.jupyter_cache``), labels, figure and exercise numbers and the
formatted citations from Sphinx's environment (``_build/.doctrees/environment.pickle``). So run
the strict build first; ``make notebooks`` does both::

    python tools/make_reader_notebooks.py           # write notebooks/*.ipynb
    python tools/make_reader_notebooks.py --check   # exit 1 if a committed notebook is stale

The tool does not import the book's ``utils``: it is publishing machinery, not science.
"""

from __future__ import annotations

import argparse
import copy
import os
import pickle
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_FOLDER = "notebooks"
SOURCE_FOLDER = "chapters"
BOOK_SEED = "0"  # the published site's seed: `make notebooks` builds with it (the banner names it)

ADMONITION_TITLES = {
    "note": "Note",
    "tip": "Tip",
    "hint": "Hint",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
    "attention": "Attention",
    "danger": "Danger",
    "error": "Error",
    "seealso": "See also",
    "margin": "Aside",
    "sidebar": "Aside",
    "epigraph": "",
    "pull-quote": "",
    "highlights": "",
    "topic": "",
}
DROPPED_DIRECTIVES = {"toctree", "tableofcontents", "bibliography", "index", "glossary-index"}
CODE_DIRECTIVES = {"code-block", "code", "sourcecode", "code-cell"}
CHECKS_TITLE = "#@title Checks: the claims in the text, verified when the notebook runs"
NUMBERS_TITLE = "#@title Numbers quoted in the text, computed when the notebook runs"


class ReaderNotebookError(RuntimeError):
    """The build is missing or stale, or a chapter uses something the tool cannot render."""


# --------------------------------------------------------------------------------------------
# Facts about the built book
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Inline syntax: roles, substitutions, MyST links
# --------------------------------------------------------------------------------------------

# A role, or a code span (left alone), or a markdown link, whichever comes first.
INLINE = re.compile(
    r"(?P<role>\{(?P<name>[A-Za-z][\w:+.-]*)\}(?P<ticks>`+)(?P<content>(?:(?!\n\s*\n).)+?)(?P=ticks)(?!`))"
    r"|(?P<code>(?P<cticks>`+)(?:(?!\n\s*\n).)+?(?P=cticks)(?!`))"
    r"|(?P<link>(?<!!)\[(?P<text>[^\]\n]*)\]\((?P<href>[^)\s]+)\))"
    r"|(?P<sub>\{\{\s*(?P<subkey>[\w.-]+)\s*\}\})",
    re.S,
)
EXPLICIT_TITLE = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^<>]+)>$", re.S)


def _split_title(content: str) -> tuple[str | None, str]:
    match = EXPLICIT_TITLE.match(content.strip())
    if match:
        return match.group("title"), match.group("target").strip()
    return None, content.strip()


class Renderer:
    """Turns one chapter's MyST markdown into plain Jupyter markdown."""

    def __init__(self, facts: BookFacts, docname: str):
        self.facts = facts
        self.docname = docname
        self.warnings: list[str] = []

    # -- inline ------------------------------------------------------------------------------

    def inline(self, text: str) -> str:
        def replace(match: re.Match) -> str:
            if match.group("role"):
                return self.role(match.group("name"), match.group("content"))
            if match.group("link"):
                return self.link(match.group("text"), match.group("href"), match.group(0))
            if match.group("sub"):
                key = match.group("subkey")
                if key not in self.facts.substitutions:
                    raise ReaderNotebookError(f"{self.docname}: unknown substitution {{{{ {key} }}}}")
                return self.inline(self.facts.substitutions[key])
            return match.group(0)  # a code span stays as written

        return INLINE.sub(replace, text)

    def role(self, name: str, content: str) -> str:
        if name in {"glue:text", "glue", "glue:", "glue:any", "glue:md"}:
            return self.glue_text(name, content)
        if name == "cite" or name.startswith("cite:"):
            if self.facts.citations is None:
                raise ReaderNotebookError("the build has no citations (sphinxcontrib-bibtex)")
            return self.facts.citations.render(name.partition(":")[2], content, self.docname)
        if name in {"ref", "numref", "any"}:
            return self.reference(name, content)
        if name == "eq":
            label = content.strip()
            target = self._lookup(self.facts.equations, label, "equation")
            return f"[({target.number})]({self.facts.url(target.docname, target.anchor)})"
        if name == "doc":
            title, path = _split_title(content)
            docname = self._docname(path)
            return f"[{title or self.facts.titles.get(docname, docname)}]({self.facts.url(docname)})"
        if name == "term":
            title, term = _split_title(content)
            target = self._lookup(self.facts.terms, term.lower(), "glossary term")
            return f"[{title or term}]({self.facts.url(target.docname, target.anchor)})"
        if name == "download":
            title, path = _split_title(content)
            relative = os.path.normpath(os.path.join(os.path.dirname(self.docname), path))
            return f"[{title or os.path.basename(path)}]({self.facts.repository_url}/blob/{self.facts.branch}/{relative})"
        if name in {"math", "m"}:
            return f"${content}$"
        if name in {"sub", "subscript"}:
            return f"<sub>{content}</sub>"
        if name in {"sup", "superscript"}:
            return f"<sup>{content}</sup>"
        if name in {"abbr"}:
            return _split_title(content.replace("(", "<").replace(")", ">"))[0] or content
        if name in {"code", "samp", "file", "kbd", "command", "literal", "guilabel", "menuselection", "envvar"}:
            return f"`{content}`"
        if name in {"index"}:
            return _split_title(content)[0] or ""
        self.warnings.append(f"{self.docname}: role {{{name}}} has no reader-notebook form; kept its text")
        return content

    def glue_text(self, name: str, content: str) -> str:
        from myst_nb.core.variables import format_plain_text

        key, fmt = content, ""
        if name == "glue:text":  # the same split as myst-nb's PasteTextRole
            parts = content.rsplit(":", 1)
            key, fmt = (parts[0], parts[1]) if len(parts) == 2 else (parts[0], "s")
        bundle = self.glued(key)
        if name == "glue:md":
            if "text/markdown" not in bundle:
                raise ReaderNotebookError(f"{self.docname}: glued {key!r} has no text/markdown")
            return self.inline(str(bundle["text/markdown"]).strip())
        if "text/plain" not in bundle:
            raise ReaderNotebookError(f"{self.docname}: glued {key!r} has no text/plain to paste")
        if name == "glue:text":
            return format_plain_text(bundle["text/plain"], fmt)
        return str(bundle["text/plain"])

    def glued(self, key: str) -> dict[str, Any]:
        docname = self.docname
        if "::" in key:
            path, key = key.split("::", 1)
            docname = self._docname(path)
        if docname not in self.facts.glue:
            raise ReaderNotebookError(f"{self.docname}: glue from {docname}, which is not an executed chapter")
        if key not in self.facts.glue[docname]:
            raise ReaderNotebookError(f"{self.docname}: {key!r} is not glued in {docname} (stale build? run make book)")
        return self.facts.glue[docname][key]

    def reference(self, name: str, content: str) -> str:
        title, label = _split_title(content)
        target = self._lookup(self.facts.targets, label.lower() if label.lower() in self.facts.targets else label, "label")
        if name == "numref":
            if target.number is None:
                raise ReaderNotebookError(f"{self.docname}: {{numref}} to {label!r}, which has no number")
            template = title or self.facts.numfig_format.get(target.figtype or "", "%s")
            text = template.replace("%s", target.number).replace("{number}", target.number).replace("{name}", target.title)
        else:
            text = title or target.title
            if not text:
                # Sphinx shows "Exercise 1.2" for a ref to a numbered, untitled exercise.
                if target.number is None:
                    raise ReaderNotebookError(f"{self.docname}: {{ref}} to {label!r} needs an explicit title")
                text = self.facts.numfig_format.get(target.figtype or "", "%s") % target.number
        return f"[{self.inline(text)}]({self.facts.url(target.docname, target.anchor)})"

    def link(self, text: str, href: str, original: str) -> str:
        if re.match(r"^[a-z][a-z0-9+.-]*:", href):  # http:, mailto:, attachment: ...
            return original
        path, _, anchor = href.partition("#")
        if not path:
            label = anchor
            if label in self.facts.targets:
                target = self.facts.targets[label]
                return f"[{self.inline(text) or target.title}]({self.facts.url(target.docname, target.anchor)})"
            return original  # an anchor inside this notebook
        if path.endswith((".md", ".ipynb", ".rst")):
            docname = self._docname(path)
            return f"[{self.inline(text) or self.facts.titles.get(docname, docname)}]({self.facts.url(docname, anchor)})"
        return f"[{text}]({self.relocate(path)}{'#' + anchor if anchor else ''})"

    def relocate(self, path: str) -> str:
        """A path relative to the chapter, rewritten relative to the reader notebook."""
        absolute = os.path.normpath(os.path.join(os.path.dirname(self.docname), path))
        return os.path.relpath(absolute, OUTPUT_FOLDER).replace(os.sep, "/")

    def _docname(self, path: str) -> str:
        path = path.split("#", 1)[0]
        if path.startswith("/"):
            joined = path.lstrip("/")
        else:
            joined = os.path.normpath(os.path.join(os.path.dirname(self.docname), path))
        return re.sub(r"\.(ipynb|md|rst)$", "", joined).replace(os.sep, "/")

    def _lookup(self, table: dict[str, Target], key: str, what: str) -> Target:
        if key not in table:
            raise ReaderNotebookError(f"{self.docname}: unknown {what} {key!r} (stale build? run make book)")
        return table[key]

    # -- blocks ------------------------------------------------------------------------------

    def blocks(self, text: str) -> str:
        """Render markdown text: prose, code fences and (nested) directives."""
        return _tidy("".join(self.block(block) for block in parse_blocks(text)))

    def block(self, block: "str | Fence | Directive") -> str:
        """One parsed block: prose gets its roles replaced, code fences stay, directives are rendered."""
        if isinstance(block, Directive):
            return self.directive(block)
        if isinstance(block, Fence):
            return block.text
        return self.inline(_strip_myst_lines(block))

    def directive(self, block: "Directive") -> str:
        name = block.name
        if name in DROPPED_DIRECTIVES:
            return ""
        if name == "glue:figure":
            return self.figure_caption(block, figure_label=block.options.get("name"))
        if name in {"glue", "glue:any", "glue:md"}:
            bundle = self.glued(block.argument)
            if "text/markdown" in bundle:
                return self.blocks(str(bundle["text/markdown"])) + "\n\n"
            if "text/plain" in bundle and not any(mime.startswith("image/") for mime in bundle):
                return f"```\n{bundle['text/plain']}\n```\n\n"
            return self.figure_caption(block, figure_label=block.options.get("name"))
        if name == "glue:math":
            latex = str(self.glued(block.argument).get("text/latex", "")).strip().strip("$")
            return f"$$\n{latex}\n$$\n\n"
        if name in {"figure", "image"}:
            alt = block.options.get("alt", "")
            image = f"![{alt}]({self.relocate(block.argument)})\n\n"
            if name == "image":
                return image
            return image + self.figure_caption(block, figure_label=block.options.get("name"))
        if name in {"math"}:
            return f"$$\n{block.body.strip()}\n$$\n\n"
        if name in CODE_DIRECTIVES:
            return f"```{block.argument.split()[0] if block.argument else ''}\n{block.body.rstrip()}\n```\n\n"
        if name in {"container", "div", "only"} and not (name == "only" and "latex" in block.argument):
            return self.blocks(block.body) + "\n\n"
        if name == "raw":
            if "html" not in block.argument:
                return ""
            if re.search(r"<(script|input|button|canvas|iframe)\b", block.body, re.I):
                # Notebook front ends strip scripts: point to the working version instead.
                link = f"[the chapter on the site]({self.facts.url(self.docname)})"
                return blockquote("Interactive", f"This part of the chapter is interactive; it runs on {link}.")
            return block.body.rstrip() + "\n\n"
        if name == "table":
            number = self._number(block.options.get("name"))
            caption = self.inline(block.argument)
            head = f"**Table {number}:** {caption}" if number else f"**{caption}**" if caption else ""
            return (head + "\n\n" if head else "") + self.blocks(block.body) + "\n\n"
        if name == "dropdown" or (name == "admonition" and "dropdown" in block.options.get("class", "")):
            return details(self.inline(block.argument) or "Details", self.blocks(block.body))
        if name in ADMONITION_TITLES or name == "admonition":
            title = self.inline(block.argument) if name == "admonition" else ADMONITION_TITLES[name]
            if name in {"margin", "sidebar", "topic"} and block.argument:
                title = self.inline(block.argument)
            return blockquote(title, self.blocks(block.body))
        self.warnings.append(f"{self.docname}: directive {{{name}}} has no reader-notebook form; shown as a quote")
        return blockquote(self.inline(block.argument) or name.capitalize(), self.blocks(block.body))

    def _number(self, label: str | None) -> str | None:
        if label and label in self.facts.targets:
            return self.facts.targets[label].number
        return None

    def figure_caption(self, block: "Directive", figure_label: str | None) -> str:
        caption = self.blocks(block.body).strip()
        number = self._number(figure_label)
        figure = f"Figure {number}" if number else "Figure"
        return f"**{figure}:** {caption}\n\n" if caption else f"**{figure}**\n\n"


def blockquote(title: str, body: str) -> str:
    """A titled block quote: the admonition of plain markdown."""
    lines = ([f"**{title}**", ""] if title else []) + body.strip().splitlines()
    return "\n".join(f"> {line}".rstrip() for line in lines) + "\n\n"


def details(summary: str, body: str) -> str:
    """A collapsed block: ``<details>`` renders in JupyterLab, Colab and on GitHub."""
    return f"<details>\n<summary><b>{summary}</b></summary>\n\n{body.strip()}\n\n</details>\n\n"


def _strip_myst_lines(text: str) -> str:
    """Drop MyST-only lines: targets ``(label)=``, comments ``% ...`` and block breaks ``+++``."""
    kept = [line for line in text.splitlines(keepends=True) if not re.match(r"^\s*(\([^)\s]+\)=\s*$|%|\+\+\+)", line)]
    return "".join(kept)


def _tidy(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


# --------------------------------------------------------------------------------------------
# Block parsing: fences and directives (backtick, tilde and colon fences, nested by length)
# --------------------------------------------------------------------------------------------

FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")


@dataclass
class Fence:
    """A plain code fence, kept verbatim."""

    text: str


@dataclass
class Directive:
    name: str
    argument: str
    options: dict[str, str] = field(default_factory=dict)
    body: str = ""


def parse_blocks(text: str) -> list[str | Fence | Directive]:
    """Split markdown into text, code fences and directives (their bodies unparsed).

    >>> parse_blocks("a\\n```{note}\\n:class: x\\nbody\\n```\\nb\\n")
    ['a\\n', Directive(name='note', argument='', options={'class': 'x'}, body='body\\n'), 'b\\n']
    """
    lines = text.splitlines(keepends=True)
    blocks: list[str | Fence | Directive] = []
    plain: list[str] = []
    index = 0
    while index < len(lines):
        opening = FENCE_OPEN.match(lines[index].rstrip("\n"))
        if not opening or (opening.group("fence")[0] == "`" and "`" in opening.group("info")):
            plain.append(lines[index])
            index += 1
            continue
        fence = opening.group("fence")
        end = index + 1
        while end < len(lines):
            closing = re.match(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[end].rstrip("\n"))
            if closing:
                break
            end += 1
        body_lines = lines[index + 1 : end]
        if plain:
            blocks.append("".join(plain))
            plain = []
        info = opening.group("info").strip()
        directive = re.match(r"^\{(?P<name>[^}\s]+)\}\s*(?P<argument>.*)$", info)
        if directive:
            options, body = _split_options(body_lines)
            blocks.append(Directive(directive.group("name"), directive.group("argument").strip(), options, body))
        elif fence[0] == ":":  # a colon fence without a directive is plain text in MyST
            plain.extend(lines[index : end + 1])
        else:
            blocks.append(Fence("".join(lines[index : end + 1]).rstrip("\n") + "\n"))
        index = end + 1
    if plain:
        blocks.append("".join(plain))
    return blocks


def _split_options(lines: list[str]) -> tuple[dict[str, str], str]:
    options: dict[str, str] = {}
    index = 0
    if lines and lines[0].strip() == "---":  # YAML options block
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is not None:
            loaded = yaml.safe_load("".join(lines[1:end])) or {}
            options = {str(key): str(value) for key, value in loaded.items()}
            index = end + 1
    while index < len(lines):
        match = re.match(r"^:(?P<key>[\w-]+):(?P<value>.*)$", lines[index].rstrip("\n"))
        if not match:
            break
        options[match.group("key")] = match.group("value").strip()
        index += 1
    return options, "".join(lines[index:])


# --------------------------------------------------------------------------------------------
# Chapters: cells, exercises and solutions across cells, hidden cells
# --------------------------------------------------------------------------------------------


class ChapterConverter:
    """One chapter notebook in, one reader notebook out."""

    def __init__(self, facts: BookFacts, docname: str):
        self.facts = facts
        self.docname = docname
        self.renderer = Renderer(facts, docname)
        self.mode: str | None = None  # None, "exercise" or "solution"
        self.solution_title = ""
        self.solution_started = False
        self.heading_level = 1

    def convert(self, source: nbformat.NotebookNode) -> nbformat.NotebookNode:
        cells: list[nbformat.NotebookNode] = []
        first_code = next((i for i, cell in enumerate(source.cells) if cell.cell_type == "code"), None)
        for index, cell in enumerate(source.cells):
            if "id" not in cell:  # ids keep the output stable (nbformat would draw random ones)
                cell = copy.copy(cell)
                cell["id"] = f"cell-{index}"
            if cell.cell_type == "markdown":
                text = self.markdown(cell.source, continues=self._solution_continues(source.cells, index))
                if text.strip():
                    cells.append(self._cell(cell, nbformat.v4.new_markdown_cell(text)))
            elif cell.cell_type == "code":
                cells.append(self.code(cell, is_setup=index == first_code))
            else:
                cells.append(copy.deepcopy(cell))
        if self.mode is not None:
            raise ReaderNotebookError(f"{self.docname}: an {self.mode} is never closed")
        self._add_banner(cells)
        reader = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(source.metadata))
        reader.nbformat, reader.nbformat_minor = source.nbformat, max(source.nbformat_minor, 5)
        reader.metadata["reader_notebook"] = {
            "source": f"{self.docname}.ipynb",
            "site": self.facts.url(self.docname),
            "generated_by": "tools/make_reader_notebooks.py (make notebooks): edit the source, not this file",
        }
        return reader

    def _solution_continues(self, cells: list, index: int) -> bool:
        """Is the next cell a code cell (so an open solution continues in code)?"""
        return index + 1 < len(cells) and cells[index + 1].cell_type == "code"

    @staticmethod
    def _cell(original: nbformat.NotebookNode, new: nbformat.NotebookNode) -> nbformat.NotebookNode:
        new["id"] = original["id"]
        kept = {key: value for key, value in original.metadata.items() if key in {"tags", "editable", "deletable"}}
        new.metadata.update(copy.deepcopy(kept))
        return new

    # -- markdown ----------------------------------------------------------------------------

    def markdown(self, text: str, continues: bool) -> str:
        pieces: list[str] = []
        solution: list[str] = []
        for block in parse_blocks(text):
            if isinstance(block, Directive) and block.name in {"exercise-start", "exercise-end", "solution-start", "solution-end", "exercise", "solution"}:
                pieces.extend(self._flush_solution(solution))
                pieces.append(self.exercise_directive(block))
                continue
            rendered = self.renderer.block(block)
            if isinstance(block, str):
                for heading in re.findall(r"^(#{1,6})\s", block, re.M):
                    self.heading_level = len(heading)
            (solution if self.mode == "solution" else pieces).append(rendered)
        if self.mode == "solution":
            if continues:
                solution.append("*The solution's code follows in collapsed cells: expand them, or run them.*")
            pieces.extend(self._flush_solution(solution))
        return _tidy("\n\n".join(piece.strip("\n") for piece in pieces if piece.strip()))

    def _flush_solution(self, solution: list[str]) -> list[str]:
        body = "\n\n".join(piece.strip("\n") for piece in solution if piece.strip())
        solution.clear()
        if not body:
            return []
        summary = self.solution_title + (" (continued)" if self.solution_started else "")
        self.solution_started = True
        return [details(summary, body)]

    def exercise_directive(self, block: Directive) -> str:
        name = block.name
        if name in {"exercise-start", "exercise"}:
            self._expect(None, name)
            label = block.options.get("label", "")
            number = self.renderer._number(label)
            title = f"Exercise {number}" if number else "Exercise"
            if block.argument:
                title += f" ({self.renderer.inline(block.argument)})"
            level = min(self.heading_level + 1, 6)
            heading = f"{'#' * level} {title}"
            if name == "exercise":
                return heading + "\n\n" + self.renderer.blocks(block.body)
            self.mode = "exercise"
            return heading
        if name == "exercise-end":
            self._expect("exercise", name)
            self.mode = None
            return ""
        if name in {"solution-start", "solution"}:
            self._expect(None, name)
            label = block.argument.split()[0] if block.argument else ""
            number = self.renderer._number(label)
            self.solution_title = f"Solution to Exercise {number}" if number else "Solution"
            self.solution_started = False
            if name == "solution":
                return details(self.solution_title, self.renderer.blocks(block.body))
            self.mode = "solution"
            return ""
        self._expect("solution", name)  # solution-end
        self.mode = None
        return ""

    def _expect(self, mode: str | None, name: str) -> None:
        if self.mode != mode:
            raise ReaderNotebookError(f"{self.docname}: {{{name}}} inside an open {self.mode or 'nothing'}")

    # -- code --------------------------------------------------------------------------------

    def code(self, cell: nbformat.NotebookNode, is_setup: bool) -> nbformat.NotebookNode:
        if is_setup:  # the launch set-up cell: verbatim, visible, first to run
            new = nbformat.v4.new_code_cell(cell.source)
            new.metadata.update(copy.deepcopy(cell.metadata))
            new["id"] = cell["id"]
            return new
        tags = set(cell.metadata.get("tags", []))
        source = cell.source
        hide_source = bool(tags & {"remove-cell", "remove-input", "hide-input", "hide-cell"}) or self.mode == "solution"
        hide_output = bool(tags & {"hide-output", "hide-cell"}) or self.mode == "solution"
        title = None
        if self.mode == "solution":
            checks = "remove-cell" in tags and re.search(r"^\s*assert\b", source, re.M)
            title = f"#@title {self.solution_title}: {'checks' if checks else 'code'}"
        elif "remove-cell" in tags:
            title = CHECKS_TITLE if re.search(r"^\s*assert\b", source, re.M) else NUMBERS_TITLE
        if title and not source.lstrip().startswith("#@title"):
            source = f"{title}\n{source}"
        new = self._cell(cell, nbformat.v4.new_code_cell(source))
        if hide_source or hide_output:
            jupyter = {}
            if hide_source:
                jupyter["source_hidden"] = True
                new.metadata["cellView"] = "form"  # Colab: show the #@title, hide the code
            if hide_output:
                jupyter["outputs_hidden"] = True
            new.metadata["jupyter"] = jupyter
        return new

    def _add_banner(self, cells: list[nbformat.NotebookNode]) -> None:
        banner = (
            f"> *Reader's edition of [this chapter]({self.facts.url(self.docname)}) of the book, in plain notebook "
            f"markdown. The numbers in the text are those of the book's own run (`BOOK_SEED={BOOK_SEED}`). Run the "
            "notebook to see the figures; the collapsed cells titled \"Checks\" verify every claim as they run.*"
        )
        for cell in cells:
            if cell.cell_type == "markdown":
                match = re.search(r"^# .*$", cell.source, re.M)
                if match:
                    cell.source = cell.source[: match.end()] + "\n\n" + banner + cell.source[match.end() :]
                    return
        cells.insert(0, nbformat.v4.new_markdown_cell(banner, id="reader-banner"))


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def reader_path(root: Path, docname: str) -> Path:
    return root / OUTPUT_FOLDER / f"{Path(docname).name}.ipynb"


def render_chapter(facts: BookFacts, docname: str) -> tuple[str, list[str]]:
    """The reader notebook of one chapter, as the exact text to commit, and any warnings."""
    source = nbformat.read(facts.root / f"{docname}.ipynb", as_version=4)
    converter = ChapterConverter(facts, docname)
    reader = converter.convert(source)
    nbformat.validate(reader)
    return nbformat.writes(reader) + "\n", converter.renderer.warnings


def render_all(facts: BookFacts) -> dict[Path, str]:
    rendered = {}
    for docname in facts.chapters:
        text, warnings = render_chapter(facts, docname)
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        rendered[reader_path(facts.root, docname)] = text
    return rendered


def stale_files(root: Path, rendered: dict[Path, str]) -> list[str]:
    """Reader notebooks that differ from what the tool would write, are missing, or have no chapter."""
    stale = [str(path.relative_to(root)) for path, text in rendered.items() if not path.is_file() or path.read_text() != text]
    orphans = sorted(set((root / OUTPUT_FOLDER).glob("*.ipynb")) - set(rendered))
    return stale + [f"{path.relative_to(root)} (no chapter)" for path in orphans]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale reader notebooks (exit 1)")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    try:
        rendered = render_all(collect_facts(args.root))
    except ReaderNotebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stale = stale_files(args.root, rendered)
    if args.check:
        for name in stale:
            print(f"stale: {name} (run make notebooks)", file=sys.stderr)
        return 1 if stale else 0
    (args.root / OUTPUT_FOLDER).mkdir(exist_ok=True)
    site_copy = args.root / "_build" / "html" / OUTPUT_FOLDER  # what the site's download button serves
    for path, text in rendered.items():
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(args.root)}")
        if site_copy.is_dir():
            (site_copy / path.name).write_text(text)
    for name in stale:
        if name.endswith("(no chapter)"):
            orphan = args.root / name.removesuffix(" (no chapter)")
            orphan.unlink()
            print(f"removed {orphan.relative_to(args.root)} (its chapter is gone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
