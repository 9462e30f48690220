"""Shared by the take-away edition tests: the tools/ scripts, the skip for slow tests."""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

from conftest import ROOT

TOOLS = ROOT / "tools"
EDITIONS_VARIABLE = "BOOK_EDITION_TESTS"
# The edition tests build venvs, PDFs and archives; `make test-editions` (and .ci/run after
# `make test`) runs them, keeping `make test` within its time budget.
slow = pytest.mark.skipif(
    os.environ.get(EDITIONS_VARIABLE) != "1",
    reason=f"slow edition test: run `make test-editions` (sets {EDITIONS_VARIABLE}=1)",
)


def tool(name: str):
    """Import ``tools/<name>.py`` as a module (tools/ is scripts, not a package)."""
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
