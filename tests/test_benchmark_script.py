"""The sampling-speed benchmark runs end to end and writes the documented JSON.

No test here asserts anything about speed: timings depend on the machine and
on whatever else runs on it. The tests check that the script works, that the
assignment models are the models the assignment describes, and that the results
file has the expected keys and sensible (positive, finite) numbers.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pooling import fitting

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "sampling_speed.py"

RUN_KEYS = {
    "isolated",
    "dataset",
    "model",
    "variant",
    "repeat",
    "random_seed",
    "n_obs",
    "n_groups",
    "options",
    "wall_time_s",
    "cpu_time_s",
    "sampling_time_s",
    "min_ess_bulk",
    "min_ess_parameter",
    "ess_per_s",
    "ess_per_cpu_s",
    "min_ess_bulk_shared",
    "ess_per_s_shared",
    "max_r_hat",
    "divergences",
    "chains",
    "draws",
    "ess_parameters",
    "load_average_before",
    "load_average_after",
}


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("sampling_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["sampling_speed"] = module
    spec.loader.exec_module(module)
    return module


def _tiny(seed=0, groups=4, per_group=25):
    rng = np.random.default_rng(seed)
    g = np.repeat([f"G{j}" for j in range(groups)], per_group)
    x = rng.uniform(0, 4, g.size)
    a = rng.normal(3.0, 0.4, groups)
    y = np.repeat(a, per_group) - 0.2 * x + rng.normal(0, 0.7, g.size)
    return pd.DataFrame({"grp": pd.Categorical(g), "x": x, "y": y})


# --- fast checks of the pieces -------------------------------------------------------


def test_assignment_partial_pooling_is_the_part_3_4_model(bench):
    spec = bench.DatasetSpec(outcome="y", predictor="x", group="grp", group_dim="country")
    model = bench.assignment_partial_pooling(_tiny(), spec)
    assert [rv.name for rv in model.free_RVs] == ["mu_a", "sigma_a", "alpha", "beta", "sd_y"]
    # centred: alpha is a free Normal over the groups, its prior scale is sigma_a
    assert model.named_vars_to_dims["alpha"] == ("country",)
    assert model["alpha"].owner.op.__class__.__name__ == "NormalRV"
    # the predictor enters raw (no centring), as in the assignment's Part 3.3
    np.testing.assert_allclose(model["antiauth"].get_value(), _tiny()["x"].to_numpy())
    assert [rv.name for rv in model.observed_RVs] == ["china"]


def test_assignment_varying_slopes_has_independent_centred_priors(bench):
    spec = bench.DatasetSpec(outcome="y", predictor="x", group="grp", group_dim="country")
    model = bench.assignment_varying_slopes(_tiny(), spec)
    names = [rv.name for rv in model.free_RVs]
    assert names == ["mu_a", "sigma_a", "mu_b", "sigma_b", "alpha", "beta", "sd_y"]
    assert model.named_vars_to_dims["beta"] == ("country",)


def test_library_options(bench):
    assert bench.library_options("partial_pooling", "library_default") == {}
    assert bench.library_options("partial_pooling", "library_unfrozen") == {}
    assert bench.library_fit_options("library_default") == {"freeze_model": True}
    assert bench.library_fit_options("library_unfrozen") == {"freeze_model": False}
    assert bench.library_options("partial_pooling", "library_fastest") == {"likelihood": "sufficient"}
    with pytest.raises(ValueError):
        bench.library_options("partial_pooling", "assignment")


def test_summary_ratios_and_table_from_fake_runs(bench):
    runs = []
    for variant, ess, wall in [("assignment", 100.0, 10.0), ("assignment_pymc_nuts", 100.0, 20.0), ("library_fastest", 1000.0, 5.0)]:
        for repeat, jitter in enumerate([1.0, 1.2, 0.8]):
            runs.append(
                {
                    "dataset": "survey",
                    "model": "partial_pooling",
                    "variant": variant,
                    "wall_time_s": wall * jitter,
                    "cpu_time_s": 2 * wall * jitter,
                    "min_ess_bulk": ess,
                    "ess_per_s": ess / (wall * jitter),
                    "ess_per_s_shared": ess / (wall * jitter),
                    "ess_per_cpu_s": ess / (2 * wall * jitter),
                    "divergences": repeat,
                    "max_r_hat": 1.0 + repeat / 100,
                    "load_average_before": 0.5,
                    "load_average_after": 1.5,
                }
            )
    summary = bench.summarize_runs(runs)
    assert [s["variant"] for s in summary] == ["assignment", "assignment_pymc_nuts", "library_fastest"]
    assignment = summary[0]
    assert assignment["repeats"] == 3
    assert assignment["wall_time_s"] == pytest.approx(10.0)  # median
    assert assignment["ess_per_s"] == pytest.approx(10.0)
    assert assignment["divergences"] == 2 and assignment["max_r_hat"] == pytest.approx(1.02)
    rat = bench.ratios(summary)
    assert {(r["variant"], r["baseline"]) for r in rat} == {
        ("library_fastest", "assignment"),
        ("library_fastest", "assignment_pymc_nuts"),
    }
    by_base = {r["baseline"]: r["ratio"] for r in rat}
    assert by_base["assignment"] == pytest.approx(20.0)
    assert by_base["assignment_pymc_nuts"] == pytest.approx(40.0)
    results = {"summary": summary, "ratios": rat, "machine": {"cpu_model": "x", "cores": 2, "pymc": "6", "nutpie": "0"}}
    text = bench.format_table(results)
    assert "library_fastest" in text and "20.0" in text
    markdown = bench.format_markdown(results)
    assert "| x assignment | x assignment (CPU) | x assignment_pymc_nuts |" in markdown
    fastest_row = next(line for line in markdown.splitlines() if "| library_fastest |" in line)
    assert "| 20.0 | 20.0 | 40.0 |" in fastest_row


def test_unknown_names_are_rejected(bench):
    with pytest.raises(ValueError, match="unknown model"):
        bench.run_benchmark({}, models=["complete"], warmup=False)
    with pytest.raises(ValueError, match="unknown variant"):
        bench.run_benchmark({}, variants=["fast"], warmup=False)
    with pytest.raises(ValueError, match="unknown data set"):
        bench.load_datasets(["mtcars"])


def test_machine_info(bench):
    info = bench.machine_info()
    assert info["cores"] >= 1
    assert isinstance(info["cpu_model"], str) and info["cpu_model"]


# --- end to end -------------------------------------------------------------------------


@pytest.mark.slow
def test_run_benchmark_on_tiny_synthetic_data(bench):
    spec = bench.DatasetSpec(outcome="y", predictor="x", group="grp", group_dim="country")
    results = bench.run_benchmark(
        {"tiny": (_tiny(), spec)},
        models=["varying_slopes"],
        variants=["assignment", "library_default"],
        draws=100,
        tune=100,
        warmup=False,
        log=lambda _msg: None,
    )
    assert set(results) == {"machine", "settings", "runs", "summary", "ratios"}
    assert len(results["runs"]) == 2
    for run in results["runs"]:
        assert RUN_KEYS <= set(run)
        # The library samples its default chains; the assignment's `pm.sample()` PyMC's
        # default, max(2, cores) with cores = min(4, number of processors).
        expected_chains = (fitting.DEFAULT_CHAINS if run["variant"].startswith("library")
                           else max(2, min(4, os.cpu_count() or 1)))
        assert run["chains"] == expected_chains and run["draws"] == 100, run["variant"]
        for key in ("wall_time_s", "cpu_time_s", "min_ess_bulk", "ess_per_s", "ess_per_cpu_s"):
            assert math.isfinite(run[key]) and run[key] > 0, key
    assert results["ratios"][0]["ratio"] > 0


@pytest.mark.slow
def test_cli_quick_writes_results_json(tmp_path):
    out = tmp_path / "results.json"
    cmd = [
        sys.executable,
        str(SCRIPT),
        "--quick",
        "--datasets",
        "radon",
        "--max-groups",
        "4",
        "--models",
        "partial_pooling",
        "--variants",
        "assignment,prototype",
        "--no-warmup",
        "--output",
        str(out),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ESS per second, variant / assignment" in proc.stdout
    results = json.loads(out.read_text())
    assert set(results) == {"machine", "settings", "runs", "summary", "ratios"}
    assert results["settings"]["quick"] is True
    assert results["settings"]["draws"] == 200
    assert {"cpu_model", "cores", "pymc", "nutpie"} <= set(results["machine"])
    assert len(results["runs"]) == 2
    for run in results["runs"]:
        assert RUN_KEYS <= set(run)
        assert run["dataset"] == "radon" and run["n_groups"] == 4
        for key in ("wall_time_s", "min_ess_bulk", "ess_per_s"):
            assert math.isfinite(run[key]) and run[key] > 0, key
    assert len(results["summary"]) == 2
    ratios = {(r["model"], r["variant"]): r["ratio"] for r in results["ratios"]}
    assert set(ratios) == {("partial_pooling", "prototype")}
    assert all(run["isolated"] for run in results["runs"])
    prototype = next(run for run in results["runs"] if run["variant"] == "prototype")
    assert "alpha" in prototype["ess_parameters"]  # the conditional draws count too
    assert all(math.isfinite(v) and v > 0 for v in ratios.values())
