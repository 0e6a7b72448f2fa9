"""Sampling speed: the course assignment's PyMC code as written against the pooling library.

For each data set (the simulated survey with Zudan and Zudania, and radon),
each model (varying intercepts = partial pooling, and varying intercepts and
slopes) and each variant, the script times building the model plus sampling
it (compilation included) with :func:`time.perf_counter` and reports

    effective samples per second = min bulk ESS over all free parameters / wall time

Variants
--------
``assignment``
    The assignment's code as a student following it would write it
    (see :func:`assignment_partial_pooling` and :func:`assignment_varying_slopes`): the
    predictor enters raw, as in the assignment's Parts 3.1 and 3.3 and as its
    Part 3.4 plotting cell requires (``alpha + beta * x`` at raw ``x``);
    centred hierarchical parameterisation; the priors in the assignment's
    style; ``pm.sample(random_seed=5650)`` with every sampler argument at
    its default. In PyMC 6 that default is the nutpie sampler (numba backend)
    whenever nutpie is installed, with nutpie's default number of tuning
    steps; so this row measures what the assignment's code does *today*.
``assignment_pymc_nuts``
    The same code with ``nuts_sampler="pymc"``: PyMC's own NUTS sampler,
    which was ``pm.sample``'s default when the assignment was written
    (PyMC 5). Context only; the ratios are reported against both rows.
``library_default``
    ``pooling.fitting.fit(pooling.models.<builder>(df, ...))`` with every
    option at its default (for nutpie, ``fit`` compiles a copy of the model
    with its data frozen in as constants: ``freeze_model=True``).
``library_fastest``
    The library's fastest configuration for that model: the Gaussian
    likelihood written in per-group sufficient statistics
    (``likelihood="sufficient"``) where the builder offers it, sampled with
    nutpie through ``pooling.fitting.fit``.
``library_unfrozen``
    ``library_default`` with ``fit(..., freeze_model=False)``: nutpie compiles
    the data containers as inputs, ``fit``'s default before it froze them.
    Shows what freezing buys.
``prototype``
    Not part of the library: the same posterior computed with the group
    effects integrated out of the likelihood analytically, sampled through
    ``pooling.fitting.fit`` with ``freeze_model``, and the group effects
    then drawn from their exact conditional distribution inside the timed
    region (``benchmarks/prototypes.py``). It shows what a marginalised
    likelihood option in ``pooling.models`` would buy.

Besides wall time the script records the CPU time of the process and its
child processes, and the load average, because on a shared machine wall
time also measures whoever else is using the cores.

Every run happens in a fresh Python process (``--no-isolate`` turns this
off), which first samples one tiny model with the same sampler, untimed: the
one-off start-up of numba's compiler (several seconds per process) is then
not charged to the model, just as a student's notebook pays it once, in
Part 3.1, long before Part 3.4; and no run reuses code compiled by another
run in the same process. Everything specific to the model (building it,
compiling its log density and gradient, sampling, converting the draws)
is timed. On-disk compilation caches are shared by all runs; run the script
twice and keep the second result if the first run on a machine compiled
everything from scratch.

Usage::

    python benchmarks/sampling_speed.py                  # full run, writes benchmarks/results.json
    python benchmarks/sampling_speed.py --quick          # 200 draws/200 tuning steps, smoke test
    python benchmarks/sampling_speed.py --models partial_pooling --datasets radon
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pooling.columns import RADON, SURVEY, Columns

SEED = 5650  # the assignment's random_seed
QUICK_DRAWS = 200
QUICK_TUNE = 200

MODELS = ("partial_pooling", "varying_slopes")
VARIANTS = ("assignment", "assignment_pymc_nuts", "library_default", "library_fastest", "library_unfrozen", "prototype")
BASELINES = ("assignment", "assignment_pymc_nuts")
DEFAULT_VARIANTS = VARIANTS
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.json"


#: Columns of one data set in the roles the models use (``pooling.columns.Columns``).
DatasetSpec = Columns

SPECS = {"survey": SURVEY, "radon": RADON}


def load_datasets(names: Sequence[str]) -> dict[str, tuple[pd.DataFrame, DatasetSpec]]:
    """The benchmark data: the survey *with* Zudan and Zudania (as in the
    assignment's Part 3.4) and radon."""
    from pooling import data as pdata

    loaders = {
        "survey": lambda: pdata.load_survey(with_new_countries=True),
        "radon": pdata.load_radon,
    }
    unknown = [n for n in names if n not in loaders]
    if unknown:
        raise ValueError(f"unknown data set(s) {unknown}; choose from {sorted(loaders)}")
    return {name: (loaders[name](), SPECS[name]) for name in names}


# --------------------------------------------------------------------------
# The assignment's code, as a student would write it
# --------------------------------------------------------------------------


def _assignment_inputs(df: pd.DataFrame, spec: DatasetSpec):
    # The assignment reads a CSV (plain strings) and calls .factorize(): groups
    # in order of appearance, codes as a NumPy array.
    group_idx, group_names = df[spec.group].astype(str).factorize()
    return (
        df[spec.predictor].to_numpy(dtype=float),
        df[spec.outcome].to_numpy(dtype=float),
        group_idx,
        group_names,
    )


def assignment_partial_pooling(df: pd.DataFrame, spec: DatasetSpec):
    """The assignment's Part 3.4 (adaptive pooling) filled in.

    Starts from the assignment's template cell ``Q3.4a-response`` and takes
    each missing line from the code the assignment gives: intercept and slope
    priors ``Normal(0, sigma=10)`` and the residual sd ``Exponential(1)``
    from Part 3.3, the between-group sd ``Uniform(0, 5)`` from Part 3.1's
    ``sigma_y``; centred ``alpha ~ Normal(mu_a, sigma_a)``; the raw predictor
    in the mean, as in Part 3.3's ``alpha[country_idx] + beta * antiauth``.
    """
    import pymc as pm

    x_vals, y_vals, group_idx, group_names = _assignment_inputs(df, spec)
    coords = {"country": group_names}
    with pm.Model(coords=coords) as adaptive_model:
        antiauth = pm.Data("antiauth", x_vals, dims="obs_id")
        country_idx = pm.Data("country_idx", group_idx, dims="obs_id")

        mu_a = pm.Normal("mu_a", mu=0, sigma=10)
        sigma_a = pm.Uniform("sigma_a", 0, 5)

        alpha = pm.Normal("alpha", mu=mu_a, sigma=sigma_a, dims="country")

        beta = pm.Normal("beta", mu=0, sigma=10)

        sd_y = pm.Exponential("sd_y", 1)

        mu_y = alpha[country_idx] + beta * antiauth

        pm.Normal("china", mu=mu_y, sigma=sd_y, observed=y_vals, dims="obs_id")
    return adaptive_model


def assignment_varying_slopes(df: pd.DataFrame, spec: DatasetSpec):
    """The natural extension of Part 3.4 to varying slopes, in the same style.

    Intercepts and slopes each get their own centred normal prior (no
    correlation), with the same prior families as :func:`assignment_partial_pooling`.
    """
    import pymc as pm

    x_vals, y_vals, group_idx, group_names = _assignment_inputs(df, spec)
    coords = {"country": group_names}
    with pm.Model(coords=coords) as vs_model:
        antiauth = pm.Data("antiauth", x_vals, dims="obs_id")
        country_idx = pm.Data("country_idx", group_idx, dims="obs_id")

        mu_a = pm.Normal("mu_a", mu=0, sigma=10)
        sigma_a = pm.Uniform("sigma_a", 0, 5)
        mu_b = pm.Normal("mu_b", mu=0, sigma=10)
        sigma_b = pm.Uniform("sigma_b", 0, 5)

        alpha = pm.Normal("alpha", mu=mu_a, sigma=sigma_a, dims="country")
        beta = pm.Normal("beta", mu=mu_b, sigma=sigma_b, dims="country")

        sd_y = pm.Exponential("sd_y", 1)

        mu_y = alpha[country_idx] + beta[country_idx] * antiauth

        pm.Normal("china", mu=mu_y, sigma=sd_y, observed=y_vals, dims="obs_id")
    return vs_model


ASSIGNMENT_BUILDERS: dict[str, Callable] = {
    "partial_pooling": assignment_partial_pooling,
    "varying_slopes": assignment_varying_slopes,
}

# Quantities present in every variant, by name in the assignment's code -> library name.
SHARED_NAMES = {
    "partial_pooling": {"mu_a": "mu_alpha", "sigma_a": "sigma_alpha", "alpha": "alpha", "beta": "beta", "sd_y": "sigma_y"},
    "varying_slopes": {
        "mu_a": "mu_alpha",
        "mu_b": "mu_beta",
        "sigma_a": "sigma_alpha",
        "sigma_b": "sigma_beta",
        "alpha": "alpha",
        "beta": "beta",
        "sd_y": "sigma_y",
    },
}


class Timer:
    """Wall time (``time.perf_counter``) and CPU time of this process and its children."""

    @staticmethod
    def _cpu() -> float:
        import resource

        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def __enter__(self):
        self.cpu = self.wall = float("nan")
        self._cpu0 = self._cpu()
        self._wall0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._wall0
        self.cpu = self._cpu() - self._cpu0
        return False


def run_assignment(model_name: str, df: pd.DataFrame, spec: DatasetSpec, *, nuts_sampler=None, random_seed=SEED,
             draws=None, tune=None):
    """Build and sample the assignment's model; return (model, idata, Timer)."""
    import pymc as pm

    kwargs = {"random_seed": random_seed, "progressbar": False}
    if nuts_sampler is not None:
        kwargs["nuts_sampler"] = nuts_sampler
    if draws is not None:
        kwargs["draws"] = draws
    if tune is not None:
        kwargs["tune"] = tune
    with Timer() as timer:
        model = ASSIGNMENT_BUILDERS[model_name](df, spec)
        with model:
            idata = pm.sample(**kwargs)
    return model, idata, timer


# --------------------------------------------------------------------------
# The library
# --------------------------------------------------------------------------


def _builder(model_name: str):
    from pooling import models

    return getattr(models, model_name)


def _accepts(func, argument: str) -> bool:
    import inspect

    return argument in inspect.signature(func).parameters


def library_options(model_name: str, variant: str) -> dict:
    """Builder keyword arguments of a library variant (beyond the column names)."""
    if variant in ("library_default", "library_unfrozen"):
        return {}
    if variant == "library_fastest":
        builder = _builder(model_name)
        return {"likelihood": "sufficient"} if _accepts(builder, "likelihood") else {}
    raise ValueError(f"not a library variant: {variant!r}")


def library_fit_options(variant: str) -> dict:
    """``fit`` keyword arguments of a library variant: only ``library_unfrozen`` leaves the default."""
    return {"freeze_model": variant != "library_unfrozen"}


def run_library(model_name: str, df: pd.DataFrame, spec: DatasetSpec, *, variant: str, random_seed=SEED,
                draws=None, tune=None):
    """Build with ``pooling.models`` and sample with ``pooling.fitting.fit``; return (model, idata, Timer)."""
    from pooling import fitting

    options = library_options(model_name, variant)
    fit_kwargs = {"random_seed": random_seed, "check": False, **library_fit_options(variant)}
    if draws is not None:
        fit_kwargs["draws"] = draws
    if tune is not None:
        fit_kwargs["tune"] = tune
    builder = _builder(model_name)
    with Timer() as timer:
        model = builder(df, columns=spec, **options)
        idata = fitting.fit(model, **fit_kwargs)
    return model, idata, timer


# --------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------


def _ess_by_variable(idata, names: Sequence[str]) -> dict[str, tuple[float, str]]:
    """Minimum bulk ESS of each variable over its elements, with the element's label."""
    import arviz as az

    out = {}
    ess = az.ess(idata, var_names=list(names), method="bulk")
    dataset = ess.to_dataset() if hasattr(ess, "to_dataset") else ess
    for name in names:
        da = dataset[name]
        values = np.asarray(da.values, dtype=float)
        if values.ndim == 0:
            out[name] = (float(values), name)
            continue
        flat = int(np.nanargmin(values))
        where = np.unravel_index(flat, values.shape)
        labels = [str(da[dim].values[i]) if dim in da.coords else str(i) for dim, i in zip(da.dims, where)]
        out[name] = (float(values[where]), f"{name}[{', '.join(labels)}]")
    return out


def measure(
    model, idata, wall: float, shared_names: Sequence[str], cpu: float = float("nan"), extra: Sequence[str] = ()
) -> dict:
    """ESS per second (min over free parameters, plus ``extra`` posterior
    variables) and convergence diagnostics of one run."""
    import arviz as az

    free = [rv.name for rv in model.free_RVs] + [name for name in extra if name in idata.posterior.data_vars]
    by_var = _ess_by_variable(idata, free)
    worst_var = min(by_var, key=lambda k: by_var[k][0])
    min_ess, where = by_var[worst_var]
    shared_present = [n for n in shared_names if n in idata.posterior.data_vars]
    shared = _ess_by_variable(idata, shared_present) if shared_present else {}
    min_shared = min((v[0] for v in shared.values()), default=float("nan"))
    rhat = az.rhat(idata, var_names=free)
    rhat_ds = rhat.to_dataset() if hasattr(rhat, "to_dataset") else rhat
    max_rhat = max(float(np.nanmax(np.asarray(rhat_ds[n].values))) for n in free)
    divergences = int(np.asarray(idata.sample_stats["diverging"].values).sum())
    draws = int(idata.posterior.sizes["draw"])
    chains = int(idata.posterior.sizes["chain"])
    return {
        "wall_time_s": wall,
        "cpu_time_s": cpu,
        "sampling_time_s": float(idata.posterior.attrs.get("sampling_time", float("nan"))),
        "min_ess_bulk": min_ess,
        "min_ess_parameter": where,
        "ess_per_s": min_ess / wall,
        "ess_per_cpu_s": min_ess / cpu if cpu > 0 else float("nan"),
        "min_ess_bulk_shared": min_shared,
        "ess_per_s_shared": min_shared / wall,
        "max_r_hat": max_rhat,
        "divergences": divergences,
        "chains": chains,
        "draws": draws,
        "ess_parameters": free,
    }


def machine_info() -> dict:
    """CPU model (from /proc/cpuinfo), core count and software versions."""
    import nutpie
    import pymc
    import pytensor

    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count()
    return {
        "cpu_model": cpu,
        "cores": cores,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "pymc": pymc.__version__,
        "pytensor": pytensor.__version__,
        "nutpie": nutpie.__version__,
        "numpy": np.__version__,
    }


def warm_up(variants: Sequence[str]) -> None:
    """Sample a tiny model once per sampler so one-off JIT start-up is not timed."""
    import pymc as pm

    rng = np.random.default_rng(0)
    y = rng.normal(size=20)
    samplers = {"nutpie"}
    if "assignment_pymc_nuts" in variants:
        samplers.add("pymc")
    for sampler in sorted(samplers):
        with pm.Model():
            mu = pm.Normal("mu", 0, 1)
            sd = pm.Exponential("sd", 1)
            pm.Normal("y", mu, sd, observed=y)
            pm.sample(draws=50, tune=50, chains=2, nuts_sampler=sampler, progressbar=False, random_seed=1)


def run_prototype(model_name: str, df: pd.DataFrame, spec: DatasetSpec, *, random_seed=SEED, draws=None, tune=None):
    """Sample the marginalised prototype (``benchmarks/prototypes.py``) through ``pooling.fitting.fit``.

    The exact conditional draws of the group effects are made inside the
    timed region, so the wall time covers everything needed for the same
    posterior draws as the other variants.
    """
    from pooling import fitting

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import prototypes

    fit_kwargs = {"random_seed": random_seed, "check": False}  # fit freezes the model by default
    if draws is not None:
        fit_kwargs["draws"] = draws
    if tune is not None:
        fit_kwargs["tune"] = tune
    with Timer() as timer:
        model, complete = prototypes.PROTOTYPES[model_name](df, spec)
        idata = complete(fitting.fit(model, **fit_kwargs), random_seed)
    return model, idata, timer


def run_one(
    ds_name: str,
    df: pd.DataFrame,
    spec: DatasetSpec,
    model_name: str,
    variant: str,
    *,
    random_seed: int = SEED,
    draws: int | None = None,
    tune: int | None = None,
) -> dict:
    """Time one (data set, model, variant) in this process; return its record."""
    load_before = os.getloadavg()[0]
    extra_ess = ()
    if variant.startswith("assignment"):
        sampler = "pymc" if variant == "assignment_pymc_nuts" else None
        model, idata, timer = run_assignment(
            model_name, df, spec, nuts_sampler=sampler, random_seed=random_seed, draws=draws, tune=tune
        )
        shared = list(SHARED_NAMES[model_name])
        options = {"nuts_sampler": sampler or "pm.sample default"}
    elif variant == "prototype":
        model, idata, timer = run_prototype(model_name, df, spec, random_seed=random_seed, draws=draws, tune=tune)
        shared = list(SHARED_NAMES[model_name].values())
        # the group effects are not free parameters here but are part of the posterior
        extra_ess = ("alpha", "beta") if model_name == "varying_slopes" else ("alpha",)
        options = {"marginalised": True, "freeze_model": True}
    else:
        model, idata, timer = run_library(
            model_name, df, spec, variant=variant, random_seed=random_seed, draws=draws, tune=tune
        )
        shared = list(SHARED_NAMES[model_name].values())
        options = library_options(model_name, variant)
        options = {**options, **library_fit_options(variant)}
        try:
            from pooling.models import model_spec

            options = {**options, "parameterization": model_spec(model).parameterization}
        except Exception:  # pragma: no cover - metadata is optional here
            pass
    return {
        "dataset": ds_name,
        "model": model_name,
        "variant": variant,
        "random_seed": random_seed,
        "n_obs": int(len(df)),
        "n_groups": int(df[spec.group].nunique()),
        "options": options,
        **measure(model, idata, timer.wall, shared, cpu=timer.cpu, extra=extra_ess),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
    }


def _run_isolated(job: dict) -> dict:
    """Run one job in a fresh Python process (see ``--worker``) and return its record."""
    import subprocess

    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(job)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker failed for {job}:\n{proc.stderr[-4000:]}")
    marker = "BENCHMARK-RECORD "
    lines = [line for line in proc.stdout.splitlines() if line.startswith(marker)]
    if not lines:
        raise RuntimeError(f"benchmark worker printed no record for {job}:\n{proc.stdout[-2000:]}")
    return json.loads(lines[-1][len(marker) :])


def _trim_groups(df: pd.DataFrame, spec: DatasetSpec, max_groups: int | None) -> pd.DataFrame:
    if max_groups is None:
        return df
    keep = list(pd.unique(df[spec.group]))[:max_groups]
    sub = df[df[spec.group].isin(keep)].copy()
    if isinstance(sub[spec.group].dtype, pd.CategoricalDtype):
        sub[spec.group] = sub[spec.group].cat.remove_unused_categories()
    return sub.reset_index(drop=True)


def _worker(job: dict) -> int:
    """``--worker``: warm up (untimed), run one job, print its record as JSON."""
    _quiet()
    datasets = load_datasets([job["dataset"]])
    df, spec = datasets[job["dataset"]]
    df = _trim_groups(df, spec, job.get("max_groups"))
    if job.get("warmup", True):
        warm_up([job["variant"]])
    record = run_one(
        job["dataset"], df, spec, job["model"], job["variant"],
        random_seed=job["random_seed"], draws=job.get("draws"), tune=job.get("tune"),
    )
    print("BENCHMARK-RECORD " + json.dumps(record, default=str), flush=True)
    return 0


def run_benchmark(
    datasets: dict[str, tuple[pd.DataFrame, DatasetSpec]],
    *,
    models: Sequence[str] = MODELS,
    variants: Sequence[str] = DEFAULT_VARIANTS,
    draws: int | None = None,
    tune: int | None = None,
    repeats: int = 1,
    warmup: bool = True,
    isolate: bool = False,
    max_groups: int | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Time every (data set, model, variant) ``repeats`` times; return the results dict.

    ``draws``/``tune`` of ``None`` keep each variant's own defaults (the
    assignment's ``pm.sample()`` defaults, the library's ``fit`` defaults).
    Repeat ``r`` uses random seed ``5650 + r`` for every variant.

    ``isolate=True`` runs every job in a fresh Python process (data sets are
    then reloaded by name, trimmed to ``max_groups``), after an untimed
    warm-up in that process: no run profits from code another run compiled
    earlier in the same process. ``isolate=False`` runs everything here,
    after one warm-up (faster; later runs may reuse compiled pieces).
    """
    for m in models:
        if m not in MODELS:
            raise ValueError(f"unknown model {m!r}; choose from {MODELS}")
    for v in variants:
        if v not in VARIANTS:
            raise ValueError(f"unknown variant {v!r}; choose from {VARIANTS}")
    if warmup and not isolate:
        log("warming up the samplers (not timed) ...")
        warm_up(variants)
    runs = []
    for repeat in range(repeats):
        seed = SEED + repeat
        for ds_name, (df, spec) in datasets.items():
            for model_name in models:
                for variant in variants:
                    if isolate:
                        job = {
                            "dataset": ds_name, "model": model_name, "variant": variant, "random_seed": seed,
                            "draws": draws, "tune": tune, "max_groups": max_groups, "warmup": warmup,
                        }
                        record = _run_isolated(job)
                    else:
                        record = run_one(
                            ds_name, df, spec, model_name, variant, random_seed=seed, draws=draws, tune=tune
                        )
                    record["repeat"] = repeat
                    record["isolated"] = isolate
                    runs.append(record)
                    log(
                        f"{ds_name:>7} {model_name:>16} {variant:>16}  wall {record['wall_time_s']:7.2f} s  "
                        f"cpu {record['cpu_time_s']:7.2f} s  "
                        f"min ESS {record['min_ess_bulk']:7.0f} ({record['min_ess_parameter']})  "
                        f"ESS/s {record['ess_per_s']:8.1f}  div {record['divergences']}  "
                        f"r_hat {record['max_r_hat']:.3f}  load {record['load_average_before']:.1f}"
                    )
    summary = summarize_runs(runs)
    return {
        "machine": machine_info(),
        "settings": {
            "draws": draws,
            "tune": tune,
            "repeats": repeats,
            "warmup": warmup,
            "isolate": isolate,
            "datasets": list(datasets),
            "models": list(models),
            "variants": list(variants),
            "metric": "min bulk ESS over all free parameters / wall time (model build + compile + sampling)",
        },
        "runs": runs,
        "summary": summary,
        "ratios": ratios(summary),
    }


def summarize_runs(runs: list[dict]) -> list[dict]:
    """Median over repeats of wall time, min ESS and ESS/s per (data set, model, variant)."""
    keys = []
    for r in runs:
        key = (r["dataset"], r["model"], r["variant"])
        if key not in keys:
            keys.append(key)
    out = []
    for key in keys:
        group = [r for r in runs if (r["dataset"], r["model"], r["variant"]) == key]
        out.append(
            {
                "dataset": key[0],
                "model": key[1],
                "variant": key[2],
                "repeats": len(group),
                "wall_time_s": statistics.median(r["wall_time_s"] for r in group),
                "cpu_time_s": statistics.median(r["cpu_time_s"] for r in group),
                "min_ess_bulk": statistics.median(r["min_ess_bulk"] for r in group),
                "ess_per_s": statistics.median(r["ess_per_s"] for r in group),
                "ess_per_s_shared": statistics.median(r["ess_per_s_shared"] for r in group),
                "ess_per_cpu_s": statistics.median(r["ess_per_cpu_s"] for r in group),
                "max_load_average": max(max(r["load_average_before"], r["load_average_after"]) for r in group),
                "divergences": max(r["divergences"] for r in group),
                "max_r_hat": max(r["max_r_hat"] for r in group),
            }
        )
    return out


def ratios(summary: list[dict]) -> list[dict]:
    """ESS/s of every library variant divided by that of each assignment baseline."""
    out = []
    index = {(s["dataset"], s["model"], s["variant"]): s for s in summary}
    for s in summary:
        if s["variant"] in BASELINES:
            continue
        for baseline in BASELINES:
            base = index.get((s["dataset"], s["model"], baseline))
            if base is None:
                continue
            out.append(
                {
                    "dataset": s["dataset"],
                    "model": s["model"],
                    "variant": s["variant"],
                    "baseline": baseline,
                    "ratio": s["ess_per_s"] / base["ess_per_s"],
                    "ratio_cpu": s["ess_per_cpu_s"] / base["ess_per_cpu_s"],
                    "ratio_shared": s["ess_per_s_shared"] / base["ess_per_s_shared"],
                }
            )
    return out


def format_table(results: dict) -> str:
    """Plain-text table of the summary and the ratios."""
    summary = pd.DataFrame(results["summary"])
    cols = ["dataset", "model", "variant", "wall_time_s", "cpu_time_s", "min_ess_bulk", "ess_per_s", "ess_per_cpu_s",
            "divergences", "max_r_hat"]
    lines = [summary[cols].to_string(index=False, float_format=lambda v: f"{v:,.2f}")]
    if results["ratios"]:
        rat = pd.DataFrame(results["ratios"])
        wide = rat.pivot_table(
            index=["dataset", "model", "variant"], columns="baseline", values=["ratio", "ratio_cpu"], sort=False
        )
        wide.columns = [f"{'wall' if v == 'ratio' else 'cpu'} x vs {b}" for v, b in wide.columns]
        lines += ["", "ESS per second, variant / assignment:", wide.to_string(float_format=lambda v: f"{v:,.1f}")]
    m = results["machine"]
    lines += ["", f"machine: {m['cpu_model']}, {m['cores']} cores; pymc {m['pymc']}, nutpie {m['nutpie']}"]
    return "\n".join(lines)


def format_markdown(results: dict) -> str:
    """The summary and the ratios as Markdown tables (for benchmarks/README.md)."""
    rat = {(r["dataset"], r["model"], r["variant"], r["baseline"]): r for r in results["ratios"]}
    lines = [
        "| data | model | variant | wall s | CPU s | min bulk ESS | ESS/s | x assignment | x assignment (CPU) | x assignment_pymc_nuts | div. | max R-hat |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in results["summary"]:
        key = (s["dataset"], s["model"], s["variant"])
        vs_assignment = rat.get((*key, "assignment"))
        vs_pymc = rat.get((*key, "assignment_pymc_nuts"))
        lines.append(
            f"| {s['dataset']} | {s['model']} | {s['variant']} | {s['wall_time_s']:.2f} | {s['cpu_time_s']:.2f} | "
            f"{s['min_ess_bulk']:,.0f} | {s['ess_per_s']:,.1f} | "
            f"{'' if vs_assignment is None else format(vs_assignment['ratio'], '.1f')} | "
            f"{'' if vs_assignment is None else format(vs_assignment['ratio_cpu'], '.1f')} | "
            f"{'' if vs_pymc is None else format(vs_pymc['ratio'], '.1f')} | "
            f"{s['divergences']} | {s['max_r_hat']:.3f} |"
        )
    return "\n".join(lines)


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _quiet() -> None:
    logging.getLogger("pymc").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=RuntimeWarning)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DRAWS} draws and {QUICK_TUNE} tuning steps")
    parser.add_argument("--models", type=_csv, default=list(MODELS), help="comma-separated, from " + ", ".join(MODELS))
    parser.add_argument("--datasets", type=_csv, default=list(SPECS), help="comma-separated, from survey, radon")
    parser.add_argument("--variants", type=_csv, default=list(DEFAULT_VARIANTS), help="comma-separated, from " + ", ".join(VARIANTS))
    parser.add_argument("--repeats", type=int, default=1, help="repeat every run (seeds 5650, 5651, ...); medians are reported")
    parser.add_argument("--max-groups", type=int, default=None, help="keep only the first N groups of each data set")
    parser.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up")
    parser.add_argument(
        "--no-isolate", action="store_true",
        help="run everything in this process instead of one fresh process per run (faster, less fair)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON file to write")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(json.loads(args.worker))

    _quiet()
    datasets = {
        name: (_trim_groups(df, spec, args.max_groups), spec) for name, (df, spec) in load_datasets(args.datasets).items()
    }
    results = run_benchmark(
        datasets,
        models=args.models,
        variants=args.variants,
        draws=QUICK_DRAWS if args.quick else None,
        tune=QUICK_TUNE if args.quick else None,
        repeats=args.repeats,
        warmup=not args.no_warmup,
        isolate=not args.no_isolate,
        max_groups=args.max_groups,
    )
    results["settings"]["quick"] = bool(args.quick)
    results["settings"]["max_groups"] = args.max_groups
    results["settings"]["command"] = " ".join(
        ["python", "benchmarks/sampling_speed.py", *(argv if argv is not None else sys.argv[1:])]
    )
    print()
    print(format_table(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
