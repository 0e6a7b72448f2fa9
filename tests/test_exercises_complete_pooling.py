"""The claims of chapter 2's exercise solutions hold on freshly computed posteriors.

1. Centred: alpha and beta nearly uncorrelated; uncentred: strongly negative, close to
   -xbar / sqrt(xbar^2 + s_x^2); the uncentred intercept is larger by about |beta| xbar.
2. Rescaling antiauth to 0-1 multiplies beta by four and leaves alpha and sigma_y unchanged.
4. Every draw of beta is negative; the expected difference between antiauth 3 and 1 is about
   a fifth of a point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest

from pooling import data, fitting, models

# In the chapter's xdist group: it runs after the chapter itself, whose fits it then reads
# from the suite's fit cache instead of sampling the same models again (tests/conftest.py).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("chapters/02-complete-pooling.qmd")]


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return data.load_survey()


@pytest.fixture(scope="module")
def idata_complete(survey):
    return fitting.fit(models.complete_pooling(survey))


def _corr(idata) -> float:
    post = idata.posterior
    return float(np.corrcoef(post["alpha"].values.ravel(), post["beta"].values.ravel())[0, 1])


def test_centring_removes_the_intercept_slope_correlation(survey, idata_complete):
    y, x = survey["china"].to_numpy(), survey["antiauth"].to_numpy()
    m_y, s_y, s_x = y.mean(), y.std(ddof=1), x.std(ddof=1)
    with pm.Model(coords={"obs_id": np.arange(len(survey))}) as uncentred_model:
        antiauth = pm.Data("antiauth", x, dims="obs_id")
        alpha = pm.Normal("alpha", mu=m_y, sigma=2.5 * s_y)
        beta = pm.Normal("beta", mu=0, sigma=2.5 * s_y / s_x)
        sigma_y = pm.Exponential("sigma_y", lam=1 / s_y)
        pm.Normal("china", mu=alpha + beta * antiauth, sigma=sigma_y, observed=y, dims="obs_id")
    idata_uncentred = fitting.fit(uncentred_model)
    theory = -x.mean() / np.sqrt(x.mean() ** 2 + x.var())
    assert abs(_corr(idata_complete)) < 0.1
    assert _corr(idata_uncentred) == pytest.approx(theory, abs=0.03)
    beta = float(idata_complete.posterior["beta"].mean())
    shift = float(idata_uncentred.posterior["alpha"].mean() - idata_complete.posterior["alpha"].mean())
    assert shift == pytest.approx(abs(beta) * x.mean(), abs=0.01)


def test_rescaling_the_predictor_rescales_the_slope_only(survey, idata_complete):
    survey_01 = survey.assign(antiauth_01=survey["antiauth"] / 4)
    idata_01 = fitting.fit(models.complete_pooling(survey_01, predictor="antiauth_01"))
    post, post_01 = idata_complete.posterior, idata_01.posterior
    beta_sd = float(post["beta"].std())
    assert float(post_01["beta"].mean()) == pytest.approx(4 * float(post["beta"].mean()), abs=4 * 0.2 * beta_sd)  # a few Monte Carlo errors
    for name in ("alpha", "sigma_y"):
        assert float(post_01[name].mean()) == pytest.approx(float(post[name].mean()), abs=float(post[name].std()))


def test_beta_is_negative_and_the_difference_is_about_a_fifth(idata_complete):
    beta = idata_complete.posterior["beta"]
    assert float((beta < 0).mean()) == 1.0
    assert 0.15 < float((-2 * beta).mean()) < 0.3
