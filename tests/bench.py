"""`make bench`: time every notebook cold, the whole book, a no-change rebuild and the test suite.

Prints a table, writes it to _build/bench.md (and the raw numbers to _build/bench.json), and exits
with status 1 when a budget is exceeded. Budgets (2-core machine): every notebook <= 30 s (aim 20 s), whole
book <= 150 s, no-change rebuild <= 10 s, test suite <= 360 s, `utils.scaling_report` on a 100,000 x 50
table <= 2 s (best of 3, so the number is the function's, not a neighbour's). The bare-kernel row is a notebook
that only imports numpy, torch, scikit-learn and matplotlib, measured in the same run, so the
notebook times can be read as "kernel start-up + this much real work".

`python tests/bench.py optimizer` runs only the micro-benchmark of the stacked optimizer: 200 steps
of a 784-128-10 stacked MLP with 48 models, ``utils.optim.StackedOptimizer`` against the hand-written
optimizer it replaced (read from git history at ``OLD_OPTIMIZER_COMMIT``, skipped without git). The new
one must not be slower (budget: 1.1 x the old time, to allow for timing noise).
"""

from __future__ import annotations

import importlib.util
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
BUDGETS = {"notebook": 30.0, "book": 150.0, "rebuild": 10.0, "tests": 360.0, "scaling_report": 2.0}  # the developers' guide
BARE_KERNEL = "import numpy, torch, sklearn, matplotlib.pyplot"
OLD_OPTIMIZER_COMMIT = "e1ed07e5ca3cfd4e9a91ccbc614e47a2e942e8a7"  # last commit with training._StackedOptimizer


def _old_training_module():
    """utils/training.py as of OLD_OPTIMIZER_COMMIT, imported under another name (None without git)."""
    try:
        source = subprocess.run(["git", "show", f"{OLD_OPTIMIZER_COMMIT}:utils/training.py"], cwd=ROOT,
                                check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = BUILD / "old_training.py"
    BUILD.mkdir(exist_ok=True)
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_training", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_training"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def optimizer_bench(steps: int = 200, repeats: int = 5) -> dict[str, dict[str, float]]:
    """Seconds for ``steps`` optimizer steps (gradients fixed) of a 784-128-10 stacked MLP with 48 models.

    Best of ``repeats`` per optimizer, for the new StackedOptimizer and, where git has it, the old one.
    """
    import torch

    from utils.models import StackedMLP
    from utils.optim import StackedOptimizer

    torch.set_num_threads(1)
    old = _old_training_module()
    rates = torch.logspace(-4, -1, 48, dtype=torch.float64)
    results: dict[str, dict[str, float]] = {}
    for name in ("sgd", "momentum", "adam"):
        makers = {"new": lambda model: StackedOptimizer([model.get_parameter(p) for p in model.parameter_names()], name, rates)}
        if old is not None:
            makers["old"] = lambda model: old._StackedOptimizer(name, model, rates, 0.0)
        best = {label: float("inf") for label in makers}
        for _ in range(repeats):  # old and new alternate, so a busy moment hurts both alike
            for label, make in makers.items():
                model = StackedMLP(list(range(48)), 784, 128, 10)
                for param in model.parameters():
                    param.grad = torch.randn_like(param) * 1e-3
                optimizer = make(model)
                optimizer.step()  # warm-up: allocates the optimizer state
                start = time.perf_counter()
                for _ in range(steps):
                    optimizer.step()
                best[label] = min(best[label], time.perf_counter() - start)
        results[name] = best
    return results


def optimizer_report(results: dict[str, dict[str, float]]) -> tuple[list[str], bool]:
    lines = ["| stacked optimizer, 200 steps, 784-128-10 MLP x 48 | new (s) | old (s) | new / old |", "|---|---:|---:|---:|"]
    within = True
    for name, times in results.items():
        ratio = times["new"] / times["old"] if "old" in times else float("nan")
        within &= not ratio > 1.1
        old = f"{times['old']:.2f}" if "old" in times else "n/a"
        lines.append(f"| {name} | {times['new']:.2f} | {old} | {ratio:.2f} |")
    return lines, within


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
    optimizer_lines, optimizer_within = optimizer_report(optimizer_bench())
    if sys.argv[1:] == ["optimizer"]:
        print("\n".join(optimizer_lines))
        return 0 if optimizer_within else 1
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
    lines += ["", *optimizer_lines]
    report = "\n".join(lines) + "\n"
    BUILD.mkdir(exist_ok=True)
    (BUILD / "bench.md").write_text(report)
    (BUILD / "bench.json").write_text(json.dumps({"bare_kernel": bare_seconds, "notebooks": notebooks, "book": total,
                                                  "rebuild": rebuild_seconds, "tests": tests_seconds,
                                                  "scaling_report": report_seconds}, indent=2))
    print(report)
    within = all(ok for *_, ok in rows) and all(seconds <= budget for seconds, budget in checks.values()) and optimizer_within
    print("all budgets met" if within else "BUDGET EXCEEDED", f"(report: {BUILD / 'bench.md'})")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
