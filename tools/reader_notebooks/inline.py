"""Inline MyST: roles (glue, references, citations, terms), substitutions and links, in plain markdown."""

from __future__ import annotations

import os
import re
from typing import Any

from .facts import BookFacts, ReaderNotebookError, Target

OUTPUT_FOLDER = "notebooks"  # where the reader notebooks sit, relative to the repository root

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


class InlineRenderer:
    """Inline MyST of one chapter (``docname``) as plain markdown, with the site's numbers and links.

    Anything the tool cannot render is an error, never a silent gap in a reader notebook.
    """

    def __init__(self, facts: BookFacts, docname: str):
        self.facts = facts
        self.docname = docname

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
        raise ReaderNotebookError(f"{self.docname}: role {{{name}}} has no reader-notebook form (add one to tools/reader_notebooks/inline.py)")

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

