# One target per job. Every target creates .venv and installs requirements.txt when needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Plots render off-screen everywhere; notebooks need no display.
export MPLBACKEND := agg

.PHONY: help setup book test bench lab clean

help:
	@echo "make book   build the site into _build/html (executes notebooks, cached)"
	@echo "make test   unit tests, notebook hygiene, every chapter under nbval, strict build checks"
	@echo "make bench  time every notebook cold, a no-change rebuild and the test suite"
	@echo "make lab    open the chapters in JupyterLab"
	@echo "make clean  remove build outputs (keeps .venv)"

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "Open $(CURDIR)/_build/html/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest tests utils chapters --doctest-modules --nbval-lax --nbval-current-env -p no:cacheprovider --durations=10

bench: $(STAMP)
	$(BIN)/python tests/bench.py

lab: $(STAMP)
	$(BIN)/jupyter lab chapters

clean:
	rm -rf _build .pytest_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
