"""Run every chapter and every gated test fit under many seeds and tabulate the diagnostics.

The same seed draws the same numbers only on the same processor, BLAS and compiler target;
an instructor's laptop draws other numbers from seed 5650. A fit that passes the
convergence gate by a hair here can stop the render there. This script shows how much
margin every fit has: it runs each chapter's code (its evaluated cells, in order, as one
script, the way a student copying them would) with :data:`pooling.fitting.DEFAULT_SEED`
replaced by each seed of a list, and records, for every call of ``fit``:

    chapter, seed, function and call (the first line of code), gated (check=True), worst r_hat,
    smallest bulk and tail ESS, divergences, passed

Fits that a chapter makes with ``check=False`` on purpose (to show a bad parameterisation)
are recorded but not counted against the gate. With ``--tests`` it also runs the test
files that fit models, once per seed (``POOLING_TEST_SEED``), and records their fits the
same way (``POOLING_SWEEP_LOG``, see ``tests/conftest.py``).

Usage::

    python benchmarks/convergence_sweep.py                      # all chapters, seeds 1-10
    python benchmarks/convergence_sweep.py --chapters 04 07 --seeds 1 2 3
    python benchmarks/convergence_sweep.py --tests --jobs 2

Results are appended to ``benchmarks/sweep/results.jsonl`` (one line per fit) and the
summary table is printed and written beside the log (``results.jsonl`` gives ``summary.md``,
``tests_results.jsonl`` gives ``tests_summary.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import qmd  # noqa: E402  (the test suite's reader of .qmd files)

OUT_DIR = ROOT / "benchmarks" / "sweep"
DEFAULT_SEEDS = list(range(1, 11))
TEST_FILES = [
    "tests/test_recovery.py",
    "tests/test_agreement.py",
    "tests/test_shrinkage_claims.py",
    "tests/test_fitting.py",
    "tests/test_models.py",
    "tests/test_shrinkage.py",
    "tests/test_predict.py",
    "tests/test_plots.py",
    "tests/test_prior_claims.py",
    "tests/test_contextual_effects.py",
    "tests/test_exercises_partial_pooling.py",
    "tests/test_exercises_no_pooling.py",
    "tests/test_exercises_country_predictor.py",
    "tests/test_exercises_varying_slopes.py",
    "tests/test_exercises_group_predictor.py",
    "tests/test_exercises_three_levels.py",
    "tests/test_exercises_radon.py",
    "tests/test_exercises_model_comparison.py",
]

# Prepended to a chapter's script: every call of `fit` samples once per seed of the sweep
# (the model is compiled once and re-sampled; nutpie's compiled model is memoised per model
# object), records one line of diagnostics per seed, never raises on a failed gate (so the
# rest of the chapter still runs), and hands the chapter the draws of the first seed. The
# chapter imports `fit` after this runs, so it gets the wrapper.
PREAMBLE = '''
import inspect as _inspect, json as _json, numpy as _np
import nutpie as _nutpie
import pooling.fitting as _fitting
_SEEDS = {seeds!r}
_fitting.DEFAULT_SEED = _SEEDS[0]
_original_fit = _fitting.fit
_compile = _nutpie.compile_pymc_model
_compiled = {{}}

def _memoised_compile(model, **kwargs):
    key = (id(model), repr(sorted(kwargs.items())))
    if key not in _compiled:
        _compiled[key] = (model, _compile(model, **kwargs))
    return _compiled[key][1]

_nutpie.compile_pymc_model = _memoised_compile

def _sweep_fit(model, *args, check=True, var_names=None, random_seed=None, **kwargs):
    caller = _inspect.stack()[1]
    first = None
    # A fit the chapter makes with check=False on purpose shows a bad parameterisation;
    # its diagnostics are recorded for the first seed only.
    for seed in (_SEEDS if check else _SEEDS[:1]):
        idata = _original_fit(model, *args, check=False, var_names=var_names, random_seed=seed, **kwargs)
        _record(idata, check, var_names, seed, caller)
        first = idata if first is None else first
    return first

def _record(idata, gated, var_names, seed, caller):
    table = _fitting.convergence_table(idata, var_names)
    table = table[~table["constant"]]
    divergences = int(_np.asarray(idata["sample_stats"]["diverging"].values).sum())
    row = dict(
        chapter={chapter!r}, seed=seed, line=caller.lineno, function=caller.function,
        call=(caller.code_context or [""])[0].strip()[:90], gated=bool(gated),
        worst_r_hat=float(table["r_hat"].max()), min_ess_bulk=float(table["ess_bulk"].min()),
        min_ess_tail=float(table["ess_tail"].min()), divergences=divergences,
    )
    row["passed"] = bool(row["worst_r_hat"] <= _fitting.MAX_R_HAT and min(row["min_ess_bulk"], row["min_ess_tail"]) >= _fitting.MIN_ESS and divergences == 0)
    with open({log!r}, "a") as handle:
        handle.write(_json.dumps(row) + "\\n")

_fitting.fit = _sweep_fit
'''


def chapter_paths(selected: list[str] | None) -> list[Path]:
    paths = sorted((ROOT / "chapters").glob("[0-9][0-9]-*.qmd"))
    if selected:
        paths = [p for p in paths if any(p.name.startswith(s) for s in selected)]
    return [p for p in paths if qmd.parse_qmd(p).evaluated_cells]


def run_chapter(path: Path, seeds: list[int], log: Path) -> dict:
    doc = qmd.parse_qmd(path)
    script = PREAMBLE.format(seeds=list(seeds), chapter=path.stem, log=str(log)) + qmd.student_script(doc)
    with tempfile.TemporaryDirectory() as tmp:
        script_path = Path(tmp) / f"{path.stem}.py"
        script_path.write_text(script, encoding="utf-8")
        start = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, str(script_path)], cwd=tmp, capture_output=True, text=True,
            env={**os.environ, "MPLBACKEND": "Agg"}, timeout=3600,
        )
    return {"chapter": path.stem, "seed": f"{seeds[0]}-{seeds[-1]}", "seconds": time.perf_counter() - start,
            "exit": completed.returncode, "stderr": completed.stderr[-2000:]}


def run_tests(seed: int, log: Path) -> dict:
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *TEST_FILES],
        cwd=ROOT, capture_output=True, text=True, timeout=3600,
        env={**os.environ, "POOLING_TEST_SEED": str(seed), "POOLING_SWEEP_LOG": str(log),
             "MPLBACKEND": "Agg"},
    )
    return {"chapter": "tests", "seed": seed, "seconds": time.perf_counter() - start,
            "exit": completed.returncode, "stderr": completed.stdout[-2000:]}


def source_path(chapter: str) -> Path:
    """The file a logged fit was made in: ``tests/...`` as is, a chapter's stem as its .qmd."""
    return ROOT / chapter if chapter.startswith("tests/") else ROOT / "chapters" / f"{chapter}.qmd"


def drop_stale(rows: pd.DataFrame, sources: dict[str, str] | None = None) -> pd.DataFrame:
    """Only the rows whose call still appears in its source file.

    A call's line of code identifies it across runs; once the chapter or test is edited (a
    new ``target_accept``, another model), the lines of the old call describe a fit that no
    longer exists and would otherwise stay in the summary. ``sources`` maps each ``chapter``
    value to the text of its file (default: read from :func:`source_path`; a file that no
    longer exists counts as empty).
    """
    if sources is None:
        sources = {}
        for chapter in rows["chapter"].unique():
            path = source_path(chapter)
            sources[chapter] = path.read_text(encoding="utf-8") if path.exists() else ""
    keep = [call in sources.get(chapter, "") for chapter, call in zip(rows["chapter"], rows["call"])]
    return rows[keep]


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (chapter, function, call): over seeds, the worst value of every diagnostic.

    A call is identified by its first line of code within the function that makes it
    (``<module>`` for a chapter's cells, the test function for a test), so two tests that
    both call ``fit(model)`` stay apart. In the table such a call reads ``test_name: call``.
    """
    rows = rows.copy()
    # rows logged before the function was recorded have none; a chapter's cells are "<module>"
    rows["function"] = rows["function"].fillna("").replace("<module>", "") if "function" in rows else ""
    # A re-run replaces earlier lines of the same call and seed (line numbers move as a
    # chapter is edited; the call's code identifies it).
    rows = rows.drop_duplicates(["chapter", "function", "call", "seed"], keep="last")
    gated = rows[rows["gated"]]
    table = (
        gated.groupby(["chapter", "function", "call"], sort=True)
        .agg(line=("line", "last"), seeds=("seed", "nunique"), passed=("passed", "sum"),
             worst_r_hat=("worst_r_hat", "max"), min_ess_bulk=("min_ess_bulk", "min"),
             min_ess_tail=("min_ess_tail", "min"), max_divergences=("divergences", "max"))
        .reset_index()
    )
    named = table["function"] != ""
    table.loc[named, "call"] = table.loc[named, "function"] + ": " + table.loc[named, "call"]
    return table.sort_values(["chapter", "line"])[["chapter", "line", "call", "seeds", "passed", "worst_r_hat",
                                                   "min_ess_bulk", "min_ess_tail", "max_divergences"]]


def markdown(table: pd.DataFrame) -> str:
    header = "| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns) + "\n"
    lines = []
    for _, row in table.iterrows():
        cells = []
        for column, value in row.items():
            if column == "worst_r_hat":
                cells.append(f"{value:.4f}")
            elif isinstance(value, float):
                cells.append(f"{value:,.0f}")
            else:
                cells.append(str(value).replace("|", "\\|"))
        lines.append("| " + " | ".join(cells) + " |")
    return header + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=DEFAULT_SEEDS)
    parser.add_argument("--chapters", nargs="*", help="chapter number prefixes, e.g. 04 07")
    parser.add_argument("--no-chapters", action="store_true", help="only the tests (with --tests)")
    parser.add_argument("--tests", action="store_true", help="also run the gated test fits")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (each uses 2 cores)")
    parser.add_argument("--log", type=Path, default=OUT_DIR / "results.jsonl")
    args = parser.parse_args(argv)

    args.log = args.log.resolve()
    args.log.parent.mkdir(parents=True, exist_ok=True)
    jobs = []
    if not args.no_chapters:
        jobs += [(run_chapter, (p, args.seeds, args.log)) for p in chapter_paths(args.chapters)]
    if args.tests:
        jobs += [(run_tests, (s, args.log)) for s in args.seeds]
    runs = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for result in pool.map(lambda job: job[0](*job[1]), jobs):
            status = "ok" if result["exit"] == 0 else f"EXIT {result['exit']}"
            print(f"{result['chapter']:<32} seed {result['seed']:>5}  {result['seconds']:6.0f} s  {status}",
                  flush=True)
            if result["exit"] != 0:
                print(result["stderr"], flush=True)
            runs.append(result)

    rows = pd.read_json(args.log, lines=True)
    table = summarize(drop_stale(rows))
    text = markdown(table)
    summary_name = args.log.stem.replace("results", "summary") + ".md"
    args.log.with_name(summary_name).write_text(text, encoding="utf-8")
    print(text)
    failed = table[table["passed"] < table["seeds"]]
    print(f"{len(table)} gated fits; {len(failed)} failed the gate under at least one seed; "
          f"{sum(r['exit'] != 0 for r in runs)} of {len(runs)} runs exited with an error.")
    return 1 if len(failed) or any(r["exit"] != 0 for r in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
