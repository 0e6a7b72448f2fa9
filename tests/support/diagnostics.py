"""Two sampler diagnostics that claim tests compare between fits."""

from __future__ import annotations

from pooling import fitting


def steps_per_draw(idata) -> float:
    """Average number of leapfrog steps (gradient evaluations) per draw, over all chains."""
    return float(idata.sample_stats["n_steps"].mean())


def ess_bulk_of(idata, name: str) -> float:
    """Bulk ESS of the scalar posterior variable ``name``."""
    return float(fitting.convergence_table(idata, var_names=[name])["ess_bulk"].iloc[0])
