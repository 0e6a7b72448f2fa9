"""Posterior summaries: the plain tables and numbers that figures and pages are made from.

Every function takes a fitted result (an ArviZ ``DataTree`` from :func:`pooling.fitting.fit`)
or its posterior ``xarray.Dataset``:

intercept_table         posterior mean and HDI of a group-indexed variable, one row per group
lines_from_posterior    posterior-mean regression line of every group (intercept, slope, centre)
effects_table           posterior means of several group-indexed variables side by side
population_parameters   posterior means of the population-level parameters (varying slopes)
predictor_centre        the centring constant the model stored (where its intercepts apply)

The convergence table and the parameter summary with ESS and R-hat are in
:mod:`pooling.fitting` (``convergence_table``, ``summarize``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pooling.columns import PREDICTOR_GROUP_MEAN, PREDICTOR_MEAN

__all__ = [
    "DRAW_DIMS",
    "SAMPLE_DIMS",
    "effects_table",
    "intercept_table",
    "lines_from_posterior",
    "population_parameters",
    "posterior_dataset",
    "posterior_var",
    "predictor_centre",
    "stored_center",
]

#: The dimensions that index posterior draws in a fitted result.
SAMPLE_DIMS = ("chain", "draw")
#: The same, plus ``sample``: the single dimension of draws stacked with ``.stack(sample=...)``.
DRAW_DIMS = (*SAMPLE_DIMS, "sample")


def posterior_dataset(idata: Any, func: str = "posterior_dataset"):
    """The posterior Dataset of a DataTree / InferenceData-like object, or a Dataset as is.

    ``func`` names the caller in the error message.
    """
    if hasattr(idata, "posterior"):
        post = idata.posterior
        return post.to_dataset() if hasattr(post, "to_dataset") else post
    if hasattr(idata, "data_vars"):
        return idata
    raise TypeError(
        f"{func}: expected an ArviZ DataTree with a posterior group (or an xarray Dataset), "
        f"got {type(idata).__name__}"
    )


def posterior_var(idata: Any, var: str, func: str = "posterior_var"):
    """The posterior draws of ``var`` (a DataArray); ValueError naming the variables there are."""
    post = posterior_dataset(idata, func)
    if var not in post.data_vars:
        raise ValueError(
            f"{func}: the posterior has no variable {var!r}; it has {sorted(post.data_vars)}"
        )
    return post[var]


def intercept_table(
    idata: Any, var: str = "alpha", group_dim: str = "country", hdi_prob: float = 0.94
) -> pd.DataFrame:
    """Posterior mean and HDI of a group-indexed variable, one row per group.

    Parameters
    ----------
    idata : ArviZ DataTree (with a ``posterior`` group) or the posterior xarray Dataset.
    var : variable with dims ``(chain, draw, group_dim)``.
    hdi_prob : probability mass of the highest-density interval (the site uses 0.94).

    Returns
    -------
    DataFrame indexed by group (index name ``group_dim``) with columns ``mean``,
    ``hdi_low``, ``hdi_high``.
    """
    import arviz_stats as azs

    func = "intercept_table"
    if not 0 < hdi_prob < 1:
        raise ValueError(f"{func}: `hdi_prob` must be between 0 and 1, got {hdi_prob}")
    da = posterior_var(idata, var, func)
    if group_dim not in da.dims:
        raise ValueError(
            f"{func}: variable {var!r} has dims {da.dims}, not the group dim {group_dim!r}"
        )
    sample_dims = [d for d in da.dims if d in DRAW_DIMS]
    extra = [d for d in da.dims if d not in sample_dims and d != group_dim]
    if extra:
        raise ValueError(
            f"{func}: variable {var!r} has extra dims {extra}; select one value of each first"
        )
    mean = da.mean(dim=sample_dims)
    hdi = azs.hdi(da, prob=hdi_prob, dim=sample_dims)
    bound = [d for d in hdi.dims if d != group_dim][0]
    table = pd.DataFrame(
        {
            "mean": mean.to_series(),
            "hdi_low": hdi.isel({bound: 0}).to_series(),
            "hdi_high": hdi.isel({bound: 1}).to_series(),
        }
    )
    table.index = pd.Index([str(i) for i in table.index], name=group_dim)
    return table


def lines_from_posterior(
    idata: Any,
    *,
    x_center: float | Mapping[Any, float] | pd.Series | None = None,
    intercept: str = "alpha",
    slope: str = "beta",
    group_dim: str = "country",
) -> pd.DataFrame | tuple[float, float, float]:
    """Posterior-mean regression lines in the form :func:`pooling_panels` takes.

    Parameters
    ----------
    idata : ArviZ DataTree or posterior Dataset.
    x_center : the value of the predictor at which ``intercept`` applies (the models centre
        the predictor): one number (overall mean) or group -> number (each group's own mean,
        for the no-pooling model with varying slopes). Default: read from the posterior's
        ``constant_data`` (``predictor_group_mean`` if present, else ``predictor_mean``), where
        the ``pooling.models`` builders store it.
    intercept, slope : variable names; each either scalar or with dim ``group_dim``.

    Returns
    -------
    ``(intercept, slope, x_center)`` if both variables are scalars (complete pooling);
    otherwise a DataFrame indexed by group with columns ``intercept``, ``slope``, ``x_center``.
    """
    func = "lines_from_posterior"
    if x_center is None:
        x_center = stored_center(idata, group_dim, func)
    means = {}
    for key, var in (("intercept", intercept), ("slope", slope)):
        da = posterior_var(idata, var, func)
        sample_dims = [d for d in da.dims if d in DRAW_DIMS]
        m = da.mean(dim=sample_dims)
        if m.ndim == 0:
            means[key] = float(m)
        elif m.dims == (group_dim,):
            means[key] = pd.Series(m.values, index=[str(v) for v in m[group_dim].values])
        else:
            raise ValueError(
                f"{func}: variable {var!r} has dims {m.dims}; expected none or ({group_dim!r},)"
            )
    if all(np.isscalar(v) for v in means.values()) and np.isscalar(x_center):
        return (means["intercept"], means["slope"], float(x_center))
    index = next(v.index for v in means.values() if isinstance(v, pd.Series)) if any(
        isinstance(v, pd.Series) for v in means.values()
    ) else pd.Index(pd.Series(x_center).index.astype(str))
    table = pd.DataFrame(index=pd.Index(index, name=group_dim))
    for key, v in means.items():
        table[key] = v if isinstance(v, pd.Series) else float(v)
    if np.isscalar(x_center):
        table["x_center"] = float(x_center)
    else:
        centers = pd.Series(x_center)
        centers.index = centers.index.astype(str)
        missing = [g for g in table.index if g not in centers.index]
        if missing:
            raise ValueError(f"{func}: `x_center` has no value for group(s) {missing}")
        table["x_center"] = centers.reindex(table.index).astype(float)
    return table


def predictor_centre(idata: Any):
    """The centring constant a model stored in ``constant_data``, or ``None``.

    ``predictor_group_mean`` (one value per group, dims ``group_dim``) for the no-pooling
    model with varying slopes, else ``predictor_mean`` (scalar): the predictor value at which
    the model's intercepts apply. A DataArray, so it broadcasts against posterior draws.
    """
    if not (hasattr(idata, "children") and "constant_data" in idata.children):
        return None
    const = idata["constant_data"].to_dataset()
    for name in (PREDICTOR_GROUP_MEAN, PREDICTOR_MEAN):
        if name in const:
            return const[name]
    return None


def stored_center(idata: Any, group_dim: str, func: str = "stored_center"):
    """:func:`predictor_centre` as plain numbers: a float, or a Series indexed by group name."""
    centre = predictor_centre(idata)
    if centre is None:
        raise ValueError(
            f"{func}: pass `x_center`: the posterior has no constant_data['predictor_mean'] "
            "(models built with pooling.models store it)"
        )
    if centre.ndim == 0:
        return float(centre.values)
    return pd.Series(centre.values, index=[str(v) for v in centre[group_dim].values])


def effects_table(
    idata: Any, var_names: Sequence[str] = ("alpha", "beta"), group_dim: str = "country"
) -> pd.DataFrame:
    """Posterior means of group-indexed variables: DataFrame indexed by group, one column each.

    Scalar variables (e.g. a common ``beta``) are broadcast to every group.
    """
    func = "effects_table"
    cols: dict[str, Any] = {}
    index = None
    for var in var_names:
        da = posterior_var(idata, var, func)
        m = da.mean(dim=[d for d in da.dims if d in DRAW_DIMS])
        if m.ndim == 0:
            cols[var] = float(m)
        elif m.dims == (group_dim,):
            cols[var] = m.values
            index = [str(v) for v in m[group_dim].values]
        else:
            raise ValueError(f"{func}: {var!r} has dims {m.dims}; expected () or ({group_dim!r},)")
    if index is None:
        raise ValueError(f"{func}: none of {list(var_names)} has the group dim {group_dim!r}")
    return pd.DataFrame(cols, index=pd.Index(index, name=group_dim))


def population_parameters(
    idata: Any,
    names: Sequence[str] = ("mu_alpha", "mu_beta", "sigma_alpha", "sigma_beta", "rho"),
) -> dict[str, float]:
    """Posterior means of the population-level parameters of the varying-slopes model."""
    out = {}
    for var in names:
        da = posterior_var(idata, var, "population_parameters")
        if set(da.dims) - set(DRAW_DIMS):
            raise ValueError(f"population_parameters: {var!r} is not a scalar (dims {da.dims})")
        out[var] = float(da.mean())
    return out
