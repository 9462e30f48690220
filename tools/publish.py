"""Publish the built site and its reader notebooks on the gh-pages branch (``make publish``).

What goes on the branch (``reader_notebooks_branch`` in ``_config.yml``, ``sphinx.config``):

- the built site, ``_build/html`` (GitHub Pages serves it at ``html.baseurl``), with ``.nojekyll``
  so that Pages serves Sphinx's ``_static/`` folders;
- its reader notebooks, ``notebooks/*.ipynb`` inside the site, where the chapters' Colab and Binder
  buttons open them (``_ext/sphinx_reader_notebooks.py``);
- Binder's environment (``binder/requirements.txt``, ``binder/runtime.txt``), so that Binder can
  start on that branch; the notebooks' set-up cell then fetches the book's helpers at its release.

The push is ``ghp-import`` (the tool Jupyter Book's documentation uses), forced: the branch holds
the latest build only. ``--repo`` is the git repository ghp-import commits in (default: this one,
whose ``--remote`` is pushed to); the tests pass a scratch repository and a local bare remote::

    python tools/publish.py                      # push to origin's gh-pages
    python tools/publish.py --remote /tmp/site.git --repo /tmp/scratch
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
STAGING = ROOT / "_build" / "publish"
BINDER_FILES = ("requirements.txt", "runtime.txt")  # not postBuild: the branch has no package to install


class PublishError(RuntimeError):
    """The site is not ready to publish (no build, no reader notebooks) or the push failed."""


def published_branch(root: Path = ROOT) -> str:
    """The branch named by ``reader_notebooks_branch`` in ``_config.yml`` (the launch buttons read it too)."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    branch = ((config.get("sphinx") or {}).get("config") or {}).get("reader_notebooks_branch")
    if not isinstance(branch, str) or not branch.strip():
        raise PublishError("set sphinx.config.reader_notebooks_branch in _config.yml (e.g. gh-pages)")
    return branch.strip()


def stage(site: Path = SITE, staging: Path = STAGING, root: Path = ROOT) -> Path:
    """Copy the site, its reader notebooks and Binder's environment into ``staging``; return it."""
    if not (site / "index.html").is_file():
        raise PublishError(f"{site / 'index.html'} not found: run make notebooks first")
    chapters = sorted((root / "chapters").glob("*.ipynb"))
    missing = [path.name for path in chapters if not (site / "notebooks" / path.name).is_file()]
    if missing:
        raise PublishError(f"the site has no reader notebook for {missing}: run make notebooks first")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(site, staging, ignore=shutil.ignore_patterns(".buildinfo", ".doctrees"))
    (staging / "binder").mkdir(exist_ok=True)
    for name in BINDER_FILES:
        shutil.copy2(root / "binder" / name, staging / "binder" / name)
    return staging


def publish(remote: str, repo: Path, branch: str, staging: Path) -> None:
    """Commit ``staging`` as the whole of ``branch`` in ``repo`` (ghp-import) and force-push it to ``remote``."""
    ghp_import = Path(sys.executable).with_name("ghp-import")
    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    message = f"Publish the book built from {revision.stdout.strip() or 'a working tree'} (make publish)"
    command = [str(ghp_import), "--no-jekyll", "--push", "--force", "--remote", remote, "--branch", branch,
               "--message", message, str(staging)]
    result = subprocess.run(command, cwd=repo, capture_output=True, text=True)
    if result.returncode != 0:
        raise PublishError(f"ghp-import failed:\n{result.stdout}{result.stderr}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--remote", default="origin", help="git remote name, URL or path to push to (default: origin)")
    parser.add_argument("--repo", type=Path, default=ROOT, help="git repository ghp-import commits in (default: this one)")
    args = parser.parse_args(argv)
    try:
        branch = published_branch()
        publish(args.remote, args.repo, branch, stage())
    except PublishError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"published {SITE.relative_to(ROOT)} and its reader notebooks to {args.remote} {branch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
