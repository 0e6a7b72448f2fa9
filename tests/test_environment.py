"""The environment that `make env` builds: what every rendered page and test process relies on."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest

# The packages a chapter's first cell imports, directly or through pooling; together they
# are most of a page's start-up time.
HEAVY_IMPORTS = ["pymc", "pytensor", "nutpie", "arviz", "arviz_stats", "xarray", "pandas", "matplotlib", "seaborn"]


@pytest.mark.parametrize("name", HEAVY_IMPORTS)
def test_installed_packages_are_precompiled(name):
    """`make env` installs with --compile-bytecode, so no process compiles these modules' source.

    Where PYTHONDONTWRITEBYTECODE is set, Python never writes the .pyc files it compiles on
    import; without the precompiled ones every kernel and test process compiled all of
    PyMC's, ArviZ's and pandas' source again (16 s per process instead of 5 s).
    """
    module = importlib.import_module(name)
    source = Path(module.__file__)
    missing = [
        str(path.relative_to(source.parent))
        for path in [source, *sorted(source.parent.rglob("*.py"))[:50]]
        if not Path(importlib.util.cache_from_source(str(path))).exists()
    ]
    assert not missing, f"{name}: no compiled bytecode for {missing[:5]} (run `make env`)"
