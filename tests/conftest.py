"""Fixtures shared by the tests: synthetic data sets with known truth, hand-made posteriors,
fits made once per session, and the fit cache and sweep hooks around ``pooling.fitting.fit``.

The helpers behind them live in ``tests/support/``.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from support import fitcache, qmd
from support.seeds import test_seed
from support.synthetic import make_groups, make_idata


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
        # the centred form with groups of 4 and 8 has a mild funnel: under some seeds NUTS hit
        # one divergence at the default step size (2 of 6 seeds in the sweep), none at 0.95
        "partial": fitting.fit(partial_model, **settings, target_accept=0.95),
        "no_pooling": fitting.fit(models.no_pooling(data), **settings),
        "complete": fitting.fit(models.complete_pooling(data), **settings),
    }


@pytest.fixture
def library_fit(monkeypatch):
    """The library's own ``fitting.fit`` for one test, without the fit cache around it.

    For tests that replace ``pm.sample`` with a fake: through the cache, a model that some
    other test already sampled would be read back instead of reaching the fake.
    """
    from pooling import fitting

    monkeypatch.setattr(fitting, "fit", getattr(fitting.fit, "uncached", fitting.fit))
    return fitting.fit


# --------------------------------------------------------------------------------------
# Seeds and the convergence sweep (benchmarks/convergence_sweep.py --tests)
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="session", autouse=True)
def fit_cache():
    """Every ``fitting.fit`` in this process goes through the suite's fit cache.

    The cache (``tests/.cache/fits``, or the folder ``POOLING_FIT_CACHE`` names) is the one
    the chapter runs write, so a test that checks a claim about a chapter's fit reads the
    chapter's own draws instead of sampling the same model again (each such test module
    shares the chapter's xdist group, so it runs after the chapter). Fits are keyed by
    model, data, prior and sampler settings, seed included (see ``support/fitcache.py``).
    ``POOLING_TEST_NO_CACHE=1`` turns it off: every fit is then sampled.
    """
    if fitcache.cache_dir() is None and qmd.cache_enabled():
        os.environ[fitcache.CACHE_ENV] = str(qmd.FIT_CACHE_DIR)
    if fitcache.cache_dir() is None:
        yield None
        return
    fitcache.install()
    yield fitcache.cache_dir()
    fitcache.uninstall()


@pytest.fixture(scope="session", autouse=True)
def _sweep_settings(fit_cache):
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

        logged_fit.uncached = getattr(original, "uncached", original)
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
        line=caller.lineno, function=caller.function, call=(caller.code_context or [""])[0].strip()[:90],
        gated=bool(gated),
        worst_r_hat=float(table["r_hat"].max()), min_ess_bulk=float(table["ess_bulk"].min()),
        min_ess_tail=float(table["ess_tail"].min()), divergences=divergences,
    )
    row["passed"] = bool(row["worst_r_hat"] <= fitting.MAX_R_HAT
                         and min(row["min_ess_bulk"], row["min_ess_tail"]) >= fitting.MIN_ESS
                         and divergences == 0)
    with open(log, "a") as handle:
        handle.write(json.dumps(row) + "\n")
