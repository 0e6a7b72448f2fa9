"""The seed a stochastic test samples with, and the convergence sweep's override of it."""

from __future__ import annotations

import os

__all__ = ["test_seed"]


def test_seed(default: int) -> int:
    """The seed a stochastic test samples with.

    ``default`` normally; under the convergence sweep (``POOLING_TEST_SEED=k``) another seed
    for each k, so the sweep shows that a test's claim does not hinge on one seed's draws.
    """
    override = os.environ.get("POOLING_TEST_SEED")
    return default if not override else 1000 * int(override) + default


test_seed.__test__ = False  # a helper, not a test
