"""The claims of chapter 8's section on contextual effects hold, and their helper works.

The chapter adds each country's mean ``antiauth`` as a country-level predictor next to the
respondent's own ``antiauth`` (:func:`pooling.contextual.add_group_mean` and
:func:`pooling.models.group_level_predictor`), so ``beta`` is the within-country slope,
``gamma_1`` the contextual effect and ``beta + gamma_1`` the between-country slope. It says:

* in the simulation the true contextual effect is zero (the country means of ``antiauth`` are
  drawn independently of the intercepts) and the country means spread by about 0.2 points;
* on the 33 simulated countries, ``beta`` is negative, precise and close to -0.10; ``gamma_1``
  and ``beta + gamma_1`` are dozens of times less precise, their 94% intervals hold the true
  values and zero, and the two slopes nearly coincide;
* with Zudan and Zudania the between-country slope turns positive, less steep than a line
  through the raw country means, and ``gamma_1`` moves up by about one posterior sd; Zudan's
  mean ``antiauth`` (four respondents) has a standard error more than twice the spread of
  the other countries' means, while Zudania sits near the average;
* both fits pass the convergence gate with a wide margin.

Tolerances come from the posterior standard deviations, not from one run's numbers.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from pooling import data, fitting, models, simulate
from pooling.contextual import add_group_mean

# In the chapter's xdist group: it runs after the chapter itself, whose fits it then reads
# from the suite's fit cache instead of sampling the same models again (tests/conftest.py).
pytestmark = pytest.mark.xdist_group("chapters/08-group-predictor.qmd")

COLUMN = "antiauth_country_mean"
NEW = ["Zudan", "Zudania"]


# --------------------------------------------------------------------------------------
# add_group_mean
# --------------------------------------------------------------------------------------
def _small() -> pd.DataFrame:
    return pd.DataFrame({
        "country_name": pd.Categorical(["B", "A", "B", "A", "B"], categories=["B", "A"]),
        "antiauth": [1.0, 2.0, 3.0, 4.0, 5.0],
        "china": [3.0, 3.5, 4.0, 2.0, 1.5],
    }, index=[10, 11, 12, 13, 14])


def test_add_group_mean_puts_each_groups_mean_on_its_rows():
    frame = _small()
    out = add_group_mean(frame, "antiauth")
    assert list(out.columns) == [*frame.columns, "antiauth_group_mean"]
    assert out.index.equals(frame.index)
    assert out["antiauth_group_mean"].tolist() == [3.0, 3.0, 3.0, 3.0, 3.0]
    other = add_group_mean(frame.assign(antiauth=[1.0, 2.0, 3.0, 6.0, 8.0]), "antiauth", name="m")
    assert other["m"].tolist() == [4.0, 4.0, 4.0, 4.0, 4.0]
    uneven = add_group_mean(frame.assign(antiauth=[1.0, 2.0, 2.0, 8.0, 6.0]), "antiauth", name="m")
    assert uneven["m"].tolist() == [3.0, 5.0, 3.0, 5.0, 3.0]
    assert "m" not in frame.columns  # the input is left alone


def test_add_group_mean_matches_pandas_on_the_survey_and_is_constant_within_countries():
    survey = data.load_survey(with_new_countries=True)
    out = add_group_mean(survey, "antiauth", name=COLUMN)
    expected = survey.groupby("country_name", observed=True)["antiauth"].transform("mean")
    np.testing.assert_allclose(out[COLUMN], expected, rtol=0, atol=1e-12)
    assert (out.groupby("country_name", observed=True)[COLUMN].nunique() == 1).all()
    # so the builder accepts it as a country-level predictor
    model = models.group_level_predictor(out, group_predictor=COLUMN)
    assert model[COLUMN].get_value().shape == (35,)


@pytest.mark.parametrize(
    ("kwargs", "frame_change", "error", "message"),
    [
        ({"column": "nope"}, None, ValueError, "'nope' not found"),
        ({"column": "antiauth", "group": "country_name", "name": "china"}, None, ValueError, "'china' already exists"),
        ({"column": "country_name", "group": "country_name"}, None, ValueError, "same column"),
        ({"column": "antiauth"}, lambda f: f.assign(antiauth=[1.0, np.nan, 3.0, 4.0, 5.0]), ValueError, "1 missing"),
        ({"column": "antiauth"}, lambda f: f.assign(antiauth=list("abcde")), TypeError, "must be numeric"),
        ({"column": "antiauth"}, lambda f: f.assign(country_name=["B", None, "B", "A", "B"]), ValueError,
         "1 missing value"),
        ({"column": "antiauth"}, lambda f: f.iloc[:0], ValueError, "no rows"),
    ],
)
def test_add_group_mean_names_bad_input(kwargs, frame_change, error, message):
    frame = _small() if frame_change is None else frame_change(_small())
    with pytest.raises(error, match=message):
        add_group_mean(frame, **kwargs)


def test_add_group_mean_refuses_what_is_not_a_dataframe():
    with pytest.raises(TypeError, match="pandas DataFrame"):
        add_group_mean(_small().to_dict(), "antiauth")


# --------------------------------------------------------------------------------------
# what the simulation implies, and the data facts the section states
# --------------------------------------------------------------------------------------
def test_simulated_intercepts_do_not_depend_on_the_country_means_of_antiauth():
    """The true contextual effect is zero: spreading the country means of antiauth three
    times wider changes every respondent's antiauth and china but no country's intercept."""
    default = simulate.simulate()
    wider = simulate.simulate(params=replace(simulate.TRUE_PARAMETERS, antiauth_country_sd=0.6))
    pd.testing.assert_series_equal(default["truth"]["alpha"], wider["truth"]["alpha"])
    assert not np.allclose(default["survey"]["antiauth"], wider["survey"]["antiauth"])
    spread = lambda s: s.groupby("country_name")["antiauth"].mean().std()  # noqa: E731
    assert spread(wider["survey"]) > 2 * spread(default["survey"])


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return data.load_survey(with_new_countries=True)


@pytest.fixture(scope="module")
def country_means(survey) -> pd.DataFrame:
    return survey.groupby("country_name", observed=True).agg(
        x=("antiauth", "mean"), y=("china", "mean"), n=("china", "size"))


def test_country_means_of_antiauth_spread_by_about_two_tenths(country_means):
    assert 0.15 < country_means["x"].drop(NEW).std() < 0.25


def test_zudans_mean_antiauth_is_mostly_noise_and_zudania_sits_near_the_average(survey, country_means):
    zudan = survey.loc[survey["country_name"] == "Zudan", "antiauth"]
    standard_error = zudan.std() / np.sqrt(len(zudan))
    spread = country_means["x"].drop(NEW).std()
    assert len(zudan) == 4
    assert standard_error > 2 * spread
    assert country_means.loc["Zudan", "x"] < country_means["x"].drop(NEW).min()  # far to the left
    assert country_means.loc["Zudan", "y"] < country_means["y"].drop(NEW).min()  # and far below
    assert abs(country_means.loc["Zudania", "x"] - country_means["x"].mean()) < 0.25 * spread


def _raw_slope(means: pd.DataFrame) -> float:
    return float(np.polyfit(means["x"], means["y"], 1)[0])


def test_a_line_through_the_35_raw_country_means_rises(country_means):
    assert _raw_slope(country_means) > 0


# --------------------------------------------------------------------------------------
# the fitted models
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fits(survey):
    simulated = add_group_mean(data.load_survey(), "antiauth", name=COLUMN)
    with_new = add_group_mean(survey, "antiauth", name=COLUMN)
    return {
        33: fitting.fit(models.group_level_predictor(simulated, group_predictor=COLUMN)),
        35: fitting.fit(models.group_level_predictor(with_new, group_predictor=COLUMN)),
    }


def _draws(idata) -> dict[str, np.ndarray]:
    """Draws (chain-major, 4 chains) of the within, contextual and between slopes."""
    post = idata.posterior
    return {
        "within": post["beta"].values.ravel(),
        "contextual": post["gamma_1"].values.ravel(),
        "between": (post["beta"] + post["gamma_1"]).values.ravel(),
    }


def _hdi(draws: np.ndarray) -> tuple[float, float]:
    """94% HDI of one quantity's draws, computed as the chapter's table computes it."""
    posterior = xr.Dataset({"v": (("chain", "draw"), draws.reshape(4, -1))})
    summary = fitting.summarize(xr.DataTree.from_dict({"posterior": posterior}))
    return float(summary["hdi_3%"].iloc[0]), float(summary["hdi_97%"].iloc[0])


@pytest.mark.slow
def test_both_fits_pass_the_gate_with_a_wide_margin(fits):
    for idata in fits.values():
        gate = fitting.gate_summary(idata)
        assert gate["divergences"] == 0
        assert gate["max_r_hat"] <= 1.008
        assert min(gate["min_ess_bulk"], gate["min_ess_tail"]) >= 1000


@pytest.mark.slow
def test_within_slope_is_negative_precise_and_close_to_the_truth(fits):
    within = _draws(fits[33])["within"]
    low, high = _hdi(within)
    assert high < 0
    assert within.std() < 0.01
    assert abs(within.mean() - simulate.TRUE_PARAMETERS.beta) < 5 * within.std()


@pytest.mark.slow
def test_contextual_and_between_slopes_are_dozens_of_times_less_precise(fits):
    draws = _draws(fits[33])
    assert draws["contextual"].std() > 24 * draws["within"].std()
    assert draws["between"].std() > 24 * draws["within"].std()


@pytest.mark.slow
def test_intervals_hold_the_true_values_and_zero(fits):
    draws = _draws(fits[33])
    truth = {"contextual": 0.0, "between": simulate.TRUE_PARAMETERS.beta}
    for name, true_value in truth.items():
        low, high = _hdi(draws[name])
        assert low < true_value < high, name
        assert low < 0 < high, name


@pytest.mark.slow
def test_on_the_simulated_countries_the_two_slopes_nearly_coincide(fits):
    contextual = _draws(fits[33])["contextual"]
    assert abs(contextual.mean()) < 0.5 * contextual.std()


@pytest.mark.slow
def test_with_zudan_and_zudania_the_between_slope_rises_less_than_the_raw_means(fits, country_means):
    draws = _draws(fits[35])
    assert draws["within"].mean() < 0 < draws["between"].mean()
    assert draws["between"].mean() < _raw_slope(country_means)


@pytest.mark.slow
def test_adding_zudan_and_zudania_moves_gamma_1_up_by_about_one_posterior_sd(fits):
    before, after = _draws(fits[33])["contextual"], _draws(fits[35])["contextual"]
    shift = (after.mean() - before.mean()) / np.mean([before.std(), after.std()])
    assert 0.6 < shift < 1.5
