"""Where a first render spends its time: a breakdown per page.

Runs each chapter's evaluated Python cells in order, in a fresh Python process per
chapter (as Quarto's kernel does), and splits the wall time into

* ``start``: interpreter start and the chapter's first cell (the imports);
* ``compile``: building the model's compiled log density (nutpie's ``compile_pymc_model``,
  or PyMC's own function compilation when a cell samples with ``nuts_sampler="pymc"``);
* ``sample``: drawing (nutpie's ``sample``; the rest of ``pm.sample``, e.g. the conversion
  to a DataTree, is counted here too);
* ``predictive``: ``pm.sample_prior_predictive``, ``pm.sample_posterior_predictive`` and
  ``pm.compute_log_likelihood``;
* ``other``: everything else (tables, plots, diagnostics, LOO).

Usage::

    python benchmarks/render_profile.py                       # every chapter
    python benchmarks/render_profile.py 05 07                 # chapters whose file starts so
    python benchmarks/render_profile.py --json profile.json   # also write the numbers
    python benchmarks/render_profile.py --cells 07            # and the slowest cells

It also counts, per page, the fits (calls of ``pm.sample``) and the models nutpie actually
compiled (a fit of a model identical to one fitted before on the page reuses its compiled
code, see ``pooling.compiled``).

Every fit is sampled (the test suite's fit cache is not loaded). Compiled code that numba
keeps on disk between processes (``cache=True`` functions) is not cleared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
PHASES = ("start", "compile", "sample", "predictive", "other")

_RUNNER = r"""
import json, sys, time, contextlib
T0 = float(sys.argv[2])
sys.path.insert(0, sys.argv[3])
from support.qmd import parse_qmd
import matplotlib
matplotlib.use("Agg")
doc = parse_qmd(sys.argv[1])
totals = {"compile": 0.0, "sample": 0.0, "predictive": 0.0}
depth = [0]

def timed(module, name, phase):
    original = getattr(module, name)
    def wrapper(*args, **kwargs):
        if depth[0]:
            return original(*args, **kwargs)
        depth[0] += 1
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[phase] += time.perf_counter() - start
            depth[0] -= 1
    wrapper.__wrapped__ = original
    setattr(module, name, wrapper)

patched = [False]
counts = {"fits": 0, "compiles": 0}

def counted(module, name, key):
    original = getattr(module, name)
    def wrapper(*args, **kwargs):
        counts[key] += 1
        return original(*args, **kwargs)
    setattr(module, name, wrapper)

def patch():
    if patched[0]:
        return
    import pymc, nutpie
    import pymc.sampling.mcmc as mcmc
    timed(nutpie, "compile_pymc_model", "compile")
    counted(nutpie, "compile_pymc_model", "compiles")
    counted(pymc, "sample", "fits")
    timed(nutpie, "sample", "sample")
    for name in ("sample_prior_predictive", "sample_posterior_predictive", "compute_log_likelihood"):
        timed(pymc, name, "predictive")
    patched[0] = True

namespace = {"__name__": "__main__"}
cells = doc.evaluated_cells
first_end = None
cell_times = []
for number, block in enumerate(cells, start=1):
    cell_start = time.perf_counter()
    exec(compile(block.raw, f"{doc.name}:{block.line}", "exec"), namespace)
    cell_times.append((time.perf_counter() - cell_start, block.line))
    if number == 1:
        first_end = time.perf_counter()
        patch()
    matplotlib.pyplot.close("all")
end = time.perf_counter()
start = first_end - T0
rest = end - first_end
other = rest - sum(totals.values())
print("PROFILE " + json.dumps({"start": start, **totals, "other": other, "total": end - T0,
                               "cells": len(cells), **counts,
                               "slowest": sorted(cell_times, reverse=True)[:5]}))
"""


def profile_chapter(path: Path) -> dict:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    started = time.time()
    # perf_counter is not shared between processes; time.time() is, at the cost of precision
    runner = _RUNNER.replace("time.perf_counter()", "time.time()")
    result = subprocess.run(
        [sys.executable, "-c", runner, str(path), repr(started), str(ROOT / "tests")],
        cwd=CHAPTERS, env=env, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{path.name} failed:\n{result.stderr[-3000:]}")
    line = next(l for l in result.stdout.splitlines()[::-1] if l.startswith("PROFILE "))
    return {"page": path.stem, **json.loads(line.removeprefix("PROFILE "))}


def markdown_table(rows: list[dict]) -> str:
    header = ("| page | fits | compiles | " + " | ".join(PHASES) + " | total |\n|---|"
              + "---:|" * (len(PHASES) + 3))
    lines = [header]
    for row in rows + [_sum(rows)]:
        cells = " | ".join(f"{row[p]:.1f}" for p in PHASES)
        lines.append(f"| {row['page']} | {row['fits']} | {row['compiles']} | {cells} | {row['total']:.1f} |")
    return "\n".join(lines)


def _sum(rows: list[dict]) -> dict:
    return {"page": "**all**", **{k: sum(r[k] for r in rows) for k in (*PHASES, "total", "fits", "compiles")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prefixes", nargs="*", help="chapter file prefixes, e.g. 05 07 (default: all)")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument("--cells", action="store_true", help="also list each page's five slowest cells")
    args = parser.parse_args(argv)
    paths = sorted(CHAPTERS.glob("[0-9][0-9]-*.qmd"))
    if args.prefixes:
        paths = [p for p in paths if any(p.name.startswith(x) for x in args.prefixes)]
    rows = []
    for path in paths:
        row = profile_chapter(path)
        rows.append(row)
        print(f"{row['page']}: " + ", ".join(f"{p} {row[p]:.1f} s" for p in PHASES)
              + f", total {row['total']:.1f} s", flush=True)
        if args.cells:
            slowest = ", ".join(f"line {line}: {seconds:.1f} s" for seconds, line in row["slowest"])
            print(f"  slowest cells (line of the .qmd): {slowest}", flush=True)
    print()
    print(markdown_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
