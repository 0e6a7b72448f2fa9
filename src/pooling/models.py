"""Model builders for complete, no and partial pooling.

Every builder is a plain function that takes a tidy :class:`pandas.DataFrame`
and returns a :class:`pymc.Model`. The builders are generic over column names,
so the same code fits the survey (``china`` on ``antiauth`` by
``country_name``) and the radon data (``log_radon`` on ``floor`` by
``county``)::

    partial_pooling(survey)
    partial_pooling(radon, outcome="log_radon", predictor="floor",
                    group="county", group_dim="county")

Conventions shared by all builders
----------------------------------
Dimensions
    ``"obs_id"`` indexes rows of ``data``; ``group_dim`` (default
    ``"country"``) indexes groups and its coordinate values are the group
    *names*, so ``idata.posterior["alpha"].sel(country="Nigeria")`` works.
    Group order follows the categories of a pandas Categorical column, or the
    sorted unique values otherwise.
Data containers (:func:`pymc.Data`)
    ``<predictor>`` (dims ``obs_id``; e.g. ``"antiauth"``), the group code of
    every row ``<group_dim>_idx`` (dims ``obs_id``; e.g. ``"country_idx"``)
    and the centring constant ``"predictor_mean"`` (scalar, the sample mean of
    the predictor over all rows). Because they are containers, they end up in
    ``idata.constant_data`` and :func:`pymc.set_data` can swap in new rows
    for prediction (see :mod:`pooling.predict`). The observed outcome is the
    random variable named after the outcome column (e.g. ``"china"``) with
    dims ``obs_id``; its length follows the ``obs_id`` coordinate.
Centring
    The predictor enters every model as ``x - predictor_mean``, so ``alpha``
    is the expected outcome at the average predictor value (the seed
    assignment's formula (a)). The only exception is
    ``no_pooling(..., varying_slopes=True)``, which centres each group at its
    own mean (formula (b)); those group means are stored in the container
    ``"predictor_group_mean"`` (dims ``group_dim``).
Priors
    Weakly informative and scaled by the data. With ``m_y`` and ``s_y`` the
    mean and standard deviation of the outcome and ``s_x`` the standard
    deviation of the predictor, the first three are the autoscaled default
    priors of rstanarm for a linear regression (Gabry and Goodrich, "Prior
    distributions for rstanarm models"):

    * intercepts and their means: ``Normal(m_y, 2.5 * s_y)``;
    * slopes and their means: ``Normal(0, 2.5 * s_y / s_x)``;
    * residual sd ``sigma_y``: ``Exponential(rate = 1 / s_y)`` (prior mean
      ``s_y``, the sd of the outcome when the model explains nothing).

    The priors of the group-level spread are this package's own choices,
    scaled the same way; they are not rstanarm's defaults (rstanarm puts
    one ``decov`` prior on the whole covariance matrix of the group
    effects):

    * between-group sds (``sigma_alpha``, ``sigma_party``):
      ``HalfNormal(s_y)``; for slopes ``HalfNormal(s_y / s_x)``;
    * the correlation of intercepts and slopes (:func:`varying_slopes`):
      ``LKJ(eta = 2)``.

    The scales are on the outcome's own units, so the same rules give weak
    priors for a 1-5 opinion score (``s_y`` is 0.55 on the 33 countries of
    the bundled survey, 0.58 with Zudan and Zudania) and for log radon
    (``s_y`` 0.85), and they never rule out a plausible value: an
    intercept prior sd of ``2.5 * s_y`` spans far more than the observed
    range. A standard deviation of zero (a constant column) falls back to 1.
    :func:`prior_scales` returns the numbers a model was built with.
Parameterisation
    Hierarchical builders take ``parameterization="centered"`` or
    ``"noncentered"``; ``None`` asks :func:`default_parameterization`.
    Non-centred variants sample a standard-normal ``*_offset`` variable and
    expose the group effects as :func:`pymc.Deterministic` under the same name
    as the centred variant, so downstream code never needs to know which was
    used.

Each returned model carries a :class:`ModelSpec` (see :func:`model_spec`)
recording which columns and container names it was built with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

__all__ = [
    "CENTERED",
    "CENTERED_MIN_GROUP_SIZE",
    "NONCENTERED",
    "ModelSpec",
    "PriorScales",
    "complete_pooling",
    "default_parameterization",
    "group_level_predictor",
    "model_spec",
    "no_pooling",
    "partial_pooling",
    "prior_scales",
    "sufficient_statistics",
    "three_level",
    "varying_slopes",
]

CENTERED = "centered"
NONCENTERED = "noncentered"
PARAMETERIZATIONS = (CENTERED, NONCENTERED)
LIKELIHOODS = ("full", "sufficient")

#: Median number of rows per group from which :func:`default_parameterization`
#: picks the centred parameterisation. See that function for the reasoning.
CENTERED_MIN_GROUP_SIZE = 100

#: Multiplier of the outcome sd in the intercept and slope prior scales.
PRIOR_SD_MULTIPLIER = 2.5

_SPEC_ATTRIBUTE = "pooling_spec"
_RESERVED_DIMS = ("obs_id", "effect")


# --------------------------------------------------------------------------
# Metadata attached to each model
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class PriorScales:
    """Data summaries the default priors are scaled by.

    Attributes
    ----------
    outcome_mean, outcome_sd
        Mean and sd (ddof=1) of the outcome over all rows.
    predictor_sd
        Sd of the predictor over all rows (1.0 if the predictor is constant).
    """

    outcome_mean: float
    outcome_sd: float
    predictor_sd: float

    @property
    def intercept_sd(self) -> float:
        """Prior sd of intercepts and of their mean: ``2.5 * s_y``."""
        return PRIOR_SD_MULTIPLIER * self.outcome_sd

    @property
    def slope_sd(self) -> float:
        """Prior sd of slopes and of their mean: ``2.5 * s_y / s_x``."""
        return PRIOR_SD_MULTIPLIER * self.outcome_sd / self.predictor_sd


@dataclass(frozen=True)
class ModelSpec:
    """What a model was built from; attached to every model the builders return.

    Attributes
    ----------
    kind
        Name of the builder (``"partial_pooling"``, ...).
    outcome, predictor
        Column names; the observed variable and the predictor container are
        named after them.
    group, group_dim, group_index
        Group column, its dimension name and the name of the container with
        each row's group code (``None`` for complete pooling).
    group_names
        Coordinate values of ``group_dim`` (empty for complete pooling).
    parameterization
        ``"centered"``/``"noncentered"`` (``None`` when the model has no
        hierarchical level). For :func:`three_level` this is the country
        level; ``subgroup_parameterization`` is the party level.
    likelihood
        ``"full"`` (an observed variable with one entry per row) or
        ``"sufficient"`` (a :func:`pymc.Potential` on per-group statistics).
    predictor_mean
        The centring constant (sample mean of the predictor).
    priors
        The :class:`PriorScales` used.
    varying_slopes
        Whether slopes vary by group.
    group_predictor, subgroup, subgroup_dim, subgroup_index, subgroup_names,
    subgroup_parameterization
        Set by :func:`group_level_predictor` and :func:`three_level`.
    """

    kind: str
    outcome: str
    predictor: str
    predictor_mean: float
    priors: PriorScales
    group: str | None = None
    group_dim: str | None = None
    group_index: str | None = None
    group_names: tuple = ()
    parameterization: str | None = None
    likelihood: str = "full"
    varying_slopes: bool = False
    group_predictor: str | None = None
    subgroup: str | None = None
    subgroup_dim: str | None = None
    subgroup_index: str | None = None
    subgroup_names: tuple = ()
    subgroup_parameterization: str | None = None


def model_spec(model: pm.Model) -> ModelSpec:
    """Return the :class:`ModelSpec` of a model built by this module.

    Raises
    ------
    ValueError
        If ``model`` was not built by one of the builders here.
    """
    spec = getattr(model, _SPEC_ATTRIBUTE, None)
    if not isinstance(spec, ModelSpec):
        raise ValueError(
            "this model was not built by pooling.models (it has no ModelSpec); "
            "build it with one of the pooling.models builders"
        )
    return spec


def _attach(model: pm.Model, spec: ModelSpec) -> pm.Model:
    setattr(model, _SPEC_ATTRIBUTE, spec)
    return model


# --------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------


def _check_frame(data) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) == 0:
        raise ValueError("data has no rows")
    return data


def _require_columns(data: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(
            f"column(s) {', '.join(repr(c) for c in missing)} not found in data; "
            f"available columns: {', '.join(map(str, data.columns))}"
        )


def _describe_rows(mask: np.ndarray, index: pd.Index, limit: int = 5) -> str:
    rows = list(index[mask][:limit])
    more = int(mask.sum()) - len(rows)
    text = ", ".join(map(str, rows))
    return text + (f" and {more} more" if more > 0 else "")


def _numeric_column(data: pd.DataFrame, column: str, role: str) -> np.ndarray:
    """Return ``data[column]`` as a finite float array or raise ValueError."""
    series = data[column]
    if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        raise ValueError(
            f"{role} column {column!r} must be numeric, got dtype {series.dtype}"
        )
    values = series.to_numpy(dtype=float, na_value=np.nan)
    missing = np.isnan(values)
    if missing.any():
        raise ValueError(
            f"{role} column {column!r} has {int(missing.sum())} missing value(s) "
            f"(rows {_describe_rows(missing, data.index)})"
        )
    infinite = ~np.isfinite(values)
    if infinite.any():
        raise ValueError(
            f"{role} column {column!r} has {int(infinite.sum())} infinite value(s) "
            f"(rows {_describe_rows(infinite, data.index)})"
        )
    return values


def _group_codes(data: pd.DataFrame, column: str, role: str = "group") -> tuple[np.ndarray, list]:
    """Integer code of every row and the ordered group names.

    A pandas Categorical keeps its category order; any other column is
    sorted. Categories without rows raise a ValueError naming them, because
    a group without data would silently get a prior-only estimate.
    """
    series = data[column]
    if series.isna().any():
        missing = series.isna().to_numpy()
        raise ValueError(
            f"{role} column {column!r} has {int(missing.sum())} missing value(s) "
            f"(rows {_describe_rows(missing, data.index)})"
        )
    if isinstance(series.dtype, pd.CategoricalDtype):
        names = list(series.cat.categories)
        codes = series.cat.codes.to_numpy().astype("int64")
        counts = np.bincount(codes, minlength=len(names))
        empty = [str(name) for name, count in zip(names, counts, strict=True) if count == 0]
        if empty:
            raise ValueError(
                f"{role} column {column!r} has categories with no rows: {', '.join(empty)}; "
                f"drop them first, e.g. data[{column!r}] = "
                f"data[{column!r}].cat.remove_unused_categories()"
            )
        return codes, names
    uniques = pd.unique(series)
    try:
        names = sorted(uniques)
    except TypeError:  # mixed types that cannot be ordered: keep order of appearance
        names = list(uniques)
    codes = pd.Index(names).get_indexer(series)
    return codes.astype("int64"), list(names)


def _check_option(value, allowed: Sequence[str], argument: str) -> None:
    if value not in allowed:
        raise ValueError(
            f"{argument} must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}"
        )


def _check_names(outcome: str, predictor: str, group_dim: str | None = None) -> None:
    if outcome == predictor:
        raise ValueError(f"outcome and predictor are the same column ({outcome!r})")
    if group_dim is not None and group_dim in _RESERVED_DIMS:
        raise ValueError(f"group_dim cannot be {group_dim!r}; that dimension name is used internally")


def _sd(values: np.ndarray) -> float:
    if values.size < 2:
        return 1.0
    sd = float(np.std(values, ddof=1))
    return sd if np.isfinite(sd) and sd > 0 else 1.0


def prior_scales(data: pd.DataFrame, *, outcome: str = "china", predictor: str = "antiauth") -> PriorScales:
    """Data summaries that set the default prior scales (see the module docstring).

    Returns
    -------
    PriorScales
        ``outcome_mean``, ``outcome_sd`` and ``predictor_sd`` (ddof=1; 1.0 for
        a constant column).
    """
    data = _check_frame(data)
    _require_columns(data, [outcome, predictor])
    y = _numeric_column(data, outcome, "outcome")
    x = _numeric_column(data, predictor, "predictor")
    return _scales(y, x)


def _scales(y: np.ndarray, x: np.ndarray) -> PriorScales:
    return PriorScales(outcome_mean=float(np.mean(y)), outcome_sd=_sd(y), predictor_sd=_sd(x))


@dataclass(frozen=True)
class _Prepared:
    y: np.ndarray
    x: np.ndarray
    codes: np.ndarray
    names: list
    scales: PriorScales

    @property
    def x_mean(self) -> float:
        return float(np.mean(self.x))


def _prepare(data, outcome: str, predictor: str, group: str, group_dim: str) -> _Prepared:
    data = _check_frame(data)
    _check_names(outcome, predictor, group_dim)
    _require_columns(data, [outcome, predictor, group])
    y = _numeric_column(data, outcome, "outcome")
    x = _numeric_column(data, predictor, "predictor")
    codes, names = _group_codes(data, group, "group")
    return _Prepared(y=y, x=x, codes=codes, names=names, scales=_scales(y, x))


def _resolve_parameterization(parameterization, data, group) -> str:
    if parameterization is None:
        return default_parameterization(data, group)
    _check_option(parameterization, PARAMETERIZATIONS, "parameterization")
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
    data = _check_frame(data)
    _require_columns(data, [group])
    sizes = data[group].value_counts(dropna=True)
    sizes = sizes[sizes > 0]
    if sizes.empty:
        raise ValueError(f"group column {group!r} has no non-missing values")
    return CENTERED if float(sizes.median()) >= min_group_size else NONCENTERED


# --------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------


def _observation_data(prep: _Prepared, predictor: str, group_dim: str | None):
    """Register the row-level containers; return (x, predictor_mean, group_idx)."""
    x_data = pm.Data(predictor, prep.x, dims="obs_id")
    x_mean = pm.Data("predictor_mean", prep.x_mean)
    idx = None
    if group_dim is not None:
        idx = pm.Data(f"{group_dim}_idx", prep.codes, dims="obs_id")
    return x_data, x_mean, idx


def _likelihood(outcome: str, mu, sigma_y, y: np.ndarray):
    return pm.Normal(outcome, mu=mu, sigma=sigma_y, observed=y, dims="obs_id")


def _sigma_y(scales: PriorScales):
    return pm.Exponential("sigma_y", lam=1.0 / scales.outcome_sd)


def _group_effects(name: str, mean, sigma, dims: str, parameterization: str):
    """``name ~ Normal(mean, sigma)`` over ``dims``, centred or not."""
    if parameterization == CENTERED:
        return pm.Normal(name, mu=mean, sigma=sigma, dims=dims)
    offset = pm.Normal(f"{name}_offset", mu=0.0, sigma=1.0, dims=dims)
    return pm.Deterministic(name, mean + sigma * offset, dims=dims)


def _coords(prep: _Prepared, group_dim: str | None) -> dict:
    coords = {"obs_id": np.arange(prep.y.size)}
    if group_dim is not None:
        coords[group_dim] = prep.names
    return coords


# --------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------


def complete_pooling(
    data: pd.DataFrame, *, outcome: str = "china", predictor: str = "antiauth"
) -> pm.Model:
    """Complete pooling: one regression line for all rows, groups ignored.

    ``y_i ~ Normal(alpha + beta * (x_i - predictor_mean), sigma_y)``

    This is the seed assignment's Part 3.1 (individual-level regression) and,
    with ``predictor="log_trade_china"``, Part 3.2 (country-level
    regression, a country-level predictor copied to every respondent).

    Parameters
    ----------
    data
        One row per observation, with numeric ``outcome`` and ``predictor``
        columns and no missing values.
    outcome, predictor
        Column names.

    Returns
    -------
    pymc.Model
        Free variables: ``alpha`` (scalar; expected outcome at the mean
        predictor, outcome units), ``beta`` (scalar; outcome units per
        predictor unit), ``sigma_y`` (scalar; residual sd, outcome units).
        Containers: ``<predictor>`` (obs_id), ``predictor_mean`` (scalar).
        Observed: ``<outcome>`` (obs_id).

    Priors
    ------
    ``alpha ~ Normal(m_y, 2.5 s_y)``, ``beta ~ Normal(0, 2.5 s_y / s_x)``,
    ``sigma_y ~ Exponential(1 / s_y)``; see the module docstring.
    """
    data = _check_frame(data)
    _check_names(outcome, predictor)
    _require_columns(data, [outcome, predictor])
    y = _numeric_column(data, outcome, "outcome")
    x = _numeric_column(data, predictor, "predictor")
    prep = _Prepared(y=y, x=x, codes=np.zeros(y.size, dtype="int64"), names=[], scales=_scales(y, x))
    s = prep.scales
    with pm.Model(coords=_coords(prep, None)) as model:
        x_data, x_mean, _ = _observation_data(prep, predictor, None)
        alpha = pm.Normal("alpha", mu=s.outcome_mean, sigma=s.intercept_sd)
        beta = pm.Normal("beta", mu=0.0, sigma=s.slope_sd)
        sigma_y = _sigma_y(s)
        _likelihood(outcome, alpha + beta * (x_data - x_mean), sigma_y, y)
    return _attach(
        model,
        ModelSpec(
            kind="complete_pooling",
            outcome=outcome,
            predictor=predictor,
            predictor_mean=prep.x_mean,
            priors=s,
        ),
    )


def no_pooling(
    data: pd.DataFrame,
    *,
    outcome: str = "china",
    predictor: str = "antiauth",
    group: str = "country_name",
    group_dim: str = "country",
    varying_slopes: bool = False,
) -> pm.Model:
    """No pooling: an independent intercept (and optionally slope) per group.

    ``varying_slopes=False`` (the seed's Part 3.3):
    ``y_i ~ Normal(alpha[j] + beta * (x_i - predictor_mean), sigma_y)``.

    ``varying_slopes=True`` (the seed's formula (b), one regression per
    group): ``y_i ~ Normal(alpha[j] + beta[j] * (x_i - xbar_j), sigma_y)``
    where ``xbar_j`` is group j's own predictor mean, so ``alpha[j]`` is the
    expected outcome at the group's mean predictor.

    The group intercepts are independent draws from a wide fixed prior, so
    no information is shared between groups (the residual sd is shared).

    Parameters
    ----------
    data
        One row per observation.
    outcome, predictor, group
        Column names.
    group_dim
        Name of the group dimension (coordinate values: group names).
    varying_slopes
        Give every group its own slope.

    Returns
    -------
    pymc.Model
        ``alpha`` (group_dim), ``beta`` (scalar, or group_dim when
        ``varying_slopes``), ``sigma_y`` (scalar). Containers:
        ``<predictor>``, ``<group_dim>_idx`` (obs_id), ``predictor_mean``
        (scalar) and, with varying slopes, ``predictor_group_mean``
        (group_dim).

    Priors
    ------
    ``alpha[j] ~ Normal(m_y, 2.5 s_y)`` independently,
    ``beta (or beta[j]) ~ Normal(0, 2.5 s_y / s_x)``,
    ``sigma_y ~ Exponential(1 / s_y)``.
    """
    prep = _prepare(data, outcome, predictor, group, group_dim)
    s = prep.scales
    with pm.Model(coords=_coords(prep, group_dim)) as model:
        x_data, x_mean, idx = _observation_data(prep, predictor, group_dim)
        alpha = pm.Normal("alpha", mu=s.outcome_mean, sigma=s.intercept_sd, dims=group_dim)
        if varying_slopes:
            n_groups = len(prep.names)
            group_means = np.bincount(prep.codes, weights=prep.x, minlength=n_groups) / np.bincount(
                prep.codes, minlength=n_groups
            )
            x_group_mean = pm.Data("predictor_group_mean", group_means, dims=group_dim)
            beta = pm.Normal("beta", mu=0.0, sigma=s.slope_sd, dims=group_dim)
            mu = alpha[idx] + beta[idx] * (x_data - x_group_mean[idx])
        else:
            beta = pm.Normal("beta", mu=0.0, sigma=s.slope_sd)
            mu = alpha[idx] + beta * (x_data - x_mean)
        sigma_y = _sigma_y(s)
        _likelihood(outcome, mu, sigma_y, prep.y)
    return _attach(
        model,
        ModelSpec(
            kind="no_pooling",
            outcome=outcome,
            predictor=predictor,
            predictor_mean=prep.x_mean,
            priors=s,
            group=group,
            group_dim=group_dim,
            group_index=f"{group_dim}_idx",
            group_names=tuple(prep.names),
            varying_slopes=varying_slopes,
        ),
    )


def sufficient_statistics(y: np.ndarray, x_centered: np.ndarray, codes: np.ndarray, n_groups: int) -> dict:
    """Per-group statistics that the Gaussian likelihood depends on.

    With ``c_i = x_i - predictor_mean`` and, within group j, ``n_j`` rows,
    means ``ybar_j``, ``cbar_j`` and centred sums of squares and products
    ``S_cc = sum (c - cbar_j)^2``, ``S_cy = sum (c - cbar_j)(y - ybar_j)``,
    ``S_yy = sum (y - ybar_j)^2``, the residual sum of squares of the line
    ``a + b c`` is exactly::

        sum_i (y_i - a - b c_i)^2
            = S_yy - 2 b S_cy + b^2 S_cc + n_j (ybar_j - a - b cbar_j)^2

    These are one-to-one functions of the raw sums (n, sum y, sum x, sum x^2,
    sum xy, sum y^2) but are computed around the group means, which avoids
    the cancellation error of the raw-sum formula.

    Returns
    -------
    dict
        Arrays of length ``n_groups``: ``n``, ``y_bar``, ``x_bar`` (mean of the
        centred predictor), ``ss_xx``, ``ss_xy``, ``ss_yy``.
    """
    n = np.bincount(codes, minlength=n_groups).astype(float)
    safe_n = np.where(n > 0, n, 1.0)
    y_bar = np.bincount(codes, weights=y, minlength=n_groups) / safe_n
    x_bar = np.bincount(codes, weights=x_centered, minlength=n_groups) / safe_n
    dy = y - y_bar[codes]
    dx = x_centered - x_bar[codes]
    return {
        "n": n,
        "y_bar": y_bar,
        "x_bar": x_bar,
        "ss_xx": np.bincount(codes, weights=dx * dx, minlength=n_groups),
        "ss_xy": np.bincount(codes, weights=dx * dy, minlength=n_groups),
        "ss_yy": np.bincount(codes, weights=dy * dy, minlength=n_groups),
    }


def _sufficient_loglik(name: str, stats: dict, group_dim: str, alpha, beta, sigma_y):
    """Gaussian log-likelihood of all rows from per-group statistics.

    Returns a :func:`pymc.Potential` equal to the sum over rows of
    ``Normal(y_i | alpha[j] + beta * c_i, sigma_y)`` log densities,
    normalising constant included, at cost O(groups) instead of O(rows).
    """
    n = pm.Data("n_obs", stats["n"], dims=group_dim)
    y_bar = pm.Data("y_bar", stats["y_bar"], dims=group_dim)
    x_bar = pm.Data("x_bar", stats["x_bar"], dims=group_dim)
    ss_xx = pm.Data("ss_xx", stats["ss_xx"], dims=group_dim)
    ss_xy = pm.Data("ss_xy", stats["ss_xy"], dims=group_dim)
    ss_yy = pm.Data("ss_yy", stats["ss_yy"], dims=group_dim)
    rss = ss_yy - 2.0 * beta * ss_xy + beta**2 * ss_xx + n * (y_bar - alpha - beta * x_bar) ** 2
    n_total = pt.sum(n)
    loglik = -0.5 * n_total * np.log(2.0 * np.pi) - n_total * pt.log(sigma_y) - pt.sum(rss) / (2.0 * sigma_y**2)
    return pm.Potential(name, loglik)


def _group_likelihood(likelihood, prep, outcome, predictor, group_dim, alpha, beta, sigma_y, *,
                      varying_slopes=False):
    """The Gaussian likelihood of all rows, per row (``"full"``) or in sufficient statistics.

    ``alpha`` has dims ``group_dim``; ``beta`` is one common slope, or one slope per group
    (dims ``group_dim``) when ``varying_slopes``.
    """
    if likelihood == "full":
        x_data, x_mean, idx = _observation_data(prep, predictor, group_dim)
        slope = beta[idx] if varying_slopes else beta
        _likelihood(outcome, alpha[idx] + slope * (x_data - x_mean), sigma_y, prep.y)
    else:
        pm.Data("predictor_mean", prep.x_mean)
        stats = sufficient_statistics(prep.y, prep.x - prep.x_mean, prep.codes, len(prep.names))
        _sufficient_loglik(f"{outcome}_loglik", stats, group_dim, alpha, beta, sigma_y)


def partial_pooling(
    data: pd.DataFrame,
    *,
    outcome: str = "china",
    predictor: str = "antiauth",
    group: str = "country_name",
    group_dim: str = "country",
    parameterization: str | None = None,
    likelihood: str = "full",
) -> pm.Model:
    """Partial pooling: varying intercepts drawn from a common distribution.

    ::

        alpha[j] ~ Normal(mu_alpha, sigma_alpha)
        y_i      ~ Normal(alpha[j] + beta * (x_i - predictor_mean), sigma_y)

    This is the seed assignment's Part 3.4 (adaptive pooling). Groups with
    few rows are pulled toward ``mu_alpha``; groups with many rows keep
    close to their own no-pooling estimate.

    Parameters
    ----------
    data
        One row per observation.
    outcome, predictor, group, group_dim
        Column and dimension names.
    parameterization
        ``"centered"`` samples ``alpha`` directly; ``"noncentered"`` samples
        ``alpha_offset ~ Normal(0, 1)`` and sets ``alpha = mu_alpha +
        sigma_alpha * alpha_offset`` (Deterministic). ``None`` (default) uses
        :func:`default_parameterization`.
    likelihood
        ``"full"``: an observed ``<outcome>`` variable with one entry per row
        (needed for posterior predictive sampling). ``"sufficient"``: the
        same Gaussian likelihood written in terms of per-group sufficient
        statistics (see :func:`sufficient_statistics`) as a
        :func:`pymc.Potential` named ``<outcome>_loglik``; the log density is
        identical to the full one (normalising constant included), so the
        posterior is the same, but each gradient costs O(groups) instead of
        O(rows). The statistics are stored in containers ``n_obs``,
        ``y_bar``, ``x_bar``, ``ss_xx``, ``ss_xy``, ``ss_yy`` (group_dim); the
        row-level containers are omitted.

    Returns
    -------
    pymc.Model
        ``mu_alpha``, ``sigma_alpha``, ``beta``, ``sigma_y`` (scalars,
        outcome units), ``alpha`` (group_dim; expected outcome in group j at
        the overall mean predictor) and, non-centred, ``alpha_offset``
        (group_dim, standard units).

    Priors
    ------
    ``mu_alpha ~ Normal(m_y, 2.5 s_y)``, ``sigma_alpha ~ HalfNormal(s_y)``,
    ``beta ~ Normal(0, 2.5 s_y / s_x)``, ``sigma_y ~ Exponential(1 / s_y)``.
    ``HalfNormal(s_y)`` allows between-group sds up to about twice the
    outcome's sd while keeping mass near zero, so complete pooling remains
    a possibility the data can choose.
    """
    prep = _prepare(data, outcome, predictor, group, group_dim)
    _check_option(likelihood, LIKELIHOODS, "likelihood")
    param = _resolve_parameterization(parameterization, data, group)
    s = prep.scales
    coords = _coords(prep, group_dim)
    if likelihood == "sufficient":
        del coords["obs_id"]
    with pm.Model(coords=coords) as model:
        mu_alpha = pm.Normal("mu_alpha", mu=s.outcome_mean, sigma=s.intercept_sd)
        sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=s.outcome_sd)
        alpha = _group_effects("alpha", mu_alpha, sigma_alpha, group_dim, param)
        beta = pm.Normal("beta", mu=0.0, sigma=s.slope_sd)
        sigma_y = _sigma_y(s)
        _group_likelihood(likelihood, prep, outcome, predictor, group_dim, alpha, beta, sigma_y)
    return _attach(
        model,
        ModelSpec(
            kind="partial_pooling",
            outcome=outcome,
            predictor=predictor,
            predictor_mean=prep.x_mean,
            priors=s,
            group=group,
            group_dim=group_dim,
            group_index=f"{group_dim}_idx" if likelihood == "full" else None,
            group_names=tuple(prep.names),
            parameterization=param,
            likelihood=likelihood,
        ),
    )


def varying_slopes(
    data: pd.DataFrame,
    *,
    outcome: str = "china",
    predictor: str = "antiauth",
    group: str = "country_name",
    group_dim: str = "country",
    parameterization: str | None = None,
    eta: float = 2.0,
    likelihood: str = "full",
) -> pm.Model:
    """Partial pooling of correlated intercepts and slopes.

    ::

        (alpha[j], beta[j]) ~ MvNormal((mu_alpha, mu_beta), Sigma)
        Sigma = diag(sigma_alpha, sigma_beta) R diag(sigma_alpha, sigma_beta)
        R ~ LKJ(eta),  R[0, 1] = rho
        y_i ~ Normal(alpha[j] + beta[j] * (x_i - predictor_mean), sigma_y)

    The covariance is built with :class:`pymc.LKJCholeskyCov` (variable
    ``chol``, the packed Cholesky factor).

    Parameters
    ----------
    data
        One row per observation.
    outcome, predictor, group, group_dim
        Column and dimension names.
    parameterization
        ``"centered"``: ``ab ~ MvNormal(mu, chol=chol)`` with dims
        ``(group_dim, "effect")``. ``"noncentered"``: ``ab_offset ~
        Normal(0, 1)`` with the same dims and ``ab = mu + ab_offset @ chol.T``
        (Deterministic). ``None``: :func:`default_parameterization`.
    eta
        LKJ shape; 2 (the default) puts mildly more mass on small
        correlations than a uniform prior over correlation matrices.
    likelihood
        ``"full"`` or ``"sufficient"``, as in :func:`partial_pooling`: with one slope
        per group, group j's residual sum of squares is
        ``ss_yy - 2 b_j ss_xy + b_j^2 ss_xx + n_j (y_bar - a_j - b_j x_bar)^2``, so the
        per-group statistics still determine the likelihood exactly.

    Returns
    -------
    pymc.Model
        Free: ``mu_alpha``, ``mu_beta``, ``chol``, ``sigma_y`` and ``ab`` or
        ``ab_offset`` (group_dim, effect; effect coordinates ``"intercept"``,
        ``"slope"``). Deterministic: ``alpha``, ``beta`` (group_dim),
        ``sigma_alpha``, ``sigma_beta``, ``rho`` (scalars), and ``ab`` in the
        non-centred form.

    Priors
    ------
    ``mu_alpha ~ Normal(m_y, 2.5 s_y)``, ``mu_beta ~ Normal(0, 2.5 s_y /
    s_x)``, group sds ``HalfNormal([s_y, s_y / s_x])`` (the ``sd_dist`` of
    the LKJ prior), correlation ``LKJ(eta=2)``, ``sigma_y ~ Exponential(1 /
    s_y)``.
    """
    prep = _prepare(data, outcome, predictor, group, group_dim)
    _check_option(likelihood, LIKELIHOODS, "likelihood")
    param = _resolve_parameterization(parameterization, data, group)
    s = prep.scales
    coords = _coords(prep, group_dim)
    coords["effect"] = ["intercept", "slope"]
    if likelihood == "sufficient":
        del coords["obs_id"]
    with pm.Model(coords=coords) as model:
        mu_alpha = pm.Normal("mu_alpha", mu=s.outcome_mean, sigma=s.intercept_sd)
        mu_beta = pm.Normal("mu_beta", mu=0.0, sigma=s.slope_sd)
        sd_dist = pm.HalfNormal.dist(sigma=np.array([s.outcome_sd, s.outcome_sd / s.predictor_sd]), shape=2)
        chol, corr, stds = pm.LKJCholeskyCov(
            "chol", n=2, eta=eta, sd_dist=sd_dist, compute_corr=True, store_in_trace=False
        )
        mu = pt.stack([mu_alpha, mu_beta])
        if param == CENTERED:
            ab = pm.MvNormal("ab", mu=mu, chol=chol, dims=(group_dim, "effect"))
        else:
            ab_offset = pm.Normal("ab_offset", mu=0.0, sigma=1.0, dims=(group_dim, "effect"))
            ab = pm.Deterministic("ab", mu + pt.dot(ab_offset, chol.T), dims=(group_dim, "effect"))
        alpha = pm.Deterministic("alpha", ab[:, 0], dims=group_dim)
        beta = pm.Deterministic("beta", ab[:, 1], dims=group_dim)
        pm.Deterministic("sigma_alpha", stds[0])
        pm.Deterministic("sigma_beta", stds[1])
        pm.Deterministic("rho", corr[0, 1])
        sigma_y = _sigma_y(s)
        _group_likelihood(
            likelihood, prep, outcome, predictor, group_dim, alpha, beta, sigma_y, varying_slopes=True
        )
    return _attach(
        model,
        ModelSpec(
            kind="varying_slopes",
            outcome=outcome,
            predictor=predictor,
            predictor_mean=prep.x_mean,
            priors=s,
            group=group,
            group_dim=group_dim,
            group_index=f"{group_dim}_idx" if likelihood == "full" else None,
            group_names=tuple(prep.names),
            parameterization=param,
            likelihood=likelihood,
            varying_slopes=True,
        ),
    )


def _group_level_values(data: pd.DataFrame, column: str, codes: np.ndarray, names: list, group: str) -> np.ndarray:
    """One value of a group-level column per group; raise if it varies within a group."""
    values = _numeric_column(data, column, "group predictor")
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


def group_level_predictor(
    data: pd.DataFrame,
    *,
    outcome: str = "china",
    predictor: str = "antiauth",
    group: str = "country_name",
    group_dim: str = "country",
    group_predictor: str = "log_trade_china",
    parameterization: str | None = None,
) -> pm.Model:
    """Partial pooling with a group-level predictor of the intercepts.

    ::

        alpha[j] ~ Normal(gamma_0 + gamma_1 * (u_j - ubar), sigma_alpha)
        y_i      ~ Normal(alpha[j] + beta * (x_i - predictor_mean), sigma_y)

    ``u_j`` is the value of ``group_predictor`` in group j (it must be
    constant within each group, e.g. ``log_trade_china`` per country or
    ``log_uranium`` per county) and ``ubar`` its mean over groups (each group
    counted once), so ``gamma_0`` is the expected intercept of a group with
    an average group-level predictor. Groups are then pooled toward their
    own regression-predicted value rather than toward one common mean.

    Parameters
    ----------
    data
        One row per observation.
    outcome, predictor, group, group_dim
        Column and dimension names.
    group_predictor
        Column constant within groups.
    parameterization
        ``"centered"``/``"noncentered"``/``None``, as in
        :func:`partial_pooling`.

    Returns
    -------
    pymc.Model
        ``gamma_0`` (outcome units), ``gamma_1`` (outcome units per unit of
        the group predictor), ``sigma_alpha``, ``alpha`` (group_dim), ``beta``,
        ``sigma_y``; non-centred also ``alpha_offset``. Containers as in
        :func:`partial_pooling` plus ``<group_predictor>`` (group_dim) and
        ``group_predictor_mean`` (scalar).

    Priors
    ------
    ``gamma_0 ~ Normal(m_y, 2.5 s_y)``, ``gamma_1 ~ Normal(0, 2.5 s_y /
    s_u)`` with ``s_u`` the sd of ``u_j`` over groups,
    ``sigma_alpha ~ HalfNormal(s_y)``, ``beta ~ Normal(0, 2.5 s_y / s_x)``,
    ``sigma_y ~ Exponential(1 / s_y)``.
    """
    prep = _prepare(data, outcome, predictor, group, group_dim)
    _require_columns(data, [group_predictor])
    if group_predictor in (outcome, predictor):
        raise ValueError(f"group_predictor {group_predictor!r} is also the outcome or the predictor")
    u = _group_level_values(data, group_predictor, prep.codes, prep.names, group)
    param = _resolve_parameterization(parameterization, data, group)
    s = prep.scales
    with pm.Model(coords=_coords(prep, group_dim)) as model:
        x_data, x_mean, idx = _observation_data(prep, predictor, group_dim)
        alpha_mean = _group_regression(u, group_predictor, group_dim, s)
        sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=s.outcome_sd)
        alpha = _group_effects("alpha", alpha_mean, sigma_alpha, group_dim, param)
        beta = pm.Normal("beta", mu=0.0, sigma=s.slope_sd)
        sigma_y = _sigma_y(s)
        _likelihood(outcome, alpha[idx] + beta * (x_data - x_mean), sigma_y, prep.y)
    return _attach(
        model,
        ModelSpec(
            kind="group_level_predictor",
            outcome=outcome,
            predictor=predictor,
            predictor_mean=prep.x_mean,
            priors=s,
            group=group,
            group_dim=group_dim,
            group_index=f"{group_dim}_idx",
            group_names=tuple(prep.names),
            parameterization=param,
            group_predictor=group_predictor,
        ),
    )


def _group_regression(u: np.ndarray, group_predictor: str, group_dim: str, s: PriorScales):
    """Register ``gamma_0``, ``gamma_1`` and the group-level containers; return the mean of alpha."""
    u_mean = float(np.mean(u))
    u_sd = _sd(u)
    u_data = pm.Data(group_predictor, u, dims=group_dim)
    u_center = pm.Data("group_predictor_mean", u_mean)
    gamma_0 = pm.Normal("gamma_0", mu=s.outcome_mean, sigma=s.intercept_sd)
    gamma_1 = pm.Normal("gamma_1", mu=0.0, sigma=PRIOR_SD_MULTIPLIER * s.outcome_sd / u_sd)
    return gamma_0 + gamma_1 * (u_data - u_center)


def _nesting(sub_codes: np.ndarray, codes: np.ndarray, sub_names: list, names: list, subgroup: str, group: str) -> np.ndarray:
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


def three_level(
    data: pd.DataFrame,
    *,
    outcome: str = "china",
    predictor: str = "antiauth",
    group: str = "country_name",
    group_dim: str = "country",
    subgroup: str = "party",
    subgroup_dim: str = "party",
    group_predictor: str | None = None,
    parameterization: str | tuple[str, str] | None = None,
) -> pm.Model:
    """Three levels: respondents in parties in countries.

    ::

        alpha[c]        ~ Normal(mu_alpha, sigma_alpha)            country
        party_effect[p] ~ Normal(0, sigma_party)                   party within country
        y_i ~ Normal(alpha[c[p]] + party_effect[p] + beta * (x_i - predictor_mean), sigma_y)

    With ``group_predictor`` (e.g. ``"log_trade_china"``) the country mean
    becomes ``gamma_0 + gamma_1 * (u_c - ubar)`` as in
    :func:`group_level_predictor` and ``mu_alpha`` is replaced by
    ``gamma_0``, ``gamma_1``. That version mirrors how the simulated survey
    is generated, which makes it the model for parameter-recovery checks.

    Parameters
    ----------
    data
        One row per observation.
    outcome, predictor, group, group_dim
        Column and dimension names for the upper level.
    subgroup, subgroup_dim
        Column and dimension names of the nested level; each subgroup
        value must occur in exactly one group (party names are unique across
        countries).
    group_predictor
        Optional group-level column, constant within groups.
    parameterization
        One of ``"centered"``/``"noncentered"`` for both levels, a pair
        ``(country_level, party_level)``, or ``None`` to apply
        :func:`default_parameterization` to each level separately (country
        level by ``group``, party level by ``subgroup``). Non-centred levels
        sample ``alpha_offset`` and ``party_offset`` (standard normal).

    Returns
    -------
    pymc.Model
        ``mu_alpha`` (or ``gamma_0``, ``gamma_1``), ``sigma_alpha``,
        ``sigma_party``, ``alpha`` (group_dim), ``party_effect``
        (subgroup_dim), ``beta``, ``sigma_y``. Containers: ``<predictor>``,
        ``<subgroup_dim>_idx`` (obs_id), ``<subgroup_dim>_<group_dim>_idx``
        (subgroup_dim; each party's country code), ``predictor_mean``.

    Priors
    ------
    As in :func:`partial_pooling` and :func:`group_level_predictor`, with
    ``sigma_party ~ HalfNormal(s_y)``.
    """
    prep = _prepare(data, outcome, predictor, group, group_dim)
    _require_columns(data, [subgroup])
    if subgroup_dim in _RESERVED_DIMS or subgroup_dim == group_dim:
        raise ValueError(f"subgroup_dim {subgroup_dim!r} clashes with another dimension name")
    if subgroup == group:
        raise ValueError("group and subgroup are the same column")
    sub_codes, sub_names = _group_codes(data, subgroup, "subgroup")
    parent = _nesting(sub_codes, prep.codes, sub_names, prep.names, subgroup, group)
    if isinstance(parameterization, tuple | list):
        if len(parameterization) != 2:
            raise ValueError("parameterization must be a string or a pair (country_level, party_level)")
        group_param = _resolve_parameterization(parameterization[0], data, group)
        sub_param = _resolve_parameterization(parameterization[1], data, subgroup)
    else:
        group_param = _resolve_parameterization(parameterization, data, group)
        sub_param = _resolve_parameterization(parameterization, data, subgroup)
    u = None
    if group_predictor is not None:
        _require_columns(data, [group_predictor])
        if group_predictor in (outcome, predictor):
            raise ValueError(f"group_predictor {group_predictor!r} is also the outcome or the predictor")
        u = _group_level_values(data, group_predictor, prep.codes, prep.names, group)
    s = prep.scales
    coords = _coords(prep, group_dim)
    coords[subgroup_dim] = sub_names
    sub_index = f"{subgroup_dim}_idx"
    parent_index = f"{subgroup_dim}_{group_dim}_idx"
    with pm.Model(coords=coords) as model:
        x_data = pm.Data(predictor, prep.x, dims="obs_id")
        x_mean = pm.Data("predictor_mean", prep.x_mean)
        party_idx = pm.Data(sub_index, sub_codes, dims="obs_id")
        party_country = pm.Data(parent_index, parent, dims=subgroup_dim)
        if u is None:
            alpha_mean = pm.Normal("mu_alpha", mu=s.outcome_mean, sigma=s.intercept_sd)
        else:
            alpha_mean = _group_regression(u, group_predictor, group_dim, s)
        sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=s.outcome_sd)
        alpha = _group_effects("alpha", alpha_mean, sigma_alpha, group_dim, group_param)
        sigma_party = pm.HalfNormal("sigma_party", sigma=s.outcome_sd)
        if sub_param == CENTERED:
            party_effect = pm.Normal("party_effect", mu=0.0, sigma=sigma_party, dims=subgroup_dim)
        else:
            party_offset = pm.Normal("party_offset", mu=0.0, sigma=1.0, dims=subgroup_dim)
            party_effect = pm.Deterministic("party_effect", sigma_party * party_offset, dims=subgroup_dim)
        beta = pm.Normal("beta", mu=0.0, sigma=s.slope_sd)
        sigma_y = _sigma_y(s)
        party_mean = alpha[party_country] + party_effect
        _likelihood(outcome, party_mean[party_idx] + beta * (x_data - x_mean), sigma_y, prep.y)
    return _attach(
        model,
        ModelSpec(
            kind="three_level",
            outcome=outcome,
            predictor=predictor,
            predictor_mean=prep.x_mean,
            priors=s,
            group=group,
            group_dim=group_dim,
            group_index=None,
            group_names=tuple(prep.names),
            parameterization=group_param,
            group_predictor=group_predictor,
            subgroup=subgroup,
            subgroup_dim=subgroup_dim,
            subgroup_index=sub_index,
            subgroup_names=tuple(sub_names),
            subgroup_parameterization=sub_param,
        ),
    )
