"""The claims of chapter 5's exercise solutions hold on freshly computed posteriors.

1. With the posterior means of sigma_y and sigma_alpha, one respondent gets well under half of
   the weight, four about half, ten most of it, and a hundred practically all.
2. Without Zudania, sigma_alpha is smaller and Zudan's estimate moves closer to the centre.
4. The centred form mixes much better than the non-centred one on these data (and the
   non-centred one may fail the gate).
"""

from __future__ import annotations

import pandas as pd
import pytest

from pooling import data, fitting, models, shrinkage

# In the chapter's xdist group: it runs after the chapter itself, whose fits it then reads
# from the suite's fit cache instead of sampling the same models again (tests/conftest.py).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("chapters/05-partial-pooling.qmd")]


@pytest.fixture(scope="module")
def survey_all() -> pd.DataFrame:
    return data.load_survey(with_new_countries=True)


@pytest.fixture(scope="module")
def idata_pp(survey_all):
    # the chapter fits the full likelihood; the sufficient-statistics one has the same posterior
    return fitting.fit(models.partial_pooling(survey_all, likelihood="sufficient"))


def test_weights_by_country_size(idata_pp):
    post = idata_pp.posterior
    sigma_y, sigma_alpha = float(post["sigma_y"].mean()), float(post["sigma_alpha"].mean())
    weight = dict(zip([1, 4, 10, 100], shrinkage.closed_form_weight([1, 4, 10, 100], sigma_y, sigma_alpha),
                      strict=True))
    assert weight[1] < 0.4, "one respondent: well under half"
    assert 0.35 < weight[4] < 0.65, "four respondents: about half"
    assert weight[10] > 0.6, "ten respondents: most of the weight"
    assert weight[100] > 0.95, "a hundred: practically all"


def test_without_zudania_sigma_alpha_shrinks_and_zudan_moves_to_the_centre(survey_all, idata_pp):
    without = survey_all[survey_all["country_name"] != "Zudania"].copy()
    without["country_name"] = without["country_name"].cat.remove_unused_categories()
    idata_wz = fitting.fit(models.partial_pooling(without, likelihood="sufficient"))

    def distance_to_centre(idata):
        post = idata.posterior
        return float(abs(post["alpha"].sel(country="Zudan") - post["mu_alpha"]).mean())

    sigma_sd = float(idata_pp.posterior["sigma_alpha"].std())
    assert float(idata_wz.posterior["sigma_alpha"].mean()) < float(idata_pp.posterior["sigma_alpha"].mean()) - 0.1 * sigma_sd
    assert distance_to_centre(idata_wz) < distance_to_centre(idata_pp)


def test_centred_form_mixes_much_better(survey_all, idata_pp):
    idata_nc = fitting.fit(models.partial_pooling(survey_all, parameterization="noncentered", likelihood="sufficient"),
                           check=False)
    names = ["alpha", "mu_alpha", "sigma_alpha"]
    centred, noncentred = fitting.gate_summary(idata_pp, names), fitting.gate_summary(idata_nc, names)
    assert centred["min_ess_bulk"] > 5 * noncentred["min_ess_bulk"]
    assert centred["max_r_hat"] <= 1.01 and centred["divergences"] == 0
