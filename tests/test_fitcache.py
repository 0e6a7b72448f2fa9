import numpy as np
import pymc as pm
import pytest

from pooling import fitting
from pooling.fitting import ConvergenceError
from support import fitcache

fit = fitcache.cached_fit(fitting.fit)

RNG = np.random.default_rng(3)
Y = RNG.normal(1.0, 1.0, size=40)


def normal_model(prior_sd=1.0, y=Y, name="mu", coords=None, x=None):
    with pm.Model(coords=coords) as model:
        mu = pm.Normal(name, 0, prior_sd)
        if x is not None:
            mu = mu + pm.Data("x", x)
        pm.Normal("y", mu, 1.0, observed=y)
    return model


def test_fingerprint_changes_with_prior_data_and_settings():
    settings = {"draws": 100, "random_seed": 1}
    key = fitcache.fingerprint(normal_model(), settings)
    assert key == fitcache.fingerprint(normal_model(), dict(settings))
    assert key != fitcache.fingerprint(normal_model(prior_sd=2.0), settings)
    assert key != fitcache.fingerprint(normal_model(y=Y + 0.1), settings)
    assert key != fitcache.fingerprint(normal_model(), {**settings, "random_seed": 2})
    assert key != fitcache.fingerprint(normal_model(), {**settings, "freeze_model": False})
    assert key != fitcache.fingerprint(normal_model(name="nu"), settings)
    assert key != fitcache.fingerprint(normal_model(coords={"row": range(40)}), settings)
    with_data = fitcache.fingerprint(normal_model(x=np.zeros(40)), settings)
    assert with_data != key
    assert with_data != fitcache.fingerprint(normal_model(x=np.ones(40)), settings)


def test_cache_is_off_without_the_environment_variable(monkeypatch):
    monkeypatch.delenv(fitcache.CACHE_ENV, raising=False)
    assert fitcache.cache_dir() is None
    assert fitcache.load("anything") is None


@pytest.mark.slow
def test_second_fit_is_read_back_identically(monkeypatch, tmp_path):
    monkeypatch.setenv(fitcache.CACHE_ENV, str(tmp_path))
    first = fit(normal_model(), draws=1000, tune=1000)
    stored = list(tmp_path.glob("*.pickle"))
    assert len(stored) == 1
    calls = []
    monkeypatch.setattr(pm, "sample", lambda *a, **k: calls.append(1))
    second = fit(normal_model(), draws=1000, tune=1000)
    assert not calls, "an identical fit must not be sampled again"
    np.testing.assert_array_equal(first.posterior["mu"].values, second.posterior["mu"].values)


@pytest.mark.slow
def test_cached_fit_still_passes_through_the_convergence_gate(monkeypatch, tmp_path):
    monkeypatch.setenv(fitcache.CACHE_ENV, str(tmp_path))
    with pytest.raises(ConvergenceError):
        fit(normal_model(), draws=20, tune=20)
    with pytest.raises(ConvergenceError):
        fit(normal_model(), draws=20, tune=20)


def test_install_wraps_fit_once_and_uninstall_restores_it():
    saved = fitting.fit  # the session may already run with the cache installed
    original = getattr(saved, "uncached", saved)
    try:
        fitting.fit = original
        fitcache.install()
        wrapped = fitting.fit
        fitcache.install()
        assert fitting.fit is wrapped and wrapped.uncached is original
        fitcache.uninstall()
        assert fitting.fit is original
    finally:
        fitting.fit = saved


def test_the_library_does_not_consult_the_cache(monkeypatch, tmp_path):
    """Without the wrapper, fit samples even when POOLING_FIT_CACHE names a folder."""
    monkeypatch.setenv(fitcache.CACHE_ENV, str(tmp_path))
    calls = []
    monkeypatch.setattr(fitting.pm, "sample", lambda *a, **k: calls.append(k) or "draws")
    getattr(fitting.fit, "uncached", fitting.fit)(normal_model(), check=False)
    assert len(calls) == 1 and not list(tmp_path.iterdir())
