"""Which column plays which role, and the checks every function runs on its input table.

A model needs four names: the ``outcome`` column, the ``predictor`` column, the ``group``
column and ``group_dim``, the name of the group dimension in the posterior. :class:`Columns`
holds them; :data:`SURVEY` and :data:`RADON` are the two data sets of this site::

    from pooling.columns import RADON
    models.partial_pooling(radon, columns=RADON)

The model builders, the figures, :mod:`pooling.shrinkage` and :mod:`pooling.mixedlm` check
their input tables with the functions here, so a bad table gets the same clear message
wherever it is passed:

* :func:`check_frame`: a pandas DataFrame with at least one row;
* :func:`require_columns`: the named columns exist;
* :func:`require_numeric`: columns hold numbers (booleans count, as 0 and 1);
* :func:`numeric_column`: a numeric column as a float array, no missing or infinite values;
* :func:`require_present`: a column (e.g. the groups) has no missing values;
* :func:`group_codes`: the group of every row as an integer code, and the group names.

Names of the data containers every model stores (and :mod:`pooling.summaries` and
:mod:`pooling.predict` read): :data:`PREDICTOR_MEAN`, :data:`PREDICTOR_GROUP_MEAN`,
:data:`GROUP_PREDICTOR_MEAN`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

__all__ = [
    "GROUP_PREDICTOR_MEAN",
    "PREDICTOR_GROUP_MEAN",
    "PREDICTOR_MEAN",
    "RADON",
    "SURVEY",
    "Columns",
    "NonNumericColumnError",
    "check_frame",
    "describe_rows",
    "group_codes",
    "numeric_column",
    "require_columns",
    "require_finite",
    "require_numeric",
    "require_present",
]

#: Data container holding the centring constant of the predictor (its mean over all rows).
PREDICTOR_MEAN = "predictor_mean"
#: Data container holding each group's own predictor mean (no pooling with varying slopes).
PREDICTOR_GROUP_MEAN = "predictor_group_mean"
#: Data container holding the centring constant of a group-level predictor.
GROUP_PREDICTOR_MEAN = "group_predictor_mean"


@dataclass(frozen=True)
class Columns:
    """The roles of a table's columns in a model.

    Attributes
    ----------
    outcome
        Column modelled (e.g. ``"china"``).
    predictor
        Row-level predictor column (e.g. ``"antiauth"``).
    group
        Grouping column (e.g. ``"country_name"``); ``None`` for complete pooling.
    group_dim
        Name of the group dimension in the model and posterior (e.g. ``"country"``); its
        coordinate values are the group names.
    """

    outcome: str
    predictor: str
    group: str | None = None
    group_dim: str | None = None

    def with_(self, **roles: str | None) -> Columns:
        """A copy with the given roles replaced; ``None`` values leave a role as it is."""
        return replace(self, **{role: name for role, name in roles.items() if name is not None})

    def as_kwargs(self) -> dict[str, str | None]:
        """``dict(outcome=..., predictor=..., group=..., group_dim=...)``."""
        return dict(outcome=self.outcome, predictor=self.predictor, group=self.group, group_dim=self.group_dim)


#: The (simulated) survey: ``china`` (1-5 score) on ``antiauth`` (0-4 index) by country.
SURVEY = Columns(outcome="china", predictor="antiauth", group="country_name", group_dim="country")
#: The Minnesota radon data: ``log_radon`` on ``floor`` (0 = basement) by county.
RADON = Columns(outcome="log_radon", predictor="floor", group="county", group_dim="county")


class NonNumericColumnError(TypeError, ValueError):
    """A column that must hold numbers does not (a TypeError and a ValueError)."""


def _where(where: str | None) -> str:
    return f"{where}: " if where else ""


def _label(column: str, role: str | None, name: str) -> str:
    label = f"{role} column {column!r}" if role else f"column {column!r}"
    return label if name == "data" else f"{label} of `{name}`"


def check_frame(data, name: str = "data", *, where: str | None = None) -> pd.DataFrame:
    """Return ``data`` if it is a pandas DataFrame with at least one row.

    ``name`` is how the message calls the table; ``where`` (e.g. the function's name)
    prefixes the message.

    Raises
    ------
    TypeError
        ``data`` is not a DataFrame.
    ValueError
        ``data`` has no rows.
    """
    shown = name if name == "data" else f"`{name}`"
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{_where(where)}{shown} must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) == 0:
        raise ValueError(f"{_where(where)}{shown} has no rows")
    return data


def require_columns(data: pd.DataFrame, columns: Sequence[str], name: str = "data", *,
                    where: str | None = None) -> None:
    """Raise ValueError naming every column of ``columns`` that ``data`` lacks."""
    missing = [c for c in columns if c not in data.columns]
    if missing:
        shown = name if name == "data" else f"`{name}`"
        raise ValueError(
            f"{_where(where)}column(s) {', '.join(repr(c) for c in missing)} not found in {shown}; "
            f"available columns: {', '.join(map(str, data.columns))}"
        )


def describe_rows(mask: np.ndarray, index: pd.Index, limit: int = 5) -> str:
    """The index labels where ``mask`` is true, at most ``limit`` of them, e.g. ``"3, 7 and 2 more"``."""
    rows = list(index[mask][:limit])
    more = int(mask.sum()) - len(rows)
    text = ", ".join(map(str, rows))
    return text + (f" and {more} more" if more > 0 else "")


def require_numeric(data: pd.DataFrame, columns: Sequence[str], name: str = "data", *,
                    role: str | None = None, where: str | None = None) -> None:
    """Raise :class:`NonNumericColumnError` unless every column holds numbers or booleans."""
    for column in columns:
        series = data[column]
        if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
            raise NonNumericColumnError(
                f"{_where(where)}{_label(column, role, name)} must be numeric, got dtype {series.dtype}"
            )


def numeric_column(data: pd.DataFrame, column: str, role: str | None = None, *, name: str = "data",
                   where: str | None = None) -> np.ndarray:
    """``data[column]`` as a float array; raise unless it is numeric, complete and finite.

    Raises
    ------
    NonNumericColumnError
        The column is not numeric (booleans are, as 0 and 1).
    ValueError
        Missing or infinite values, naming how many and in which rows.
    """
    require_numeric(data, [column], name, role=role, where=where)
    values = data[column].to_numpy(dtype=float, na_value=np.nan)
    label = f"{_where(where)}{_label(column, role, name)}"
    for problem, mask in (("missing", np.isnan(values)), ("infinite", np.isinf(values))):
        if mask.any():
            raise ValueError(
                f"{label} has {int(mask.sum())} {problem} value(s) (rows {describe_rows(mask, data.index)}); "
                f"it must hold no missing or infinite values"
            )
    return values


def require_finite(data: pd.DataFrame, columns: Sequence[str], name: str = "data", *,
                   where: str | None = None) -> None:
    """:func:`numeric_column` for every column in ``columns``."""
    for column in columns:
        numeric_column(data, column, name=name, where=where)


def require_present(data: pd.DataFrame, column: str, role: str = "group") -> None:
    """Raise ValueError if ``data[column]`` has missing values, naming how many and where."""
    missing = data[column].isna().to_numpy()
    if missing.any():
        raise ValueError(
            f"{role} column {column!r} has {int(missing.sum())} missing value(s) "
            f"(rows {describe_rows(missing, data.index)})"
        )


def group_codes(data: pd.DataFrame, column: str, role: str = "group") -> tuple[np.ndarray, list]:
    """Integer code of every row and the ordered group names.

    A pandas Categorical keeps its category order; any other column is
    sorted. Categories without rows raise a ValueError naming them, because
    a group without data would silently get a prior-only estimate.
    """
    require_present(data, column, role)
    series = data[column]
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
