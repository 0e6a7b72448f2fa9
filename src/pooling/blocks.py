"""Building blocks shared by the model builders in :mod:`pooling.models`.

The rows a builder reads (:func:`prepare`), the choice between the centred and non-centred
parameterisations (:func:`default_parameterization`), and the pieces of PyMC code that several
models repeat: the residual-sd prior, group effects drawn centred or not, the group-level
regression of the intercepts, and the nesting of subgroups in groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm

from pooling.columns import GROUP_PREDICTOR_MEAN, Columns, check_frame, group_codes, numeric_column, require_columns
from pooling.spec import PRIOR_SD_MULTIPLIER, PriorScales, robust_sd, scales_from

__all__ = [
    "CENTERED",
    "CENTERED_MIN_GROUP_SIZE",
    "LIKELIHOODS",
    "NONCENTERED",
    "PARAMETERIZATIONS",
    "RESERVED_DIMS",
    "Prepared",
    "check_names",
    "check_option",
    "coords_of",
    "default_parameterization",
    "group_effects",
    "group_level_values",
    "group_regression",
    "nesting",
    "prepare",
    "resolve_parameterization",
    "sigma_y_prior",
]

CENTERED = "centered"
NONCENTERED = "noncentered"
PARAMETERIZATIONS = (CENTERED, NONCENTERED)
LIKELIHOODS = ("full", "sufficient")

#: Median number of rows per group from which :func:`default_parameterization`
#: picks the centred parameterisation. See that function for the reasoning.
CENTERED_MIN_GROUP_SIZE = 100

#: Dimension names the models use themselves.
RESERVED_DIMS = ("obs_id", "effect")


def check_option(value, allowed: Sequence[str], argument: str) -> None:
    if value not in allowed:
        raise ValueError(
            f"{argument} must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}"
        )


def positive_scale(value, argument: str) -> float:
    """``value`` as a float; raise ``ValueError`` naming ``argument`` unless it is a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{argument} must be a number, got {type(value).__name__} {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{argument} must be a finite number greater than 0, got {value!r}")
    return float(value)


def check_names(outcome: str, predictor: str, group_dim: str | None = None) -> None:
    if outcome == predictor:
        raise ValueError(f"outcome and predictor are the same column ({outcome!r})")
    if group_dim is not None and group_dim in RESERVED_DIMS:
        raise ValueError(f"group_dim cannot be {group_dim!r}; that dimension name is used internally")


@dataclass(frozen=True)
class Prepared:
    """The rows a model is built from: outcome ``y`` and predictor ``x`` (float arrays, one
    entry per row), each row's group code ``codes`` and the group ``names`` in code order,
    and the :class:`~pooling.spec.PriorScales` of ``y`` and ``x``."""

    y: np.ndarray
    x: np.ndarray
    codes: np.ndarray
    names: list
    scales: PriorScales

    @property
    def x_mean(self) -> float:
        return float(np.mean(self.x))


def prepare(data, cols: Columns) -> Prepared:
    """Check ``data`` for a model with the roles ``cols`` and return its rows as arrays.

    Without a group role (complete pooling) every row gets group code 0 and there are no
    group names.
    """
    data = check_frame(data)
    check_names(cols.outcome, cols.predictor, cols.group_dim)
    require_columns(data, [c for c in (cols.outcome, cols.predictor, cols.group) if c is not None])
    y = numeric_column(data, cols.outcome, "outcome")
    x = numeric_column(data, cols.predictor, "predictor")
    if cols.group is None:
        codes, names = np.zeros(y.size, dtype="int64"), []
    else:
        codes, names = group_codes(data, cols.group, "group")
    return Prepared(y=y, x=x, codes=codes, names=names, scales=scales_from(y, x))


def resolve_parameterization(parameterization, data, group) -> str:
    if parameterization is None:
        return default_parameterization(data, group)
    check_option(parameterization, PARAMETERIZATIONS, "parameterization")
    return parameterization


def default_parameterization(
    data: pd.DataFrame, group: str = "country_name", *, min_group_size: int = CENTERED_MIN_GROUP_SIZE
) -> str:
    """Choose ``"centered"`` or ``"noncentered"`` from the group sizes.

    Returns ``"centered"`` when the median number of rows per group is at
    least ``min_group_size`` (default 100), else ``"noncentered"``.

    Why group size decides it: in a centred model the sampler explores
    ``alpha_j`` and ``sigma_alpha`` jointly. When a group has little data,
    ``alpha_j`` is held near ``mu_alpha`` by a prior whose width is
    ``sigma_alpha`` itself, so the posterior is a funnel (narrow neck at
    small ``sigma_alpha``) that NUTS cannot traverse with one step size;
    the non-centred form samples ``alpha_offset = (alpha - mu_alpha) /
    sigma_alpha`` instead, which removes the funnel. When a group has a lot
    of data the likelihood pins ``alpha_j`` regardless of ``sigma_alpha``,
    and it is the non-centred form that becomes awkward (``alpha_offset`` and
    ``sigma_alpha`` are then tightly negatively correlated). The switch is
    the shrinkage weight ``w = n / (n + sigma_y^2 / sigma_alpha^2)``: the
    centred form works well once ``w`` is close to 1. With ``n = 100`` rows,
    ``w >= 0.9`` as soon as the between-group sd is at least 0.3 times the
    residual sd, which holds in both data sets of this project.

    Measured with nutpie, 2 chains of 1,000 draws (minimum bulk ESS over all
    parameters):

    * survey, 35 countries of 4-3,000 respondents (median 986):
      :func:`partial_pooling` centred 3,192, non-centred 7 (R-hat 1.25);
      :func:`varying_slopes` centred 1,266, non-centred 16;
    * radon, 85 counties of 1-116 homes (median 5):
      :func:`partial_pooling` is borderline either way (340-480 for both,
      ``sigma_alpha`` worst; 2,000 draws per chain pass the gate in both);
      :func:`group_level_predictor` with ``log_uranium`` centred 13-55 with
      divergences, non-centred 340-500; :func:`varying_slopes` centred 33,
      non-centred 125 (587 with 2,000 draws and ``target_accept=0.95``).

    Parameters
    ----------
    data
        Rows of the data set.
    group
        Grouping column.
    min_group_size
        Threshold on the median group size.
    """
    data = check_frame(data)
    require_columns(data, [group])
    sizes = data[group].value_counts(dropna=True)
    sizes = sizes[sizes > 0]
    if sizes.empty:
        raise ValueError(f"group column {group!r} has no non-missing values")
    return CENTERED if float(sizes.median()) >= min_group_size else NONCENTERED


def sigma_y_prior(scales: PriorScales):
    return pm.Exponential("sigma_y", lam=1.0 / scales.outcome_sd)


def group_effects(name: str, mean, sigma, dims: str, parameterization: str):
    """``name ~ Normal(mean, sigma)`` over ``dims``, centred or not."""
    if parameterization == CENTERED:
        return pm.Normal(name, mu=mean, sigma=sigma, dims=dims)
    offset = pm.Normal(f"{name}_offset", mu=0.0, sigma=1.0, dims=dims)
    return pm.Deterministic(name, mean + sigma * offset, dims=dims)


def coords_of(prep: Prepared, group_dim: str | None) -> dict:
    coords = {"obs_id": np.arange(prep.y.size)}
    if group_dim is not None:
        coords[group_dim] = prep.names
    return coords


def group_level_values(data: pd.DataFrame, column: str, codes: np.ndarray, names: list, group: str) -> np.ndarray:
    """One value of a group-level column per group; raise if it varies within a group."""
    values = numeric_column(data, column, "group predictor")
    n_groups = len(names)
    lo = np.full(n_groups, np.inf)
    hi = np.full(n_groups, -np.inf)
    np.minimum.at(lo, codes, values)
    np.maximum.at(hi, codes, values)
    tolerance = 1e-9 * max(1.0, float(np.max(np.abs(values))))
    varying = [str(names[j]) for j in range(n_groups) if hi[j] - lo[j] > tolerance]
    if varying:
        raise ValueError(
            f"group predictor {column!r} must be constant within each {group!r} group; "
            f"it varies in: {', '.join(varying)}"
        )
    return lo


def group_regression(u: np.ndarray, group_predictor: str, group_dim: str, s: PriorScales):
    """Register ``gamma_0``, ``gamma_1`` and the group-level containers; return the mean of alpha."""
    u_mean = float(np.mean(u))
    u_sd = robust_sd(u)
    u_data = pm.Data(group_predictor, u, dims=group_dim)
    u_center = pm.Data(GROUP_PREDICTOR_MEAN, u_mean)
    gamma_0 = pm.Normal("gamma_0", mu=s.outcome_mean, sigma=s.intercept_sd)
    gamma_1 = pm.Normal("gamma_1", mu=0.0, sigma=PRIOR_SD_MULTIPLIER * s.outcome_sd / u_sd)
    return gamma_0 + gamma_1 * (u_data - u_center)


def nesting(sub_codes: np.ndarray, codes: np.ndarray, sub_names: list, names: list, subgroup: str, group: str) -> np.ndarray:
    """Group code of each subgroup; raise if a subgroup spans several groups."""
    pairs = pd.DataFrame({"sub": sub_codes, "grp": codes}).drop_duplicates()
    counts = pairs.groupby("sub")["grp"].nunique()
    spanning = counts[counts > 1].index.to_numpy()
    if spanning.size:
        details = []
        for k in spanning[:10]:
            parents = sorted(str(names[g]) for g in pairs.loc[pairs["sub"] == k, "grp"])
            details.append(f"{sub_names[k]} ({', '.join(parents)})")
        raise ValueError(
            f"each {subgroup!r} must belong to exactly one {group!r}; "
            f"these appear in several: {'; '.join(details)}"
        )
    parent = np.empty(len(sub_names), dtype="int64")
    parent[pairs["sub"].to_numpy()] = pairs["grp"].to_numpy()
    return parent
