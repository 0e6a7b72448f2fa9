"""Predictions for a new observation in a known group and for a new group."""

from __future__ import annotations

import numpy as np
import pytest

from pooling import models, predict


def _hierarchical_posterior(idata_factory, *, n_draws=4000, **values):
    """Constant-valued posterior draws (so the predictive distribution is known exactly)."""
    posterior = {name: np.full((2, n_draws), float(v)) for name, v in values.items()}
    return idata_factory(posterior, constant_data={"predictor_mean": np.array(2.0)})


# ------------------------------------------------------------- new group (fast)


def test_new_group_draws_add_between_and_within_group_variance(idata_factory):
    idata = _hierarchical_posterior(idata_factory, mu_alpha=3.0, sigma_alpha=0.6, beta=0.5, sigma_y=0.8)
    draws = predict.predict_new_group(idata, 4.0, random_seed=1)
    assert draws.dims == ("chain", "draw")
    assert float(draws.mean()) == pytest.approx(3.0 + 0.5 * (4.0 - 2.0), abs=0.05)
    assert float(draws.std()) == pytest.approx(np.hypot(0.6, 0.8), rel=0.04)
    again = predict.predict_new_group(idata, 4.0, random_seed=1)
    np.testing.assert_array_equal(draws.values, again.values)


def test_new_group_vector_x_and_three_levels(idata_factory):
    idata = _hierarchical_posterior(
        idata_factory, mu_alpha=3.0, sigma_alpha=0.6, sigma_party=0.3, beta=0.0, sigma_y=0.8
    )
    draws = predict.predict_new_group(idata, [1.0, 2.0, 3.0], random_seed=2)
    assert draws.dims == ("chain", "draw", "obs_id")
    assert draws.sizes["obs_id"] == 3
    assert float(draws.std()) == pytest.approx(np.sqrt(0.6**2 + 0.3**2 + 0.8**2), rel=0.04)


def test_new_group_with_group_level_predictor(idata_factory):
    posterior = {name: np.full((2, 2000), v) for name, v in
                 {"gamma_0": 3.0, "gamma_1": 0.4, "sigma_alpha": 0.01, "beta": 0.0, "sigma_y": 0.01}.items()}
    idata = idata_factory(posterior, constant_data={"predictor_mean": np.array(2.0), "group_predictor_mean": np.array(6.0)})
    with pytest.raises(ValueError, match="group_predictor_value"):
        predict.predict_new_group(idata, 2.0)
    draws = predict.predict_new_group(idata, 2.0, group_predictor_value=8.0)
    assert float(draws.mean()) == pytest.approx(3.0 + 0.4 * 2.0, abs=0.01)


def test_new_group_with_correlated_slopes(idata_factory):
    idata = _hierarchical_posterior(
        idata_factory, mu_alpha=0.0, mu_beta=1.0, sigma_alpha=1.0, sigma_beta=1.0, rho=0.8, sigma_y=1e-6
    )
    x = np.array([3.0, 1.0])  # centred values +1 and -1
    draws = predict.predict_new_group(idata, x, random_seed=3).values.reshape(-1, 2)
    # y(+1) = a + b, y(-1) = a - b: var(a + b) = 2 + 2 rho, var(a - b) = 2 - 2 rho.
    assert np.var(draws[:, 0]) == pytest.approx(3.6, rel=0.06)
    assert np.var(draws[:, 1]) == pytest.approx(0.4, rel=0.06)


def test_new_group_needs_a_hierarchical_posterior(idata_factory):
    idata = _hierarchical_posterior(idata_factory, alpha=3.0, beta=0.5, sigma_y=0.8)
    with pytest.raises(ValueError, match="hierarchical model"):
        predict.predict_new_group(idata, 1.0)
    with pytest.raises(ValueError, match="1-d"):
        predict.predict_new_group(idata, [[1.0]])


# ------------------------------------------------------ known group (validation)


def test_three_level_prediction_needs_a_party(synthetic_three_level):
    model = models.three_level(synthetic_three_level)
    with pytest.raises(ValueError, match="'Country A' is a 'country'; three-level predictions"):
        predict.predict_new_observation(model, None, "Country A", 1.0)


def test_new_observation_rejects_unknown_group_and_sufficient_models(synthetic_groups):
    model = models.partial_pooling(synthetic_groups, parameterization="centered")
    with pytest.raises(ValueError, match="'Atlantis' is not in the model's 'country' coordinates"):
        predict.predict_new_observation(model, None, "Atlantis", 1.0)
    sufficient = models.partial_pooling(synthetic_groups, likelihood="sufficient")
    with pytest.raises(ValueError, match="likelihood='full'"):
        predict.predict_new_observation(sufficient, None, "Group 00", 1.0)


# ------------------------------------------------------- with real posteriors


@pytest.mark.slow
def test_known_group_prediction_matches_the_regression_line(synthetic_fits):
    model, idata = synthetic_fits["partial_model"], synthetic_fits["partial"]
    x = 1.0
    draws = predict.predict_new_observation(model, idata, "Group 03", x, random_seed=5)
    assert draws.dims == ("chain", "draw")
    post = idata.posterior
    line = post["alpha"].sel(country="Group 03") + post["beta"] * (x - float(idata.constant_data["predictor_mean"]))
    n = draws.size
    assert float(draws.mean()) == pytest.approx(float(line.mean()), abs=4 * float(draws.std()) / np.sqrt(n))
    # Predictive sd combines the residual sd with the uncertainty about the line.
    expected_sd = np.sqrt(float((post["sigma_y"] ** 2).mean()) + float(line.var()))
    assert float(draws.std()) == pytest.approx(expected_sd, rel=0.05)


@pytest.mark.slow
def test_prediction_restores_the_model_data(synthetic_fits):
    model, idata = synthetic_fits["partial_model"], synthetic_fits["partial"]
    before = model["antiauth"].get_value().copy()
    draws = predict.predict_new_observation(model, idata, "Group 07", [0.0, 2.0, 4.0], random_seed=6)
    assert draws.dims == ("chain", "draw", "obs_id")
    means = draws.mean(("chain", "draw")).values
    assert means[0] > means[1] > means[2]  # beta < 0 in the simulated data
    np.testing.assert_array_equal(model["antiauth"].get_value(), before)
    assert len(model.coords["obs_id"]) == before.size
    assert np.isfinite(model.compile_logp()(model.initial_point()))


@pytest.mark.slow
def test_new_group_is_more_uncertain_than_a_known_group(synthetic_fits):
    model, idata = synthetic_fits["partial_model"], synthetic_fits["partial"]
    known = predict.predict_new_observation(model, idata, "Group 07", 2.0, random_seed=7)
    new = predict.predict_new_group(idata, 2.0, random_seed=7)
    assert float(new.std()) > float(known.std())
    # The gap is the between-group sd: var(new) is about var(known) + sigma_alpha^2.
    sigma_alpha = idata.posterior["sigma_alpha"]
    assert float(new.var()) == pytest.approx(float(known.var()) + float((sigma_alpha**2).mean()), rel=0.1)
