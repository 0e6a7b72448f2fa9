"""The claims of chapter 1's exercise solutions hold on the bundled survey."""

from __future__ import annotations

from pooling import data


def test_the_more_anti_authoritarian_half_is_a_little_less_positive():
    survey = data.load_survey()
    high = survey["antiauth"] > survey["antiauth"].median()
    means = survey.groupby(high)["china"].mean()
    difference = means[False] - means[True]
    assert 0.05 < difference < 0.3, "slightly less positive, in line with the falling bin means"


def test_country_trade_correlation_is_clearly_positive_and_rests_on_33_points():
    survey = data.load_survey()
    country_means = survey.groupby("country_name", observed=True)[["china", "log_trade_china"]].mean()
    assert len(country_means) == 33
    assert country_means.corr().iloc[0, 1] > 0.3


def test_labels_carry_the_group_sizes():
    survey_all = data.load_survey(with_new_countries=True)
    labels = data.label_with_n(survey_all["country_name"])
    assert labels.cat.categories[-2:].tolist() == ["Zudan (N = 4)", "Zudania (N = 3,000)"]
