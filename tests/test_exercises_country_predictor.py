"""The claims of chapter 3's exercise solutions hold on the data and the fitted posteriors.

Chapter 3 (``chapters/03-country-predictor.qmd``) says in its solutions: on the raw scale of
trade South Africa alone carries most of the weight of the slope and Nigeria comes next,
while on the log scale the weight is spread over many countries; the posterior mean of the
raw-scale slope is the least-squares slope those weights describe; a doubling of trade
goes with a difference of a few hundredths of a point; and adjusting for ``antiauth`` hardly
changes the intra-class correlation or the design effect (unlike adjusting for trade),
because the country means of ``antiauth`` vary little.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pooling import data, fitting, models

# In the chapter's xdist group: it runs after the chapter itself, whose fits it then reads
# from the suite's fit cache instead of sampling the same models again (tests/conftest.py).
pytestmark = pytest.mark.xdist_group("chapters/03-country-predictor.qmd")


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    survey = data.load_survey()
    return survey.assign(trade_billions=survey["trade_china"] / 1000)


def weight_shares(survey: pd.DataFrame, column: str) -> pd.Series:
    """Each country's share of the sum of squared deviations of ``column`` over the rows."""
    squared = (survey[column] - survey[column].mean()) ** 2
    shares = squared.groupby(survey["country_name"], observed=True).sum()
    shares.index = shares.index.astype(str)
    return (shares / shares.sum()).sort_values(ascending=False)


def intra_class_correlation(survey: pd.DataFrame, values: np.ndarray) -> float:
    """As the chapter defines it: between-country variance over between plus within."""
    by_country = pd.Series(values).groupby(survey["country_name"].to_numpy())
    between = by_country.mean().var()
    within = by_country.var().mean()
    return between / (between + within)


def residuals(survey: pd.DataFrame, idata, predictor: str) -> np.ndarray:
    x = survey[predictor].to_numpy()
    alpha = float(idata.posterior["alpha"].mean())
    beta = float(idata.posterior["beta"].mean())
    return survey["china"].to_numpy() - (alpha + beta * (x - x.mean()))


def test_exercise1_south_africa_carries_the_raw_slope(survey):
    raw = weight_shares(survey, "trade_billions")
    assert list(raw.index[:2]) == ["South Africa", "Nigeria"]
    assert raw.iloc[0] > 0.5  # "alone carries" most of the weight
    assert raw.iloc[1] > 2 * raw.iloc[2]  # Nigeria is a clear second


def test_exercise1_log_scale_spreads_the_weight(survey):
    log = weight_shares(survey, "log_trade_china")
    assert log.max() < 0.3
    countries_for_80_percent = int((log.cumsum() < 0.8).sum()) + 1
    raw = weight_shares(survey, "trade_billions")
    assert countries_for_80_percent >= 8
    assert int((raw.cumsum() < 0.8).sum()) + 1 <= 2


@pytest.mark.slow
def test_exercise1_raw_slope_is_the_weighted_least_squares_slope(survey):
    idata = fitting.fit(models.complete_pooling(survey, predictor="trade_billions"))
    x = survey["trade_billions"].to_numpy()
    y = survey["china"].to_numpy()
    ols = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
    # the weighted average of the countries' slopes to the centre is the same number
    by = survey.groupby("country_name", observed=True).agg(n=("china", "size"), x=("trade_billions", "first"),
                                                           y=("china", "mean"))
    weights = by["n"] * (by["x"] - x.mean()) ** 2
    weighted = np.sum(weights * (by["y"] - y.mean()) / (by["x"] - x.mean())) / weights.sum()
    assert weighted == pytest.approx(ols, rel=1e-9)
    summary = fitting.summarize(idata, var_names=["beta"]).iloc[0]
    assert summary["mean"] == pytest.approx(ols, abs=4 * summary["sd"] / np.sqrt(summary["ess_bulk"]) + 1e-4)


@pytest.mark.slow
def test_exercise2_a_doubling_of_trade_is_a_few_hundredths(survey):
    idata = fitting.fit(models.complete_pooling(survey, predictor="log_trade_china"))
    doubling = np.log(2) * idata.posterior["beta"]
    assert 0.02 < float(doubling.mean()) < 0.1
    assert float(doubling.std()) < 0.01  # the (too) narrow interval the solution warns about


@pytest.mark.slow
def test_exercise3_adjusting_for_antiauth_hardly_changes_the_design_effect(survey):
    m = len(survey) / survey["country_name"].nunique()
    icc_china = intra_class_correlation(survey, survey["china"].to_numpy())
    idata_aa = fitting.fit(models.complete_pooling(survey))
    icc_aa = intra_class_correlation(survey, residuals(survey, idata_aa, "antiauth"))
    assert abs(icc_aa - icc_china) < 0.015
    assert 0.85 < (1 + (m - 1) * icc_aa) / (1 + (m - 1) * icc_china) < 1.15
    # trade, a country-level predictor, does lower it
    idata_trade = fitting.fit(models.complete_pooling(survey, predictor="log_trade_china"))
    icc_trade = intra_class_correlation(survey, residuals(survey, idata_trade, "log_trade_china"))
    assert icc_trade < icc_aa - 0.03
    # the reason given: the country means of antiauth vary little on the 0-4 index
    sd_country_antiauth = survey.groupby("country_name", observed=True)["antiauth"].mean().std()
    assert sd_country_antiauth < 0.3
    assert sd_country_antiauth < 0.5 * survey["antiauth"].std()
