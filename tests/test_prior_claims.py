"""The claims of the prior predictive checks (chapter 2, chapter 13) and of the prior
sensitivity analysis (chapter 13) hold on freshly computed draws.

Chapter 2: most simulated answers lie on the 1-5 scale but many do not, and most prior lines
leave the scale somewhere between antiauth 0 and 4. Chapter 13: the spread of the observed
country means lies well inside the prior of sigma_alpha; from a prior scale of 0.1 up nothing
moves; below it sigma_alpha is dragged down (but stays above the prior scale) and Zudan climbs
toward complete pooling; Zudania keeps nearly all its weight down to 0.003 and gives up only a
little at 0.001; with six countries the prior moves sigma_alpha much more than with 35.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from scipy.stats import norm

from pooling import data, fitting, models, priors
from pooling.simulation_study import closed_form_estimates

from support.seeds import test_seed

# In the chapter's xdist group: it runs after the chapter itself, whose fits it then reads
# from the suite's fit cache instead of sampling the same models again (tests/conftest.py).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("chapters/13-priors.qmd")]

PAGE_SCALES = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
FEW_COUNTRIES = ["Ghana", "Kenya", "Nigeria", "Senegal", "South Africa", "Zudan"]


@pytest.fixture(scope="module")
def survey_all() -> pd.DataFrame:
    return data.load_survey(with_new_countries=True)


@pytest.fixture(scope="module")
def scale_fits(survey_all):
    return {s: fitting.fit(models.partial_pooling(survey_all, sigma_alpha_scale=s, likelihood="sufficient"))
            for s in PAGE_SCALES}


@pytest.fixture(scope="module")
def references(survey_all):
    closed = closed_form_estimates(survey_all.rename(columns={"country_name": "country"}))
    return closed["no_pooling"], float(closed["complete_pooling"].iloc[0])


@pytest.fixture(scope="module")
def scale_table(scale_fits, references):
    no_pooling, complete_pooling = references
    table = priors.prior_scale_table(scale_fits, ["Zudan", "Zudania"], no_pooling=no_pooling,
                                     complete_pooling=complete_pooling)
    return table.set_index(["prior_scale", "group"])


def _sd(idata, country):
    return float(idata.posterior["alpha"].sel(country=country).std())


# --- chapter 2 ---------------------------------------------------------------------------------

def test_complete_pooling_prior_predictive_claims():
    survey = data.load_survey()
    prior = pm.sample_prior_predictive(draws=500, model=models.complete_pooling(survey), random_seed=test_seed(5650))
    summary = priors.prior_predictive_summary(prior)
    outside = summary["answers below scale"] + summary["answers above scale"]
    assert outside < 0.5, "most simulated answers lie on the scale"
    assert outside > 0.15, "but many do not"
    assert summary["lines leaving scale"] > 0.5, "most prior lines leave the scale between antiauth 0 and 4"
    # the priors rule out the absurd: an average answer of 50, a slope of ten points per point
    scales = models.prior_scales(survey)
    assert (50 - scales.outcome_mean) / scales.intercept_sd > 20
    assert 10 / scales.slope_sd > 4


# --- chapter 13: prior predictive check ----------------------------------------------------------

def test_observed_spread_lies_well_inside_the_sigma_alpha_prior(survey_all):
    prior = pm.sample_prior_predictive(draws=1000, model=models.partial_pooling(survey_all), random_seed=test_seed(5650))
    means = survey_all.groupby("country_name", observed=True)["china"].mean()
    summary = priors.group_spread_summary(prior, means)
    assert 0.15 < summary["prior P(sigma_alpha below observed)"] < 0.85
    assert summary["prior 3% of sigma_alpha"] < 0.1, "sigma_alpha near zero is allowed"
    assert summary["prior 97% of sigma_alpha"] > 2 * summary["observed sd of group means"], \
        "differences larger than the observed ones are allowed"
    assert summary["group intercepts outside scale"] > 0.05, "some draws put countries off the scale"


# --- chapter 13: sensitivity to the prior scale ----------------------------------------------------

def test_every_scale_fit_passes_the_gate(scale_fits):
    for scale, idata in scale_fits.items():
        gate = fitting.gate_summary(idata)
        assert gate["divergences"] == 0 and gate["max_r_hat"] <= 1.01 and gate["min_ess_bulk"] >= 400, scale


def test_from_a_tenth_of_a_point_up_nothing_moves(scale_fits, scale_table):
    loose = [s for s in PAGE_SCALES if s >= 0.1]
    for country in ("Zudan", "Zudania"):
        means = [scale_table.loc[(s, country), "mean"] for s in loose]
        assert max(means) - min(means) < _sd(scale_fits[1.0], country), country
    sigma = priors.sigma_table(scale_fits)
    assert sigma.loc[3.0, "mean"] - sigma.loc[0.3, "mean"] < 0.5 * (sigma.loc[3.0, "hdi_high"] - sigma.loc[3.0, "hdi_low"])


def test_stricter_priors_drag_sigma_alpha_down_but_not_to_the_prior_scale(scale_fits):
    sigma = priors.sigma_table(scale_fits)
    strict = [s for s in PAGE_SCALES if s <= 0.1]
    means = sigma.loc[strict, "mean"].to_numpy()
    assert np.all(np.diff(means) > 0), "smaller prior scale, smaller posterior sigma_alpha"
    assert sigma.loc[0.001, "mean"] < 0.5 * sigma.loc[1.0, "mean"]
    for s in strict:
        assert sigma.loc[s, "hdi_low"] > s, f"posterior sigma_alpha stays above the prior scale {s}"


def test_zudan_climbs_toward_complete_pooling(scale_table, scale_fits):
    weights = [scale_table.loc[(s, "Zudan"), "weight"] for s in PAGE_SCALES]
    tolerance = 0.02
    assert all(later >= earlier - tolerance for earlier, later in zip(weights, weights[1:], strict=False))
    assert weights[0] < 0.2, "at the strictest scale Zudan nearly reaches complete pooling"
    assert 0.3 < scale_table.loc[(1.0, "Zudan"), "weight"] < 0.7, "about halfway under a loose prior"


def test_zudania_hardly_notices(scale_table):
    for s in PAGE_SCALES:
        weight = scale_table.loc[(s, "Zudania"), "weight"]
        assert weight > (0.97 if s >= 0.003 else 0.8), (s, weight)
    assert scale_table.loc[(0.001, "Zudania"), "weight"] < scale_table.loc[(1.0, "Zudania"), "weight"] - 0.02, \
        "at the strictest scale Zudania gives up a little of its distance"


def test_zudania_halfway_scale_is_about_a_hundredth(scale_fits):
    sigma_y = float(scale_fits[1.0].posterior["sigma_y"].mean())
    halfway_sigma_alpha = sigma_y / np.sqrt(3000)
    assert 0.005 < halfway_sigma_alpha < 0.02


# --- chapter 13, exercises ---------------------------------------------------------------------------

def test_six_countries_leave_more_to_the_prior(survey_all, scale_fits):
    few = survey_all[survey_all["country_name"].isin(FEW_COUNTRIES)].copy()
    few["country_name"] = few["country_name"].cat.remove_unused_categories()
    few_fits = {s: fitting.fit(models.partial_pooling(few, sigma_alpha_scale=s, likelihood="sufficient"),
                               target_accept=0.99) for s in (0.3, 3.0)}
    many = priors.sigma_table({s: scale_fits[s] for s in (0.3, 3.0)})
    six = priors.sigma_table(few_fits)
    width = lambda t, s: t.loc[s, "hdi_high"] - t.loc[s, "hdi_low"]  # noqa: E731
    assert width(six, 0.3) > 2 * width(many, 0.3), "much wider interval with six countries"
    assert six.loc[3.0, "mean"] / six.loc[0.3, "mean"] > 1.2, "with six countries the posterior follows the prior"
    assert many.loc[3.0, "mean"] / many.loc[0.3, "mean"] < 1.05, "with 35 it practically does not"


def test_the_mu_alpha_prior_puts_a_noticeable_share_off_the_scale(survey_all):
    scales = models.prior_scales(survey_all)
    outside = norm.cdf(1, scales.outcome_mean, scales.intercept_sd) + norm.sf(5, scales.outcome_mean, scales.intercept_sd)
    assert outside > 0.1
    assert norm.cdf(1, 3, 1) + norm.sf(5, 3, 1) == pytest.approx(0.0455, abs=0.001)
