"""A model nutpie has compiled once is not compiled again, and draws the same from the kept copy."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from pooling import compiled, fitting, models

SETTINGS = {"draws": 200, "tune": 200, "chains": 2, "random_seed": 3, "check": False}


@pytest.fixture
def count_compiles(monkeypatch):
    """The number of times nutpie actually compiled a model (hits of the kept models excluded)."""
    import nutpie

    calls = []
    original = nutpie.compile_pymc_model

    def counting(model, **kwargs):
        calls.append(model)
        return original(model, **kwargs)

    monkeypatch.setattr(nutpie, "compile_pymc_model", counting)
    compiled.clear()
    yield calls
    compiled.clear()


@pytest.mark.slow
def test_identical_model_is_compiled_once_and_draws_the_same(synthetic_groups, count_compiles, library_fit):
    first = library_fit(models.partial_pooling(synthetic_groups), **SETTINGS)
    rebuilt = models.partial_pooling(synthetic_groups)
    again = library_fit(rebuilt, **SETTINGS)
    longer = library_fit(rebuilt, **{**SETTINGS, "draws": 300})
    assert len(count_compiles) == 1
    assert compiled.kept() == 1
    np.testing.assert_array_equal(first.posterior["alpha"], again.posterior["alpha"])
    assert longer.posterior.sizes["draw"] == 300

    compiled.clear()
    fresh = library_fit(models.partial_pooling(synthetic_groups), **SETTINGS)
    assert len(count_compiles) == 2
    for name in ("alpha", "mu_alpha", "sigma_alpha", "beta", "sigma_y"):
        np.testing.assert_array_equal(fresh.posterior[name], again.posterior[name])


@pytest.mark.slow
def test_other_data_prior_or_labels_are_compiled_anew(synthetic_groups, count_compiles, library_fit):
    base = models.partial_pooling(synthetic_groups)
    shifted = synthetic_groups.assign(china=synthetic_groups["china"] + 0.5)
    renamed = synthetic_groups.assign(
        country_name=synthetic_groups["country_name"].cat.rename_categories(lambda name: f"{name}!")
    )
    variants = [
        models.partial_pooling(shifted),  # other answers
        models.partial_pooling(synthetic_groups, sigma_alpha_scale=0.3),  # other prior
        models.partial_pooling(renamed),  # same numbers, other country names
        models.partial_pooling(synthetic_groups, parameterization="centered"),
    ]
    keys = {compiled.fingerprint(model) for model in [base, *variants]}
    assert len(keys) == 5
    assert compiled.fingerprint(base) == compiled.fingerprint(models.partial_pooling(synthetic_groups))
    assert compiled.fingerprint(base, ["alpha"]) != compiled.fingerprint(base)

    library_fit(base, **SETTINGS)
    renamed_fit = library_fit(variants[2], **SETTINGS)
    assert len(count_compiles) == 2
    assert list(renamed_fit.posterior["alpha"].coords["country"].values)[0].endswith("!")


@pytest.mark.slow
def test_at_most_max_kept_models_are_kept(monkeypatch, synthetic_groups, count_compiles):
    monkeypatch.setattr(compiled, "MAX_KEPT", 2)
    with compiled.reusing_compiled_models():
        import nutpie

        for scale in (0.1, 0.2, 0.3):
            nutpie.compile_pymc_model(models.partial_pooling(synthetic_groups, sigma_alpha_scale=scale))
        assert compiled.kept() == 2
        nutpie.compile_pymc_model(models.partial_pooling(synthetic_groups, sigma_alpha_scale=0.1))
    assert len(count_compiles) == 4  # the first one had been dropped
    assert not isinstance(nutpie.compile_pymc_model, functools.partial)  # put back


@pytest.mark.slow
def test_a_fitted_model_is_left_unchanged_and_refits_draw_the_same(synthetic_groups, count_compiles, library_fit):
    # nutpie simplifies the log density in place before compiling it; for a model with
    # pm.LKJCholeskyCov that used to rewrite part of the model itself, so the same model
    # object fitted again compiled other code and drew other numbers from the same seed
    import pytensor.graph

    rewrite_graph = pytensor.graph.rewrite_graph
    model = models.varying_slopes(synthetic_groups)
    before = compiled.fingerprint(model, freeze_model=True)
    first = library_fit(model, **SETTINGS)
    assert compiled.fingerprint(model, freeze_model=True) == before
    assert pytensor.graph.rewrite_graph is rewrite_graph  # put back after the compile

    compiled.clear()
    again = library_fit(model, **SETTINGS)
    assert len(count_compiles) == 2  # compiled anew, from the model as fitted the first time
    for name in ("mu_alpha", "mu_beta", "sigma_alpha", "sigma_beta", "rho", "alpha", "beta", "sigma_y"):
        np.testing.assert_array_equal(first.posterior[name], again.posterior[name])
