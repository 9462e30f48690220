"""The launch set-up cell: chapters run where the launch buttons send them.

Fast checks (in `make test`): every chapter's first code cell is exactly what
tools/set_launch_cell.py writes, and in the project's .venv the cell fetches nothing.
Slow checks (`make test-editions`): in a venv with only the scientific stack, torch and a kernel
(_build/hosted-venv, from tools/hosted-service-requirements.txt), the reader notebooks the launch
buttons open (the site's copies, _build/html/notebooks, as `make publish` publishes them) copied to
an empty folder outside the repository run end to end, fetching the book from a local snapshot of this
working tree through the address variables the cell honours.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import CHAPTERS, ROOT
from editions import slow, tool

HOSTED_PYTHON = ROOT / "_build" / "hosted-venv" / "bin" / "python"
PARITY_CHAPTERS = ["01_words", "06_blind"]  # a sensitivity chapter must be among them
launch = tool("set_launch_cell")
address = tool("book_address")


@pytest.mark.parametrize("path", CHAPTERS, ids=[path.stem for path in CHAPTERS])
def test_set_up_cell_is_what_the_script_writes(path):
    notebook = nbformat.read(path, as_version=4)
    changed = launch.with_launch_cell(notebook, launch.launch_cell_source())
    assert not changed, f"{path.name}: set-up cell differs; run `.venv/bin/python tools/set_launch_cell.py`"


def test_the_script_is_idempotent_and_reads_the_one_address():
    source = launch.launch_cell_source()
    configured = address.read()
    assert configured.url in source and f'"{configured.release}"' in source
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell("x = 1")])
    assert launch.with_launch_cell(notebook, source) is True
    assert launch.with_launch_cell(notebook, source) is False
    assert notebook.cells[1].source == source and notebook.cells[1].metadata["tags"] == ["remove-cell"]
    assert launch.main(["--check"]) == 0


def test_address_rejects_a_config_without_url_or_release(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://example.org/book\n")
    with pytest.raises(ValueError, match="release"):
        address.read(config)
    config.write_text("title: x\n")
    with pytest.raises(ValueError, match="repository.url"):
        address.read(config)


def _run_cell(python: str | Path, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    code = launch.launch_cell_source() + "\nimport utils; print('UTILS_AT', utils.__file__)\n"
    return subprocess.run(
        [str(python), "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, "MPLBACKEND": "agg", **(env or {})},
    )


def test_in_the_projects_venv_the_cell_fetches_nothing(tmp_path):
    result = _run_cell(sys.executable, tmp_path, {"BOOK_REPOSITORY": str(tmp_path / "nowhere")})
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"UTILS_AT {ROOT / 'utils' / '__init__.py'}" in result.stdout
    assert list(tmp_path.iterdir()) == [], "the cell fetched something although utils is installed"


def _hosted_env(origin: Path, ref: str) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env.update(
        BOOK_REPOSITORY=str(origin),
        BOOK_REF=ref,
        MPLBACKEND="agg",
        PIP_NO_INDEX="1",  # no network: the cell installs utils from the snapshot alone
        PIP_FIND_LINKS="",
        PIP_NO_BUILD_ISOLATION="0",  # i.e. no isolation: use the venv's setuptools, download nothing
    )
    return env


@pytest.fixture(scope="module")
def hosted_python() -> Path:
    if not HOSTED_PYTHON.is_file():
        pytest.fail("no _build/hosted-venv: run `make test-editions`, which builds it")
    # A fresh service: nothing of the book installed (an earlier run's editable install goes).
    subprocess.run([str(HOSTED_PYTHON), "-m", "pip", "uninstall", "-y", "-q", launch.DISTRIBUTION], capture_output=True)
    probe = subprocess.run([str(HOSTED_PYTHON), "-c", "import utils"], capture_output=True, cwd=Path.home())
    assert probe.returncode != 0, "the hosted venv can import utils before the cell ran"
    return HOSTED_PYTHON


@pytest.fixture(scope="module")
def origin(tmp_path_factory) -> tuple[Path, str]:
    """A git repository holding this working tree (committed or not), tagged like a release."""
    folder = tmp_path_factory.mktemp("origin") / "book"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        if (ROOT / name).is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, folder / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org", "-c", "init.defaultBranch=main"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"], ["tag", "v-test"]):
        subprocess.run([*git, *command], cwd=folder, check=True, capture_output=True)
    return folder, "v-test"


@slow
def test_inside_a_clone_without_utils_the_cell_fetches_nothing(hosted_python, origin):
    result = _run_cell(hosted_python, ROOT / "chapters", _hosted_env(*origin))
    assert result.returncode != 0 and "make lab" in result.stderr
    assert not any(path.name.startswith(address.read().folder + "-") for path in (ROOT / "chapters").iterdir())


RUNNER = """
import json, sys, nbformat
from nbclient import NotebookClient
path = sys.argv[1]
notebook = nbformat.read(path, as_version=4)
notebook.cells.append(nbformat.v4.new_code_cell("import sys, utils; print('KERNEL', sys.executable); print('UTILS', utils.__file__)"))
NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
print(json.dumps("".join(output.get("text", "") for output in notebook.cells[-1].outputs)))
"""


@slow
def test_chapters_run_end_to_end_in_a_bare_hosted_environment(hosted_python, origin, tmp_path):
    reader = tmp_path / "reader"  # an empty folder outside the repository, like Colab's /content
    reader.mkdir()
    for name in PARITY_CHAPTERS:  # what the launch buttons open: the published reader notebook (make notebooks)
        shutil.copy2(ROOT / "_build" / "html" / "notebooks" / f"{name}.ipynb", reader / f"{name}.ipynb")
    fetched = reader / f"{address.read().folder}-{address.read().release}"
    for name in PARITY_CHAPTERS:
        result = subprocess.run(
            [str(hosted_python), "-c", RUNNER, str(reader / f"{name}.ipynb"), str(reader)],
            cwd=reader, capture_output=True, text=True, timeout=900, env=_hosted_env(*origin),
        )
        assert result.returncode == 0, f"{name} failed in the hosted venv:\n{result.stderr[-4000:]}"
        report = json.loads(result.stdout.strip().splitlines()[-1])
        assert f"KERNEL {hosted_python.parent}" in report, report  # the kernel ran in the hosted venv
        assert f"UTILS {fetched / 'utils' / '__init__.py'}" in report, report  # utils came from the fetch
    # Torch and the scientific stack were not reinstalled: pip touched only the book's helpers.
    listing = subprocess.run([str(hosted_python), "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True)
    versions = {item["name"].lower(): item["version"] for item in json.loads(listing.stdout)}
    assert versions["torch"].startswith("2.13.0") and versions["numpy"] == "2.4.6"
    assert (fetched / "data" / "mnist_5k.npz").is_file()
