"""How far partial pooling moves each group toward the overall mean.

For a Gaussian varying-intercept model with known variances, the
partial-pooling intercept of group j is a precision-weighted average of the
group's own estimate and the population mean::

    alpha_j (partial) ~ w_j * alpha_j (no pooling) + (1 - w_j) * mu_alpha

    w_j = (n_j / sigma_y^2) / (n_j / sigma_y^2 + 1 / sigma_alpha^2)

(Gelman and Hill 2007, section 12.2). :func:`closed_form_weight` computes
``w_j``; :func:`group_estimates` puts the three estimates side by side and
compares ``w_j`` with the weight implied by the fitted posteriors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pooling.columns import SURVEY, Columns, check_frame, group_codes, numeric_column, require_columns
from pooling.summaries import SAMPLE_DIMS, predictor_centre

__all__ = ["closed_form_weight", "group_estimates", "intercepts_at"]


def closed_form_weight(n, sigma_y, sigma_alpha):
    """Weight of a group's own data in its partial-pooling intercept.

    ``w = (n / sigma_y^2) / (n / sigma_y^2 + 1 / sigma_alpha^2)``: the
    precision of the group mean (``n`` rows with residual sd ``sigma_y``)
    over that plus the precision of the population distribution
    (``sigma_alpha``). ``w`` is 0 with no data, 1/2 when
    ``n = sigma_y^2 / sigma_alpha^2``, and tends to 1 as ``n`` grows.

    Parameters
    ----------
    n
        Number of rows in the group (scalar, array or Series; >= 0).
    sigma_y, sigma_alpha
        Residual and between-group sd (> 0), e.g. posterior means.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Same shape as ``n``.
    """
    n_values = np.asarray(n, dtype=float)
    if np.any(n_values < 0) or not np.all(np.isfinite(n_values)):
        raise ValueError("n must be finite and non-negative")
    for name, value in (("sigma_y", sigma_y), ("sigma_alpha", sigma_alpha)):
        if not np.all(np.asarray(value, dtype=float) > 0):
            raise ValueError(f"{name} must be positive, got {value}")
    data_precision = n / np.square(sigma_y)
    weight = data_precision / (data_precision + 1.0 / np.square(sigma_alpha))
    return float(weight) if np.ndim(weight) == 0 and not isinstance(weight, pd.Series) else weight


def intercepts_at(idata, x0: float, *, group_dim: str = "country", names=None) -> pd.Series:
    """Posterior-mean intercept of every group at predictor value ``x0``.

    Computed draw by draw as ``alpha + beta * (x0 - centre)`` and then
    averaged, where ``centre`` is the model's ``predictor_mean`` (or each
    group's own mean, ``predictor_group_mean``, for the no-pooling
    varying-slopes model) and ``beta`` is the common or group slope. A
    complete-pooling posterior (scalar ``alpha``) gives the same value for
    every group in ``names``.

    Parameters
    ----------
    idata
        Posterior from a :mod:`pooling.models` model.
    x0
        Predictor value (the overall predictor mean in :func:`group_estimates`).
    group_dim
        Group dimension name in the posterior.
    names
        Groups to report (default: all groups in the posterior; required for
        complete pooling). Groups the model does not have get NaN.
    """
    post = idata["posterior"].to_dataset()
    centre = predictor_centre(idata)
    if centre is None:
        raise ValueError("idata has no constant_data['predictor_mean']; fit a pooling.models model")
    alpha = post["alpha"]
    beta = post["beta"]
    if group_dim in alpha.dims:
        values = (alpha + beta * (x0 - centre)).mean(dim=SAMPLE_DIMS)
        series = pd.Series(values.values, index=pd.Index(values[group_dim].values))
        if names is not None:
            series = series.reindex(list(names))
        return series
    if names is None:
        raise ValueError(f"the posterior has no {group_dim!r} dimension; pass the group names")
    value = float((alpha + beta * (x0 - float(centre))).mean())
    return pd.Series(value, index=pd.Index(list(names)))


def group_estimates(
    data: pd.DataFrame,
    *,
    idata_no_pooling,
    idata_partial_pooling,
    idata_complete_pooling,
    columns: Columns = SURVEY,
    outcome: str | None = None,
    predictor: str | None = None,
    group: str | None = None,
    group_dim: str | None = None,
) -> pd.DataFrame:
    """Per-group intercepts under the three models and the shrinkage weights.

    All intercepts are posterior means of the expected outcome at the
    overall mean of the predictor in ``data`` (see :func:`intercepts_at`),
    so the three columns are directly comparable even for the no-pooling
    varying-slopes model, whose intercepts are defined at each group's mean.

    Parameters
    ----------
    data
        The rows the models were fitted to (group sizes and the predictor
        mean come from here).
    idata_no_pooling, idata_partial_pooling, idata_complete_pooling
        Posteriors (ArviZ data trees) of the three models.
    columns
        Column roles (:data:`~pooling.columns.SURVEY` by default).
    outcome, predictor, group, group_dim
        Override single roles of ``columns``.

    Returns
    -------
    pandas.DataFrame
        Indexed by group name (index name ``group_dim``), in the order of
        the group categories, with columns

        * ``n``: rows in the group;
        * ``no_pooling``, ``partial_pooling``, ``complete_pooling``:
          intercepts at the overall predictor mean;
        * ``weight_closed_form``: :func:`closed_form_weight` with the
          posterior means of ``sigma_y`` and ``sigma_alpha`` from the
          partial-pooling fit;
        * ``weight_posterior``: ``(partial - complete) / (no - complete)``,
          the share of the distance to the group's own estimate that partial
          pooling keeps. It is unstable (and can leave [0, 1]) for groups
          whose own estimate is close to the complete-pooling one. It
          differs from the closed form mainly because partial pooling
          shrinks toward ``mu_alpha`` (an average over groups) while the
          complete-pooling intercept is an average over rows.
    """
    cols = columns.with_(outcome=outcome, predictor=predictor, group=group, group_dim=group_dim)
    outcome, predictor, group, group_dim = cols.outcome, cols.predictor, cols.group, cols.group_dim
    data = check_frame(data)
    require_columns(data, [outcome, predictor, group])
    numeric_column(data, outcome, "outcome")
    x = numeric_column(data, predictor, "predictor")
    codes, names = group_codes(data, group, "group")
    x0 = float(np.mean(x))
    n = np.bincount(codes, minlength=len(names))
    table = pd.DataFrame(index=pd.Index(names, name=group_dim))
    table["n"] = n
    table["no_pooling"] = intercepts_at(idata_no_pooling, x0, group_dim=group_dim, names=names).to_numpy()
    table["partial_pooling"] = intercepts_at(idata_partial_pooling, x0, group_dim=group_dim, names=names).to_numpy()
    table["complete_pooling"] = intercepts_at(idata_complete_pooling, x0, group_dim=group_dim, names=names).to_numpy()
    post = idata_partial_pooling["posterior"]
    sigma_y = float(post["sigma_y"].mean())
    sigma_alpha = float(post["sigma_alpha"].mean())
    table["weight_closed_form"] = closed_form_weight(table["n"].to_numpy(dtype=float), sigma_y, sigma_alpha)
    distance = table["no_pooling"] - table["complete_pooling"]
    table["weight_posterior"] = (table["partial_pooling"] - table["complete_pooling"]) / distance.where(distance != 0)
    return table
