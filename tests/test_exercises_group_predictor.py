"""The solutions to chapter 8's exercises say what their code computes.

* Exercise 1 (radon): both fits pass the gate in the default form; uranium's effect is
  positive with its whole 94% interval above zero, and ``sigma_alpha`` drops to about half.
* Exercise 2: the prediction for a new country is narrower with trade, and its variance is
  mostly ``sigma_alpha ** 2``.
* Exercise 3: putting trade in the respondent line is the same model (the same log density at
  corresponding points), but its ``gamma_1`` gets a small fraction of the effective sample size.
* Exercise 4: the true country deviations from the trade line are recovered with a high
  correlation, and each intercept's posterior sd is a few hundredths, much less than the
  spread of the deviations.

Each test fits what the solution fits (the fit cache makes reruns cheap).
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest

from pooling import data, fitting, models, simulate
from pooling.columns import RADON

# In the chapter's xdist group: it runs after the chapter itself, whose fits it then reads
# from the suite's fit cache instead of sampling the same models again (tests/conftest.py).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("chapters/08-group-predictor.qmd")]


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return data.load_survey(with_new_countries=True)


@pytest.fixture(scope="module")
def idata_trade(survey):
    return fitting.fit(models.group_level_predictor(survey, group_predictor="log_trade_china"))


@pytest.fixture(scope="module")
def log_trade(survey) -> np.ndarray:
    return survey.groupby("country_name", observed=True)["log_trade_china"].first().to_numpy()


def test_exercise_1_uranium_halves_sigma_alpha():
    radon = data.load_radon()
    uranium = fitting.fit(models.group_level_predictor(radon, group_predictor="log_uranium", columns=RADON))
    without = fitting.fit(models.partial_pooling(radon, columns=RADON))  # fit raises unless the gate passes
    gamma_1 = fitting.summarize(uranium, var_names=["gamma_1"]).iloc[0]
    assert gamma_1["hdi_3%"] > 0
    with_sd = uranium.posterior["sigma_alpha"]
    without_sd = without.posterior["sigma_alpha"]
    ratio = float(with_sd.mean() / without_sd.mean())
    # "about half": the Monte Carlo error of the ratio is far below these bounds
    assert 0.35 < ratio < 0.65
    # "most of the variance": the share of sigma_alpha^2 that uranium removes
    assert 1 - float((with_sd**2).mean() / (without_sd**2).mean()) > 0.5


def test_exercise_2_trade_narrows_the_prediction_for_a_new_country(survey, idata_trade, log_trade):
    no_trade = fitting.fit(models.partial_pooling(survey))
    rng = np.random.default_rng(1)
    post = idata_trade.posterior
    with_trade = post["gamma_0"] + post["gamma_1"] * (np.log(1000) - log_trade.mean()) + post[
        "sigma_alpha"] * rng.standard_normal(post["sigma_alpha"].shape)
    post0 = no_trade.posterior
    without = post0["mu_alpha"] + post0["sigma_alpha"] * rng.standard_normal(post0["sigma_alpha"].shape)
    width = {name: float(np.diff(az.hdi(d.values.ravel(), prob=0.94))[0])
             for name, d in [("with", with_trade), ("without", without)]}
    assert width["with"] < 0.85 * width["without"]
    assert float((post["sigma_alpha"] ** 2).mean() / with_trade.var()) > 0.8


def _trade_in_rows(survey, log_trade):
    """The model of exercise 3, as the solution writes it."""
    y, x = survey["china"].to_numpy(), survey["antiauth"].to_numpy()
    codes = survey["country_name"].cat.codes.to_numpy()
    m_y, s_y, s_x, s_u = y.mean(), y.std(ddof=1), x.std(ddof=1), log_trade.std(ddof=1)
    coords = {"obs_id": np.arange(len(survey)), "country": survey["country_name"].cat.categories}
    with pm.Model(coords=coords) as model:
        antiauth = pm.Data("antiauth", x, dims="obs_id")
        country_idx = pm.Data("country_idx", codes, dims="obs_id")
        mu_alpha = pm.Normal("mu_alpha", mu=m_y, sigma=2.5 * s_y)
        sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=s_y)
        alpha = pm.Normal("alpha", mu=mu_alpha, sigma=sigma_alpha, dims="country")
        gamma_1 = pm.Normal("gamma_1", mu=0, sigma=2.5 * s_y / s_u)
        beta = pm.Normal("beta", mu=0, sigma=2.5 * s_y / s_x)
        sigma_y = pm.Exponential("sigma_y", lam=1 / s_y)
        u_rows = log_trade[codes] - log_trade.mean()
        mu_y = alpha[country_idx] + gamma_1 * u_rows + beta * (antiauth - x.mean())
        pm.Normal("china", mu=mu_y, sigma=sigma_y, observed=y, dims="obs_id")
    return model


def test_exercise_3_trade_in_the_rows_is_the_same_model(survey, idata_trade, log_trade):
    trade_model = models.group_level_predictor(survey, group_predictor="log_trade_china", parameterization="centered")
    rows = _trade_in_rows(survey, log_trade)
    logp_trade, logp_rows = trade_model.compile_logp(), rows.compile_logp()
    post = idata_trade.posterior
    for chain, draw in [(0, 0), (1, 999), (3, 1999)]:
        p = {k: post[k].isel(chain=chain, draw=draw).to_numpy()
             for k in ["gamma_0", "gamma_1", "alpha", "beta", "sigma_alpha", "sigma_y"]}
        logs = {"sigma_alpha_log__": np.log(p["sigma_alpha"]), "sigma_y_log__": np.log(p["sigma_y"])}
        a = float(logp_trade({"gamma_0": p["gamma_0"], "gamma_1": p["gamma_1"], "alpha": p["alpha"],
                              "beta": p["beta"], **logs}))
        b = float(logp_rows({"mu_alpha": p["gamma_0"], "gamma_1": p["gamma_1"], "beta": p["beta"],
                             "alpha": p["alpha"] - p["gamma_1"] * (log_trade - log_trade.mean()), **logs}))
        assert np.isfinite(a) and a == pytest.approx(b, abs=1e-6, rel=1e-10)
    # and a point that does not correspond gives a different density: the check can fail
    c = float(logp_rows({"mu_alpha": p["gamma_0"], "gamma_1": p["gamma_1"], "beta": p["beta"],
                         "alpha": p["alpha"], **logs}))
    assert abs(a - c) > 1.0


def test_exercise_3_trade_in_the_rows_samples_gamma_1_far_worse(survey, idata_trade, log_trade):
    rows = fitting.fit(_trade_in_rows(survey, log_trade), check=False)
    worse = fitting.gate_summary(rows, ["gamma_1"])
    better = fitting.gate_summary(idata_trade, ["gamma_1"])
    assert worse["min_ess_bulk"] < 0.25 * better["min_ess_bulk"]


def test_exercise_4_true_deviations_are_recovered(idata_trade):
    post = idata_trade.posterior
    const = idata_trade.constant_data
    line = post["gamma_0"] + post["gamma_1"] * (const["log_trade_china"] - const["group_predictor_mean"])
    deviation = (post["alpha"] - line).mean(("chain", "draw")).to_series()
    truth = simulate.simulate()["truth"].set_index("country_name")["eta"]
    compare = pd.DataFrame({"estimated": deviation, "true": truth}).dropna()
    assert len(compare) == 33
    assert compare.corr().iloc[0, 1] > 0.9
    alpha_sd = post["alpha"].std(("chain", "draw")).to_series().loc[compare.index]
    assert alpha_sd.max() < 0.05  # "a few hundredths"
    assert alpha_sd.max() < 0.5 * compare["true"].std()  # "much less than the spread of the deviations"
