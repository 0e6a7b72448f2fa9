"""Do the same seed's draws depend on the processor the model is compiled for?

PyMC hands nutpie a model compiled by numba (LLVM) for the processor it runs on. Another
processor can get other machine code (fused multiply-adds, other vector widths), so the
same seed can give other draws. This script compiles and samples one model several times,
each in a fresh process with ``NUMBA_CPU_NAME`` set to another LLVM target (a stand-in for
running on another processor), and reports whether the draws are bitwise identical to those
compiled for ``generic`` x86-64, how far apart they are otherwise, and the wall time.

Usage::

    python benchmarks/cpu_targets.py [--targets generic host haswell skylake-avx512]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

WORKER = r'''
import sys, time, numpy as np
from pooling import data, fitting, models
survey = data.load_survey(with_new_countries=True)
start = time.perf_counter()
idata = fitting.fit(models.partial_pooling(survey, likelihood="{likelihood}"), check=False)
seconds = time.perf_counter() - start
np.savez(sys.argv[1], alpha=idata.posterior["alpha"].values, sigma_alpha=idata.posterior["sigma_alpha"].values,
         seconds=seconds)
'''


def run(target: str, likelihood: str, folder: Path) -> dict:
    out = folder / f"{target}-{likelihood}.npz"
    env = dict(os.environ)
    env.pop("NUMBA_CPU_NAME", None)
    if target != "host":
        env["NUMBA_CPU_NAME"] = target
    script = folder / "worker.py"
    script.write_text(WORKER.format(likelihood=likelihood))
    subprocess.run([sys.executable, str(script), str(out)], env=env, check=True, capture_output=True)
    loaded = np.load(out)
    return {key: loaded[key] for key in loaded.files}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", nargs="+", default=["generic", "host", "haswell", "skylake-avx512"])
    parser.add_argument("--likelihood", default="full", choices=["full", "sufficient"])
    parser.add_argument("--repeats", type=int, default=1,
                        help="run the targets in turn this many times; report median seconds")
    args = parser.parse_args(argv)
    rows = []
    results: dict[str, list[dict]] = {t: [] for t in args.targets}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            for target in args.targets:  # interleaved, so a busy machine slows all targets alike
                results[target].append(run(target, args.likelihood, Path(tmp)))
    reference = results[args.targets[0]][0]
    for target, runs in results.items():
        result = runs[0]
        same = all(np.array_equal(r[k], reference[k]) for r in runs for k in ("alpha", "sigma_alpha"))
        diff = float(max(np.max(np.abs(r["alpha"] - reference["alpha"])) for r in runs))
        seconds = float(np.median([float(r["seconds"]) for r in runs]))
        rows.append({"target": target, "identical_to_" + args.targets[0]: same,
                     "max_abs_difference_alpha": diff, "median_seconds": round(seconds, 1),
                     "runs": len(runs)})
        print(json.dumps(rows[-1]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
