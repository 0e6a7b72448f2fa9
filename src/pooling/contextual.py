"""Group means of a row-level column, the predictor of a contextual effect (:func:`add_group_mean`).

A row-level predictor such as ``antiauth`` has a within-group and a between-group part. Its
group mean, copied to every row of the group, is a group-level predictor that
:func:`pooling.models.group_level_predictor` can take next to the row-level one::

    survey = add_group_mean(survey, "antiauth", name="antiauth_country_mean")
    models.group_level_predictor(survey, group_predictor="antiauth_country_mean")

In that model ``beta`` is the within-group slope, ``gamma_1`` the contextual effect, and
``beta + gamma_1`` the slope of the group means of the outcome on the group means of the
predictor (Gelman and Hill 2007, sec. 12.6 and ch. 21).
"""

from __future__ import annotations

import pandas as pd

from pooling.columns import check_frame, group_codes, numeric_column, require_columns

__all__ = ["add_group_mean"]


def add_group_mean(
    data: pd.DataFrame, column: str, group: str = "country_name", *, name: str | None = None
) -> pd.DataFrame:
    """A copy of ``data`` with the mean of ``column`` within each ``group`` in a new column.

    Parameters
    ----------
    data
        One row per observation.
    column
        Numeric row-level column (no missing or infinite values), e.g. ``"antiauth"``.
    group
        Grouping column, e.g. ``"country_name"``; no missing values.
    name
        Name of the new column; default ``f"{column}_group_mean"``. It must not exist yet.

    Returns
    -------
    pandas.DataFrame
        ``data`` (same rows, index and columns, not modified in place) plus the column
        ``name``: for every row, the unweighted mean of ``column`` over the rows of its group,
        in the units of ``column``. The value is the same float on every row of a group, so
        the column is constant within groups, as a group-level predictor must be.

    Raises
    ------
    ValueError
        A column is missing, ``column`` is the grouping column, ``name`` already exists, or
        ``column`` has missing or infinite values (with the rows named).
    TypeError
        ``data`` is not a DataFrame or ``column`` is not numeric.
    """
    where = "add_group_mean"
    check_frame(data, where=where)
    require_columns(data, [column, group], where=where)
    if column == group:
        raise ValueError(f"{where}: column and group are the same column ({column!r})")
    name = name or f"{column}_group_mean"
    if name in data.columns:
        raise ValueError(f"{where}: column {name!r} already exists in data; pass another name=")
    values = numeric_column(data, column, where=where)
    codes, _ = group_codes(data, group)
    means = pd.Series(values).groupby(codes).mean()
    out = data.copy()
    out[name] = means.reindex(codes).to_numpy()
    return out
