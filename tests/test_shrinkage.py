"""Per-group comparison table and shrinkage weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pooling import shrinkage

COUNTRIES = ["Group 00", "Group 01", "Group 02"]


# ------------------------------------------------------------ closed form


def test_closed_form_weight_values():
    # Half weight exactly when n = sigma_y^2 / sigma_alpha^2.
    assert shrinkage.closed_form_weight(4, 1.0, 0.5) == pytest.approx(0.5)
    assert shrinkage.closed_form_weight(0, 1.0, 0.5) == 0.0
    assert shrinkage.closed_form_weight(12, 1.0, 0.5) == pytest.approx(0.75)
    weights = shrinkage.closed_form_weight(np.array([1, 10, 100, 1000]), 0.8, 0.3)
    assert isinstance(weights, np.ndarray)
    assert np.all(np.diff(weights) > 0) and weights[-1] < 1
    series = shrinkage.closed_form_weight(pd.Series([4, 16], index=["Zudan", "Zudania"]), 1.0, 0.5)
    assert list(series.index) == ["Zudan", "Zudania"]


def test_closed_form_weight_rejects_bad_input():
    with pytest.raises(ValueError, match="non-negative"):
        shrinkage.closed_form_weight(-1, 1.0, 1.0)
    with pytest.raises(ValueError, match="sigma_alpha must be positive"):
        shrinkage.closed_form_weight(3, 1.0, 0.0)
    with pytest.raises(ValueError, match="sigma_y must be positive"):
        shrinkage.closed_form_weight(3, -1.0, 1.0)


# ------------------------------------------------------- hand-made posteriors


def _data(sizes=(2, 8, 40)):
    rng = np.random.default_rng(0)
    codes = np.repeat(np.arange(len(sizes)), sizes)
    return pd.DataFrame(
        {
            "country_name": pd.Categorical.from_codes(codes, categories=COUNTRIES),
            "antiauth": rng.uniform(0, 4, codes.size),
            "china": rng.normal(3, 1, codes.size),
        }
    )


def _posterior(idata_factory, x_mean, *, alpha, beta, group_means=None, **scalars):
    draws = (2, 50)
    posterior = {"beta": np.broadcast_to(beta, (*draws, *np.shape(beta))).copy()}
    dims = {}
    alpha = np.asarray(alpha, dtype=float)
    posterior["alpha"] = np.broadcast_to(alpha, (*draws, *alpha.shape)).copy()
    if alpha.ndim:
        dims["alpha"] = ["country"]
    if np.ndim(beta):
        dims["beta"] = ["country"]
    for name, value in scalars.items():
        posterior[name] = np.full(draws, value)
    constant = {"predictor_mean": np.array(x_mean)}
    if group_means is not None:
        constant["predictor_group_mean"] = np.asarray(group_means)
        dims["predictor_group_mean"] = ["country"]
    return idata_factory(posterior, constant_data=constant, coords={"country": COUNTRIES}, dims=dims)


def test_group_estimates_table(idata_factory):
    data = _data()
    x0 = data["antiauth"].mean()
    no = _posterior(idata_factory, x0, alpha=[2.0, 3.0, 4.0], beta=0.5)
    partial = _posterior(idata_factory, x0, alpha=[2.6, 3.0, 3.8], beta=0.5, sigma_y=1.0, sigma_alpha=0.5, mu_alpha=3.0)
    complete = _posterior(idata_factory, x0, alpha=3.0, beta=0.5)
    table = shrinkage.group_estimates(data, idata_no_pooling=no, idata_partial_pooling=partial, idata_complete_pooling=complete)
    assert list(table.columns) == [
        "n", "no_pooling", "partial_pooling", "complete_pooling", "weight_closed_form", "weight_posterior",
    ]
    assert list(table.index) == COUNTRIES and table.index.name == "country"
    assert table["n"].tolist() == [2, 8, 40]
    np.testing.assert_allclose(table["no_pooling"], [2.0, 3.0, 4.0])
    np.testing.assert_allclose(table["complete_pooling"], 3.0)
    np.testing.assert_allclose(table["weight_closed_form"], [2 / 6, 8 / 12, 40 / 44])
    np.testing.assert_allclose(table.loc[["Group 00", "Group 02"], "weight_posterior"], [0.4, 0.8])
    # No pooling equal to complete pooling: the posterior weight is undefined, not infinite.
    assert np.isnan(table.loc["Group 01", "weight_posterior"])


def test_intercepts_are_moved_to_the_overall_predictor_mean(idata_factory):
    data = _data()
    x0 = data["antiauth"].mean()
    # A model centred at a different value (e.g. fitted without some rows).
    shifted = _posterior(idata_factory, x0 - 1.0, alpha=[2.0, 3.0, 4.0], beta=0.5)
    np.testing.assert_allclose(shrinkage.intercepts_at(shifted, x0).to_numpy(), [2.5, 3.5, 4.5])
    # No pooling with varying slopes: intercepts at each group's own mean.
    group_means = np.array([x0 - 1.0, x0, x0 + 2.0])
    slopes = _posterior(idata_factory, x0, alpha=[2.0, 3.0, 4.0], beta=[0.5, 1.0, -1.0], group_means=group_means)
    np.testing.assert_allclose(shrinkage.intercepts_at(slopes, x0).to_numpy(), [2.5, 3.0, 6.0])
    complete = _posterior(idata_factory, x0 - 2.0, alpha=3.0, beta=0.5)
    np.testing.assert_allclose(shrinkage.intercepts_at(complete, x0, names=COUNTRIES).to_numpy(), 4.0)
    with pytest.raises(ValueError, match="pass the group names"):
        shrinkage.intercepts_at(complete, x0)


# --------------------------------------------------------- real posteriors


@pytest.mark.slow
def test_partial_pooling_lies_between_and_small_groups_shrink_most(synthetic_fits):
    data = synthetic_fits["data"]
    table = shrinkage.group_estimates(
        data,
        idata_no_pooling=synthetic_fits["no_pooling"],
        idata_partial_pooling=synthetic_fits["partial"],
        idata_complete_pooling=synthetic_fits["complete"],
    )
    assert table["n"].tolist() == [4, 8, 15, 30, 60, 120, 250, 400]
    assert table["weight_closed_form"].is_monotonic_increasing
    assert table["weight_closed_form"].iloc[0] < 0.8 < table["weight_closed_form"].iloc[-1]
    # Where the no-pooling and complete-pooling estimates are far apart, the partial-pooling
    # estimate lies between them, and its position matches the closed-form weight.
    far = table[(table["no_pooling"] - table["complete_pooling"]).abs() > 0.2]
    assert len(far) >= 3
    assert ((far["weight_posterior"] > 0) & (far["weight_posterior"] < 1.05)).all()
    np.testing.assert_allclose(far["weight_posterior"], far["weight_closed_form"], atol=0.1)
    # The smallest group moves furthest toward the complete-pooling estimate.
    moved = (table["no_pooling"] - table["partial_pooling"]).abs() / (table["no_pooling"] - table["complete_pooling"]).abs()
    assert moved.loc["Group 00"] > moved.loc["Group 07"]
