"""One address: the repository URL and release live in _config.yml only; what names them is generated."""

from __future__ import annotations

import re

import pytest
import yaml

from conftest import ROOT
from editions import tool

address = tool("book_address")
clone = tool("set_clone_line")


def test_clone_lines_are_the_real_command():
    command = clone.clone_command()
    assert command.startswith(f"git clone {address.read().url} && cd ")
    for path in clone.FILES:
        text = path.read_text()
        assert command in text.splitlines(), f"{path.name}: clone line differs; run `make address`"
        assert "<this repository>" not in text
    assert clone.main(["--check"]) == 0


def test_the_url_is_written_nowhere_else():
    url = address.read().url
    for path in [*ROOT.glob("*.md"), *ROOT.glob("*.cff")]:
        extra = path.read_text().count(url) - path.read_text().count(clone.clone_command())
        assert extra == 0, f"{path.name} writes the repository address by hand; generate it from _config.yml"


def test_release_is_the_cited_version():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert address.read().release == f"v{citation['version']}", "repository.release should tag the version CITATION.cff cites"


def test_a_file_without_exactly_one_clone_line_is_refused():
    with pytest.raises(ValueError, match="found 0"):
        clone.with_clone_line("no command here\n", "git clone x && cd x")
    with pytest.raises(ValueError, match="found 2"):
        clone.with_clone_line("git clone a && cd a\ngit clone b && cd b\n", "git clone x && cd x")


def test_binder_takes_the_cpu_torch_and_the_pinned_stack():
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M))
    binder = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", (ROOT / "binder" / "requirements.txt").read_text(), re.M))
    assert binder["torch"] == pins["torch"] + "+cpu"
    for name in ("numpy", "scipy", "pandas", "matplotlib", "scikit-learn"):
        assert binder[name] == pins[name], f"binder pins {name}=={binder[name]}, requirements.txt {pins[name]}"
    assert "--no-deps -e ." in (ROOT / "binder" / "postBuild").read_text()


@pytest.mark.parametrize("name", ["book_address", "set_launch_cell", "set_clone_line", "student_edition", "site_zip"])
def test_tools_doctests(name):
    import doctest

    result = doctest.testmod(tool(name))
    assert result.failed == 0 and result.attempted > 0
