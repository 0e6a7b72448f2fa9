"""Execute the pages whose frozen results are stale, several at a time.

Quarto executes a project's pages one after another, and most of a page's execution is
single-threaded: starting the kernel, importing PyMC, compiling each model with numba,
drawing the figures. Only sampling uses more than one core. On a machine with two or more
cores, executing two pages side by side finishes sooner; each page is still executed by
its own ``quarto render <page>``, exactly as it would be alone, and writes its own frozen
results (``_freeze/<page>/``). A plain ``quarto render`` afterwards finds every page frozen
and only assembles the site.

Usage::

    python tools/execute_pages.py                 # every stale page, 2 at a time
    python tools/execute_pages.py --jobs 1        # one at a time
    python tools/execute_pages.py chapters/07-varying-slopes.qmd chapters/11-model-comparison.qmd

Pages are started longest first, so the long ones do not end up running alone at the end:
by their time in the last per-page profile (``benchmarks/render_profile.json``), or, for a
page not in it, by the number of ``fit(`` calls in its code. A page that fails stops the run: no new
page is started, the one running beside it finishes, and the failing page's Quarto output is
printed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from freeze_status import ROOT, stale_pages  # noqa: E402


PROFILE = ROOT / "benchmarks" / "render_profile.json"
#: Seconds assumed per ``fit(`` call for a page that the profile does not list.
SECONDS_PER_FIT = 10.0


def profiled_seconds(profile: Path | None = None) -> dict[str, float]:
    """Total seconds per page (file stem) in the per-page profile; empty if there is none."""
    path = PROFILE if profile is None else profile
    if not path.is_file():
        return {}
    return {row["page"]: float(row["total"]) for row in json.loads(path.read_text(encoding="utf-8"))}


def expected_cost(page: Path, profiled: dict[str, float]) -> float:
    """Rough execution time of a page: profiled, or estimated from its ``fit(`` calls."""
    if page.stem in profiled:
        return profiled[page.stem]
    return SECONDS_PER_FIT * page.read_text(encoding="utf-8").count("fit(")


def execution_order(pages: list[Path], profiled: dict[str, float] | None = None) -> list[Path]:
    """Longest first; ties keep the order given."""
    profiled = profiled_seconds() if profiled is None else profiled
    return sorted(pages, key=lambda page: expected_cost(page, profiled), reverse=True)


def _render(page: Path, quarto: str) -> tuple[Path, int, str, float]:
    started = time.perf_counter()
    result = subprocess.run(
        [quarto, "render", str(page.relative_to(ROOT))],
        cwd=ROOT, capture_output=True, text=True,
    )
    return page, result.returncode, result.stdout + result.stderr, time.perf_counter() - started


def execute(pages: list[Path], jobs: int, quarto: str = "quarto") -> int:
    """Render each page with its own ``quarto render``, ``jobs`` at a time; 0 if all succeeded."""
    pending = execution_order(pages)
    failed = None
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        running: set[Future] = set()
        while pending or running:
            while pending and failed is None and len(running) < jobs:
                page = pending.pop(0)
                print(f"executing {page.relative_to(ROOT)}", flush=True)
                running.add(pool.submit(_render, page, quarto))
            if not running:
                break
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                page, code, output, seconds = future.result()
                name = page.relative_to(ROOT)
                if code == 0:
                    print(f"  {name}: done in {seconds:.0f} s", flush=True)
                else:
                    print(f"  {name}: quarto render failed (exit {code}):\n{output[-6000:]}",
                          file=sys.stderr, flush=True)
                    failed = failed or name
    if failed is not None:
        print(f"stopped: {failed} failed to execute", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", type=Path, help="pages to execute (default: the stale ones)")
    parser.add_argument("--jobs", type=int, default=2, help="pages executed at the same time (default 2)")
    parser.add_argument("--quarto", default="quarto", help="the quarto command")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    pages = [p.resolve() for p in args.pages] if args.pages else [page for page, _ in stale_pages()]
    missing = [str(p) for p in pages if not p.is_file()]
    if missing:
        parser.error(f"no such page: {', '.join(missing)}")
    if not pages:
        print("every page's frozen results are current")
        return 0
    return execute(pages, args.jobs, args.quarto)


if __name__ == "__main__":
    raise SystemExit(main())
