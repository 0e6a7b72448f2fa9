"""The simulation study of chapter 12: its estimators and the claims the page makes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import test_seed
from pooling import models
from pooling.fitting import fit
from pooling.simulation_study import (
    METHODS,
    StudyDesign,
    closed_form_estimates,
    error_by_size,
    run_study,
    simulate_survey,
)

SMALL_DESIGN = StudyDesign(sizes=(2, 3, 5, 8, 20, 50, 200, 600))


@pytest.fixture(scope="module")
def survey():
    return simulate_survey(StudyDesign(), np.random.default_rng(3))[0]


def test_simulated_survey_has_the_design_sizes_and_truth():
    design = StudyDesign(sizes=(2, 7, 30))
    survey, truth = simulate_survey(design, np.random.default_rng(0))
    assert survey.groupby("country").size().tolist() == [2, 7, 30]
    assert list(truth.index) == ["C01", "C02", "C03"]
    assert set(survey.columns) == {"country", "antiauth", "china"}


def test_no_pooling_is_the_fixed_effects_regression(survey):
    """Independent check: least squares with one dummy per country and a common slope."""
    estimates = closed_form_estimates(survey)
    dummies = pd.get_dummies(survey["country"], dtype=float)
    x_centred = survey["antiauth"] - survey["antiauth"].mean()
    design = np.column_stack([dummies.to_numpy(), x_centred.to_numpy()])
    coefficients, *_ = np.linalg.lstsq(design, survey["china"].to_numpy(), rcond=None)
    np.testing.assert_allclose(estimates["no_pooling"].to_numpy(), coefficients[:-1], atol=1e-10)
    residuals = survey["china"].to_numpy() - design @ coefficients
    sigma_y = np.sqrt((residuals**2).sum() / (len(survey) - design.shape[1]))
    assert estimates["sigma_y"].iloc[0] == pytest.approx(sigma_y, rel=1e-10)


def test_partial_pooling_lies_between_and_weights_grow_with_size(survey):
    est = closed_form_estimates(survey)
    assert est["complete_pooling"].nunique() == 1
    assert est["complete_pooling"].iloc[0] == pytest.approx(survey["china"].mean())
    weights = est.sort_values("n").groupby("n")["weight"].first()
    assert (np.diff(weights.to_numpy()) > 0).all() and weights.between(0, 1).all()
    # each estimate is a weighted average of the country's own value and one common centre
    centre = (est["partial_pooling"] - est["weight"] * est["no_pooling"]) / (1 - est["weight"])
    np.testing.assert_allclose(centre, centre.iloc[0], rtol=1e-9)


def test_no_between_country_spread_pools_completely():
    rng = np.random.default_rng(4)
    survey, _ = simulate_survey(StudyDesign(sizes=(5,) * 10, tau=1e-9), rng)
    est = closed_form_estimates(survey)
    if est["tau"].iloc[0] == 0:  # the moment estimate is truncated at zero
        assert est["weight"].eq(0).all()
        assert est["partial_pooling"].nunique() == 1
    assert est["tau"].iloc[0] < 0.1


@pytest.mark.parametrize(
    ("survey_frame", "message"),
    [
        (pd.DataFrame({"country": ["a"] * 3, "antiauth": [1.0, 2, 3]}), "missing column"),
        (pd.DataFrame({"country": ["a", "a", "b", "b"], "antiauth": [1.0, 2, 1, 2], "china": [3.0, 3, 2, 2]}),
         "at least 3 countries"),
        (pd.DataFrame({"country": ["a", "a", "b", "b", "c"], "antiauth": [1.0, 2, 1, 2, 1],
                       "china": [3.0, 3, 2, 2, 4]}), "at least 2 respondents"),
    ],
)
def test_bad_survey_is_refused(survey_frame, message):
    with pytest.raises(ValueError, match=message):
        closed_form_estimates(survey_frame)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"sizes": (2, 3)}, "at least 3"), ({"sizes": (1, 5, 5)}, ">= 2"), ({"tau": 0.0}, "tau must be positive"),
     ({"sigma_y": -1.0}, "sigma_y must be positive")],
)
def test_bad_design_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StudyDesign(**kwargs)


def test_same_seed_same_study():
    a = run_study(SMALL_DESIGN, replicates=5, seed=11)
    b = run_study(SMALL_DESIGN, replicates=5, seed=11)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(run_study(SMALL_DESIGN, replicates=5, seed=12))
    assert len(a) == 5 * len(SMALL_DESIGN.sizes) * len(METHODS)


def test_error_by_size_refuses_unknown_methods():
    results = run_study(SMALL_DESIGN, replicates=2, seed=1)
    with pytest.raises(ValueError, match="no results for method"):
        error_by_size(results, methods=["partial_pooling", "bayes"])


# The claims of chapter 12, checked on study seeds other than the page's (5650), so they
# are properties of the estimators and not of one set of draws.
@pytest.fixture(scope="module", params=[1, 2, 3])
def study(request):
    design = StudyDesign()
    results = run_study(design, replicates=300, seed=request.param)
    overall = np.sqrt((results["error"] ** 2).groupby(results["method"]).mean())
    return design, error_by_size(results), overall


def test_partial_pooling_is_never_worse_than_the_better_alternative(study):
    _, rmse, _ = study
    better_alternative = rmse[["no_pooling", "complete_pooling"]].min(axis=1)
    assert (rmse["partial_pooling"] <= 1.02 * better_alternative).all(), rmse


def test_partial_pooling_gains_most_for_small_countries(study):
    design, rmse, _ = study
    assert rmse.loc[2, "partial_pooling"] < 0.6 * rmse.loc[2, "no_pooling"]
    assert rmse.loc[2, "partial_pooling"] < rmse.loc[2, "complete_pooling"]
    n_half = design.sigma_y**2 / design.tau**2
    near_half = rmse.index[np.argmin(np.abs(np.log(rmse.index / n_half)))]
    assert rmse.loc[near_half, "partial_pooling"] < 0.85 * rmse.loc[near_half, ["no_pooling", "complete_pooling"]].min()


def test_large_countries_partial_pooling_is_no_pooling(study):
    design, rmse, _ = study
    large = rmse.loc[100:]
    assert (large["partial_pooling"] - large["no_pooling"]).abs().max() < 0.005
    assert (large["no_pooling"] < 0.5 * design.tau).all()


def test_complete_pooling_misses_by_about_tau(study):
    design, rmse, _ = study
    assert rmse.loc[:250, "complete_pooling"].between(0.85 * design.tau, 1.2 * design.tau).all(), rmse


def test_partial_pooling_wins_in_total(study):
    _, _, overall = study
    assert overall["partial_pooling"] < 0.7 * overall[["no_pooling", "complete_pooling"]].min()


@pytest.mark.slow
def test_closed_form_matches_the_bayesian_posterior_mean():
    """Chapter 12's check: the closed form is the partial-pooling model's posterior mean
    given the variance estimates; on a survey of the study's design the two agree to a
    small fraction of a posterior standard deviation."""
    survey, _ = simulate_survey(StudyDesign(), np.random.default_rng(5650))
    est = closed_form_estimates(survey)
    model = models.partial_pooling(survey, group="country", group_dim="country", parameterization="centered",
                                   likelihood="sufficient")
    idata = fit(model, random_seed=test_seed(5650))
    alpha = idata.posterior["alpha"]
    gap = (est["partial_pooling"] - alpha.mean(("chain", "draw")).to_series()).abs()
    assert (gap / alpha.std(("chain", "draw")).to_series()).max() < 0.5
    assert gap.max() < 0.05


@pytest.mark.parametrize("seed", [1, 2])
def test_exercise_wider_spread(seed):
    """Exercise 1: with tau = 0.5, n* is 1; complete pooling misses by about 0.5; partial
    pooling gains over no pooling only for the smallest countries."""
    design = StudyDesign(tau=0.5)
    rmse = error_by_size(run_study(design, replicates=200, seed=seed))
    assert design.sigma_y**2 / design.tau**2 == pytest.approx(1.0)
    assert rmse["complete_pooling"].between(0.4, 0.6).all()
    assert rmse.loc[2, "partial_pooling"] < 0.92 * rmse.loc[2, "no_pooling"]
    assert (rmse.loc[5:, "partial_pooling"] >= 0.9 * rmse.loc[5:, "no_pooling"]).all()


@pytest.mark.parametrize("seed", [1, 2])
def test_exercise_all_countries_small(seed):
    """Exercise 2: partial pooling roughly halves the error of three-respondent countries
    with or without large countries beside them; a little more with them."""
    all_small = error_by_size(run_study(StudyDesign(sizes=(3,) * 32), replicates=200, seed=seed))
    mixed = error_by_size(run_study(StudyDesign(sizes=(3,) * 16 + (1000,) * 16), replicates=200, seed=seed))
    for rmse in (all_small, mixed):
        assert 0.4 < rmse.loc[3, "partial_pooling"] / rmse.loc[3, "no_pooling"] < 0.65
    assert mixed.loc[3, "partial_pooling"] < all_small.loc[3, "partial_pooling"]


def test_bias_against_noise_for_the_smallest_countries(study):
    """Chapter 12's figure of estimates against truth (n = 2): no pooling follows the truth
    with slope about 1; partial pooling with a slope well below 1 and much less scatter;
    no pooling misses by more than twice tau there."""
    design, rmse, _ = study
    assert rmse.loc[2, "no_pooling"] > 2 * design.tau
    results = run_study(design, replicates=300, seed=7)
    smallest = results[results["n"] == 2]
    fits = {}
    for method in ("no_pooling", "partial_pooling"):
        rows = smallest[smallest["method"] == method]
        slope, intercept = np.polyfit(rows["truth"], rows["estimate"], 1)
        fits[method] = (slope, np.std(rows["estimate"] - (slope * rows["truth"] + intercept)))
    assert 0.85 < fits["no_pooling"][0] < 1.15
    assert fits["partial_pooling"][0] < 0.5
    assert fits["partial_pooling"][1] < 0.5 * fits["no_pooling"][1]
