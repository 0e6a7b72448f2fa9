"""Started with every Python process whose ``PYTHONPATH`` names this folder.

:func:`support.qmd.fit_cache_env` adds it for the processes that run a chapter (a Jupyter
kernel, a student's script), so that their calls of ``pooling.fitting.fit`` read posterior
draws from the test suite's fit cache (``POOLING_FIT_CACHE``) instead of sampling again.
"""

import os
import sys

if os.environ.get("POOLING_FIT_CACHE", "").strip():
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        import fitcache  # tests/support/fitcache.py
    finally:
        sys.path.pop(0)
    fitcache.install()
