"""The book's Sphinx machinery, imported only by ``_config.yml`` (and by the tests that check it).

- ``sphinx_site``: offline MathJax, an interactive figure's data, small fixes of the generated HTML;
- ``sphinx_lists``: the ``{book-list}`` directive, which renders a list of ``book_lists.yml``;
- ``book_lists``: loads and checks ``book_lists.yml``;
- ``sphinx_reader_notebooks``: launch and download buttons open the reader notebooks (``notebooks/``).

The science lives in ``utils``, which never imports Sphinx, docutils or myst-parser; this package
may import ``utils`` (never the other way round). ``_config.yml`` puts the book's root on
``sys.path`` (``local_extensions``), so the build finds this package without an install.
"""
