"""An opt-in on-disk cache of posterior draws, keyed by model and sampler settings.

Sampling with a fixed seed is deterministic, so a fit can be stored and read back instead of
re-run when exactly the same model is sampled with exactly the same settings. The test suite
uses this to run each chapter twice (once in a Jupyter kernel, once as a student's script)
without sampling every model twice. It is off unless the environment variable
``POOLING_FIT_CACHE`` names a folder; readers and students never need it.

The key is a SHA-256 fingerprint of everything that determines the draws: the names, dims and
coordinates of the variables; every data container and observed value; the joint log density
at several points (so a changed prior changes the key); the sampler settings; and the versions
of the libraries that produce the draws.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pymc as pm

__all__ = ["CACHE_ENV", "cache_dir", "fingerprint", "load", "store"]

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
    """Hex SHA-256 of the model's structure, data, log density and the sampler ``settings``."""
    digest = hashlib.sha256()

    def add(*parts) -> None:
        for part in parts:
            digest.update(repr(part).encode())
            digest.update(b"\x00")

    add(sorted((name, tuple(map(str, values))) for name, values in model.coords.items()))
    for group in (model.free_RVs, model.observed_RVs, model.deterministics, model.potentials):
        add([(var.name, tuple(model.named_vars_to_dims.get(var.name, ()) or ())) for var in group])
    for container in sorted(model.data_vars, key=lambda var: var.name):
        add(container.name)
        digest.update(np.ascontiguousarray(container.get_value()).tobytes())
    for rv in model.observed_RVs:
        digest.update(np.ascontiguousarray(model.rvs_to_values[rv].eval()).tobytes())
    logp = model.compile_logp()
    start = model.initial_point(random_seed=0)
    rng = np.random.default_rng(0)
    for _ in range(3):
        point = {k: v + rng.normal(scale=0.3, size=np.shape(v)) for k, v in start.items()}
        add(float(logp(point)).hex())
    add(sorted(settings.items(), key=lambda item: item[0]))
    add([(package, _version(package)) for package in _VERSIONED])
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
