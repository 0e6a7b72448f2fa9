"""Tables for the page: one function that formats a DataFrame for reading.

:func:`show_table` turns a :class:`pandas.DataFrame` into a :class:`Table`
whose cells are strings formatted by what each column means, judged from its
name (words separated by spaces, underscores or hyphens, in any case):

* counts, shown as whole numbers with thousands separators (``33,724``): a
  name that is ``n`` or starts with ``n_``, or contains one of the words
  ``ess``, ``count``, ``divergences``, ``draws`` (``ess_bulk``,
  ``min bulk ESS``), and any integer-typed column;
* R-hat, shown with ``rhat_digits`` decimals (``1.00``): ``r_hat``, ``rhat``
  or a name ending in them (``max r-hat``);
* any other number: ``digits`` decimals (``-0.12``), unless every value in
  the column is a whole number (trade of ``1,700`` USD millions, a minimum of
  ``0``): then no decimals.

Whatever the column, a cell holding an ``int`` is a whole number,
``True``/``False`` is ``yes``/``no``, text stays as it is, and a missing value
(NaN, None) is an en dash, ``–``. A column with a multi-level name
(``("china", "n")``) is judged by its last level and shown as ``china n``.
Integer-typed columns named ``id`` or ``*_id`` are identifiers and get no
separators. ``formats={"column": ...}`` overrides the rule for a column: an
``int`` is a number of decimals, ``"integer"`` a whole number, ``"text"`` the
value as it is.

A :class:`Table` displays as Markdown (the ``text/markdown`` MIME type only,
no HTML): Quarto turns it into a real table with the cell's ``tbl-cap``
caption, Jupyter renders it as a table, and ``print(table)`` or ``str(table)``
gives an aligned plain-text table for a script or a terminal.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["DASH", "Table", "show_table"]

DASH = "\u2013"
"""What a missing value looks like in a table: an en dash."""

_COUNT_WORDS = {"ess", "count", "counts", "divergences", "draws"}
_MARKDOWN_SPECIAL = "\\`*_[]<>|$"


class Table:
    """A formatted table: every cell already a string.

    Made by :func:`show_table`; not meant to be built by hand.

    Attributes
    ----------
    header : list of str
        Column headings, index headings first.
    rows : list of list of str
        Formatted cells, one list per row, as long as ``header``.
    numeric : list of bool
        For each column, whether it holds numbers (aligned right).
    """

    def __init__(self, header: list[str], rows: list[list[str]], numeric: list[bool]):
        self.header = header
        self.rows = rows
        self.numeric = numeric

    def _widths(self, header: list[str], rows: list[list[str]]) -> list[int]:
        return [max(len(cell) for cell in column) for column in zip(header, *rows)]

    def to_markdown(self) -> str:
        """The table as a Markdown pipe table (numbers right-aligned)."""
        header = [_escape(cell) for cell in self.header]
        rows = [[_escape(cell) for cell in row] for row in self.rows]
        widths = [max(width, 3) for width in self._widths(header, rows)]

        def line(cells: list[str]) -> str:
            padded = [
                cell.rjust(width) if numeric else cell.ljust(width)
                for cell, width, numeric in zip(cells, widths, self.numeric)
            ]
            return "| " + " | ".join(padded) + " |"

        rule = [
            "-" * (width - 1) + ":" if numeric else ":" + "-" * (width - 1)
            for width, numeric in zip(widths, self.numeric)
        ]
        return "\n".join([line(header), "| " + " | ".join(rule) + " |", *(line(r) for r in rows)])

    def to_text(self) -> str:
        """The table as aligned plain text, for ``print``."""
        widths = self._widths(self.header, self.rows)

        def line(cells: list[str]) -> str:
            return "  ".join(
                cell.rjust(width) if numeric else cell.ljust(width)
                for cell, width, numeric in zip(cells, widths, self.numeric)
            ).rstrip()

        rule = "  ".join("-" * width for width in widths)
        return "\n".join([line(self.header), rule, *(line(r) for r in self.rows)])

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()


def show_table(
    frame: pd.DataFrame,
    *,
    digits: int = 2,
    rhat_digits: int = 2,
    formats: Mapping[str, int | str] | None = None,
    index: bool | None = None,
) -> Table:
    """Format a DataFrame for reading: rounded estimates, whole counts, dashes.

    Parameters
    ----------
    frame
        The table, one row per displayed row. Columns may be numbers, text,
        booleans or a mix (e.g. a transposed frame of mixed rows).
    digits
        Decimals of every number that is not a count or an R-hat (>= 0).
    rhat_digits
        Decimals of ``r_hat`` / ``rhat`` columns (>= 0).
    formats
        Per-column override, keyed by column name: an ``int`` (decimals),
        ``"integer"`` (whole number with thousands separators) or ``"text"``
        (``str`` of the value, unchanged).
    index
        Show the index as the first column(s). Default: shown unless it is an
        unnamed 0, 1, 2, ... range, which says nothing.

    Returns
    -------
    Table
        Displays as a Markdown table in Quarto and Jupyter (MIME type
        ``text/markdown``, no HTML); ``print()`` shows aligned plain text.

    Raises
    ------
    TypeError
        If ``frame`` is not a DataFrame (a Series: use ``series.to_frame()``).
    KeyError
        If ``formats`` names a column the frame does not have.
    ValueError
        If a digits value is negative or a format is not understood.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> summary = pd.DataFrame(
    ...     {"mean": [0.12345, -1.5], "ess_bulk": [1523.7, 33724.0], "r_hat": [1.0012, np.nan]},
    ...     index=pd.Index(["Ghana", "Zudan"], name="country"),
    ... )
    >>> print(show_table(summary))
    country   mean  ess_bulk  r_hat
    -------  -----  --------  -----
    Ghana     0.12     1,524   1.00
    Zudan    -1.50    33,724      –
    >>> print(show_table(summary, digits=3).to_markdown())
    | country |   mean | ess_bulk | r_hat |
    | :------ | -----: | -------: | ----: |
    | Ghana   |  0.123 |    1,524 |  1.00 |
    | Zudan   | -1.500 |   33,724 |     – |
    >>> print(show_table(summary, formats={"ess_bulk": 1}))
    country   mean  ess_bulk  r_hat
    -------  -----  --------  -----
    Ghana     0.12   1,523.7   1.00
    Zudan    -1.50  33,724.0      –
    """
    if isinstance(frame, pd.Series):
        raise TypeError(
            "show_table needs a DataFrame, got a Series; turn it into one with series.to_frame()"
        )
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"show_table needs a pandas DataFrame, got {type(frame).__name__}")
    for name, value in (("digits", digits), ("rhat_digits", rhat_digits)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")

    names = [_column_name(column) for column in frame.columns]
    formats = dict(formats or {})
    unknown = [key for key in formats if key not in names]
    if unknown:
        raise KeyError(
            f"formats names columns the table does not have: {unknown}; its columns are {names}"
        )
    for key, fmt in formats.items():
        if fmt not in ("integer", "text") and (
            isinstance(fmt, bool) or not isinstance(fmt, numbers.Integral) or fmt < 0
        ):
            raise ValueError(
                f"formats[{key!r}] must be a number of decimals >= 0, 'integer' or 'text'; got {fmt!r}"
            )

    kinds = [
        formats.get(name, _kind_from_column(_last_level(column), frame.iloc[:, i], digits, rhat_digits))
        for i, (name, column) in enumerate(zip(names, frame.columns))
    ]
    columns = [
        [_format_cell(value, kind, whole_ints=name not in formats) for value in frame.iloc[:, i]]
        for i, (name, kind) in enumerate(zip(names, kinds))
    ]
    numeric = [kind != "text" and _holds_numbers(frame.iloc[:, i]) for i, kind in enumerate(kinds)]

    if index is None:
        index = not _is_default_index(frame.index)
    header, index_columns, index_numeric = [], [], []
    if index:
        for level in range(frame.index.nlevels):
            values = frame.index.get_level_values(level)
            header.append("" if values.name is None else str(values.name))
            kind = "integer" if pd.api.types.is_integer_dtype(values) else digits
            index_columns.append([_format_cell(v, kind) for v in values])
            index_numeric.append(False)
    header += names
    all_columns = index_columns + columns
    rows = [list(row) for row in zip(*all_columns)] if all_columns else []
    return Table(header, rows, index_numeric + numeric)


def _column_name(column) -> str:
    if isinstance(column, tuple):
        return " ".join(str(part) for part in column if str(part))
    return str(column)


def _last_level(column) -> str:
    """The name that says what a column holds: the last level of a multi-level name."""
    if isinstance(column, tuple):
        parts = [str(part) for part in column if str(part)]
        return parts[-1] if parts else ""
    return str(column)


def _kind_from_column(name: str, values: pd.Series, digits: int, rhat_digits: int) -> int | str:
    lowered = name.lower()
    words = [word for word in re.split(r"[\s_\-]+", lowered) if word]
    joined = "_".join(words)
    if joined in ("r_hat", "rhat") or joined.endswith(("_r_hat", "_rhat")):
        return rhat_digits
    present = [v for v in values if not _is_missing(v)]
    # a count or an ESS is at least 1 unless it is a whole number (0 divergences); a column
    # named like one whose values are fractions below 1 (a share of draws) is not a count
    fraction = any(_is_number(v) and abs(float(v)) < 1 and not float(v).is_integer() for v in present)
    if ((words and words[0] == "n") or _COUNT_WORDS.intersection(words)) and not fraction:
        return "integer"
    if pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return "text" if lowered == "id" or lowered.endswith("_id") else "integer"
    if present and all(_is_number(v) and float(v).is_integer() for v in present):
        return "integer"
    return digits


def _holds_numbers(values: pd.Series) -> bool:
    present = [v for v in values if not _is_missing(v)]
    return bool(present) and all(_is_number(v) for v in present)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and math.isnan(value)


def _format_cell(value, kind: int | str, whole_ints: bool = True) -> str:
    """One cell as text; ``whole_ints``: an ``int`` value gets no decimals whatever ``kind``."""
    if _is_missing(value):
        return DASH
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if kind == "text" or not _is_number(value):
        return str(value)
    number = float(value)
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    if kind == "integer" or (whole_ints and isinstance(value, numbers.Integral)):
        decimals = 0
    else:
        decimals = int(kind)
    text = f"{number:,.{decimals}f}"
    if text.startswith("-") and float(text[1:].replace(",", "")) == 0:
        text = text[1:]  # no "-0.00"
    return text


def _is_default_index(index: pd.Index) -> bool:
    return (
        isinstance(index, pd.RangeIndex)
        and index.name is None
        and index.start == 0
        and index.step == 1
    )


def _escape(text: str) -> str:
    """Backslash-escape Markdown syntax; an underscore inside a word (``ess_bulk``) is literal."""
    out = []
    for i, ch in enumerate(text):
        inside_word = 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
        if ch in _MARKDOWN_SPECIAL and not (ch == "_" and inside_word):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)
