"""The claims of chapter 9's exercise solutions hold on the three-level posteriors.

1. With log trade as a country-level predictor, gamma_1 is close to its simulated value 0.10,
   sigma_alpha drops, sigma_party and sigma_y hardly change, and the country share of the
   variance falls while the party and respondent shares rise.
2. The intra-class correlations: the same-party correlation exceeds the same-country
   correlation by the party share, a percent or two.
3. A non-centred party level passes the gate too, but samples sigma_party with a clearly lower
   bulk ESS than the centred form, and the worst party effect no better.
4. An ambiguous party label (the same "Party 1" in every country) is refused with a
   ValueError; country and party together rebuild the nested label.

Tolerances come from posterior standard deviations and Monte Carlo errors, not from one run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pooling import data, fitting, models, simulate

# In the chapter's xdist group: it runs after the chapter itself, whose fits it then reads
# from the suite's fit cache instead of sampling the same models again (tests/conftest.py).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("chapters/09-three-levels.qmd")]

LEVELS = ["sigma_alpha", "sigma_party", "sigma_y"]


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return data.load_survey(with_new_countries=True)


@pytest.fixture(scope="module")
def three(survey):
    return fitting.fit(models.three_level(survey))


@pytest.fixture(scope="module")
def trade(survey):
    return fitting.fit(models.three_level(survey, group_predictor="log_trade_china", likelihood="sufficient"))


def _shares(idata) -> dict[str, np.ndarray]:
    """Each level's share of the variance, draw by draw (flattened draws)."""
    parts = {name: idata.posterior[name].values.ravel() ** 2 for name in LEVELS}
    total = sum(parts.values())
    return {name: v / total for name, v in parts.items()}


def _mean_and_sd(idata, name) -> tuple[float, float]:
    draws = idata.posterior[name].values.ravel()
    return float(draws.mean()), float(draws.std())


def test_trade_explains_country_level_variance_only(three, trade):
    gamma_1, sd = _mean_and_sd(trade, "gamma_1")
    assert abs(gamma_1 - simulate.TRUE_PARAMETERS.gamma_1) < 2.5 * sd

    # sigma_alpha drops by a real amount (Monte Carlo error of each mean is below 0.001)
    assert _mean_and_sd(trade, "sigma_alpha")[0] < 0.8 * _mean_and_sd(three, "sigma_alpha")[0]
    # sigma_party and sigma_y hardly change: by a small fraction of a posterior sd
    for name in ("sigma_party", "sigma_y"):
        (with_trade, sd_trade), (without, sd_without) = _mean_and_sd(trade, name), _mean_and_sd(three, name)
        assert abs(with_trade - without) < 0.25 * max(sd_trade, sd_without), name

    shares_without, shares_with = _shares(three), _shares(trade)
    for name in LEVELS:
        # Monte Carlo error of a posterior mean share: sd / sqrt(ESS), ESS in the thousands
        mc = np.hypot(shares_without[name].std(), shares_with[name].std()) / np.sqrt(1000)
        change = shares_with[name].mean() - shares_without[name].mean()
        if name == "sigma_alpha":
            assert change < -5 * mc, name
        else:
            assert change > 5 * mc, name


def test_same_party_correlation_exceeds_same_country_by_the_party_share(three):
    shares = _shares(three)
    same_country = shares["sigma_alpha"]
    same_party = shares["sigma_alpha"] + shares["sigma_party"]
    difference = float(same_party.mean() - same_country.mean())
    assert 0.005 < difference < 0.025  # "a percent or two"
    assert difference == pytest.approx(float(shares["sigma_party"].mean()))
    assert 0.1 < same_country.mean() < same_party.mean() < 0.35


def test_centred_party_level_samples_better_than_non_centred(survey, three):
    # fit() with the gate: the non-centred version passes it as well
    noncentred = fitting.fit(models.three_level(survey, parameterization=("centered", "noncentered"),
                                                likelihood="sufficient"))
    names = ["sigma_party", "party_effect"]
    centred_table = fitting.convergence_table(three, var_names=names)
    noncentred_table = fitting.convergence_table(noncentred, var_names=names)
    # bulk ESS estimates have a relative error of a few percent at these sizes; the centred
    # form's advantage for sigma_party ("clearly lower" without it) is required to exceed 10%,
    # and for the worst party effect ("no better") the non-centred form may not win by 10%
    # (seed 5650: 3,908 against 2,469 for sigma_party, 2,262 against 2,156 for the worst)
    assert centred_table.loc["sigma_party", "ess_bulk"] > 1.1 * noncentred_table.loc["sigma_party", "ess_bulk"]
    assert noncentred_table["ess_bulk"].min() < 1.1 * centred_table["ess_bulk"].min()


def test_ambiguous_party_labels_are_refused(survey):
    frame = survey.copy()
    frame["party_local"] = frame["party"].astype(str).str.split(": ").str[1]
    frame["party_nested"] = frame["country_name"].astype(str) + ": " + frame["party_local"]
    assert (frame["party_nested"] == frame["party"].astype(str)).all()
    with pytest.raises(ValueError, match="must belong to exactly one"):
        models.three_level(frame, subgroup="party_local")
