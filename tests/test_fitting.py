"""Sampling wrapper, convergence gate and posterior summary."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from support.seeds import test_seed
from pooling import fitting, models


def _good_posterior(idata_factory, *, seed=0, diverging=None):
    rng = np.random.default_rng(seed)
    posterior = {
        "mu_alpha": rng.standard_normal((2, 1000)),
        "alpha": rng.standard_normal((2, 1000, 2)),
    }
    if diverging is None:
        diverging = np.zeros((2, 1000), dtype=bool)
    return idata_factory(
        posterior,
        diverging=diverging,
        coords={"country": ["Kenya", "Nigeria"]},
        dims={"alpha": ["country"]},
    )


# ------------------------------------------------------------ convergence gate


def test_gate_passes_good_draws(idata_factory):
    table = fitting.check_convergence(_good_posterior(idata_factory))
    assert list(table.index) == ["mu_alpha", "alpha[Kenya]", "alpha[Nigeria]"]
    assert (table["r_hat"] < 1.01).all()
    assert (table[["ess_bulk", "ess_tail"]] > 1000).all().all()


def test_gate_names_the_element_with_bad_r_hat(idata_factory):
    rng = np.random.default_rng(1)
    alpha = rng.standard_normal((2, 1000, 2))
    alpha[1, :, 1] += 1.0  # second chain of Nigeria sits one sd higher
    idata = idata_factory(
        {"mu_alpha": rng.standard_normal((2, 1000)), "alpha": alpha},
        diverging=np.zeros((2, 1000), dtype=bool),
        coords={"country": ["Kenya", "Nigeria"]},
        dims={"alpha": ["country"]},
    )
    with pytest.raises(fitting.ConvergenceError) as info:
        fitting.check_convergence(idata)
    message = str(info.value)
    assert "alpha[Nigeria]: r_hat = " in message
    assert "alpha[Kenya]" not in message
    assert "mu_alpha" not in message
    assert info.value.divergences == 0
    assert info.value.idata is idata
    assert all(p.startswith("alpha[Nigeria]") for p in info.value.problems)


def test_gate_counts_divergences(idata_factory):
    diverging = np.zeros((2, 1000), dtype=bool)
    diverging[0, [5, 50, 500]] = True
    with pytest.raises(fitting.ConvergenceError, match="3 divergent transition") as info:
        fitting.check_convergence(_good_posterior(idata_factory, diverging=diverging))
    assert info.value.divergences == 3


def test_gate_reports_low_ess_and_respects_thresholds(idata_factory):
    rng = np.random.default_rng(2)
    walk = np.cumsum(rng.standard_normal((2, 1000)), axis=1) * 0.05  # strongly autocorrelated
    idata = idata_factory({"sigma_alpha": walk}, diverging=np.zeros((2, 1000), dtype=bool))
    with pytest.raises(fitting.ConvergenceError, match=r"sigma_alpha: ess_bulk = \d+ \(min 400\)"):
        fitting.check_convergence(idata)
    loose = fitting.check_convergence(idata, max_r_hat=np.inf, min_ess=1)
    assert "sigma_alpha" in loose.index


def test_gate_skips_constant_elements(idata_factory):
    rng = np.random.default_rng(3)
    idata = idata_factory(
        {"corr": np.stack([np.ones((2, 1000)), rng.standard_normal((2, 1000))], axis=-1)},
        diverging=np.zeros((2, 1000), dtype=bool),
    )
    table = fitting.check_convergence(idata)
    assert table["constant"].tolist() == [True, False]


def test_gate_var_names(idata_factory):
    idata = _good_posterior(idata_factory)
    table = fitting.check_convergence(idata, var_names=["mu_alpha"])
    assert list(table.index) == ["mu_alpha"]
    with pytest.raises(ValueError, match="not in the posterior"):
        fitting.check_convergence(idata, var_names=["tau"])


# ------------------------------------------------------------------- summary


def test_summarize_columns_and_rows(idata_factory):
    rng = np.random.default_rng(4)
    idata = idata_factory(
        {
            "alpha": rng.standard_normal((2, 2000, 2)) + np.array([0.0, 10.0]),
            "alpha_offset": rng.standard_normal((2, 2000, 2)),
        },
        coords={"country": ["Kenya", "Nigeria"]},
        dims={"alpha": ["country"], "alpha_offset": ["country"]},
    )
    table = fitting.summarize(idata)
    assert list(table.columns) == ["mean", "sd", "hdi_3%", "hdi_97%", "ess_bulk", "ess_tail", "r_hat"]
    assert list(table.index) == ["alpha[Kenya]", "alpha[Nigeria]"]  # offsets left out by default
    assert table.loc["alpha[Nigeria]", "mean"] == pytest.approx(10.0, abs=0.1)
    # 94% HDI of a standard normal: about +-1.88.
    assert table.loc["alpha[Kenya]", "hdi_3%"] == pytest.approx(-1.88, abs=0.15)
    assert table.loc["alpha[Kenya]", "hdi_97%"] == pytest.approx(1.88, abs=0.15)
    assert table.dtypes.eq(float).all()
    assert list(fitting.summarize(idata, var_names=["alpha_offset"]).index) == [
        "alpha_offset[Kenya]",
        "alpha_offset[Nigeria]",
    ]


# ----------------------------------------------------------------- fit options


class _FakeSample:
    def __init__(self, idata):
        self.idata = idata
        self.calls = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        return self.idata


def test_fit_passes_settings_and_falls_back_without_nutpie(monkeypatch, idata_factory, synthetic_groups,
                                                         library_fit):
    fake = _FakeSample(_good_posterior(idata_factory))
    monkeypatch.setattr(fitting.pm, "sample", fake)
    monkeypatch.setattr(fitting, "nutpie_available", lambda: False)
    model = models.complete_pooling(synthetic_groups)
    with pytest.warns(RuntimeWarning, match="nutpie is not installed"):
        fitting.fit(model, chains=4, target_accept=0.95)
    call = fake.calls[-1]
    assert call["nuts_sampler"] == "pymc"
    assert call["cores"] == min(4, os.cpu_count())
    assert call["progressbar"] is False
    assert call["random_seed"] == fitting.DEFAULT_SEED
    assert call["nuts"] == {"target_accept": 0.95}
    assert call["model"] is model
    assert "compile_kwargs" not in call  # freezing is nutpie's option; PyMC's sampler has none

    monkeypatch.setattr(fitting, "nutpie_available", lambda: True)
    fitting.fit(model, draws=10, tune=5, random_seed=1)
    call = fake.calls[-1]
    assert (call["nuts_sampler"], call["draws"], call["tune"], call["random_seed"]) == ("nutpie", 10, 5, 1)
    assert "nuts" not in call
    assert call["compile_kwargs"] == {"freeze_model": True}
    fitting.fit(model, freeze_model=False)
    assert fake.calls[-1]["compile_kwargs"] == {"freeze_model": False}
    fitting.fit(model, compile_kwargs={"freeze_model": False, "gradient_backend": "pytensor"})
    assert fake.calls[-1]["compile_kwargs"] == {"freeze_model": False, "gradient_backend": "pytensor"}
    fitting.fit(model)
    assert fake.calls[-1]["chains"] == fitting.DEFAULT_CHAINS == 4
    with pytest.raises(ValueError, match="target_accept"):
        fitting.fit(model, target_accept=1.5)


def test_fit_check_raises_with_the_draws_attached(monkeypatch, idata_factory, synthetic_groups, library_fit):
    diverging = np.zeros((2, 1000), dtype=bool)
    diverging[1, 7] = True
    bad = _good_posterior(idata_factory, diverging=diverging)
    monkeypatch.setattr(fitting.pm, "sample", _FakeSample(bad))
    model = models.complete_pooling(synthetic_groups)
    with pytest.raises(fitting.ConvergenceError) as info:
        fitting.fit(model)
    assert info.value.idata is bad
    assert fitting.fit(model, check=False) is bad


# ------------------------------------------------------------- real sampling


@pytest.mark.slow
def test_same_seed_gives_identical_draws(synthetic_groups):
    model = models.partial_pooling(synthetic_groups, parameterization="centered")
    settings = {"draws": 300, "tune": 300, "check": False}
    first = fitting.fit(model, random_seed=42, **settings)
    second = fitting.fit(model, random_seed=42, **settings)
    pd.testing.assert_frame_equal(fitting.summarize(first), fitting.summarize(second))
    np.testing.assert_array_equal(first.posterior["alpha"].values, second.posterior["alpha"].values)
    # The draws are not all alike (the seed reaches the sampler).
    assert np.ptp(first.posterior["alpha"].values[0, :, 0]) > 0


@pytest.mark.slow
def test_frozen_compile_samples_the_same_posterior_and_leaves_the_model_alone(synthetic_groups):
    """``fit`` freezes a copy for nutpie; the posterior must not depend on it.

    Both fits are independent Markov chains on the same posterior, so their means may differ
    by Monte Carlo error only: at most 5 combined Monte Carlo standard errors per element.
    """
    import arviz as az
    import pymc as pm

    # centred: these groups hold 4-400 rows, enough for the centred form to mix well
    model = models.partial_pooling(synthetic_groups, parameterization="centered")
    settings = {"random_seed": test_seed(11)}
    frozen = fitting.fit(model, **settings)
    unfrozen = fitting.fit(model, freeze_model=False, **settings)
    for name in ("mu_alpha", "sigma_alpha", "beta", "sigma_y", "alpha"):  # both passed the gate
        a, b = frozen.posterior[name], unfrozen.posterior[name]
        se = np.hypot(az.mcse(a.to_dataset(name=name))[name], az.mcse(b.to_dataset(name=name))[name])
        gap = np.abs(a.mean(("chain", "draw")) - b.mean(("chain", "draw")))
        assert (gap <= 5 * se).all(), f"{name}: frozen and unfrozen means differ by {gap.values} (se {se.values})"
    # the model keeps its data containers: new predictor values can still be set
    with model:
        pm.set_data({"antiauth": np.array([1.0, 2.0])}, coords={"obs_id": [0, 1]})
    assert model["antiauth"].get_value().tolist() == [1.0, 2.0]


@pytest.mark.slow
def test_centred_funnel_trips_the_gate_and_noncentred_passes(funnel_groups):
    """Eight groups of three noisy rows: the eight-schools funnel.

    Which element fails the gate first depends on the draws (another seed or processor may
    flag ``sigma_alpha`` alone, or only divergences); what must hold under any draws is that
    the centred fit fails, that every reported problem names a real element of the model or
    the divergences, and that the non-centred fit passes.
    """
    model = models.partial_pooling(funnel_groups, parameterization="centered")
    with pytest.raises(fitting.ConvergenceError) as info:
        fitting.fit(model, random_seed=test_seed(1))
    error = info.value
    assert error.problems, "a failed gate must say what failed"
    elements = set(fitting.convergence_table(error.idata).index)
    for problem in error.problems:
        named = problem.split(":")[0]
        assert named in elements or "divergent transition" in problem, problem
    assert (error.divergences > 0) == any("divergent" in p for p in error.problems)
    # The non-centred version passes the whole gate (with a smaller step size).
    idata = fitting.fit(
        models.partial_pooling(funnel_groups, parameterization="noncentered"),
        random_seed=test_seed(1), target_accept=0.95,
    )
    assert int(idata.sample_stats["diverging"].sum()) == 0


def test_gate_summary_reports_the_worst_element_of_each_diagnostic(idata_factory):
    rng = np.random.default_rng(3)
    good = rng.normal(size=(4, 1000))
    walk = np.cumsum(rng.normal(size=(4, 1000)), axis=1)  # a random walk: low ESS, high r_hat
    diverging = np.zeros((4, 1000), dtype=bool)
    diverging[1, :3] = True
    idata = idata_factory(
        {"mu": good, "alpha": np.stack([good, walk, good + 1], axis=-1), "fixed": np.ones((4, 1000))},
        diverging=diverging, coords={"country": ["A", "B", "C"]}, dims={"alpha": ["country"]},
    )
    row = fitting.gate_summary(idata)
    table = fitting.convergence_table(idata)
    assert row["divergences"] == 3
    assert row["lowest_ess_for"] == "alpha[B]"
    assert row["max_r_hat"] == pytest.approx(table.loc["alpha[B]", "r_hat"])
    assert row["min_ess_bulk"] == pytest.approx(table.loc["alpha[B]", "ess_bulk"])
    assert row["max_r_hat"] > fitting.MAX_R_HAT and row["min_ess_bulk"] < fitting.MIN_ESS
    only_mu = fitting.gate_summary(idata, var_names=["mu"])
    assert only_mu["lowest_ess_for"] == "mu" and only_mu["max_r_hat"] < fitting.MAX_R_HAT
    with pytest.raises(ValueError, match="every element is constant"):
        fitting.gate_summary(idata, var_names=["fixed"])
