"""Reader notebooks: the chapters in plain Jupyter markdown, with the book's numbers filled in.

Four parts, each small enough to read on its own:

- ``facts``: what the site shows, read from its build (glued values, labels, numbers, citations);
- ``inline``: roles, substitutions and links (``{glue:text}``, ``{ref}``, ``{cite:p}`` ...);
- ``blocks``: code fences and directives (figures, admonitions, tables, ``{book-list}`` ...);
- ``chapter``: a whole notebook (exercises and solutions across cells, hidden check cells).

``tools/make_reader_notebooks.py`` is the command line. Anything the tool cannot render (an unknown
role or directive, a missing glued value or label) raises ``ReaderNotebookError``: a reader notebook
never shows raw MyST or an empty block.
"""

from .blocks import Directive, Fence, Renderer, blockquote, details, parse_blocks
from .chapter import BOOK_SEED, CHECKS_TITLE, NUMBERS_TITLE, ChapterConverter
from .facts import ROOT, BookFacts, Citations, ReaderNotebookError, Target, collect_facts
from .inline import OUTPUT_FOLDER, InlineRenderer

__all__ = [
    "BOOK_SEED", "CHECKS_TITLE", "NUMBERS_TITLE", "OUTPUT_FOLDER", "ROOT", "BookFacts", "ChapterConverter", "Citations",
    "Directive", "Fence", "InlineRenderer", "ReaderNotebookError", "Renderer", "Target", "blockquote", "collect_facts",
    "details", "parse_blocks",
]
