"""The GitHub Actions workflow (.github/workflows/): valid for actionlint, and it runs the README's commands.

actionlint is pinned in requirements.txt (a wheel that carries the binary: nothing is downloaded).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = Path(sys.executable).with_name("actionlint")


def _actionlint(*paths: Path) -> subprocess.CompletedProcess:
    command = str(ACTIONLINT) if ACTIONLINT.is_file() else shutil.which("actionlint")
    assert command, "actionlint not installed: make setup (requirements.txt pins it)"
    return subprocess.run([command, "-no-color", *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_there_is_a_workflow():
    assert WORKFLOWS, "no workflow in .github/workflows/"


def test_actionlint_finds_nothing():
    result = _actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope }}\n")
    assert _actionlint(broken).returncode != 0


def _steps() -> list[str]:
    workflow = yaml.safe_load(WORKFLOWS[0].read_text())
    return [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]


def test_the_workflow_runs_the_readmes_commands_and_publishes_from_main():
    commands = [line.strip() for run in _steps() for line in run.splitlines()]
    readme = (ROOT / "README.md").read_text()
    for command in ("make test", "make test-editions", "make test-notebooks", "make publish"):
        assert command in commands, f"the workflow does not run {command}"
        assert re.search(rf"\b{re.escape(command)}\b", readme), f"README does not explain {command}"
    workflow = yaml.safe_load(WORKFLOWS[0].read_text())
    publish = next(step for job in workflow["jobs"].values() for step in job["steps"] if "make publish" in step.get("run", ""))
    assert "refs/heads/main" in publish.get("if", ""), "only main is published"


@pytest.mark.parametrize("path", WORKFLOWS, ids=[path.name for path in WORKFLOWS])
def test_workflow_python_matches_the_makefile(path):
    makefile = (ROOT / "Makefile").read_text()
    version = re.search(r"^PYTHON \?= python(\d+\.\d+)", makefile, re.M).group(1)
    assert f'python-version: "{version}"' in path.read_text()
