"""Small synthetic data sets with known truth, and hand-made posteriors, for the model tests.

Columns follow the survey schema (``china``, ``antiauth``, ``country_name``,
``party``, ``log_trade_china``) so the builders' defaults apply; the true
parameters are in ``df.attrs["truth"]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["make_groups", "make_idata"]


def make_groups(
    sizes,
    *,
    mu_alpha: float = 3.0,
    sigma_alpha: float = 0.5,
    beta: float = -0.3,
    sigma_y: float = 0.8,
    seed: int = 20250623,
    names=None,
) -> pd.DataFrame:
    """Gaussian varying-intercept data: ``china = alpha[j] + beta * (antiauth - 2) + noise``.

    ``antiauth`` is uniform on [0, 4] (mean about 2), so ``alpha[j]`` is the
    expected ``china`` score of group j near the overall predictor mean.
    ``log_trade_china`` is a group-level column (constant within group).
    """
    rng = np.random.default_rng(seed)
    sizes = np.asarray(sizes, dtype=int)
    n_groups = sizes.size
    if names is None:
        names = [f"Group {j:02d}" for j in range(n_groups)]
    alpha = mu_alpha + sigma_alpha * rng.standard_normal(n_groups)
    codes = np.repeat(np.arange(n_groups), sizes)
    x = rng.uniform(0.0, 4.0, size=codes.size)
    y = alpha[codes] + beta * (x - 2.0) + sigma_y * rng.standard_normal(codes.size)
    trade = rng.normal(6.0, 1.5, size=n_groups)
    df = pd.DataFrame(
        {
            "respondent_id": np.arange(1, codes.size + 1),
            "country_name": pd.Categorical.from_codes(codes, categories=names),
            "antiauth": x,
            "china": y,
            "log_trade_china": trade[codes],
        }
    )
    df.attrs["truth"] = {
        "mu_alpha": mu_alpha,
        "sigma_alpha": sigma_alpha,
        "beta": beta,
        "sigma_y": sigma_y,
        "alpha": dict(zip(names, alpha, strict=True)),
    }
    return df


def make_idata(posterior: dict, *, constant_data: dict | None = None, diverging=None, coords=None, dims=None):
    """Hand-made ArviZ data tree: ``posterior`` maps names to arrays shaped (chain, draw, ...)."""
    import arviz as az

    groups = {"posterior": posterior}
    if constant_data is not None:
        groups["constant_data"] = constant_data
    if diverging is not None:
        groups["sample_stats"] = {"diverging": np.asarray(diverging, dtype=bool)}
    return az.from_dict(groups, coords=coords or {}, dims=dims or {})
