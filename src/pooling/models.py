"""Model builders for complete, no and partial pooling.

Every builder is a plain function that takes a tidy :class:`pandas.DataFrame`
and returns a :class:`pymc.Model`. The builders are generic over column names,
so the same code fits the survey (``china`` on ``antiauth`` by
``country_name``) and the radon data (``log_radon`` on ``floor`` by
``county``)::

    partial_pooling(survey)
    partial_pooling(radon, columns=RADON)      # from pooling.columns import RADON

The column roles come from a :class:`~pooling.columns.Columns` (``columns=``, default
:data:`~pooling.columns.SURVEY`); the keywords ``outcome``, ``predictor``, ``group`` and
``group_dim`` override single roles.

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
    is the expected outcome at the average predictor value (the course
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

import dataclasses

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from pooling.blocks import (
    CENTERED,
    CENTERED_MIN_GROUP_SIZE,
    LIKELIHOODS,
    NONCENTERED,
    RESERVED_DIMS,
    Prepared,
    check_option,
    coords_of,
    default_parameterization,
    group_effects,
    group_level_values,
    group_regression,
    nesting,
    positive_scale,
    prepare,
    resolve_parameterization,
    sigma_y_prior,
)
from pooling.columns import PREDICTOR_GROUP_MEAN, PREDICTOR_MEAN, SURVEY, Columns, group_codes, require_columns
from pooling.likelihood import group_likelihood, observation_data, row_likelihood, sufficient_statistics
from pooling.spec import ModelSpec, PriorScales, attach_spec, model_spec, prior_scales

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


def _spec(kind: str, cols: Columns, prep: Prepared, **details) -> ModelSpec:
    """The :class:`ModelSpec` of a ``kind`` model built from ``prep`` with the roles ``cols``.

    ``group_index`` defaults to ``<group_dim>_idx``, the container the row-wise likelihood
    reads (none without groups or with the sufficient-statistics likelihood).
    """
    if "group_index" not in details:
        row_wise = cols.group_dim is not None and details.get("likelihood", "full") == "full"
        details["group_index"] = f"{cols.group_dim}_idx" if row_wise else None
    return ModelSpec(kind=kind, outcome=cols.outcome, predictor=cols.predictor, predictor_mean=prep.x_mean,
                     priors=prep.scales, group=cols.group, group_dim=cols.group_dim,
                     group_names=tuple(prep.names), **details)


def complete_pooling(
    data: pd.DataFrame, *, columns: Columns = SURVEY, outcome: str | None = None, predictor: str | None = None
) -> pm.Model:
    """Complete pooling: one regression line for all rows, groups ignored.

    ``y_i ~ Normal(alpha + beta * (x_i - predictor_mean), sigma_y)``

    This is the course assignment's Part 3.1 (individual-level regression) and,
    with ``predictor="log_trade_china"``, Part 3.2 (country-level
    regression, a country-level predictor copied to every respondent).

    Parameters
    ----------
    data
        One row per observation, with numeric ``outcome`` and ``predictor``
        columns and no missing values.
    columns
        Column roles (:data:`~pooling.columns.SURVEY` by default); only the
        outcome and the predictor are used.
    outcome, predictor
        Override those roles (column names).

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
    cols = Columns(outcome=outcome or columns.outcome, predictor=predictor or columns.predictor)
    outcome, predictor = cols.outcome, cols.predictor
    prep = prepare(data, cols)
    s = prep.scales
    with pm.Model(coords=coords_of(prep, None)) as model:
        x_data, x_mean, _ = observation_data(prep, predictor, None)
        alpha = pm.Normal("alpha", mu=s.outcome_mean, sigma=s.intercept_sd)
        beta = pm.Normal("beta", mu=0.0, sigma=s.slope_sd)
        sigma_y = sigma_y_prior(s)
        row_likelihood(outcome, alpha + beta * (x_data - x_mean), sigma_y, prep.y)
    return attach_spec(model, _spec("complete_pooling", cols, prep))


def no_pooling(
    data: pd.DataFrame,
    *,
    columns: Columns = SURVEY,
    outcome: str | None = None,
    predictor: str | None = None,
    group: str | None = None,
    group_dim: str | None = None,
    varying_slopes: bool = False,
) -> pm.Model:
    """No pooling: an independent intercept (and optionally slope) per group.

    ``varying_slopes=False`` (the course assignment's Part 3.3):
    ``y_i ~ Normal(alpha[j] + beta * (x_i - predictor_mean), sigma_y)``.

    ``varying_slopes=True`` (the assignment's formula (b), one regression per
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
    cols = columns.with_(outcome=outcome, predictor=predictor, group=group, group_dim=group_dim)
    outcome, predictor, group, group_dim = cols.outcome, cols.predictor, cols.group, cols.group_dim
    prep = prepare(data, cols)
    s = prep.scales
    with pm.Model(coords=coords_of(prep, group_dim)) as model:
        x_data, x_mean, idx = observation_data(prep, predictor, group_dim)
        alpha = pm.Normal("alpha", mu=s.outcome_mean, sigma=s.intercept_sd, dims=group_dim)
        if varying_slopes:
            n_groups = len(prep.names)
            group_means = np.bincount(prep.codes, weights=prep.x, minlength=n_groups) / np.bincount(
                prep.codes, minlength=n_groups
            )
            x_group_mean = pm.Data(PREDICTOR_GROUP_MEAN, group_means, dims=group_dim)
            beta = pm.Normal("beta", mu=0.0, sigma=s.slope_sd, dims=group_dim)
            mu = alpha[idx] + beta[idx] * (x_data - x_group_mean[idx])
        else:
            beta = pm.Normal("beta", mu=0.0, sigma=s.slope_sd)
            mu = alpha[idx] + beta * (x_data - x_mean)
        sigma_y = sigma_y_prior(s)
        row_likelihood(outcome, mu, sigma_y, prep.y)
    return attach_spec(model, _spec(
        "no_pooling",
        cols,
        prep,
        varying_slopes=varying_slopes,
    ))


def partial_pooling(
    data: pd.DataFrame,
    *,
    columns: Columns = SURVEY,
    outcome: str | None = None,
    predictor: str | None = None,
    group: str | None = None,
    group_dim: str | None = None,
    parameterization: str | None = None,
    likelihood: str = "full",
    sigma_alpha_scale: float | None = None,
) -> pm.Model:
    """Partial pooling: varying intercepts drawn from a common distribution.

    ::

        alpha[j] ~ Normal(mu_alpha, sigma_alpha)
        y_i      ~ Normal(alpha[j] + beta * (x_i - predictor_mean), sigma_y)

    This is the course assignment's Part 3.4 (adaptive pooling). Groups with
    few rows are pulled toward ``mu_alpha``; groups with many rows keep
    close to their own no-pooling estimate.

    Parameters
    ----------
    data
        One row per observation.
    columns
        Column roles: :data:`~pooling.columns.SURVEY` (default) or
        :data:`~pooling.columns.RADON`, or any :class:`~pooling.columns.Columns`.
    outcome, predictor, group, group_dim
        Override single roles of ``columns`` (column and dimension names).
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
        ``y_bar``, ``x_bar`` (group mean of the raw predictor), ``ss_xx``,
        ``ss_xy``, ``ss_yy`` (group_dim); the row-level containers are
        omitted. ``predictor_mean`` is kept and used (the line is
        ``a + b (x_bar - predictor_mean)`` at the group mean), so setting it
        with :func:`pymc.set_data` moves the centre as in the full likelihood.
    sigma_alpha_scale
        Scale of the ``HalfNormal`` prior of ``sigma_alpha``, in outcome units.
        ``None`` (default) uses ``s_y``, the sd of the outcome. A small scale
        (say a tenth of ``s_y``) is a strict prior that says groups differ
        little and pulls every group toward ``mu_alpha``; a large one lets the
        data alone set the spread.

    Returns
    -------
    pymc.Model
        ``mu_alpha``, ``sigma_alpha``, ``beta``, ``sigma_y`` (scalars,
        outcome units), ``alpha`` (group_dim; expected outcome in group j at
        the overall mean predictor) and, non-centred, ``alpha_offset``
        (group_dim, standard units).

    Priors
    ------
    ``mu_alpha ~ Normal(m_y, 2.5 s_y)``, ``sigma_alpha ~ HalfNormal(s_y)``
    (or ``HalfNormal(sigma_alpha_scale)``), ``beta ~ Normal(0, 2.5 s_y / s_x)``,
    ``sigma_y ~ Exponential(1 / s_y)``. ``HalfNormal(s_y)`` allows between-group
    sds up to about twice the outcome's sd while keeping mass near zero, so
    complete pooling remains a possibility the data can choose.
    """
    cols = columns.with_(outcome=outcome, predictor=predictor, group=group, group_dim=group_dim)
    outcome, predictor, group, group_dim = cols.outcome, cols.predictor, cols.group, cols.group_dim
    prep = prepare(data, cols)
    check_option(likelihood, LIKELIHOODS, "likelihood")
    param = resolve_parameterization(parameterization, data, group)
    s = prep.scales
    group_sd_scale = s.outcome_sd if sigma_alpha_scale is None else positive_scale(sigma_alpha_scale,
                                                                                   "sigma_alpha_scale")
    coords = coords_of(prep, group_dim)
    if likelihood == "sufficient":
        del coords["obs_id"]
    with pm.Model(coords=coords) as model:
        mu_alpha = pm.Normal("mu_alpha", mu=s.outcome_mean, sigma=s.intercept_sd)
        sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=group_sd_scale)
        alpha = group_effects("alpha", mu_alpha, sigma_alpha, group_dim, param)
        beta = pm.Normal("beta", mu=0.0, sigma=s.slope_sd)
        sigma_y = sigma_y_prior(s)
        group_likelihood(likelihood, prep, outcome, predictor, group_dim, alpha, beta, sigma_y)
    return attach_spec(model, _spec(
        "partial_pooling",
        cols,
        prep,
        parameterization=param,
        likelihood=likelihood,
        group_sd_scale=None if sigma_alpha_scale is None else group_sd_scale,
    ))


def varying_slopes(
    data: pd.DataFrame,
    *,
    columns: Columns = SURVEY,
    outcome: str | None = None,
    predictor: str | None = None,
    group: str | None = None,
    group_dim: str | None = None,
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

    The two standard deviations and the correlation matrix are separate variables
    (``sigma_alpha``, ``sigma_beta`` and ``chol_corr``, the Cholesky factor of ``R``
    from :class:`pymc.LKJCorr`), and ``Sigma``'s Cholesky factor is
    ``diag(sigma_alpha, sigma_beta) @ chol_corr``. This is the joint prior that
    :class:`pymc.LKJCholeskyCov` defines, written so that the scales and the
    correlation have unconstrained coordinates of their own: with the packed
    covariance factor, whose off-diagonal element is ``sigma_beta * rho``, a small
    ``sigma_beta`` narrows the scale of that element with it (a funnel), and chains
    that wander close to ``sigma_beta = 0`` can stick there (``benchmarks/README.md``).

    Parameters
    ----------
    data
        One row per observation.
    columns
        Column roles: :data:`~pooling.columns.SURVEY` (default) or
        :data:`~pooling.columns.RADON`, or any :class:`~pooling.columns.Columns`.
    outcome, predictor, group, group_dim
        Override single roles of ``columns`` (column and dimension names).
    parameterization
        ``"centered"``: ``ab ~ MvNormal(mu, chol=chol)`` with dims
        ``(group_dim, "effect")``, where ``chol = diag(sigma_alpha, sigma_beta) @
        chol_corr``. ``"noncentered"``: ``ab_offset ~ Normal(0, 1)`` with the same
        dims and ``ab = mu + ab_offset @ chol.T`` (Deterministic). ``None``:
        :func:`default_parameterization`.
    eta
        LKJ shape; 2 (the default) puts mildly more mass on small
        correlations than a uniform prior over correlation matrices.
    likelihood
        ``"full"`` or ``"sufficient"``, as in :func:`partial_pooling`: with one slope
        per group, group j's residual sum of squares is
        ``ss_yy - 2 b_j ss_xy + b_j^2 ss_xx + n_j (y_bar - a_j - b_j c_bar)^2``, with
        ``c_bar = x_bar - predictor_mean``, so the
        per-group statistics still determine the likelihood exactly.

    Returns
    -------
    pymc.Model
        Free: ``mu_alpha``, ``mu_beta``, ``sigma_alpha``, ``sigma_beta``,
        ``chol_corr`` (2 x 2, lower triangular), ``sigma_y`` and ``ab`` or
        ``ab_offset`` (group_dim, effect; effect coordinates ``"intercept"``,
        ``"slope"``). Deterministic: ``alpha``, ``beta`` (group_dim), ``rho``
        (scalar), and ``ab`` in the non-centred form.

    Priors
    ------
    ``mu_alpha ~ Normal(m_y, 2.5 s_y)``, ``mu_beta ~ Normal(0, 2.5 s_y /
    s_x)``, ``sigma_alpha ~ HalfNormal(s_y)``, ``sigma_beta ~ HalfNormal(s_y /
    s_x)``, correlation matrix ``R ~ LKJ(eta=2)``, ``sigma_y ~ Exponential(1 /
    s_y)``.
    """
    cols = columns.with_(outcome=outcome, predictor=predictor, group=group, group_dim=group_dim)
    outcome, predictor, group, group_dim = cols.outcome, cols.predictor, cols.group, cols.group_dim
    prep = prepare(data, cols)
    check_option(likelihood, LIKELIHOODS, "likelihood")
    param = resolve_parameterization(parameterization, data, group)
    s = prep.scales
    coords = coords_of(prep, group_dim)
    coords["effect"] = ["intercept", "slope"]
    if likelihood == "sufficient":
        del coords["obs_id"]
    with pm.Model(coords=coords) as model:
        mu_alpha = pm.Normal("mu_alpha", mu=s.outcome_mean, sigma=s.intercept_sd)
        mu_beta = pm.Normal("mu_beta", mu=0.0, sigma=s.slope_sd)
        sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=s.outcome_sd)
        sigma_beta = pm.HalfNormal("sigma_beta", sigma=s.outcome_sd / s.predictor_sd)
        chol_corr = pm.LKJCorr("chol_corr", n=2, eta=eta)
        chol = pt.stack([sigma_alpha, sigma_beta])[:, None] * chol_corr
        mu = pt.stack([mu_alpha, mu_beta])
        if param == CENTERED:
            ab = pm.MvNormal("ab", mu=mu, chol=chol, dims=(group_dim, "effect"))
        else:
            ab_offset = pm.Normal("ab_offset", mu=0.0, sigma=1.0, dims=(group_dim, "effect"))
            ab = pm.Deterministic("ab", mu + pt.dot(ab_offset, chol.T), dims=(group_dim, "effect"))
        alpha = pm.Deterministic("alpha", ab[:, 0], dims=group_dim)
        beta = pm.Deterministic("beta", ab[:, 1], dims=group_dim)
        pm.Deterministic("rho", chol_corr[1, 0])
        sigma_y = sigma_y_prior(s)
        group_likelihood(
            likelihood, prep, outcome, predictor, group_dim, alpha, beta, sigma_y, varying_slopes=True
        )
    return attach_spec(model, _spec(
        "varying_slopes",
        cols,
        prep,
        parameterization=param,
        likelihood=likelihood,
        varying_slopes=True,
    ))


def group_level_predictor(
    data: pd.DataFrame,
    *,
    columns: Columns = SURVEY,
    outcome: str | None = None,
    predictor: str | None = None,
    group: str | None = None,
    group_dim: str | None = None,
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
    columns
        Column roles: :data:`~pooling.columns.SURVEY` (default) or
        :data:`~pooling.columns.RADON`, or any :class:`~pooling.columns.Columns`.
    outcome, predictor, group, group_dim
        Override single roles of ``columns`` (column and dimension names).
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
    cols = columns.with_(outcome=outcome, predictor=predictor, group=group, group_dim=group_dim)
    outcome, predictor, group, group_dim = cols.outcome, cols.predictor, cols.group, cols.group_dim
    prep = prepare(data, cols)
    require_columns(data, [group_predictor])
    if group_predictor in (outcome, predictor):
        raise ValueError(f"group_predictor {group_predictor!r} is also the outcome or the predictor")
    u = group_level_values(data, group_predictor, prep.codes, prep.names, group)
    param = resolve_parameterization(parameterization, data, group)
    s = prep.scales
    with pm.Model(coords=coords_of(prep, group_dim)) as model:
        x_data, x_mean, idx = observation_data(prep, predictor, group_dim)
        alpha_mean = group_regression(u, group_predictor, group_dim, s)
        sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=s.outcome_sd)
        alpha = group_effects("alpha", alpha_mean, sigma_alpha, group_dim, param)
        beta = pm.Normal("beta", mu=0.0, sigma=s.slope_sd)
        sigma_y = sigma_y_prior(s)
        row_likelihood(outcome, alpha[idx] + beta * (x_data - x_mean), sigma_y, prep.y)
    return attach_spec(model, _spec(
        "group_level_predictor",
        cols,
        prep,
        parameterization=param,
        group_predictor=group_predictor,
    ))


def three_level(
    data: pd.DataFrame,
    *,
    columns: Columns = SURVEY,
    outcome: str | None = None,
    predictor: str | None = None,
    group: str | None = None,
    group_dim: str | None = None,
    subgroup: str = "party",
    subgroup_dim: str = "party",
    group_predictor: str | None = None,
    parameterization: str | tuple[str, str] | None = None,
    likelihood: str = "full",
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
    likelihood
        ``"full"`` (one observed entry per row) or ``"sufficient"``, as in
        :func:`partial_pooling`, with the statistics taken per *party*: every
        respondent of party p has the intercept ``alpha[c[p]] + party_effect[p]``,
        so the same identity holds with parties as the groups (containers
        ``n_obs``, ``y_bar``, ``x_bar``, ``ss_xx``, ``ss_xy``, ``ss_yy`` with dims
        ``subgroup_dim``; no row-level containers). Same posterior, at a cost
        per gradient that grows with the number of parties, not respondents.

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
    cols = columns.with_(outcome=outcome, predictor=predictor, group=group, group_dim=group_dim)
    outcome, predictor, group, group_dim = cols.outcome, cols.predictor, cols.group, cols.group_dim
    prep = prepare(data, cols)
    require_columns(data, [subgroup])
    if subgroup_dim in RESERVED_DIMS or subgroup_dim == group_dim:
        raise ValueError(f"subgroup_dim {subgroup_dim!r} clashes with another dimension name")
    if subgroup == group:
        raise ValueError("group and subgroup are the same column")
    check_option(likelihood, LIKELIHOODS, "likelihood")
    sub_codes, sub_names = group_codes(data, subgroup, "subgroup")
    parent = nesting(sub_codes, prep.codes, sub_names, prep.names, subgroup, group)
    if isinstance(parameterization, tuple | list):
        if len(parameterization) != 2:
            raise ValueError("parameterization must be a string or a pair (country_level, party_level)")
        group_param = resolve_parameterization(parameterization[0], data, group)
        sub_param = resolve_parameterization(parameterization[1], data, subgroup)
    else:
        group_param = resolve_parameterization(parameterization, data, group)
        sub_param = resolve_parameterization(parameterization, data, subgroup)
    u = None
    if group_predictor is not None:
        require_columns(data, [group_predictor])
        if group_predictor in (outcome, predictor):
            raise ValueError(f"group_predictor {group_predictor!r} is also the outcome or the predictor")
        u = group_level_values(data, group_predictor, prep.codes, prep.names, group)
    s = prep.scales
    coords = coords_of(prep, group_dim)
    coords[subgroup_dim] = sub_names
    if likelihood == "sufficient":
        del coords["obs_id"]
    sub_index = f"{subgroup_dim}_idx"
    parent_index = f"{subgroup_dim}_{group_dim}_idx"
    with pm.Model(coords=coords) as model:
        if likelihood == "full":
            x_data = pm.Data(predictor, prep.x, dims="obs_id")
            x_mean = pm.Data(PREDICTOR_MEAN, prep.x_mean)
            party_idx = pm.Data(sub_index, sub_codes, dims="obs_id")
        party_country = pm.Data(parent_index, parent, dims=subgroup_dim)
        if u is None:
            alpha_mean = pm.Normal("mu_alpha", mu=s.outcome_mean, sigma=s.intercept_sd)
        else:
            alpha_mean = group_regression(u, group_predictor, group_dim, s)
        sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=s.outcome_sd)
        alpha = group_effects("alpha", alpha_mean, sigma_alpha, group_dim, group_param)
        sigma_party = pm.HalfNormal("sigma_party", sigma=s.outcome_sd)
        if sub_param == CENTERED:
            party_effect = pm.Normal("party_effect", mu=0.0, sigma=sigma_party, dims=subgroup_dim)
        else:
            party_offset = pm.Normal("party_offset", mu=0.0, sigma=1.0, dims=subgroup_dim)
            party_effect = pm.Deterministic("party_effect", sigma_party * party_offset, dims=subgroup_dim)
        beta = pm.Normal("beta", mu=0.0, sigma=s.slope_sd)
        sigma_y = sigma_y_prior(s)
        party_mean = alpha[party_country] + party_effect
        if likelihood == "full":
            row_likelihood(outcome, party_mean[party_idx] + beta * (x_data - x_mean), sigma_y, prep.y)
        else:
            by_party = dataclasses.replace(prep, codes=sub_codes, names=list(sub_names))
            group_likelihood(likelihood, by_party, outcome, predictor, subgroup_dim, party_mean, beta, sigma_y)
    return attach_spec(model, _spec(
        "three_level",
        cols,
        prep,
        group_index=None,
        parameterization=group_param,
        group_predictor=group_predictor,
        subgroup=subgroup,
        subgroup_dim=subgroup_dim,
        subgroup_index=sub_index if likelihood == "full" else None,
        subgroup_names=tuple(sub_names),
        subgroup_parameterization=sub_param,
        likelihood=likelihood,
    ))
