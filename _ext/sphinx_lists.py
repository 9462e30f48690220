"""Sphinx extension: the ``{book-list}`` directive renders a list of ``book_lists.yml`` into a page.

Usage in any page or notebook markdown cell::

    ```{book-list} harms
    :style: table
    :side: normalized
    ```

- argument: ``reasons``, ``harms`` or ``mechanisms``;
- ``:style:`` ``table`` (default), ``bullets`` or ``brief`` (titles and links only);
- ``:side:`` (harms only) ``normalized`` or ``not-normalized``.

The list is generated as MyST (with ``{glue:text}`` numbers and ``{ref}`` links) and parsed in place,
inside a container with the classes ``book-list book-list-<name>`` so tests can find it in the HTML.
A broken data file or a missing number is a build error, not a silent gap.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList

from _ext import book_lists


class BookListDirective(Directive):
    required_arguments = 1
    has_content = False
    option_spec = {
        "style": lambda value: directives.choice(value, book_lists.STYLES),
        "side": lambda value: directives.choice(value, tuple(book_lists.SIDES)),
    }

    def run(self) -> list[nodes.Node]:
        env = self.state.document.settings.env
        name = self.arguments[0]
        current_page = Path(env.doc2path(env.docname, base=False)).as_posix()  # str in Sphinx 7, Path in 8
        env.note_dependency(str(book_lists.DATA_FILE))  # edit the data, and every page using it rebuilds
        try:
            text = book_lists.list_myst(name, self.options.get("style", "table"), self.options.get("side"),
                                        current_page=current_page)
        except (ValueError, OSError) as error:
            raise self.error(f"book-list {name}: {error}") from None
        classes = ["book-list", f"book-list-{name}", f"book-list-style-{self.options.get('style', 'table')}"]
        if "side" in self.options:
            classes.append(f"book-list-side-{self.options['side']}")
        container = nodes.container(classes=classes)
        self.state.nested_parse(StringList(text.splitlines(), source=str(book_lists.DATA_FILE)),
                                self.content_offset, container)
        return [container]


def setup(app) -> dict:
    app.add_directive("book-list", BookListDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
