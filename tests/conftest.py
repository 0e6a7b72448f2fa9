"""Small synthetic data sets with known truth, shared by the model tests.

Columns follow the survey schema (``china``, ``antiauth``, ``country_name``,
``party``, ``log_trade_china``) so the builders' defaults apply; the true
parameters are in ``df.attrs["truth"]``.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest


def make_groups(
    sizes,
    *,
    mu_alpha: float = 3.0,
    sigma_alpha: float = 0.5,
    beta: float = -0.3,
    sigma_y: float = 0.8,
    seed: int = 20250623,
    names=None,
) -> pd.DataFrame:
    """Gaussian varying-intercept data: ``china = alpha[j] + beta * (antiauth - 2) + noise``.

    ``antiauth`` is uniform on [0, 4] (mean about 2), so ``alpha[j]`` is the
    expected ``china`` score of group j near the overall predictor mean.
    ``log_trade_china`` is a group-level column (constant within group).
    """
    rng = np.random.default_rng(seed)
    sizes = np.asarray(sizes, dtype=int)
    n_groups = sizes.size
    if names is None:
        names = [f"Group {j:02d}" for j in range(n_groups)]
    alpha = mu_alpha + sigma_alpha * rng.standard_normal(n_groups)
    codes = np.repeat(np.arange(n_groups), sizes)
    x = rng.uniform(0.0, 4.0, size=codes.size)
    y = alpha[codes] + beta * (x - 2.0) + sigma_y * rng.standard_normal(codes.size)
    trade = rng.normal(6.0, 1.5, size=n_groups)
    df = pd.DataFrame(
        {
            "respondent_id": np.arange(1, codes.size + 1),
            "country_name": pd.Categorical.from_codes(codes, categories=names),
            "antiauth": x,
            "china": y,
            "log_trade_china": trade[codes],
        }
    )
    df.attrs["truth"] = {
        "mu_alpha": mu_alpha,
        "sigma_alpha": sigma_alpha,
        "beta": beta,
        "sigma_y": sigma_y,
        "alpha": dict(zip(names, alpha, strict=True)),
    }
    return df


@pytest.fixture
def synthetic_groups() -> pd.DataFrame:
    """Eight groups of 4 to 400 rows (about 900 rows in total)."""
    return make_groups([4, 8, 15, 30, 60, 120, 250, 400])


@pytest.fixture
def funnel_groups() -> pd.DataFrame:
    """Eight groups of three noisy rows with little between-group spread (a funnel)."""
    return make_groups([3] * 8, sigma_alpha=0.2, sigma_y=2.0, seed=8)


@pytest.fixture
def synthetic_three_level() -> pd.DataFrame:
    """Six countries with three parties each; country intercepts depend on trade."""
    rng = np.random.default_rng(7)
    countries = [f"Country {c}" for c in "ABCDEF"]
    trade = rng.normal(6.0, 1.5, size=len(countries))
    alpha = 3.0 + 0.2 * (trade - trade.mean()) + 0.3 * rng.standard_normal(len(countries))
    rows = []
    for c, country in enumerate(countries):
        for p in range(3):
            effect = 0.25 * rng.standard_normal()
            n = int(rng.integers(20, 60))
            x = rng.uniform(0.0, 4.0, size=n)
            y = alpha[c] + effect - 0.3 * (x - 2.0) + 0.8 * rng.standard_normal(n)
            rows.append(
                pd.DataFrame(
                    {
                        "country_name": country,
                        "party": f"{country}: Party {p + 1}",
                        "antiauth": x,
                        "china": y,
                        "log_trade_china": trade[c],
                    }
                )
            )
    df = pd.concat(rows, ignore_index=True)
    df["country_name"] = pd.Categorical(df["country_name"], categories=countries)
    df["party"] = pd.Categorical(df["party"], categories=sorted(df["party"].unique()))
    return df


@pytest.fixture
def groups_factory():
    """The generator behind ``synthetic_groups``, for tests that need other sizes or truths."""
    return make_groups


def make_idata(posterior: dict, *, constant_data: dict | None = None, diverging=None, coords=None, dims=None):
    """Hand-made ArviZ data tree: ``posterior`` maps names to arrays shaped (chain, draw, ...)."""
    import arviz as az

    groups = {"posterior": posterior}
    if constant_data is not None:
        groups["constant_data"] = constant_data
    if diverging is not None:
        groups["sample_stats"] = {"diverging": np.asarray(diverging, dtype=bool)}
    return az.from_dict(groups, coords=coords or {}, dims=dims or {})


@pytest.fixture
def idata_factory():
    """Build small hand-made posteriors (see :func:`make_idata`)."""
    return make_idata


@pytest.fixture(scope="session")
def synthetic_fits():
    """Complete, no and (centred) partial pooling fitted once per session to ``synthetic_groups``."""
    from pooling import fitting, models

    data = make_groups([4, 8, 15, 30, 60, 120, 250, 400])
    partial_model = models.partial_pooling(data, parameterization="centered")
    settings = {"draws": 1000, "tune": 1000, "random_seed": test_seed(11)}
    return {
        "data": data,
        "partial_model": partial_model,
        "partial": fitting.fit(partial_model, **settings),
        "no_pooling": fitting.fit(models.no_pooling(data), **settings),
        "complete": fitting.fit(models.complete_pooling(data), **settings),
    }


# --------------------------------------------------------------------------------------
# Seeds and the convergence sweep (benchmarks/convergence_sweep.py --tests)
# --------------------------------------------------------------------------------------
def test_seed(default: int) -> int:
    """The seed a stochastic test samples with.

    ``default`` normally; under the convergence sweep (``POOLING_TEST_SEED=k``) another seed
    for each k, so the sweep shows that a test's claim does not hinge on one seed's draws.
    """
    override = os.environ.get("POOLING_TEST_SEED")
    return default if not override else 1000 * int(override) + default


test_seed.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session", autouse=True)
def _sweep_settings():
    """Under the sweep: every default-seeded fit uses the sweep's seed, and every fit is logged."""
    from pooling import fitting

    saved = (fitting.DEFAULT_SEED, fitting.fit)
    if os.environ.get("POOLING_TEST_SEED"):
        fitting.DEFAULT_SEED = test_seed(fitting.DEFAULT_SEED)
    log = os.environ.get("POOLING_SWEEP_LOG")
    if log:
        original = fitting.fit

        def logged_fit(model, *args, check=True, var_names=None, **kwargs):
            idata = original(model, *args, check=False, var_names=var_names, **kwargs)
            _log_fit(log, idata, check, var_names)
            if check:
                fitting.check_convergence(idata, var_names=var_names)
            return idata

        fitting.fit = logged_fit
    yield
    fitting.DEFAULT_SEED, fitting.fit = saved


def _log_fit(log: str, idata, gated: bool, var_names) -> None:
    import inspect
    import json

    from pooling import fitting

    table = fitting.convergence_table(idata, var_names)
    table = table[~table["constant"]]
    divergences = int(np.asarray(idata["sample_stats"]["diverging"].values).sum())
    caller = next(f for f in inspect.stack()[2:] if "tests" in f.filename)
    row = dict(
        chapter=f"tests/{os.path.basename(caller.filename)}", seed=int(os.environ.get("POOLING_TEST_SEED", 0)),
        line=caller.lineno, call=(caller.code_context or [""])[0].strip()[:90], gated=bool(gated),
        worst_r_hat=float(table["r_hat"].max()), min_ess_bulk=float(table["ess_bulk"].min()),
        min_ess_tail=float(table["ess_tail"].min()), divergences=divergences,
    )
    row["passed"] = bool(row["worst_r_hat"] <= fitting.MAX_R_HAT
                         and min(row["min_ess_bulk"], row["min_ess_tail"]) >= fitting.MIN_ESS
                         and divergences == 0)
    with open(log, "a") as handle:
        handle.write(json.dumps(row) + "\n")
