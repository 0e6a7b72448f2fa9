"""The test suite's on-disk cache of posterior draws, keyed by model and sampler settings.

Sampling with a fixed seed is deterministic, so a fit can be stored and read back instead of
re-run when exactly the same model is sampled with exactly the same settings. The test suite
uses this to run each chapter twice (once in a Jupyter kernel, once as a student's script)
without sampling every model twice. The library knows nothing of it: :func:`install` replaces
``pooling.fitting.fit`` by :func:`cached_fit`, a wrapper that reads the draws back when it
has them and samples (and stores) them otherwise; the convergence gate runs either way.

Where it is installed
    In the pytest process by the session fixture in ``tests/conftest.py``; in the processes
    that run a chapter (Jupyter kernel, student script) by ``fitcache_site/sitecustomize.py``,
    which :func:`support.qmd.fit_cache_env` puts on ``PYTHONPATH``. Both only when the
    environment variable ``POOLING_FIT_CACHE`` names a folder.

The key is a SHA-256 fingerprint of everything that determines the draws: the model as
:func:`pooling.compiled.fingerprint` sees it (its log density and deterministics as graphs,
every constant, data container and observed value, the names, dims, coordinates and initial
values of the variables), the sampler settings, and the versions of the libraries that
produce the draws.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import pickle
import tempfile
from importlib import metadata
from pathlib import Path

import pymc as pm

__all__ = ["CACHE_ENV", "cache_dir", "cached_fit", "fingerprint", "install", "load", "store", "uninstall"]

CACHE_ENV = "POOLING_FIT_CACHE"
_VERSIONED = ("pymc", "pytensor", "nutpie", "arviz-base", "numpy")


def cache_dir() -> Path | None:
    """The cache folder named by ``POOLING_FIT_CACHE``, or ``None`` when caching is off."""
    folder = os.environ.get(CACHE_ENV, "").strip()
    return Path(folder) if folder else None


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def fingerprint(model: pm.Model, settings: dict) -> str:
    """Hex SHA-256 of the model, the sampler ``settings`` and the versions of the sampling libraries.

    The model part is :func:`pooling.compiled.fingerprint`, the key under which ``fit`` keeps
    compiled models: the log density and deterministics as graphs with every constant and
    data container, the names, dims, coordinates and initial values of the variables.
    """
    from pooling.compiled import fingerprint as model_fingerprint

    digest = hashlib.sha256()
    for part in (
        model_fingerprint(model),
        sorted(settings.items(), key=lambda item: item[0]),
        [(package, _version(package)) for package in _VERSIONED],
    ):
        digest.update(repr(part).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def load(key: str):
    """The cached draws for ``key``, or ``None`` (caching off, or not stored yet)."""
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / f"{key}.pickle"
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return pickle.load(handle)


def store(key: str, idata) -> None:
    """Store ``idata`` under ``key`` (atomically, so parallel readers never see half a file)."""
    folder = cache_dir()
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".tmp") as handle:
        pickle.dump(idata, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(handle.name, folder / f"{key}.pickle")


def _settings(fit, model, args, kwargs) -> dict:
    """Every argument of ``fit`` with defaults filled in, the seed and core count resolved."""
    from pooling import fitting

    bound = inspect.signature(fit).bind(model, *args, **kwargs)
    bound.apply_defaults()
    settings = dict(bound.arguments)
    settings.pop("model")
    settings.update(settings.pop("kwargs", {}))
    for name in ("check", "var_names"):  # decide nothing about the draws
        settings.pop(name, None)
    if settings.get("random_seed") is None:
        settings["random_seed"] = fitting.DEFAULT_SEED
    settings["cores"] = max(1, min(settings["chains"], os.cpu_count() or 1))
    return settings


def cached_fit(fit):
    """``fit`` (:func:`pooling.fitting.fit`) with its draws cached under :func:`cache_dir`."""
    from pooling import fitting
    from pooling.spec import record_spec

    @functools.wraps(fit)
    def wrapper(model, *args, check=True, var_names=None, **kwargs):
        if cache_dir() is None:
            return fit(model, *args, check=check, var_names=var_names, **kwargs)
        key = fingerprint(model, _settings(fit, model, args, kwargs))
        idata = load(key)
        if idata is None:
            idata = fit(model, *args, check=False, var_names=var_names, **kwargs)
            store(key, idata)
        else:
            record_spec(idata, model)  # as fit does (draws stored before fit recorded it)
        if check:
            fitting.check_convergence(idata, var_names=var_names)
        return idata

    wrapper.uncached = fit
    return wrapper


def install() -> None:
    """Replace ``pooling.fitting.fit`` by the cached version (once); see :func:`uninstall`."""
    from pooling import fitting

    if not hasattr(fitting.fit, "uncached"):
        fitting.fit = cached_fit(fitting.fit)


def uninstall() -> None:
    """Put the library's own ``pooling.fitting.fit`` back."""
    from pooling import fitting

    fitting.fit = getattr(fitting.fit, "uncached", fitting.fit)
