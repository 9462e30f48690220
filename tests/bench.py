"""`make bench`: time every notebook cold, the whole book, a no-change rebuild and the test suite.

Prints a table, writes it to _build/bench.md (and the raw numbers to _build/bench.json), and exits
with status 1 when a budget is exceeded. Budgets (2-core machine): every notebook <= 20 s, whole
book <= 90 s, no-change rebuild <= 10 s, test suite <= 240 s, `utils.scaling_report` on a 100,000 x 50
table <= 2 s (best of 3, so the number is the function's, not a neighbour's). The bare-kernel row is a notebook
that only imports numpy, torch, scikit-learn and matplotlib, measured in the same run, so the
notebook times can be read as "kernel start-up + this much real work".
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
BIN = Path(sys.executable).parent
BUDGETS = {"notebook": 20.0, "book": 90.0, "rebuild": 10.0, "tests": 240.0, "scaling_report": 2.0}
BARE_KERNEL = "import numpy, torch, sklearn, matplotlib.pyplot"


def run_notebook(notebook: nbformat.NotebookNode, cwd: Path) -> float:
    """Seconds to start a fresh kernel and execute every cell."""
    start = time.perf_counter()
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return time.perf_counter() - start


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def time_scaling_report(rows: int = 100_000, columns: int = 50, repeats: int = 3) -> float:
    """Best of ``repeats`` seconds for ``scaling_report`` on a mixed table (normal, skewed, outliers, NaN)."""
    sys.path.insert(0, str(ROOT))
    from utils.scaling_report import scaling_report

    generator = np.random.default_rng(0)
    table = generator.normal(size=(rows, columns))
    table[:, 1] = generator.exponential(size=rows)
    table[:50, 2] = 1e3
    table[:10, 3] = float("nan")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        scaling_report(table)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    os.environ.setdefault("MPLBACKEND", "agg")
    bare = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(BARE_KERNEL)])
    bare_seconds = run_notebook(bare, ROOT / "chapters")
    notebooks = {}
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        notebooks[path.stem] = run_notebook(nbformat.read(path, as_version=4), path.parent)
    book = [str(BIN / "jupyter-book"), "build", str(ROOT)]
    timed(book)  # make sure the execution cache is complete
    rebuild_seconds = timed(book)
    tests_seconds = timed(["make", "test"])  # the README's test command itself, not a copy of it
    report_seconds = time_scaling_report()
    total = sum(notebooks.values())

    rows = [(name, seconds, seconds / bare_seconds, seconds <= BUDGETS["notebook"]) for name, seconds in notebooks.items()]
    lines = [
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} CPU cores, Python {platform.python_version()}.",
        "",
        "| what | seconds | × bare kernel | budget | within |",
        "|---|---:|---:|---:|:---:|",
        f"| bare kernel (imports numpy, torch, sklearn, matplotlib) | {bare_seconds:.1f} | 1.0 | | |",
    ]
    lines += [f"| `{name}` | {seconds:.1f} | {ratio:.1f} | {BUDGETS['notebook']:.0f} | {'yes' if ok else 'NO'} |"
              for name, seconds, ratio, ok in rows]
    checks = {
        "whole book (sum of notebooks)": (total, BUDGETS["book"]),
        "rebuild with nothing changed": (rebuild_seconds, BUDGETS["rebuild"]),
        "`make test` (after set-up)": (tests_seconds, BUDGETS["tests"]),
        "`scaling_report`, 100,000 x 50 table (best of 3)": (report_seconds, BUDGETS["scaling_report"]),
    }
    lines += [f"| {name} | {seconds:.1f} | {seconds / bare_seconds:.1f} | {budget:.0f} | {'yes' if seconds <= budget else 'NO'} |"
              for name, (seconds, budget) in checks.items()]
    report = "\n".join(lines) + "\n"
    BUILD.mkdir(exist_ok=True)
    (BUILD / "bench.md").write_text(report)
    (BUILD / "bench.json").write_text(json.dumps({"bare_kernel": bare_seconds, "notebooks": notebooks, "book": total,
                                                  "rebuild": rebuild_seconds, "tests": tests_seconds,
                                                  "scaling_report": report_seconds}, indent=2))
    print(report)
    within = all(ok for *_, ok in rows) and all(seconds <= budget for seconds, budget in checks.values())
    print("all budgets met" if within else "BUDGET EXCEEDED", f"(report: {BUILD / 'bench.md'})")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
