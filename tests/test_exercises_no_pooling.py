"""The claims of chapter 4's exercise solutions hold on the fitted posteriors.

Chapter 4 (``chapters/04-no-pooling.qmd``) says in its solutions: the no-pooling intercept
equals the ``antiauth``-adjusted country mean to within a thousandth everywhere but in Zudan,
whose intercept the wide prior lifts a few hundredths (the prior holds a few percent of the
weight); about 90 and about 1,000 respondents give 94% half-widths of 0.1 and 0.03; a prior
of standard deviation 0.2 moves Zudan more than half of the way to the overall mean and
leaves Zudania where it was; the varying-slope fit agrees with one least-squares line per
country except in Zudan, whose intercept moves toward the overall mean and slope toward zero.
Each test fits the chapter's models and checks one claim, with tolerances from Monte Carlo
error (posterior sd / sqrt(bulk ESS)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest

from pooling import data, fitting, models

# In the chapter's xdist group: it runs after the chapter itself, whose fits it then reads
# from the suite's fit cache instead of sampling the same models again (tests/conftest.py).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("chapters/04-no-pooling.qmd")]


def narrow_prior_model(survey_all: pd.DataFrame, prior_sd: float = 0.2) -> pm.Model:
    """The no-pooling model of the chapter's Exercise 3: intercept prior Normal(m_y, prior_sd)."""
    y_all = survey_all["china"].to_numpy()
    x_all = survey_all["antiauth"].to_numpy()
    coords_all = {
        "obs_id": np.arange(len(survey_all)),
        "country": survey_all["country_name"].cat.categories,
    }
    with pm.Model(coords=coords_all) as narrow_model:
        antiauth = pm.Data("antiauth", x_all, dims="obs_id")
        predictor_mean = pm.Data("predictor_mean", x_all.mean())
        country_idx = pm.Data("country_idx", survey_all["country_name"].cat.codes.to_numpy(), dims="obs_id")
        alpha = pm.Normal("alpha", mu=y_all.mean(), sigma=prior_sd, dims="country")
        beta = pm.Normal("beta", mu=0, sigma=2.5 * y_all.std(ddof=1) / x_all.std(ddof=1))
        sigma_y = pm.Exponential("sigma_y", lam=1 / y_all.std(ddof=1))
        mu_y = alpha[country_idx] + beta * (antiauth - predictor_mean)
        pm.Normal("china", mu=mu_y, sigma=sigma_y, observed=y_all, dims="obs_id")
    return narrow_model


@pytest.fixture(scope="module")
def survey_all() -> pd.DataFrame:
    return data.load_survey(with_new_countries=True)


@pytest.fixture(scope="module")
def fits(survey_all):
    return {
        "np_all": fitting.fit(models.no_pooling(survey_all)),
        "np_slopes": fitting.fit(models.no_pooling(survey_all, varying_slopes=True)),
        "narrow": fitting.fit(narrow_prior_model(survey_all)),
    }


def _means(idata, name) -> pd.Series:
    series = idata.posterior[name].mean(("chain", "draw")).to_series()
    series.index = series.index.astype(str)
    return series


def _mcse(idata, name) -> pd.Series:
    """Monte Carlo standard error of each country's posterior mean of ``name``."""
    summary = fitting.summarize(idata, var_names=[name])
    summary.index = [label[len(name) + 1 : -1] for label in summary.index]
    return summary["sd"] / np.sqrt(summary["ess_bulk"])


def _sigma_y(idata) -> float:
    return float(idata.posterior["sigma_y"].mean())


def _prior_share(survey_all, idata, n=4) -> float:
    """Closed-form share of the wide prior Normal(m_y, 2.5 s_y) in a country of n respondents."""
    prior_precision = 1 / (2.5 * survey_all["china"].std()) ** 2
    data_precision = n / _sigma_y(idata) ** 2
    return prior_precision / (prior_precision + data_precision)


def test_exercise1_adjusted_mean_matches_the_intercept_except_in_zudan(survey_all, fits):
    idata = fits["np_all"]
    xbar = survey_all["antiauth"].mean()
    by_country = survey_all.groupby("country_name", observed=True).agg(
        mean_china=("china", "mean"), mean_antiauth=("antiauth", "mean")
    )
    by_country.index = by_country.index.astype(str)
    beta_hat = float(idata.posterior["beta"].mean())
    adjusted = by_country["mean_china"] - beta_hat * (by_country["mean_antiauth"] - xbar)
    gap = _means(idata, "alpha") - adjusted
    mcse = _mcse(idata, "alpha")

    others = gap.drop("Zudan")
    # "to better than a thousandth": the prior's pull on a country of 300+ respondents is
    # below 0.0003; what remains is Monte Carlo error, 0.0001-0.0003 per country.
    assert (others.abs() < 0.001).all(), others[others.abs() >= 0.001]
    assert (others.abs() < 4 * mcse.drop("Zudan") + 0.0005).all()

    # Zudan: "a few hundredths higher", by the prior's share times its distance to m_y.
    share = _prior_share(survey_all, idata)
    expected = share * (survey_all["china"].mean() - adjusted["Zudan"])
    assert 0.01 < gap["Zudan"] < 0.09
    assert gap["Zudan"] == pytest.approx(expected, abs=4 * mcse["Zudan"] + 0.005)
    # Zudan's gap is the table's largest, by far
    assert gap.idxmax() == "Zudan" and gap["Zudan"] > 20 * others.abs().max()


def test_exercise1_the_wide_prior_holds_a_few_percent_of_zudans_weight(survey_all, fits):
    share = _prior_share(survey_all, fits["np_all"])
    assert 0.01 < share < 0.06
    prior_precision = 1 / (2.5 * survey_all["china"].std()) ** 2
    assert prior_precision == pytest.approx(0.5, abs=0.1)  # "about 0.5" in Exercise 3
    assert 4 / _sigma_y(fits["np_all"]) ** 2 == pytest.approx(16, abs=1.5)  # "about 16"


def test_exercise2_respondents_needed_for_a_given_half_width(fits):
    sigma_y_hat = _sigma_y(fits["np_all"])
    assert sigma_y_hat == pytest.approx(0.5, abs=0.02)
    needed = {h: (1.88 * sigma_y_hat / h) ** 2 for h in (0.1, 0.03)}
    assert 80 <= needed[0.1] <= 100  # "about 90"
    assert 900 <= needed[0.03] <= 1100  # "about 1,000"


def test_exercise3_a_narrow_prior_moves_zudan_far_and_zudania_hardly(survey_all, fits):
    overall = survey_all["china"].mean()
    wide, narrow = _means(fits["np_all"], "alpha"), _means(fits["narrow"], "alpha")
    share = (narrow - wide) / (overall - wide)
    tolerance = 4 * np.sqrt(_mcse(fits["np_all"], "alpha") ** 2 + _mcse(fits["narrow"], "alpha") ** 2)
    # "more than half of the way": the closed-form prior share is 25 / (25 + 16), about 0.6
    closed_form = 25 / (25 + 4 / _sigma_y(fits["narrow"]) ** 2)
    assert share["Zudan"] > 0.5
    assert share["Zudan"] == pytest.approx(closed_form, abs=0.08)
    # "barely moves"
    assert abs(narrow["Zudania"] - wide["Zudania"]) < 0.005 + tolerance["Zudania"]
    assert abs(share["Zudania"]) < 0.01


def test_exercise4_least_squares_lines_match_except_in_zudan(survey_all, fits):
    idata = fits["np_slopes"]

    def ols_line(group):
        xc = group["antiauth"] - group["antiauth"].mean()
        slope = (xc * group["china"]).sum() / (xc**2).sum()
        return pd.Series({"intercept": group["china"].mean(), "slope": slope, "ss_xx": (xc**2).sum()})

    ols = survey_all.groupby("country_name", observed=True)[["antiauth", "china"]].apply(ols_line)
    ols.index = ols.index.astype(str)
    for name, column in [("alpha", "intercept"), ("beta", "slope")]:
        gap = _means(idata, name) - ols[column]
        mcse = _mcse(idata, name)
        others = gap.drop("Zudan")
        # "to within about a thousandth"
        assert (others.abs() < 0.001 + 2 * mcse.drop("Zudan")).all(), others.abs().max()

    sigma_y = _sigma_y(idata)
    y_all = survey_all["china"].to_numpy()
    x_all = survey_all["antiauth"].to_numpy()
    # Zudan's intercept: pulled toward the overall mean m_y by the prior's share
    intercept_gap = _means(idata, "alpha")["Zudan"] - ols.loc["Zudan", "intercept"]
    expected = _prior_share(survey_all, idata) * (y_all.mean() - ols.loc["Zudan", "intercept"])
    assert 0.01 < intercept_gap < 0.09
    assert intercept_gap == pytest.approx(expected, abs=4 * _mcse(idata, "alpha")["Zudan"] + 0.005)
    # Zudan's slope: the conjugate shrinkage toward zero (given sigma_y) is real, and the
    # posterior mean agrees with it within Monte Carlo error
    slope_prior_sd = 2.5 * y_all.std(ddof=1) / x_all.std(ddof=1)
    ss_xx = ols.loc["Zudan", "ss_xx"]
    shrunk = ols.loc["Zudan", "slope"] * ss_xx / (ss_xx + sigma_y**2 / slope_prior_sd**2)
    assert abs(shrunk) < abs(ols.loc["Zudan", "slope"]) - 0.003
    assert _means(idata, "beta")["Zudan"] == pytest.approx(shrunk, abs=4 * _mcse(idata, "beta")["Zudan"] + 0.002)
