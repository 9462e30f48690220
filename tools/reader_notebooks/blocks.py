"""Block MyST: code fences and (nested) directives, rendered as plain markdown."""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .facts import ReaderNotebookError
from .inline import InlineRenderer

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




class Renderer(InlineRenderer):
    """Turns one chapter's MyST markdown (prose, fences, directives) into plain Jupyter markdown."""

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
        if name == "book-list":
            return self.book_list(block)
        raise ReaderNotebookError(
            f"{self.docname}: directive {{{name}}} has no reader-notebook form (add one to tools/reader_notebooks/blocks.py)"
        )

    def book_list(self, block: "Directive") -> str:
        """``{book-list}``: the list's MyST, generated by the site's own directive code, rendered here."""
        try:
            lists = book_lists_module(self.facts.root)
            text = lists.list_myst(block.argument, block.options.get("style", "table"), block.options.get("side"),
                                   current_page=f"{self.docname}.ipynb")
        except (ValueError, OSError) as error:
            raise ReaderNotebookError(f"{self.docname}: book-list {block.argument}: {error}") from None
        return self.blocks(text) + "\n\n"

    def _number(self, label: str | None) -> str | None:
        if label and label in self.facts.targets:
            return self.facts.targets[label].number
        return None

    def figure_caption(self, block: "Directive", figure_label: str | None) -> str:
        caption = self.blocks(block.body).strip()
        number = self._number(figure_label)
        figure = f"Figure {number}" if number else "Figure"
        return f"**{figure}:** {caption}\n\n" if caption else f"**{figure}**\n\n"


def book_lists_module(root: Path):
    """The module behind the site's ``{book-list}`` directive, found through the book's Sphinx extensions.

    The tool does not hard-code where the book keeps its Sphinx extensions: it imports each one named in
    ``_config.yml`` and takes the ``book_lists`` module of the one that registers ``{book-list}``.
    """
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))  # local extension packages, as jupyter-book sees them
    sphinx = yaml.safe_load((root / "_config.yml").read_text()).get("sphinx") or {}
    # Installed extensions (extra_extensions) and the book's own package (local_extensions: name -> path).
    names = [*(sphinx.get("extra_extensions") or []), *(sphinx.get("local_extensions") or {})]
    for name in names:
        module = importlib.import_module(name)
        if hasattr(module, "BookListDirective") and hasattr(getattr(module, "book_lists", None), "list_myst"):
            return module.book_lists
    raise ReaderNotebookError("no Sphinx extension in _config.yml registers {book-list}")


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


