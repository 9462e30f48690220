# One target per job. Every target creates .venv and installs requirements.txt when needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Plots render off-screen everywhere; notebooks need no display.
export MPLBACKEND := agg

.PHONY: help setup book test bench lab clean
.PHONY: pdf site-zip student test-editions address
.PHONY: help setup book test bench lab clean notebooks lab-source test-notebooks publish

help:
	@echo "make book   build the site into _build/html (executes notebooks, cached)"
	@echo "make test   unit tests, notebook hygiene, strict build (runs every chapter and its checks at BOOK_SEED), site checks"
	@echo "make bench  time every notebook cold, a no-change rebuild and the test suite"
	@echo "make lab    build the reader notebooks (make notebooks) and open them in JupyterLab"
	@echo "make lab-source  open the chapter sources (chapters/, MyST) in JupyterLab, for authors"
	@echo "make notebooks   the site's build at seed 0 and its reader notebooks (_build/html/notebooks, notebooks/)"
	@echo "make publish     make notebooks, then put the site and its reader notebooks on gh-pages (ghp-import)"
	@echo "make test-notebooks  run reader notebooks under nbval and open one in JupyterLab (slow)"
	@echo "make clean  remove build outputs and the generated notebooks/ (keeps .venv)"
	@echo "make pdf       the whole book as PDF: _build/pdf/*-instructor.pdf and *-student.pdf"
	@echo "make site-zip  the site as one archive that works from file://: _build/*-site.zip"
	@echo "make student   chapters without solutions and an answer key: _build/student/"
	@echo "make test-editions  the slow tests of the PDF, site archive, student and launch editions"
	@echo "make address   rewrite the launch set-up cells and clone lines from _config.yml's repository"

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	touch $(STAMP)

# The site and its reader notebooks are one build output: the notebooks quote the build's numbers.
book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	$(BIN)/python tools/make_reader_notebooks.py
	@echo "Open $(CURDIR)/_build/html/index.html"

# Every chapter runs once, in the strict build (its hidden checks raise, and an error fails the build);
# the execution cache is kept per BOOK_SEED (_ext/sphinx_seed_cache.py), so `BOOK_SEED=7 make test` runs seed 7.
test: $(STAMP)
	$(BIN)/python -m pytest tests utils --doctest-modules -p no:cacheprovider --durations=10

bench: $(STAMP)
	$(BIN)/python tests/bench.py

# The reader notebooks are generated, never committed: on a fresh clone this builds the book first.
lab: notebooks
	$(BIN)/jupyter lab notebooks

lab-source: $(STAMP)
	$(BIN)/jupyter lab chapters

# Reader notebooks quote the site's values, so they are generated from the strict build at the
# site's seed (the build reuses the execution cache; only changed chapters run), into the site
# (_build/html/notebooks, published) and into notebooks/ (a working copy for make lab).
notebooks: $(STAMP)
	BOOK_SEED=0 $(BIN)/jupyter-book build . -W -n --keep-going
	BOOK_SEED=0 $(BIN)/python tools/make_reader_notebooks.py

# The site, with its reader notebooks where the launch buttons open them, on the gh-pages branch of
# PUBLISH_REMOTE (tools/publish.py, ghp-import). PUBLISH_REPO: the repository ghp-import commits in.
PUBLISH_REMOTE ?= origin
PUBLISH_REPO ?= .
publish: notebooks
	$(BIN)/python tools/publish.py --remote "$(PUBLISH_REMOTE)" --repo "$(PUBLISH_REPO)"

# The first two reader notebooks end to end under nbval (override: make test-notebooks
# READER_NBVAL="notebooks/*.ipynb"), then a reader notebook in JupyterLab driven by Chromium.
READER_NBVAL ?= notebooks/01_words.ipynb notebooks/02_pixels.ipynb
test-notebooks: notebooks
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider $(READER_NBVAL)
	READER_NOTEBOOK_LAB=1 $(BIN)/python -m pytest -p no:cacheprovider tests/test_reader_notebooks_lab.py

clean:
	rm -rf _build .pytest_cache notebooks
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

# Take-away editions (README, "Editions"). The PDF prints the single-page build with the
# system Chromium; that build reuses the execution cache of `make book`.
HOSTED_VENV := _build/hosted-venv
HOSTED_STAMP := $(HOSTED_VENV)/.installed
EDITION_TESTS := tests/test_launch_parity.py tests/test_student.py tests/test_pdf.py tests/test_site_zip.py tests/test_publish.py

pdf: $(STAMP)
	$(BIN)/jupyter-book build . --builder singlehtml --keep-going
	$(BIN)/python tools/print_pdf.py

site-zip: book
	$(BIN)/python tools/site_zip.py

student: $(STAMP)
	$(BIN)/python tools/student_edition.py

address: $(STAMP)
	$(BIN)/python tools/set_launch_cell.py
	$(BIN)/python tools/set_clone_line.py

# A stand-in for a hosted notebook service: the scientific stack, torch and a kernel, no utils.
$(HOSTED_STAMP): tools/hosted-service-requirements.txt
	test -x $(HOSTED_VENV)/bin/python || $(PYTHON) -m venv $(HOSTED_VENV)
	$(HOSTED_VENV)/bin/python -m pip install -r tools/hosted-service-requirements.txt
	touch $(HOSTED_STAMP)

test-editions: $(STAMP) $(HOSTED_STAMP) notebooks pdf site-zip student
	BOOK_EDITION_TESTS=1 $(BIN)/python -m pytest $(EDITION_TESTS) -p no:cacheprovider --durations=10
