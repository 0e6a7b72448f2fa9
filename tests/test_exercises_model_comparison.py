"""The claims of chapter 11's exercise solutions hold on the survey posteriors.

1. The hand-written pointwise log-likelihood equals PyMC's ``compute_log_likelihood`` up to
   floating-point rounding.
2. On simple random samples of 2,000 and 5,000 respondents (the solution's seeds), scaled to
   the whole survey, complete pooling stays far behind the other two models, no and partial
   pooling differ by about one standard error of their difference or less (mostly through
   Zudan's respondents, when a sample has any), and the larger sample gives the smaller
   standard errors.
3. Leaving Zudania out of the fit makes sigma_alpha smaller, so the proper leave-one-country-out
   interval for Zudania's mean is narrower and ends lower than the chapter's approximation,
   and Zudania's observed mean lies above both.
4. Adding the varying-slopes model to the LOO comparison: its elpd is ahead of partial
   pooling's by less than two standard errors of the difference, with a larger effective
   number of parameters.

The helpers below are the chapter's own (its ``log_likelihood``, ``loo_for`` and stratified
sample), so a test fails when the chapter's computation would give another answer.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr

from pooling import data, fitting, models
from pooling.predict import predict_new_group

# In the chapter's xdist group: it runs after the chapter itself, whose fits it then reads
# from the suite's fit cache instead of sampling the same models again (tests/conftest.py).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("chapters/11-model-comparison.qmd")]

N_SAMPLE = 2000


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return data.load_survey(with_new_countries=True)


@pytest.fixture(scope="module")
def pooling_models(survey):
    return {
        "Complete pooling": models.complete_pooling(survey),
        "No pooling": models.no_pooling(survey),
        "Partial pooling": models.partial_pooling(survey),
    }


@pytest.fixture(scope="module")
def fits(pooling_models):
    return {name: fitting.fit(model) for name, model in pooling_models.items()}


@pytest.fixture(scope="module")
def loo_rows(survey) -> np.ndarray:
    """The chapter's sample: the same share of every country, all of Zudan (seed 2025)."""
    share = N_SAMPLE / len(survey)
    rng = np.random.default_rng(2025)
    return np.sort(np.concatenate([
        rows if len(rows) < 100 else rng.choice(rows, size=round(share * len(rows)), replace=False)
        for rows in survey.groupby("country_name", observed=True).indices.values()
    ]))


def log_likelihood(idata, rows):
    """The chapter's function, extended in exercise 4 to country slopes."""
    post, const = idata.posterior, idata.constant_data
    x = const["antiauth"].isel(obs_id=rows) - const["predictor_mean"]
    alpha, beta = post["alpha"], post["beta"]
    if "country_idx" in const:
        codes = const["country_idx"].isel(obs_id=rows)
        if "country" in alpha.dims:
            alpha = alpha.isel(country=codes).drop_vars("country")
        if "country" in beta.dims:
            beta = beta.isel(country=codes).drop_vars("country")
    mu = alpha + beta * x
    y = idata.observed_data["china"].isel(obs_id=rows)
    sigma = post["sigma_y"]
    return -0.5 * ((y - mu) / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi)


def loo_for(idata, rows):
    tree = xr.DataTree.from_dict({
        "posterior": idata.posterior.to_dataset(),
        "log_likelihood": log_likelihood(idata, rows).to_dataset(name="china"),
    })
    return az.loo(tree, pointwise=True)


def _paired(a, b) -> tuple[float, float]:
    """elpd(a) - elpd(b) over the same rows and the standard error of that difference."""
    diff = np.asarray(a.elpd_i).ravel() - np.asarray(b.elpd_i).ravel()
    return float(diff.sum()), float(np.sqrt(len(diff)) * diff.std(ddof=1))


def test_hand_written_log_likelihood_matches_pymc(fits, pooling_models, loo_rows):
    first_draws = fits["Partial pooling"].isel(draw=slice(0, 20))
    by_pymc = pm.compute_log_likelihood(
        first_draws, model=pooling_models["Partial pooling"], extend_inferencedata=False, progressbar=False
    )
    by_hand = log_likelihood(first_draws, loo_rows)
    assert dict(by_hand.sizes) == {"chain": 4, "draw": 20, "obs_id": len(loo_rows)}
    assert float(abs(by_pymc["china"].isel(obs_id=loo_rows) - by_hand).max()) < 1e-9


@pytest.mark.parametrize("seed, size", [(1, 2000), (2025, 5000)])
def test_other_random_samples_tell_the_same_story(survey, fits, seed, size):
    rows = np.sort(np.random.default_rng(seed).choice(len(survey), size=size, replace=False))
    results = {name: loo_for(idata, rows) for name, idata in fits.items()}
    for other in ("No pooling", "Partial pooling"):
        diff, se = _paired(results[other], results["Complete pooling"])
        assert diff > 10 * se, (other, diff, se)
    diff, se = _paired(results["Partial pooling"], results["No pooling"])
    assert abs(diff) < 1.5 * se, (diff, se)
    # the difference is larger when the sample includes Zudan respondents: with them, they
    # carry more of it than all the other sampled respondents together
    pointwise = np.asarray(results["Partial pooling"].elpd_i) - np.asarray(results["No pooling"].elpd_i)
    in_zudan = survey["country_name"].to_numpy()[rows] == "Zudan"
    if in_zudan.any():
        assert abs(pointwise[in_zudan].sum()) > abs(pointwise[~in_zudan].sum())


def test_larger_sample_gives_smaller_standard_errors(survey, fits):
    scaled_se = {}
    for seed, size in [(1, 2000), (2025, 5000)]:
        rows = np.sort(np.random.default_rng(seed).choice(len(survey), size=size, replace=False))
        result = loo_for(fits["Partial pooling"], rows)
        scaled_se[size] = float(result.se) * len(survey) / size
    # a sum estimated from a sample: the scaled se falls like one over the root of the size
    assert scaled_se[5000] < 0.8 * scaled_se[2000]


def test_leaving_zudania_out_narrows_its_interval(survey, fits):
    without = survey[survey["country_name"] != "Zudania"].copy()
    without["country_name"] = without["country_name"].cat.remove_unused_categories()
    idata_without = fitting.fit(models.partial_pooling(without, likelihood="sufficient"))
    full = fits["Partial pooling"].posterior["sigma_alpha"].values.ravel()
    left_out = idata_without.posterior["sigma_alpha"].values.ravel()
    # a real drop: Monte Carlo errors of both means are below 0.001
    assert left_out.mean() < full.mean() - 0.02

    zudania = survey[survey["country_name"] == "Zudania"]
    answers = predict_new_group(idata_without, zudania["antiauth"].to_numpy())
    proper = az.hdi(answers.mean("obs_id").values.ravel(), prob=0.94)

    # the chapter's approximation: the country mean predicted from the full fit's population
    post = fits["Partial pooling"].posterior
    centre = float(fits["Partial pooling"].constant_data["predictor_mean"])
    loc = post["mu_alpha"] + post["beta"] * (zudania["antiauth"].mean() - centre)
    scale = np.sqrt(post["sigma_alpha"] ** 2 + post["sigma_y"] ** 2 / len(zudania))
    rng = np.random.default_rng(2026)
    approximate = az.hdi((loc + scale * rng.standard_normal(loc.shape)).values.ravel(), prob=0.94)

    observed = zudania["china"].mean()
    # interval ends carry Monte Carlo error of about 0.01 (8,000 draws, sd about 0.25)
    assert proper[1] - proper[0] < approximate[1] - approximate[0] - 0.03
    assert proper[1] < approximate[1] - 0.02
    assert observed > approximate[1] + 0.1


def test_varying_slopes_are_within_about_one_standard_error(survey, fits, loo_rows):
    idata_vs = fitting.fit(models.varying_slopes(survey))
    partial = loo_for(fits["Partial pooling"], loo_rows)
    slopes = loo_for(idata_vs, loo_rows)
    diff, se = _paired(slopes, partial)
    # ahead, but by less than two standard errors of the difference (the elpd's Monte Carlo
    # error is a few tenths, far below the margins)
    assert 0 < diff < 2 * se, (diff, se)
    assert float(slopes.p) > float(partial.p)
