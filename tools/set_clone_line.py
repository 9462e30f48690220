"""Write the clone command of the intro and the README from the one address in ``_config.yml``.

Each file has one line of the form ``git clone <url> && cd <folder>`` (a placeholder
``git clone <this repository> && cd <it>`` is accepted too); it becomes the real command.
Idempotent; ``--check`` changes nothing and exits 1 when a line differs.

    .venv/bin/python tools/set_clone_line.py [--check]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: find book_address
import book_address  # noqa: E402

FILES = [book_address.ROOT / "intro.md", book_address.ROOT / "README.md"]
CLONE = re.compile(r"^git clone (?:<this repository>|\S+) && cd (?:<it>|\S+)$", re.M)


def clone_command(address: book_address.Address | None = None) -> str:
    """The command, e.g. ``git clone https://github.com/owner/book && cd book``.

    >>> clone_command(book_address.Address("https://example.org/x/my-book", "v1", "my-book"))
    'git clone https://example.org/x/my-book && cd my-book'
    """
    address = address or book_address.read()
    return f"git clone {address.url} && cd {address.folder}"


def with_clone_line(text: str, command: str) -> str:
    """``text`` with its one clone line replaced by ``command``; a ValueError unless there is exactly one."""
    found = CLONE.findall(text)
    if len(found) != 1:
        raise ValueError(f"expected one line 'git clone ... && cd ...', found {len(found)}")
    return CLONE.sub(command, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file differs")
    args = parser.parse_args(argv)
    command, stale = clone_command(), []
    for path in FILES:
        text = path.read_text()
        try:
            new = with_clone_line(text, command)
        except ValueError as error:
            raise SystemExit(f"{path.name}: {error}") from None
        if new != text:
            stale.append(path.name)
            if not args.check:
                path.write_text(new)
    if args.check and stale:
        print("clone line differs from _config.yml in: " + ", ".join(stale) + " (run tools/set_clone_line.py)")
        return 1
    if not args.check:
        print(f"rewrote the clone line of {len(stale)} file(s)" + (f": {', '.join(stale)}" if stale else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
