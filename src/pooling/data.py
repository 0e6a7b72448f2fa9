"""Load and validate the survey and radon data.

**The survey files in ``data/`` are simulated** (see :mod:`pooling.simulate` and
``data/README.md``): the respondent-level course data cannot be redistributed, so
the site uses a stand-in with the same columns generated from a known multilevel
model. The radon data are real (Gelman & Hill 2007, via the R package HLMdiag).

Every loader checks its input before anything is modelled and raises
:class:`DataValidationError` (a ``ValueError``) with a message that names the
file, the column, the offending rows and what was expected. The same checks are
available for DataFrames built by hand: :func:`validate_survey`,
:func:`validate_radon` and the generic :func:`validate_columns`.

Default paths point at the bundled data (see :func:`data_dir`): the repository's
``data/`` folder in a checkout, the copy packaged inside the wheel (``pooling/_data``)
when the package is installed from a wheel. Set the environment variable
``POOLING_DATA_DIR`` to read from another folder, or pass ``path=``.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "DataValidationError",
    "SURVEY_REQUIRED",
    "SURVEY_OPTIONAL",
    "RADON_RAW_COLUMNS",
    "RADON_COLUMNS",
    "data_dir",
    "load_survey",
    "load_new_countries",
    "load_radon",
    "label_with_n",
    "validate_survey",
    "validate_radon",
    "validate_columns",
]


class DataValidationError(ValueError):
    """A data file or DataFrame does not match the expected schema."""


#: Columns every survey file must have.
SURVEY_REQUIRED: tuple[str, ...] = ("country_name", "antiauth", "china", "trade_china")
#: Columns used when present (``party`` is needed by the three-level model only).
SURVEY_OPTIONAL: tuple[str, ...] = ("respondent_id", "party")
#: Columns of ``data/radon.csv`` as distributed (``county``, a numeric id, is optional).
RADON_RAW_COLUMNS: tuple[str, ...] = ("log.radon", "basement", "uranium", "county.name")
#: Columns returned by :func:`load_radon`.
RADON_COLUMNS: tuple[str, ...] = ("county", "log_radon", "floor", "log_uranium")

_RADON_RENAME = {"county.name": "county", "log.radon": "log_radon", "basement": "floor", "uranium": "log_uranium"}
_SURVEY_FILE = "survey.csv"
_NEW_COUNTRIES_FILE = "survey_new_countries.csv"
_RADON_FILE = "radon.csv"
_MAX_SHOWN = 5


# --------------------------------------------------------------------------- paths


#: Where a wheel carries the bundled data: ``pooling/_data/`` (the build copies the repository's
#: ``data/`` there; see ``[tool.hatch.build.targets.wheel]`` in ``pyproject.toml``).
_PACKAGED_DATA = "_data"
#: The repository's ``data/`` folder, seen from ``src/pooling/data.py`` (a checkout or an editable install).
_REPOSITORY_DATA = Path(__file__).resolve().parents[2] / "data"


def _packaged_data_dir() -> Path | None:
    """The data folder inside the installed package, or ``None`` (a checkout has none)."""
    folder = resources.files(__package__ or "pooling") / _PACKAGED_DATA
    if isinstance(folder, Path) and folder.is_dir():
        return folder
    return None


def data_dir() -> Path:
    """Folder holding the CSV files and their codebook (``README.md``).

    In order: ``$POOLING_DATA_DIR`` if set; the data packaged in the wheel (``pooling/_data``,
    read through :mod:`importlib.resources`) when ``pooling`` was installed from a wheel; else
    the repository's ``data/`` folder (a checkout or an editable install, e.g. ``uv sync``).
    """
    env = os.environ.get("POOLING_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return _packaged_data_dir() or _REPOSITORY_DATA


def _resolve(path: str | os.PathLike | None, default_name: str) -> Path:
    return Path(path).expanduser() if path is not None else data_dir() / default_name


# --------------------------------------------------------------------------- row labels


class _Rows:
    """Turns row positions into readable locations: file line numbers or DataFrame index labels."""

    def __init__(self, df: pd.DataFrame, from_file: bool):
        self.index = df.index
        self.from_file = from_file

    def name(self, position: int) -> str:
        if self.from_file:
            return f"line {position + 2}"  # line 1 is the header
        label = self.index[position]
        if isinstance(label, np.generic):
            label = label.item()
        return f"row {label!r}"

    def names(self, positions: Sequence[int]) -> str:
        shown = ", ".join(self.name(p) for p in positions[:_MAX_SHOWN])
        more = len(positions) - _MAX_SHOWN
        return shown + (f" and {more} more" if more > 0 else "")

    def values(self, positions: Sequence[int], values: Sequence) -> str:
        pairs = [f"{self.name(p)}: {v!r}" for p, v in zip(positions[:_MAX_SHOWN], values[:_MAX_SHOWN])]
        more = len(positions) - _MAX_SHOWN
        return "; ".join(pairs) + (f"; and {more} more" if more > 0 else "")


def _positions(mask: Iterable[bool]) -> list[int]:
    return [int(i) for i in np.flatnonzero(np.asarray(mask, dtype=bool))]


# --------------------------------------------------------------------------- reading files


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    """Read a CSV file as strings after checking existence, emptiness, encoding, delimiter and header."""
    if not path.exists():
        raise DataValidationError(
            f"{what} file not found: {path}. Pass the path of the file (path=...), set the environment "
            "variable POOLING_DATA_DIR to the folder that holds it, or regenerate the simulated files "
            "with `make data`."
        )
    if path.is_dir():
        raise DataValidationError(f"{what} path {path} is a folder, not a CSV file.")
    raw = path.read_bytes()
    if not raw.strip():
        raise DataValidationError(f"{what} file {path} is empty (no header, no rows).")
    text = _decode(raw, path, what)
    first_line = text.lstrip("\n").split("\n", 1)[0].rstrip("\r")
    header = next(csv.reader([first_line]))
    if len(header) == 1:
        for sep, sep_name in ((";", "';'"), ("\t", "tabs"), ("|", "'|'")):
            if sep in first_line:
                raise DataValidationError(
                    f"{what} file {path} looks like it is separated by {sep_name}, not by commas: its header "
                    f"was read as a single column {first_line!r}. Save it as a comma-separated file "
                    f"(or convert it with pandas.read_csv(..., sep={sep!r}).to_csv(...))."
                )
    names = [h.strip() for h in header]
    duplicated = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicated:
        raise DataValidationError(
            f"{what} file {path} has duplicate column names in its header: "
            + ", ".join(repr(d) for d in duplicated)
            + ". Every column needs a distinct name."
        )
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=True, skipinitialspace=True)
    except pd.errors.ParserError as err:
        detail = str(err).strip().splitlines()[-1]
        raise DataValidationError(f"{what} file {path} could not be parsed as CSV: {detail}") from None
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise DataValidationError(f"{what} file {path} has a header but no data rows.")
    return df


def _decode(raw: bytes, path: Path, what: str) -> str:
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise DataValidationError(
            f"{what} file {path} looks like a spreadsheet workbook (Excel), not a CSV text file. "
            "Export it as 'CSV UTF-8 (comma delimited)'."
        )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataValidationError(
            f"{what} file {path} is encoded as UTF-16; the expected encoding is UTF-8. "
            "Save it again as 'CSV UTF-8'."
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        byte = raw[err.start : err.start + 1].hex().upper()
        guess = ""
        try:
            raw.decode("cp1252")
            guess = " It looks like Windows-1252 / Latin-1 (as saved by older spreadsheet programs)."
        except UnicodeDecodeError:
            pass
        raise DataValidationError(
            f"{what} file {path} is not valid UTF-8 (byte 0x{byte} on line {line}); the expected encoding "
            f"is UTF-8.{guess} Save it again as 'CSV UTF-8', or convert it with "
            "pandas.read_csv(path, encoding='cp1252').to_csv(new_path, index=False)."
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------- generic checks


def _check_required(df: pd.DataFrame, required: Sequence[str], source: str, hint: str = "") -> None:
    present = [str(c) for c in df.columns]
    missing = [c for c in required if c not in present]
    if not missing:
        return
    unknown = [c for c in present if c not in required]
    parts = []
    for col in missing:
        match = difflib.get_close_matches(col, unknown, n=1, cutoff=0.6)
        if not match:
            lowered = {u.lower().replace(" ", "_").replace(".", "_"): u for u in unknown}
            key = col.lower().replace(".", "_")
            match = [lowered[key]] if key in lowered else []
        if match:
            parts.append(f"'{col}' (is the column '{match[0]}' a misspelling of '{col}'? rename it)")
        else:
            parts.append(f"'{col}'")
    raise DataValidationError(
        f"{source} is missing the required column{'s' if len(missing) > 1 else ''} "
        + ", ".join(parts)
        + f". Columns found: {present}. Required: {list(required)}."
        + (f" {hint}" if hint else "")
    )


def _check_unique_columns(df: pd.DataFrame, source: str) -> None:
    duplicated = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    if duplicated:
        raise DataValidationError(
            f"{source} has duplicate column names: {', '.join(repr(d) for d in duplicated)}. "
            "Every column needs a distinct name."
        )


def _numeric(df: pd.DataFrame, col: str, source: str, rows: _Rows) -> pd.Series:
    """Return the column as float64, raising on text that is not a number and on missing values."""
    s = df[col]
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype(float)
    if not pd.api.types.is_numeric_dtype(s.dtype):
        as_text = s.astype(object)
        converted = pd.to_numeric(as_text.map(lambda v: v.strip() if isinstance(v, str) else v), errors="coerce")
        bad = _positions(converted.isna() & as_text.notna() & (as_text.astype(str).str.strip() != ""))
        if bad:
            raise DataValidationError(
                f"{source}: column '{col}' must be numeric, but {len(bad)} value{'s are' if len(bad) > 1 else ' is'} "
                f"not a number ({rows.values(bad, as_text.iloc[bad].tolist())})."
            )
        s = converted
    s = s.astype(float)
    missing = _positions(s.isna())
    if missing:
        raise DataValidationError(
            f"{source}: column '{col}' has {len(missing)} missing value{'s' if len(missing) > 1 else ''} "
            f"({rows.names(missing)}). Drop or fill those rows before modelling."
        )
    infinite = _positions(~np.isfinite(s.to_numpy()))
    if infinite:
        raise DataValidationError(
            f"{source}: column '{col}' has {len(infinite)} infinite value(s) ({rows.names(infinite)})."
        )
    return s


def _check_range(
    s: pd.Series,
    col: str,
    source: str,
    rows: _Rows,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    allowed: Sequence[float] | None = None,
    meaning: str = "",
) -> None:
    values = s.to_numpy(dtype=float)
    if allowed is not None:
        bad = _positions(~np.isin(values, allowed))
        expected = "one of " + ", ".join(f"{a:g}" for a in allowed)
    else:
        ok = np.ones(len(values), dtype=bool)
        if low is not None:
            ok &= values > low if low_open else values >= low
        if high is not None:
            ok &= values <= high
        bad = _positions(~ok)
        if low is not None and high is not None:
            expected = f"between {low:g} and {high:g}"
        elif low is not None:
            expected = f"{'greater than' if low_open else 'at least'} {low:g}"
        else:
            expected = f"at most {high:g}"
    if bad:
        raise DataValidationError(
            f"{source}: column '{col}' must be {expected}{f' ({meaning})' if meaning else ''}, but "
            f"{len(bad)} value{'s are' if len(bad) > 1 else ' is'} outside that range "
            f"({rows.values(bad, [float(v) for v in values[bad]])})."
        )


def _check_groups(df: pd.DataFrame, col: str, source: str, rows: _Rows) -> pd.Series:
    """Group labels: no missing or blank names, and no declared category without rows."""
    s = df[col]
    missing = _positions(s.isna())
    if missing:
        raise DataValidationError(
            f"{source}: column '{col}' has {len(missing)} missing group name{'s' if len(missing) > 1 else ''} "
            f"({rows.names(missing)}). Every row needs a group."
        )
    blank = _positions(s.astype(str).str.strip() == "")
    if blank:
        raise DataValidationError(
            f"{source}: column '{col}' has {len(blank)} empty group name{'s' if len(blank) > 1 else ''} "
            f"({rows.names(blank)}). Every row needs a non-empty group name."
        )
    if isinstance(s.dtype, pd.CategoricalDtype):
        counts = s.value_counts(sort=False)
        empty = [str(c) for c, n in counts.items() if n == 0]
        if empty:
            raise DataValidationError(
                f"{source}: group{'s' if len(empty) > 1 else ''} "
                + ", ".join(repr(e) for e in empty[:_MAX_SHOWN])
                + (f" and {len(empty) - _MAX_SHOWN} more" if len(empty) > _MAX_SHOWN else "")
                + f" of column '{col}' {'have' if len(empty) > 1 else 'has'} no rows (a category left over after "
                f"filtering?). Drop unused categories first: df['{col}'] = df['{col}'].cat.remove_unused_categories()."
            )
    return s


def _check_constant_within(
    df: pd.DataFrame, value_col: str, values: pd.Series, group_col: str, source: str, what: str
) -> None:
    frame = pd.DataFrame({"g": df[group_col].astype(str).to_numpy(), "v": values.to_numpy()})
    spread = frame.groupby("g", sort=True)["v"].agg(["min", "max", "nunique"])
    bad = spread[~np.isclose(spread["min"], spread["max"], rtol=1e-9, atol=1e-12)]
    if len(bad):
        shown = "; ".join(
            f"{g}: {int(r['nunique'])} different values from {r['min']:g} to {r['max']:g}"
            for g, r in bad.head(_MAX_SHOWN).iterrows()
        )
        raise DataValidationError(
            f"{source}: column '{value_col}' is {what} and must be constant within each '{group_col}', "
            f"but it varies in {len(bad)} group{'s' if len(bad) > 1 else ''} ({shown})."
        )


def validate_columns(
    df: pd.DataFrame,
    *,
    numeric: Sequence[str] = (),
    groups: Sequence[str] = (),
    source: str = "data",
) -> None:
    """Generic check for model inputs: columns exist; ``numeric`` ones are finite numbers with no
    missing values; ``groups`` have no missing or blank labels and no empty categories.

    Raises :class:`DataValidationError`, with the loaders' messages (row numbers as in a file, hints
    for misspelt columns). For checking a table before modelling it; the model builders, figures
    and summaries check their own input with :mod:`pooling.columns`.
    """
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"{source} must be a pandas DataFrame, got {type(df).__name__}.")
    _check_unique_columns(df, source)
    _check_required(df, list(groups) + list(numeric), source)
    if len(df) == 0:
        raise DataValidationError(f"{source} has no rows.")
    rows = _Rows(df, from_file=False)
    for col in groups:
        _check_groups(df, col, source, rows)
    for col in numeric:
        _numeric(df, col, source, rows)


# --------------------------------------------------------------------------- survey


def _survey_checks(df: pd.DataFrame, source: str, rows: _Rows, require_party: bool) -> dict[str, pd.Series]:
    """Run every survey check; return the numeric columns converted to numbers."""
    _check_unique_columns(df, source)
    required = list(SURVEY_REQUIRED) + (["party"] if require_party else [])
    _check_required(
        df,
        required,
        source,
        hint="('party' is needed only by the three-level model.)" if require_party else "",
    )
    if len(df) == 0:
        raise DataValidationError(f"{source} has no rows.")
    _check_groups(df, "country_name", source, rows)
    if "party" in df.columns:
        _check_groups(df, "party", source, rows)
    out = {col: _numeric(df, col, source, rows) for col in ("antiauth", "china", "trade_china")}
    _check_range(out["antiauth"], "antiauth", source, rows, low=0, high=4, meaning="the 0-4 anti-authoritarian index")
    _check_range(out["china"], "china", source, rows, low=1, high=5, meaning="the 1-5 score of attitudes toward China")
    _check_range(
        out["trade_china"], "trade_china", source, rows, low=0, low_open=True, meaning="trade with China, USD millions"
    )
    _check_constant_within(df, "trade_china", out["trade_china"], "country_name", source, "a country-level variable")
    if "party" in df.columns:
        nesting = pd.DataFrame({"p": df["party"].astype(str).to_numpy(), "c": df["country_name"].astype(str).to_numpy()})
        per_party = nesting.groupby("p")["c"].unique()
        shared = per_party[per_party.map(len) > 1]
        if len(shared):
            shown = "; ".join(f"{p!r} in {sorted(c)}" for p, c in shared.head(_MAX_SHOWN).items())
            raise DataValidationError(
                f"{source}: parties must be nested in countries (each party name in one country only), but "
                f"{len(shared)} part{'ies appear' if len(shared) > 1 else 'y appears'} in several countries "
                f"({shown}). Prefix party names with the country, e.g. 'Nigeria: Party 1'."
            )
    if "respondent_id" in df.columns:
        ids = _numeric(df, "respondent_id", source, rows)
        fractional = _positions(ids != np.round(ids))
        if fractional:
            raise DataValidationError(
                f"{source}: column 'respondent_id' must hold whole numbers "
                f"({rows.values(fractional, ids.iloc[fractional].tolist())})."
            )
        dup = _positions(ids.duplicated(keep=False))
        if dup:
            raise DataValidationError(
                f"{source}: column 'respondent_id' must be unique, but {len(dup)} rows share an id "
                f"({rows.values(dup, [int(v) for v in ids.iloc[dup]])})."
            )
        out["respondent_id"] = ids
    return out


def validate_survey(df: pd.DataFrame, *, require_party: bool = False, source: str = "survey data") -> None:
    """Check a survey DataFrame against the schema; raise :class:`DataValidationError` on the first problem.

    Required columns: ``country_name``, ``antiauth`` (0-4), ``china`` (1-5), ``trade_china`` (> 0,
    constant within country). Optional: ``respondent_id`` (unique whole numbers) and ``party``
    (nested in country; required when ``require_party=True``). Extra columns are allowed.
    """
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"{source} must be a pandas DataFrame, got {type(df).__name__}.")
    _survey_checks(df, source, _Rows(df, from_file=False), require_party)


def _sort_key(name: str) -> tuple:
    """Alphabetical order that ignores accents and case and orders numbers naturally (Party 2 < Party 10)."""
    plain = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().casefold()
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", plain)), str(name)


def _categories(values: Iterable, last: Iterable = ()) -> list[str]:
    last = sorted(set(last), key=_sort_key)
    first = sorted(set(values) - set(last), key=_sort_key)
    return first + last


def _tidy_survey(df: pd.DataFrame, converted: dict[str, pd.Series], new_countries: Iterable[str] = ()) -> pd.DataFrame:
    df = df.copy()
    df = df.drop(columns=["log_trade_china"], errors="ignore")
    for col in ("antiauth", "china", "trade_china"):
        df[col] = converted[col].to_numpy(dtype=np.float64)
    if "respondent_id" in converted:
        df["respondent_id"] = converted["respondent_id"].to_numpy().astype(np.int64)
    new_countries = list(new_countries)
    country = df["country_name"].astype(str).str.strip()
    df["country_name"] = pd.Categorical(country, categories=_categories(country, last=new_countries))
    if "party" in df.columns:
        party = df["party"].astype(str).str.strip()
        new_parties = party[country.isin(new_countries)]
        df["party"] = pd.Categorical(party, categories=_categories(party, last=new_parties))
    df["log_trade_china"] = np.log(df["trade_china"].to_numpy())
    return df.reset_index(drop=True)


def _read_survey(path: Path, what: str) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    df = _read_csv(path, what)
    source = f"{what} file {path}"
    converted = _survey_checks(df, source, _Rows(df, from_file=True), require_party=False)
    return df, converted


def load_survey(
    path: str | os.PathLike | None = None,
    *,
    with_new_countries: bool = False,
    new_countries_path: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Load the survey as a tidy DataFrame.

    Parameters
    ----------
    path
        CSV file; default ``data/survey.csv`` (simulated, 33 countries). The original course file
        (``ab_valid.csv``) works too: required columns are ``country_name``, ``antiauth``, ``china``,
        ``trade_china``; ``respondent_id`` and ``party`` are optional; extra columns are kept.
    with_new_countries
        Append the rows of the late-arriving countries (Zudan and Zudania) from
        ``new_countries_path`` (default ``data/survey_new_countries.csv``); they come last in the
        categories of ``country_name`` and ``party``.

    Returns
    -------
    DataFrame, one row per respondent: ``respondent_id`` (int64, if present), ``country_name``
    (Categorical, alphabetical), ``party`` (Categorical, if present), ``antiauth`` (float, 0-4),
    ``china`` (float, 1-5), ``trade_china`` (float, USD millions), any extra columns, and
    ``log_trade_china`` (natural log of ``trade_china``).
    """
    main_path = _resolve(path, _SURVEY_FILE)
    df, converted = _read_survey(main_path, "Survey")
    new_names: list[str] = []
    if with_new_countries:
        new_path = _resolve(new_countries_path, _NEW_COUNTRIES_FILE)
        new, new_converted = _read_survey(new_path, "New-countries survey")
        new_names = sorted(set(new["country_name"].astype(str).str.strip()))
        overlap = sorted(set(df["country_name"].astype(str).str.strip()) & set(new_names))
        if overlap:
            raise DataValidationError(
                f"Countries {overlap} appear both in {main_path} and in {new_path}; the second file should "
                "hold only the late-arriving countries."
            )
        for col in SURVEY_OPTIONAL:  # keep an optional column only if both files have it
            if (col in df.columns) != (col in new.columns):
                df = df.drop(columns=[col], errors="ignore")
                new = new.drop(columns=[col], errors="ignore")
                converted.pop(col, None)
                new_converted.pop(col, None)
        combined = pd.concat([df, new], ignore_index=True)
        merged = {
            col: pd.concat([converted[col], new_converted[col]], ignore_index=True)
            for col in converted
            if col in new_converted
        }
        source = f"Survey files {main_path} + {new_path}"
        if "respondent_id" in merged:
            dup = merged["respondent_id"][merged["respondent_id"].duplicated(keep=False)]
            if len(dup):
                raise DataValidationError(
                    f"{source}: respondent_id values {sorted(set(int(v) for v in dup))[:_MAX_SHOWN]} appear in both "
                    "files; ids must be unique across the combined survey."
                )
        df, converted = combined, merged
    return _tidy_survey(df, converted, new_names)


def load_new_countries(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load only the late-arriving countries (default ``data/survey_new_countries.csv``: Zudan, Zudania).

    Same columns and types as :func:`load_survey`.
    """
    df, converted = _read_survey(_resolve(path, _NEW_COUNTRIES_FILE), "New-countries survey")
    return _tidy_survey(df, converted)


# --------------------------------------------------------------------------- radon


def _radon_checks(df: pd.DataFrame, names: dict[str, str], source: str, rows: _Rows) -> dict[str, pd.Series]:
    """``names`` maps the tidy name to the column name used in ``df``."""
    _check_unique_columns(df, source)
    _check_required(df, [names[c] for c in ("log_radon", "floor", "log_uranium", "county")], source)
    if len(df) == 0:
        raise DataValidationError(f"{source} has no rows.")
    county = names["county"]
    _check_groups(df, county, source, rows)
    out = {tidy: _numeric(df, names[tidy], source, rows) for tidy in ("log_radon", "floor", "log_uranium")}
    _check_range(
        out["floor"], names["floor"], source, rows, allowed=(0, 1), meaning="0 = basement, 1 = first floor"
    )
    _check_constant_within(df, names["log_uranium"], out["log_uranium"], county, source, "a county-level variable")
    return out


def validate_radon(df: pd.DataFrame, *, source: str = "radon data") -> None:
    """Check a tidy radon DataFrame (``county``, ``log_radon``, ``floor`` in {0, 1}, ``log_uranium``
    constant within county); raise :class:`DataValidationError` on the first problem."""
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"{source} must be a pandas DataFrame, got {type(df).__name__}.")
    _radon_checks(df, {c: c for c in RADON_COLUMNS}, source, _Rows(df, from_file=False))


def load_radon(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load the Minnesota radon data (default ``data/radon.csv``; 919 homes in 85 counties).

    The file's columns ``log.radon, basement, uranium, county, county.name`` become ``county``
    (Categorical of county names, alphabetical), ``log_radon`` (float, log pCi/L), ``floor``
    (int64: 0 = measured in the basement, 1 = on the first floor; the file calls this column
    ``basement``) and ``log_uranium`` (float, county-level log soil uranium, ppm). The numeric
    county id is dropped; other extra columns are kept. A file already in the tidy layout is
    accepted as well.
    """
    path = _resolve(path, _RADON_FILE)
    df = _read_csv(path, "Radon")
    source = f"Radon file {path}"
    rows = _Rows(df, from_file=True)
    tidy_layout = set(RADON_COLUMNS) <= set(df.columns) and "county.name" not in df.columns
    if tidy_layout:
        names = {c: c for c in RADON_COLUMNS}
    else:
        names = {tidy: raw for raw, tidy in _RADON_RENAME.items()}
    converted = _radon_checks(df, names, source, rows)
    county = df[names["county"]].astype(str).str.strip()
    extras = [c for c in df.columns if c not in names.values() and c != "county"]
    out = pd.DataFrame(
        {
            "county": pd.Categorical(county, categories=_categories(county)),
            "log_radon": converted["log_radon"].to_numpy(dtype=np.float64),
            "floor": converted["floor"].to_numpy().astype(np.int64),
            "log_uranium": converted["log_uranium"].to_numpy(dtype=np.float64),
        }
    )
    for col in extras:
        out[col] = df[col].to_numpy()
    return out


# --------------------------------------------------------------------------- labels


def label_with_n(series: pd.Series) -> pd.Series:
    """Label each value with its count in ``series``, e.g. ``"Nigeria (N = 1,452)"``.

    A Categorical input gives a Categorical output with the same order of categories
    (categories without rows are dropped); other input gives strings.
    """
    counts = series.value_counts(sort=False)
    labels = {value: f"{value} (N = {int(n):,})" for value, n in counts.items() if n > 0}
    out = series.map(labels)
    if isinstance(series.dtype, pd.CategoricalDtype):
        order = [labels[c] for c in series.cat.categories if c in labels]
        out = pd.Series(pd.Categorical(out, categories=order), index=series.index, name=series.name)
    return out
