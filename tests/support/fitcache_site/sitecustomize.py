"""Started with every Python process whose ``PYTHONPATH`` names this folder.

:func:`support.qmd.fit_cache_env` adds it for the processes that run a chapter (a Jupyter
kernel, a student's script), so that their calls of ``pooling.fitting.fit`` read posterior
draws from the test suite's fit cache (``POOLING_FIT_CACHE``) instead of sampling again.

Nothing is imported at start-up: importing PyMC here would import matplotlib before the
Jupyter kernel chooses its inline backend, and figures would then show nothing. Instead an
import hook installs the cache right after the process itself first imports
``pooling.fitting``.
"""

import importlib.abc
import os
import sys

_TARGET = "pooling.fitting"


def _install_cache() -> None:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        import fitcache  # tests/support/fitcache.py
    finally:
        sys.path.pop(0)
    fitcache.install()


class _InstallAfterImport(importlib.abc.MetaPathFinder):
    """Finds ``pooling.fitting`` with the other finders and runs the cache's install after it."""

    def find_spec(self, name, path=None, target=None):
        if name != _TARGET:
            return None
        sys.meta_path.remove(self)
        for finder in sys.meta_path:
            spec = finder.find_spec(name, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None:
                break
        else:
            return None
        run_module = spec.loader.exec_module

        def exec_module(module):
            run_module(module)
            _install_cache()

        spec.loader.exec_module = exec_module
        return spec


if os.environ.get("POOLING_FIT_CACHE", "").strip() and _TARGET not in sys.modules:
    sys.meta_path.insert(0, _InstallAfterImport())
