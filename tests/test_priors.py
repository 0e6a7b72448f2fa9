"""pooling.priors and pooling.plots.priors: prior predictive summaries, prior sensitivity tables
and their figures, on small synthetic inputs; and the sigma_alpha_scale option of the builder."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr

from pooling import models, plots, priors
from pooling.spec import model_spec


@pytest.fixture(scope="module")
def tiny_survey() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    countries = np.repeat(["A", "B", "C", "D"], [5, 20, 40, 80])
    x = rng.uniform(0, 4, len(countries))
    effect = pd.Series({"A": -0.4, "B": 0.0, "C": 0.2, "D": 0.3})[countries].to_numpy()
    y = 3.2 + effect - 0.1 * (x - 2) + rng.normal(0, 0.5, len(countries))
    return pd.DataFrame({"country_name": pd.Categorical(countries), "antiauth": x, "china": y})


@pytest.fixture(scope="module")
def complete_prior(tiny_survey):
    return pm.sample_prior_predictive(draws=300, model=models.complete_pooling(tiny_survey), random_seed=1)


@pytest.fixture(scope="module")
def partial_prior(tiny_survey):
    return pm.sample_prior_predictive(draws=300, model=models.partial_pooling(tiny_survey), random_seed=1)


def _posterior(alpha: dict[str, np.ndarray], sigma: np.ndarray) -> xr.Dataset:
    """A posterior Dataset with alpha (chain, draw, country) and sigma_alpha (chain, draw)."""
    names = list(alpha)
    values = np.stack([alpha[n] for n in names], axis=-1).reshape(2, -1, len(names))
    return xr.Dataset({
        "alpha": (("chain", "draw", "country"), values),
        "sigma_alpha": (("chain", "draw"), sigma.reshape(2, -1)),
    }, coords={"country": names})


# --- prior predictive summaries --------------------------------------------------------------

def test_prior_lines_are_the_prior_draws_lines(complete_prior, tiny_survey):
    grid = np.array([0.0, 2.0, 4.0])
    lines = priors.prior_lines(complete_prior, grid)
    a = priors.prior_draws(complete_prior, "alpha")
    b = priors.prior_draws(complete_prior, "beta")
    center = tiny_survey["antiauth"].mean()
    assert lines.shape == (300, 3)
    np.testing.assert_allclose(lines, a[:, None] + b[:, None] * (grid - center))


def test_prior_predictive_summary_counts_answers_off_the_scale(complete_prior):
    summary = priors.prior_predictive_summary(complete_prior, grid=np.linspace(0, 4, 5))
    answers = priors.prior_draws(complete_prior, "china").ravel()
    assert summary["answers below scale"] == pytest.approx(np.mean(answers < 1))
    assert summary["answers above scale"] == pytest.approx(np.mean(answers > 5))
    assert summary["answers 3%"] < summary["answers 97%"]
    # a line outside the scale at the centre is outside somewhere on a grid that spans the centre
    assert summary["lines leaving scale"] >= summary["intercepts outside scale"]
    narrow = priors.prior_predictive_summary(complete_prior, scale=(-100, 100))
    assert narrow["answers below scale"] == narrow["answers above scale"] == 0


def test_group_spread_summary_compares_the_prior_with_the_data(partial_prior):
    means = pd.Series([3.0, 3.2, 3.4, 3.6])
    summary = priors.group_spread_summary(partial_prior, means)
    sd = priors.prior_draws(partial_prior, "sigma_alpha")
    assert summary["observed sd of group means"] == pytest.approx(means.std())
    assert summary["prior P(sigma_alpha below observed)"] == pytest.approx(np.mean(sd < means.std()))
    assert summary["prior 3% of sigma_alpha"] < summary["prior median of sigma_alpha"] < summary["prior 97% of sigma_alpha"]


@pytest.mark.parametrize("call, message", [
    (lambda p: priors.prior_draws(p, "gamma"), "no variable 'gamma'"),
    (lambda p: priors.prior_predictive_summary(p, scale=(5, 1)), "lowest < highest"),
    (lambda p: priors.prior_lines(p, []), "non-empty 1-d array"),
    (lambda p: priors.prior_lines(p, [0, np.nan]), "finite"),
])
def test_bad_prior_inputs_are_named(complete_prior, call, message):
    with pytest.raises(ValueError, match=message):
        call(complete_prior)


def test_group_spread_summary_needs_two_groups(partial_prior):
    with pytest.raises(ValueError, match="at least two finite group means"):
        priors.group_spread_summary(partial_prior, [3.0])


def test_prior_lines_refuse_group_indexed_intercepts(partial_prior):
    with pytest.raises(ValueError, match="must be scalar parameters"):
        priors.prior_lines(partial_prior, [0, 4], intercept="alpha", slope="beta")
    # the population line is fine
    assert priors.prior_lines(partial_prior, [0, 4], intercept="mu_alpha").shape == (300, 2)


# --- prior sensitivity tables ------------------------------------------------------------------

def test_prior_scale_table_weights_are_the_share_of_the_distance_kept():
    rng = np.random.default_rng(0)
    fits = {
        0.1: _posterior({"Small": 3.0 + rng.normal(0, 0.01, 200), "Big": 3.9 + rng.normal(0, 0.01, 200)},
                        rng.uniform(0.1, 0.2, 200)),
        1.0: _posterior({"Small": 2.5 + rng.normal(0, 0.01, 200), "Big": 4.0 + rng.normal(0, 0.01, 200)},
                        rng.uniform(0.2, 0.3, 200)),
    }
    table = priors.prior_scale_table({1.0: fits[1.0], 0.1: fits[0.1]}, ["Small", "Big"],
                                     no_pooling={"Small": 2.0, "Big": 4.0}, complete_pooling=3.0)
    assert list(table["prior_scale"]) == [0.1, 0.1, 1.0, 1.0]  # sorted by scale
    row = table.set_index(["prior_scale", "group"])
    assert row.loc[(1.0, "Small"), "weight"] == pytest.approx(0.5, abs=0.01)
    assert row.loc[(0.1, "Small"), "weight"] == pytest.approx(0.0, abs=0.01)
    assert row.loc[(1.0, "Big"), "weight"] == pytest.approx(1.0, abs=0.02)
    assert (table["hdi_low"] <= table["mean"]).all() and (table["mean"] <= table["hdi_high"]).all()

    sigma = priors.sigma_table(fits)
    assert list(sigma.index) == [0.1, 1.0]
    assert sigma.loc[0.1, "mean"] == pytest.approx(0.15, abs=0.01)
    assert sigma.loc[1.0, "mean"] == pytest.approx(0.25, abs=0.01)


@pytest.mark.parametrize("fits, groups, message", [
    ({}, ["Small"], "non-empty dict"),
    ({0: None}, ["Small"], "prior scale > 0"),
    ({"wide": None}, ["Small"], "prior scale > 0"),
    ({1.0: None}, ["Other"], "missing for \\['Other'\\]"),
])
def test_prior_scale_table_names_bad_input(fits, groups, message):
    with pytest.raises(ValueError, match=message):
        priors.prior_scale_table(fits, groups, no_pooling={"Small": 2.0}, complete_pooling=3.0)


def test_prior_scale_table_names_a_fit_without_the_group():
    fit = _posterior({"Small": np.full(200, 3.0)}, np.full(200, 0.2))
    with pytest.raises(ValueError, match="prior scale 0.5 has no country \\['Big'\\]"):
        priors.prior_scale_table({0.5: fit}, ["Big"], no_pooling={"Big": 4.0}, complete_pooling=3.0)


# --- the builder option ------------------------------------------------------------------------

def test_sigma_alpha_scale_sets_the_half_normal_prior(tiny_survey):
    default = models.partial_pooling(tiny_survey)
    strict = models.partial_pooling(tiny_survey, sigma_alpha_scale=0.01)

    def scale_of(model):
        dist = model["sigma_alpha"].owner
        return float(dist.inputs[-1].eval())

    assert scale_of(default) == pytest.approx(tiny_survey["china"].std())
    assert scale_of(strict) == pytest.approx(0.01)
    assert model_spec(strict).group_sd_scale == pytest.approx(0.01)
    assert model_spec(default).group_sd_scale is None
    strict_draws = pm.draw(strict["sigma_alpha"], draws=2000, random_seed=1)
    assert np.quantile(strict_draws, 0.99) < 0.05


@pytest.mark.parametrize("value, error, message", [
    (0, ValueError, "greater than 0"),
    (-0.5, ValueError, "greater than 0"),
    (float("nan"), ValueError, "finite"),
    (float("inf"), ValueError, "finite"),
    ("0.3", TypeError, "must be a number"),
    (True, TypeError, "must be a number"),
])
def test_bad_sigma_alpha_scale_is_named(tiny_survey, value, error, message):
    with pytest.raises(error, match=f"sigma_alpha_scale.*{message}|{message}.*sigma_alpha_scale"):
        models.partial_pooling(tiny_survey, sigma_alpha_scale=value)


# --- figures -----------------------------------------------------------------------------------

def test_prior_predictive_plot_draws_lines_and_answers(complete_prior, tiny_survey):
    grid = np.linspace(0, 4, 20)
    lines = priors.prior_lines(complete_prior, grid)
    fig, (ax_lines, ax_answers) = plots.prior_predictive_plot(
        lines, grid, priors.prior_draws(complete_prior, "china"), tiny_survey["china"], n_lines=40)
    assert len(ax_lines.get_lines()) == 40
    assert "antiauth" in ax_lines.get_xlabel() and "china" in ax_lines.get_ylabel()
    assert ax_answers.get_ylabel() == "Density"
    low, high = ax_lines.get_ylim()
    assert low < 1 and high > 5  # the whole scale is visible
    matplotlib.pyplot.close(fig)


def test_prior_predictive_plot_refuses_mismatched_grid(complete_prior, tiny_survey):
    lines = priors.prior_lines(complete_prior, np.linspace(0, 4, 20))
    with pytest.raises(ValueError, match="20 columns but `grid` has 5"):
        plots.prior_predictive_plot(lines, np.linspace(0, 4, 5), lines, tiny_survey["china"])


def test_prior_group_spread_plot_marks_the_observed_spread(partial_prior):
    means = pd.Series([3.0, 3.2, 3.4, 3.6])
    fig, (ax_sd, ax_groups) = plots.prior_group_spread_plot(
        priors.prior_draws(partial_prior, "sigma_alpha"), priors.prior_draws(partial_prior, "alpha"), means,
        n_rows=5)
    (marker,) = ax_sd.get_lines()
    assert marker.get_xdata()[0] == pytest.approx(means.std())
    assert len(ax_groups.collections) >= 6  # five prior draws and the data row
    with pytest.raises(ValueError, match="n_rows"):
        plots.prior_group_spread_plot(priors.prior_draws(partial_prior, "sigma_alpha"),
                                      priors.prior_draws(partial_prior, "alpha"), means, n_rows=1000)
    matplotlib.pyplot.close(fig)


def test_prior_scale_plot_has_a_panel_per_group_and_one_for_sigma():
    rng = np.random.default_rng(0)
    fits = {s: _posterior({"Small": 2.5 + s / 10 + rng.normal(0, 0.05, 200), "Big": 4.0 + rng.normal(0, 0.01, 200)},
                          s * 0.5 + rng.uniform(0, 0.01, 200)) for s in (0.01, 0.1, 1.0)}
    table = priors.prior_scale_table(fits, ["Small", "Big"], no_pooling={"Small": 2.0, "Big": 4.0},
                                     complete_pooling=3.0)
    fig, axes = plots.prior_scale_plot(table, priors.sigma_table(fits), no_pooling={"Small": 2.0, "Big": 4.0},
                                       complete_pooling=3.0, sizes={"Small": 4, "Big": 3000})
    assert [ax.get_title() for ax in axes[:2]] == ["Small (N = 4)", "Big (N = 3,000)"]
    assert all(ax.get_xscale() == "log" for ax in axes)
    with pytest.raises(ValueError, match="no no-pooling estimate or size"):
        plots.prior_scale_plot(table, priors.sigma_table(fits), no_pooling={"Small": 2.0},
                               complete_pooling=3.0, sizes={"Small": 4, "Big": 3000})
    matplotlib.pyplot.close(fig)
