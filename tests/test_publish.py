"""make publish (tools/publish.py): the site and its reader notebooks on gh-pages, where the buttons look.

Fast checks (in `make test`): the branch comes from the one setting in _config.yml, and publishing
without a built site is refused. Slow check (`make test-editions`): `make publish` pushes to a local
bare repository (no network), from a scratch repository so that this clone's branches stay as they are.
"""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from conftest import ROOT
from editions import slow, tool

publish = tool("publish")


def test_the_branch_is_the_one_setting_in_config():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert publish.published_branch() == config["sphinx"]["config"]["reader_notebooks_branch"]


def test_a_config_without_the_setting_is_refused(tmp_path):
    (tmp_path / "_config.yml").write_text("sphinx:\n  config: {}\n")
    with pytest.raises(publish.PublishError, match="reader_notebooks_branch"):
        publish.published_branch(tmp_path)


def test_publishing_needs_a_built_site_with_its_reader_notebooks(tmp_path):
    with pytest.raises(publish.PublishError, match="make notebooks"):
        publish.stage(site=tmp_path / "html", staging=tmp_path / "staging")
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "index.html").write_text("<html></html>")
    with pytest.raises(publish.PublishError, match="no reader notebook"):
        publish.stage(site=tmp_path / "html", staging=tmp_path / "staging")


def _git(*args, cwd=None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@slow
def test_make_publish_puts_site_and_reader_notebooks_on_the_branch(tmp_path):
    remote, scratch = tmp_path / "site.git", tmp_path / "scratch"
    _git("init", "-q", "--bare", str(remote))
    _git("init", "-q", str(scratch))
    _git("config", "user.name", "test", cwd=scratch)
    _git("config", "user.email", "test@example.org", cwd=scratch)
    before = _git("branch", "--list", cwd=ROOT)
    result = subprocess.run(["make", "publish", f"PUBLISH_REMOTE={remote}", f"PUBLISH_REPO={scratch}"], cwd=ROOT,
                            capture_output=True, text=True, timeout=1800, env={**os.environ, "BOOK_SEED": "0"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    branch = publish.published_branch()
    files = set(_git("ls-tree", "-r", "--name-only", branch, cwd=remote).split())
    chapters = sorted(path.name for path in (ROOT / "chapters").glob("*.ipynb"))
    assert {"index.html", ".nojekyll", "binder/requirements.txt", "binder/runtime.txt"} <= files
    assert {f"notebooks/{name}" for name in chapters} <= files, "reader notebooks missing from the published branch"
    assert {f"chapters/{name.removesuffix('.ipynb')}.html" for name in chapters} <= files
    # What was published is this build's reader notebooks, byte for byte.
    name = chapters[0]
    assert _git("show", f"{branch}:notebooks/{name}", cwd=remote) == (ROOT / "_build" / "html" / "notebooks" / name).read_text()
    # The published chapter page's Colab button opens the published reader notebook on that branch.
    page = _git("show", f"{branch}:chapters/{name.removesuffix('.ipynb')}.html", cwd=remote)
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].removeprefix("https://github.com/")
    assert f"colab.research.google.com/github/{url}/blob/{branch}/notebooks/{name}" in page
    assert _git("branch", "--list", cwd=ROOT) == before, "make publish changed this clone's branches"
