"""Pack the built site (``_build/html``) into one archive that works opened from the file system.

Everything the pages load already comes from the site itself (_ext.sphinx_site serves
MathJax locally), so the archive is the site as built, under one top folder, plus one thing:
on the search page, a note shown only under ``file://``, where the browser blocks search from
reading the pages (it lists matches without excerpts); the note says so and how to serve the
folder instead. Online nothing changes.

    .venv/bin/python tools/site_zip.py [--html _build/html] [--out _build/scaling-vs-normalization-site.zip]
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOP = "scaling-vs-normalization-site"
NOTE_ID = "file-protocol-search-note"
# Shown only when the page is opened from the file system; a served site never sees it.
NOTE = f"""
<script>
document.addEventListener("DOMContentLoaded", () => {{
  if (window.location.protocol !== "file:") return;
  const note = document.createElement("div");
  note.id = "{NOTE_ID}";
  note.className = "admonition warning";
  note.innerHTML = "<p class='admonition-title'>Search is limited when the site is opened from a file</p>" +
    "<p>The browser blocks search from reading the pages here, so it lists matching pages without " +
    "their excerpts, and may miss some. For full search, serve this folder: run " +
    "<code>python -m http.server</code> inside it and open <code>http://localhost:8000/search.html</code>. " +
    "Every other page works from the file system as it is.</p>";
  const main = document.querySelector("main") || document.body;
  main.prepend(note);
}});
</script>
"""


def with_note(html: str) -> str:
    """The search page with the file:// note added before ``</body>`` (once).

    >>> with_note("<body></body>").count("file-protocol-search-note")
    1
    >>> with_note(with_note("<body></body>")).count("file-protocol-search-note")
    1
    """
    if NOTE_ID in html:
        return html
    if "</body>" not in html:
        raise ValueError("the search page has no </body>: is this a Sphinx HTML page?")
    return html.replace("</body>", NOTE + "</body>", 1)


def pack(html: Path, archive: Path) -> Path:
    """Write ``archive`` from the site in ``html``; return it."""
    if not (html / "index.html").is_file():
        raise FileNotFoundError(f"{html / 'index.html'} not found: run `make book` first")
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(html.rglob("*")):
            if not path.is_file() or path.name == ".buildinfo":
                continue
            name = f"{TOP}/{path.relative_to(html).as_posix()}"
            if path.relative_to(html).as_posix() == "search.html":
                bundle.writestr(name, with_note(path.read_text(encoding="utf-8")))
            else:
                bundle.write(path, name)
    return archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / f"{TOP}.zip")
    args = parser.parse_args(argv)
    archive = pack(args.html, args.out)
    print(f"wrote {archive} ({archive.stat().st_size / 2**20:.1f} MB); unzip it and open {TOP}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
