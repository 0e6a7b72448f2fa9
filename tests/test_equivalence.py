import numpy as np
import pymc as pm
import pytest

from pooling.equivalence import ModelMismatchError, assert_equivalent_models

RNG = np.random.default_rng(1)
X = RNG.normal(size=50)
Y = 1.0 + 0.5 * X + RNG.normal(size=50)


def regression(*, prior_sd=1.0, slope_name="beta", y=Y, coords=None):
    with pm.Model(coords=coords or {"obs_id": np.arange(50)}) as model:
        x = pm.Data("x", X, dims="obs_id")
        alpha = pm.Normal("alpha", 0, 2)
        slope = pm.Normal(slope_name, 0, prior_sd)
        sigma = pm.HalfNormal("sigma_y", 1)
        pm.Normal("y", alpha + slope * x, sigma, observed=y, dims="obs_id")
    return model


def test_identical_models_pass():
    assert_equivalent_models(regression(), regression())


def test_different_prior_is_caught():
    with pytest.raises(ModelMismatchError, match="log density differs"):
        assert_equivalent_models(regression(prior_sd=1.0), regression(prior_sd=2.0))


def test_different_names_are_listed():
    with pytest.raises(ModelMismatchError, match=r"only in the first model \['slope'\]"):
        assert_equivalent_models(regression(slope_name="slope"), regression())


def test_different_observed_values_are_caught():
    with pytest.raises(ModelMismatchError, match="observed values of y differ"):
        assert_equivalent_models(regression(y=Y + 1), regression())


def test_different_coordinates_are_caught():
    with pytest.raises(ModelMismatchError, match="coordinates of dim 'obs_id' differ"):
        assert_equivalent_models(regression(coords={"obs_id": np.arange(50) + 1}), regression())
