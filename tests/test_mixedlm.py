"""Tests for pooling.mixedlm: REML recovers known truth; the comparison table is right."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest

from pooling.mixedlm import MixedLMResult, compare_with_bayes, fit_mixedlm

TRUTH = dict(mu_alpha=3.0, beta=0.4, gamma_1=0.6, sigma_alpha=0.5, sigma_y=1.0)
N_GROUPS = 80


def _synthetic(seed: int = 1, *, with_group_predictor: bool = False) -> tuple[pd.DataFrame, pd.Series]:
    """Random-intercept data with known parameters; returns (data, realised intercepts)."""
    rng = np.random.default_rng(seed)
    names = [f"g{j:02d}" for j in range(N_GROUPS)]
    sizes = rng.integers(5, 60, size=N_GROUPS)
    u = rng.normal(0.0, 1.0, size=N_GROUPS)
    u = u - u.mean()  # centred over groups, so mu_alpha is the intercept at the mean u
    centre = TRUTH["mu_alpha"] + (TRUTH["gamma_1"] * u if with_group_predictor else 0.0)
    alpha = centre + rng.normal(0.0, TRUTH["sigma_alpha"], size=N_GROUPS)
    group = np.repeat(names, sizes)
    idx = np.repeat(np.arange(N_GROUPS), sizes)
    x = rng.uniform(0.0, 4.0, size=idx.size)
    y = alpha[idx] + TRUTH["beta"] * (x - x.mean()) + rng.normal(0.0, TRUTH["sigma_y"], size=idx.size)
    data = pd.DataFrame({"grp": pd.Categorical(group), "x": x, "y": y, "u": u[idx]})
    return data, pd.Series(alpha, index=pd.Index(names, name="grp"))


@pytest.fixture(scope="module")
def synthetic():
    return _synthetic()


@pytest.fixture(scope="module")
def fitted(synthetic):
    data, _ = synthetic
    return fit_mixedlm(data, outcome="y", predictor="x", group="grp")


def test_returns_result_object(fitted, synthetic):
    data, _ = synthetic
    assert isinstance(fitted, MixedLMResult)
    assert fitted.converged
    assert fitted.n_obs == len(data)
    assert fitted.n_groups == N_GROUPS
    assert list(fitted.fixed_effects.index) == ["intercept", "slope"]
    assert fitted.predictor_center == pytest.approx(data["x"].mean())
    assert fitted.group_intercepts.index.name == "grp"
    assert fitted.group_sizes.sum() == len(data)
    d = fitted.to_dict()
    assert set(d) >= {"fixed_intercept", "fixed_slope", "group_sd", "residual_sd"}


def test_reml_recovers_truth(fitted):
    # Fixed effects: within 3 standard errors of the truth (a 3-sigma band fails
    # by chance about 3 times in 1000 for a correctly working estimator).
    fe, se = fitted.fixed_effects, fitted.fixed_effects_se
    assert abs(fe["intercept"] - TRUTH["mu_alpha"]) < 3 * se["intercept"]
    assert abs(fe["slope"] - TRUTH["beta"]) < 3 * se["slope"]
    # Scales: with 80 groups the sampling sd of the group SD is about
    # sigma_alpha / sqrt(2 * 80) ~ 0.04 (plus a little from small groups),
    # and with ~2,600 observations that of sigma_y is ~0.015; allow ~3 of each.
    assert fitted.group_sd == pytest.approx(TRUTH["sigma_alpha"], abs=0.15)
    assert fitted.residual_sd == pytest.approx(TRUTH["sigma_y"], abs=0.05)


def test_group_intercepts_track_realised_truth(fitted, synthetic):
    _, alpha = synthetic
    est = fitted.group_intercepts.reindex(alpha.index)
    assert not est.isna().any()
    # Shrunken estimates of 80 intercepts with between-group sd 0.5 and
    # per-group standard errors 0.13-0.45: strongly correlated with the truth,
    # and their error is smaller than the spread of the truth itself.
    assert np.corrcoef(est, alpha)[0, 1] > 0.8
    assert np.sqrt(np.mean((est - alpha) ** 2)) < 0.3


def test_group_intercepts_are_closed_form_blups(fitted, synthetic):
    # For a random-intercept model the BLUP is the group's mean residual from
    # the fixed part, shrunk by w_j = n_j s_a^2 / (n_j s_a^2 + s_y^2): the same
    # weight the site's shrinkage chapter uses.
    data, _ = synthetic
    fe = fitted.fixed_effects
    resid = data["y"] - fe["intercept"] - fe["slope"] * (data["x"] - fitted.predictor_center)
    mean_resid = resid.groupby(data["grp"], observed=True).mean()
    n = fitted.group_sizes
    w = n * fitted.group_sd**2 / (n * fitted.group_sd**2 + fitted.residual_sd**2)
    expected = fe["intercept"] + w * mean_resid
    np.testing.assert_allclose(fitted.group_intercepts, expected.reindex(n.index), atol=1e-5)


def test_group_predictor_recovers_gamma_1():
    data, alpha = _synthetic(seed=2, with_group_predictor=True)
    res = fit_mixedlm(data, outcome="y", predictor="x", group="grp", group_predictor="u")
    fe, se = res.fixed_effects, res.fixed_effects_se
    assert list(fe.index) == ["intercept", "slope", "gamma_1"]
    assert abs(fe["gamma_1"] - TRUTH["gamma_1"]) < 3 * se["gamma_1"]
    assert abs(fe["intercept"] - TRUTH["mu_alpha"]) < 3 * se["intercept"]
    # The group predictor explains part of the intercept variation, so the
    # remaining group SD is the residual sd sigma_alpha, not the total spread.
    assert res.group_sd == pytest.approx(TRUTH["sigma_alpha"], abs=0.15)
    assert res.group_predictor_center == pytest.approx(0.0, abs=1e-12)
    # Per-group intercepts include gamma_1 * u_j, so they track the truth.
    assert np.corrcoef(res.group_intercepts.reindex(alpha.index), alpha)[0, 1] > 0.8


def test_centering_changes_only_the_intercept(synthetic):
    data, _ = synthetic
    c = fit_mixedlm(data, outcome="y", predictor="x", group="grp", center=True)
    r = fit_mixedlm(data, outcome="y", predictor="x", group="grp", center=False)
    assert r.predictor_center == 0.0
    assert r.fixed_effects["slope"] == pytest.approx(c.fixed_effects["slope"], rel=1e-4)
    shifted = c.fixed_effects["intercept"] - c.fixed_effects["slope"] * c.predictor_center
    assert r.fixed_effects["intercept"] == pytest.approx(shifted, abs=1e-4)
    assert r.group_sd == pytest.approx(c.group_sd, rel=1e-3)


def test_string_groups_and_unused_categories(synthetic):
    data, _ = synthetic
    as_str = data.assign(grp=data["grp"].astype(str))
    res = fit_mixedlm(as_str, outcome="y", predictor="x", group="grp")
    assert list(res.group_intercepts.index) == sorted(as_str["grp"].unique())
    extra = data.assign(grp=data["grp"].cat.add_categories(["empty"]))
    res2 = fit_mixedlm(extra, outcome="y", predictor="x", group="grp")
    assert "empty" not in res2.group_intercepts.index
    assert res2.n_groups == N_GROUPS


@pytest.mark.parametrize("missing", ["y", "x", "grp"])
def test_missing_column_raises(synthetic, missing):
    data, _ = synthetic
    with pytest.raises(ValueError, match=missing):
        fit_mixedlm(data.drop(columns=missing), outcome="y", predictor="x", group="grp")


def test_missing_group_predictor_column_raises(synthetic):
    data, _ = synthetic
    with pytest.raises(ValueError, match="trade"):
        fit_mixedlm(data, outcome="y", predictor="x", group="grp", group_predictor="trade")


def test_nan_values_raise(synthetic):
    data, _ = synthetic
    bad = data.copy()
    bad.loc[3, "y"] = np.nan
    with pytest.raises(ValueError, match="missing value"):
        fit_mixedlm(bad, outcome="y", predictor="x", group="grp")


def test_group_predictor_must_be_constant_within_group(synthetic):
    data, _ = synthetic
    with pytest.raises(ValueError, match="constant"):
        fit_mixedlm(data, outcome="y", predictor="x", group="grp", group_predictor="x")


def test_single_group_raises(synthetic):
    data, _ = synthetic
    one = data[data["grp"] == "g00"]
    with pytest.raises(ValueError, match="two groups"):
        fit_mixedlm(one, outcome="y", predictor="x", group="grp")


def test_not_a_dataframe_raises():
    with pytest.raises(TypeError):
        fit_mixedlm({"y": [1.0]}, outcome="y", predictor="x", group="grp")


# --- compare_with_bayes -----------------------------------------------------------


def _fake_posterior(fitted: MixedLMResult, *, intercept_name="mu_alpha", shift=0.1, seed=0):
    """A posterior centred `shift` away from the REML estimates, sd 0.2 everywhere."""
    rng = np.random.default_rng(seed)
    shape = (2, 4000)

    def draws(centre, size=()):
        z = rng.normal(size=shape + size)
        z = (z - z.mean(axis=(0, 1))) / z.std(axis=(0, 1), ddof=1)  # exact moments
        return centre + shift + 0.2 * z

    groups = list(fitted.group_intercepts.index)
    post = {
        intercept_name: draws(fitted.fixed_effects["intercept"]),
        "beta": draws(fitted.fixed_effects["slope"]),
        "sigma_alpha": draws(fitted.group_sd),
        "sigma_y": draws(fitted.residual_sd),
        "alpha": draws(fitted.group_intercepts.to_numpy(), (len(groups),)),
    }
    if "gamma_1" in fitted.fixed_effects.index:
        post["gamma_1"] = draws(fitted.fixed_effects["gamma_1"])
    return az.from_dict({"posterior": post}, dims={"alpha": ["country"]}, coords={"country": groups})


def test_compare_with_bayes_table(fitted):
    idata = _fake_posterior(fitted)
    table = compare_with_bayes(fitted, idata, group_dim="country")
    assert table.index.name == "parameter"
    assert list(table.columns) == ["reml", "posterior_mean", "posterior_sd", "difference", "difference_in_sd"]
    assert list(table.index[:4]) == ["mu_alpha", "beta", "sigma_alpha", "sigma_y"]
    assert len(table) == 4 + N_GROUPS
    assert table.loc["beta", "reml"] == pytest.approx(fitted.fixed_effects["slope"])
    assert table.loc["alpha[g07]", "reml"] == pytest.approx(fitted.group_intercepts["g07"])
    np.testing.assert_allclose(table["difference"], 0.1, atol=1e-9)
    np.testing.assert_allclose(table["posterior_sd"], 0.2, atol=1e-9)
    np.testing.assert_allclose(table["difference_in_sd"], 0.5, atol=1e-8)


def test_compare_without_groups_and_with_gamma():
    data, _ = _synthetic(seed=2, with_group_predictor=True)
    res = fit_mixedlm(data, outcome="y", predictor="x", group="grp", group_predictor="u")
    idata = _fake_posterior(res, intercept_name="gamma_0")
    table = compare_with_bayes(res, idata, group_dim="country", include_groups=False)
    assert list(table.index) == ["gamma_0", "beta", "gamma_1", "sigma_alpha", "sigma_y"]


def test_compare_errors(fitted):
    idata = _fake_posterior(fitted)
    with pytest.raises(ValueError, match="county"):
        compare_with_bayes(fitted, idata, group_dim="county")
    no_sigma = az.from_dict(
        {"posterior": {k: v.values for k, v in idata.posterior.data_vars.items() if k != "sigma_alpha"}},
        dims={"alpha": ["country"]},
        coords={"country": list(fitted.group_intercepts.index)},
    )
    with pytest.raises(ValueError, match="sigma_alpha"):
        compare_with_bayes(fitted, no_sigma, group_dim="country")


def test_no_group_variation_gives_complete_pooling():
    # Five groups with no true group effect: the REML variance lands on (or
    # next to) its boundary at 0, and every group intercept is the fixed one.
    rng = np.random.default_rng(0)
    g = np.repeat(list("abcde"), 8)
    x = rng.uniform(0, 4, g.size)
    y = 1 + 0.3 * x + rng.normal(0, 1, g.size)
    res = fit_mixedlm(pd.DataFrame({"g": g, "x": x, "y": y}), outcome="y", predictor="x", group="g")
    assert res.group_sd < 0.01
    np.testing.assert_allclose(res.group_intercepts, res.fixed_effects["intercept"], atol=1e-3)
