"""Frequentist cross-check: a random-intercept model fitted by REML with statsmodels.

The partial-pooling model of the site,

    y_i     ~ Normal(alpha[j[i]] + beta * (x_i - mean(x)), sigma_y)
    alpha_j ~ Normal(mu_alpha, sigma_alpha)                   (or gamma_0 + gamma_1 * u_j)

is, apart from the priors, the classical linear mixed model with a random
intercept per group and a fixed slope.  :func:`fit_mixedlm` fits that model by
restricted maximum likelihood (REML) with :class:`statsmodels.regression.mixed_linear_model.MixedLM`
and reports its estimates on the same scale and under the same names as the
Bayesian models, and :func:`compare_with_bayes` lines them up against a
posterior in one tidy table.

The predictor is centred at its overall sample mean (as in
:func:`pooling.models.partial_pooling`), so the fixed intercept is the expected
outcome in a typical group at the average predictor value, and the per-group
intercepts (fixed intercept + group-level term + BLUP) are directly comparable
to the posterior of ``alpha``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pooling.columns import SURVEY, Columns, check_frame, numeric_column, require_columns, require_present

__all__ = ["MixedLMResult", "fit_mixedlm", "compare_with_bayes"]


@dataclass(frozen=True)
class MixedLMResult:
    """Estimates of a random-intercept model fitted by REML.

    Attributes
    ----------
    outcome, predictor, group, group_predictor
        Column names used for the fit (``group_predictor`` is ``None`` when
        the model has no group-level predictor).
    predictor_center
        Value subtracted from the predictor before fitting (its overall sample
        mean when ``center=True``, else 0.0).
    group_predictor_center
        Value subtracted from the group-level predictor (mean over groups
        when centring, 0.0 otherwise; ``None`` without a group predictor).
    fixed_effects
        Series indexed by ``"intercept"``, ``"slope"`` and, with a group
        predictor, ``"gamma_1"``.  The intercept is the expected outcome at the
        centred predictor (and, with a group predictor, at the centre of the
        group predictor).
    fixed_effects_se
        Standard errors of ``fixed_effects`` (same index).
    group_sd
        Square root of the REML estimate of the random-intercept variance
        (the frequentist counterpart of ``sigma_alpha``).
    residual_sd
        Square root of the REML residual variance (counterpart of ``sigma_y``).
    group_intercepts
        Series indexed by group name (name ``"intercept"``): fixed intercept,
        plus ``gamma_1 * (u_j - centre)`` with a group predictor, plus the
        group's BLUP; the counterpart of the posterior of ``alpha``.
    group_sizes
        Number of observations per group (same index as ``group_intercepts``).
    converged
        Whether statsmodels reported convergence of the optimiser.
    statsmodels_result
        The underlying ``MixedLMResults`` object, for anything not exposed here.
    """

    outcome: str
    predictor: str
    group: str
    group_predictor: str | None
    predictor_center: float
    group_predictor_center: float | None
    fixed_effects: pd.Series
    fixed_effects_se: pd.Series
    group_sd: float
    residual_sd: float
    group_intercepts: pd.Series
    group_sizes: pd.Series
    converged: bool
    n_obs: int
    statsmodels_result: object = field(repr=False, compare=False)

    @property
    def n_groups(self) -> int:
        """Number of groups with at least one observation."""
        return int(self.group_intercepts.size)

    def to_dict(self) -> dict:
        """Scalar estimates as a plain dict (handy for JSON and quick printing)."""
        out = {f"fixed_{k}": float(v) for k, v in self.fixed_effects.items()}
        out.update(
            group_sd=float(self.group_sd),
            residual_sd=float(self.residual_sd),
            n_obs=int(self.n_obs),
            n_groups=self.n_groups,
            converged=bool(self.converged),
        )
        return out


def _fit_reml(model):
    """REML fit with a check that the optimiser really found a finite optimum.

    With some data sets L-BFGS-B stops at the boundary (random-intercept
    variance 0) with an infinite log-likelihood while reporting success, so
    BFGS (statsmodels' default first choice) is used, and Powell's derivative-
    free method as a fallback.
    """
    import warnings

    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    last = None
    for method in ("bfgs", "powell"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            try:
                fitted = model.fit(reml=True, method=method)
            except (np.linalg.LinAlgError, ValueError) as err:  # pragma: no cover - rare
                last = err
                continue
        if np.isfinite(fitted.llf) and fitted.converged:
            return fitted
        last = fitted
    if isinstance(last, Exception):  # pragma: no cover - rare
        raise RuntimeError(f"MixedLM REML fit failed: {last}") from last
    warnings.warn("MixedLM REML fit did not converge; estimates may be unreliable", RuntimeWarning)
    return last


def fit_mixedlm(
    data: pd.DataFrame,
    *,
    columns: Columns = SURVEY,
    outcome: str | None = None,
    predictor: str | None = None,
    group: str | None = None,
    center: bool = True,
    group_predictor: str | None = None,
) -> MixedLMResult:
    """Fit ``outcome ~ 1 + predictor (+ group_predictor) + (1 | group)`` by REML.

    Parameters
    ----------
    data
        Tidy DataFrame, one row per observation (e.g. from
        :func:`pooling.data.load_survey` or :func:`pooling.data.load_radon`).
    columns
        Column roles (:data:`~pooling.columns.SURVEY` by default,
        :data:`~pooling.columns.RADON` for the radon data).
    outcome, predictor, group
        Override single roles of ``columns``: continuous outcome,
        individual-level predictor (fixed slope) and grouping column (random
        intercept).  ``group`` may be Categorical; groups without observations
        are dropped.
    center
        Centre the predictor at its overall sample mean (default, matching the
        Bayesian models) and the group predictor at its mean over groups.
        With ``center=False`` the raw columns are used and the intercept is
        the expected outcome at predictor = 0.
    group_predictor
        Optional group-level column (constant within each group, e.g.
        ``"log_trade_china"`` or ``"log_uranium"``); its coefficient is
        reported as ``gamma_1``.

    Returns
    -------
    MixedLMResult

    Raises
    ------
    ValueError
        If a column is missing or has missing values, if the group predictor
        varies within a group, or if there are fewer than two groups.
    """
    from statsmodels.regression.mixed_linear_model import MixedLM

    cols = columns.with_(outcome=outcome, predictor=predictor, group=group)
    outcome, predictor, group = cols.outcome, cols.predictor, cols.group
    data = check_frame(data)
    require_columns(data, [outcome, predictor, group] + ([group_predictor] if group_predictor else []))
    for column, role in ((outcome, "outcome"), (predictor, "predictor"), (group_predictor, "group predictor")):
        if column is not None:
            numeric_column(data, column, role)
    require_present(data, group, "group")

    groups = data[group]
    if isinstance(groups.dtype, pd.CategoricalDtype):
        groups = groups.cat.remove_unused_categories()
        labels = list(groups.cat.categories)
        codes = groups.cat.codes.to_numpy()
    else:
        codes, uniques = pd.factorize(groups, sort=True)
        labels = list(uniques)
    n_groups = len(labels)
    if n_groups < 2:
        raise ValueError(f"need at least two groups in {group!r}, found {n_groups}")

    y = data[outcome].to_numpy(dtype=float)
    x = data[predictor].to_numpy(dtype=float)
    x_center = float(x.mean()) if center else 0.0
    columns_exog = [np.ones_like(y), x - x_center]
    names = ["intercept", "slope"]

    u_center = None
    u_group = None
    if group_predictor is not None:
        u = data[group_predictor].to_numpy(dtype=float)
        per_group = pd.Series(u).groupby(codes)
        if (per_group.max() - per_group.min()).abs().max() > 1e-9 * max(1.0, np.abs(u).max()):
            raise ValueError(
                f"group predictor {group_predictor!r} must be constant within each {group!r}"
            )
        u_group = per_group.first().to_numpy()
        u_center = float(u_group.mean()) if center else 0.0
        columns_exog.append(u - u_center)
        names.append("gamma_1")

    exog = np.column_stack(columns_exog)
    model = MixedLM(y, exog, groups=codes, exog_re=np.ones((y.size, 1)))
    fitted = _fit_reml(model)

    fe = pd.Series(np.asarray(fitted.fe_params, dtype=float), index=names, name="estimate")
    se = pd.Series(np.asarray(fitted.bse_fe, dtype=float), index=names, name="se")
    group_var = float(np.asarray(fitted.cov_re).ravel()[0])
    residual_var = float(fitted.scale)

    if group_var > 0:
        blup = np.array(
            [float(np.asarray(fitted.random_effects[k]).ravel()[0]) for k in range(n_groups)]
        )
    else:  # variance estimated at the boundary: complete pooling, every BLUP is zero
        blup = np.zeros(n_groups)
    intercepts = fe["intercept"] + blup
    if u_group is not None:
        intercepts = intercepts + fe["gamma_1"] * (u_group - u_center)
    index = pd.Index(labels, name=group)
    sizes = pd.Series(np.bincount(codes, minlength=n_groups), index=index, name="n")

    return MixedLMResult(
        outcome=outcome,
        predictor=predictor,
        group=group,
        group_predictor=group_predictor,
        predictor_center=x_center,
        group_predictor_center=u_center,
        fixed_effects=fe,
        fixed_effects_se=se,
        group_sd=float(np.sqrt(max(group_var, 0.0))),
        residual_sd=float(np.sqrt(residual_var)),
        group_intercepts=pd.Series(intercepts, index=index, name="intercept"),
        group_sizes=sizes,
        converged=bool(getattr(fitted, "converged", True)),
        n_obs=int(y.size),
        statsmodels_result=fitted,
    )


# REML quantity -> candidate posterior variable names, first match wins.
_SCALAR_MAP = {
    "intercept": ("mu_alpha", "gamma_0"),
    "slope": ("beta",),
    "gamma_1": ("gamma_1",),
    "group_sd": ("sigma_alpha",),
    "residual_sd": ("sigma_y",),
}


def _posterior_moments(da) -> tuple[float, float]:
    values = np.asarray(da.values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1))


def compare_with_bayes(
    mixedlm_result: MixedLMResult,
    idata,
    *,
    group_dim: str,
    include_groups: bool = True,
) -> pd.DataFrame:
    """Side-by-side table of REML estimates and posterior summaries.

    Parameters
    ----------
    mixedlm_result
        Output of :func:`fit_mixedlm`.
    idata
        Posterior of a matching Bayesian model (``partial_pooling`` or
        ``group_level_predictor``): needs ``beta`` (scalar), ``sigma_alpha``,
        ``sigma_y``, ``alpha`` (dims ``group_dim``) and ``mu_alpha`` or
        ``gamma_0`` (and ``gamma_1`` when the REML fit has a group predictor).
    group_dim
        Name of the group dimension of ``alpha`` in the posterior (e.g.
        ``"country"`` or ``"county"``).
    include_groups
        Add one row per group, ``alpha[<name>]`` (default True).

    Returns
    -------
    DataFrame indexed by ``parameter`` (the posterior variable name, e.g.
    ``mu_alpha``, ``beta``, ``sigma_alpha``, ``sigma_y``, ``alpha[Nigeria]``)
    with columns ``reml`` (REML estimate), ``posterior_mean``,
    ``posterior_sd``, ``difference`` (posterior mean minus REML) and
    ``difference_in_sd`` (difference divided by the posterior sd).

    Notes
    -----
    The posterior mean of a scale parameter is pulled above the REML mode by
    the right skew of its posterior, so ``sigma_alpha`` typically shows a
    positive difference, larger with fewer groups.
    """
    posterior = idata.posterior
    available = set(posterior.data_vars)

    estimates = {
        "intercept": mixedlm_result.fixed_effects["intercept"],
        "slope": mixedlm_result.fixed_effects["slope"],
        "group_sd": mixedlm_result.group_sd,
        "residual_sd": mixedlm_result.residual_sd,
    }
    if "gamma_1" in mixedlm_result.fixed_effects.index:
        estimates["gamma_1"] = mixedlm_result.fixed_effects["gamma_1"]

    rows = []
    for quantity in ["intercept", "slope", "gamma_1", "group_sd", "residual_sd"]:
        if quantity not in estimates:
            continue
        candidates = _SCALAR_MAP[quantity]
        name = next((c for c in candidates if c in available), None)
        if name is None:
            raise ValueError(
                f"posterior has none of {list(candidates)} to compare with the REML {quantity}"
            )
        if posterior[name].ndim != 2:
            raise ValueError(
                f"posterior variable {name!r} must be scalar per draw, has dims {posterior[name].dims}"
            )
        mean, sd = _posterior_moments(posterior[name])
        rows.append((name, float(estimates[quantity]), mean, sd))

    if include_groups:
        if "alpha" not in available:
            raise ValueError("posterior has no 'alpha' to compare with the group intercepts")
        alpha = posterior["alpha"]
        if group_dim not in alpha.dims:
            raise ValueError(f"'alpha' has dims {alpha.dims}, not {group_dim!r}")
        alpha_mean = alpha.mean(("chain", "draw")).to_series()
        alpha_sd = alpha.std(("chain", "draw"), ddof=1).to_series()
        alpha_mean.index = alpha_mean.index.astype(str)
        alpha_sd.index = alpha_sd.index.astype(str)
        for label, reml in mixedlm_result.group_intercepts.items():
            key = str(label)
            if key not in alpha_mean.index:
                raise ValueError(f"group {key!r} is not a coordinate of {group_dim!r} in the posterior")
            rows.append((f"alpha[{key}]", float(reml), float(alpha_mean[key]), float(alpha_sd[key])))

    table = pd.DataFrame(rows, columns=["parameter", "reml", "posterior_mean", "posterior_sd"])
    table = table.set_index("parameter")
    table["difference"] = table["posterior_mean"] - table["reml"]
    table["difference_in_sd"] = table["difference"] / table["posterior_sd"]
    return table
