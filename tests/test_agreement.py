"""The Bayesian varying-intercept model agrees with the classical REML fit.

``partial_pooling`` and statsmodels' ``MixedLM`` (random intercept, fixed
slope, REML) are the same model apart from the priors, and the priors here
are weak relative to the data (33,000+ respondents in 35 countries; 919
homes in 85 counties). So posterior means should sit close to the REML
estimates, and the differences that remain have known causes:

* Fixed effects and the residual sd: within 0.25 posterior sd. Given the
  variance components, the posterior mean of the fixed effects under flat
  priors is the GLS estimate REML also reports; what separates them is the
  averaging over the uncertain sigma_alpha (REML plugs in one value) and
  Monte Carlo error (about sd / sqrt(ESS), 0.02-0.03 posterior sd). A bug
  such as a different centring of the predictor would move ``mu_alpha`` by
  ``beta * mean(x)``, many posterior sds.
* The between-group sd: within 15% of the REML value and within half a
  posterior sd. REML is a point estimate close to the posterior mode; the
  posterior of a scale estimated from 35 or 85 groups is right-skewed (its
  relative sd is about 1/sqrt(2 * (J - 1)), 12% for 35 groups, and many
  radon counties carry almost no information), so its mean lies above the
  mode, by a few percent here.
* Group intercepts: within 0.25 posterior sd each. A BLUP is the posterior
  mean of the group's intercept with sigma_alpha fixed at its REML value;
  the posterior averages over sigma_alpha instead, which matters most for
  groups with little data (Zudan with 4 respondents, radon counties with
  1-5 homes), whose weight on their own mean depends most on sigma_alpha.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pooling import data, fitting, models
from pooling.mixedlm import compare_with_bayes, fit_mixedlm

pytestmark = pytest.mark.slow

SCALAR_TOLERANCE_SD = 0.25  # fixed effects and sigma_y, in posterior sds
GROUP_SD_RELATIVE = 0.15
GROUP_SD_TOLERANCE_SD = 0.5
INTERCEPT_TOLERANCE_SD = 0.25

CASES = {
    # the assignment's Part 3.4 data: 33 countries plus Zudan and Zudania
    "survey": dict(outcome="china", predictor="antiauth", group="country_name", group_dim="country"),
    "radon": dict(outcome="log_radon", predictor="floor", group="county", group_dim="county"),
}


def _load(name: str) -> pd.DataFrame:
    return data.load_survey(with_new_countries=True) if name == "survey" else data.load_radon()


@pytest.fixture(scope="module", params=list(CASES))
def comparison(request):
    name = request.param
    cols = CASES[name]
    df = _load(name)
    # Default parameterisation (centred for the survey, non-centred for radon);
    # the sufficient-statistics likelihood has the same posterior as the full one.
    idata = fitting.fit(models.partial_pooling(df, likelihood="sufficient", **cols))
    reml = fit_mixedlm(df, outcome=cols["outcome"], predictor=cols["predictor"], group=cols["group"])
    table = compare_with_bayes(reml, idata, group_dim=cols["group_dim"])
    with pd.option_context("display.width", 160, "display.max_columns", 10):
        print(f"\n{name}:\n{table.head(4).round(4)}")
    return name, reml, table


def test_reml_fit_converged(comparison):
    _, reml, _ = comparison
    assert reml.converged
    assert reml.group_sd > 0


@pytest.mark.parametrize("parameter", ["mu_alpha", "beta", "sigma_y"])
def test_fixed_effects_and_residual_sd_agree(comparison, parameter):
    name, _, table = comparison
    row = table.loc[parameter]
    assert abs(row["difference_in_sd"]) <= SCALAR_TOLERANCE_SD, (name, row.to_dict())


def test_group_sd_agrees(comparison):
    name, _, table = comparison
    row = table.loc["sigma_alpha"]
    relative = row["difference"] / row["reml"]
    print(f"{name}: sigma_alpha REML {row['reml']:.4f}, posterior mean {row['posterior_mean']:.4f} ({relative:+.1%})")
    assert abs(relative) <= GROUP_SD_RELATIVE, (name, row.to_dict())
    assert abs(row["difference_in_sd"]) <= GROUP_SD_TOLERANCE_SD, (name, row.to_dict())


def test_group_intercepts_agree(comparison):
    name, reml, table = comparison
    groups = table[table.index.str.startswith("alpha[")].copy()
    assert len(groups) == reml.n_groups
    groups["n"] = reml.group_sizes.to_numpy()
    worst = groups["difference_in_sd"].abs().idxmax()
    print(
        f"{name}: max |posterior mean - REML| = {groups['difference'].abs().max():.4f} "
        f"({groups['difference_in_sd'].abs().max():.3f} posterior sd, {worst})"
    )
    # How the difference depends on group size (reported, not asserted: for the
    # smallest groups it is of the order of the Monte Carlo error of their
    # posterior means, sd / sqrt(ESS) ~ 0.27 / sqrt(2000) ~ 0.006).
    bins = pd.cut(groups["n"], [0, 2, 5, 10, 30, 100, np.inf])
    print(groups.groupby(bins, observed=True)[["difference", "posterior_sd"]].agg(lambda v: np.abs(v).max()))
    assert groups["difference_in_sd"].abs().max() <= INTERCEPT_TOLERANCE_SD, groups.loc[worst].to_dict()


def test_radon_uranium_model_agrees():
    """The group-level-predictor model against MixedLM with the same county predictor.

    Tolerances as above; ``gamma_1`` (log uranium) is a fixed effect.
    """
    cols = CASES["radon"]
    df = data.load_radon()
    idata = fitting.fit(models.group_level_predictor(df, group_predictor="log_uranium", **cols))
    reml = fit_mixedlm(
        df, outcome="log_radon", predictor="floor", group="county", group_predictor="log_uranium"
    )
    table = compare_with_bayes(reml, idata, group_dim="county")
    print(table.head(5).round(4))
    for parameter in ["gamma_0", "beta", "gamma_1", "sigma_y"]:
        assert abs(table.loc[parameter, "difference_in_sd"]) <= SCALAR_TOLERANCE_SD, parameter
    # With uranium in the model the county sd left over is small (about 0.15)
    # and its posterior is more skewed, so only the half-sd criterion is applied.
    assert abs(table.loc["sigma_alpha", "difference_in_sd"]) <= GROUP_SD_TOLERANCE_SD
    groups = table[table.index.str.startswith("alpha[")]
    assert groups["difference_in_sd"].abs().max() <= INTERCEPT_TOLERANCE_SD
