"""Loaders for the simulated survey and the radon data.

**The survey files are simulated** (see :mod:`pooling.simulate` and ``data/README.md``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd


class DataValidationError(ValueError):
    """A data file or DataFrame does not match the expected schema."""


def data_dir() -> Path:
    env = os.environ.get("POOLING_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "data"


def _tidy_survey(df: pd.DataFrame, new_names: list[str] | None = None) -> pd.DataFrame:
    df = df.copy()
    names = sorted(set(df["country_name"]) - set(new_names or []))
    df["country_name"] = pd.Categorical(df["country_name"], categories=names + sorted(new_names or []))
    if "party" in df:
        parties = sorted(df["party"].unique())
        df["party"] = pd.Categorical(df["party"], categories=parties)
    df["log_trade_china"] = np.log(df["trade_china"])
    return df


def load_survey(path=None, *, with_new_countries=False):
    path = Path(path) if path is not None else data_dir() / "survey.csv"
    df = pd.read_csv(path)
    new_names = None
    if with_new_countries:
        new = pd.read_csv(data_dir() / "survey_new_countries.csv")
        new_names = sorted(new["country_name"].unique())
        df = pd.concat([df, new], ignore_index=True)
    return _tidy_survey(df, new_names)


def load_new_countries(path=None):
    path = Path(path) if path is not None else data_dir() / "survey_new_countries.csv"
    return _tidy_survey(pd.read_csv(path))


def load_radon(path=None):
    path = Path(path) if path is not None else data_dir() / "radon.csv"
    raw = pd.read_csv(path)
    return pd.DataFrame(
        {
            "county": pd.Categorical(raw["county.name"], categories=sorted(raw["county.name"].unique())),
            "log_radon": raw["log.radon"].astype(float),
            "floor": raw["basement"].astype(int),
            "log_uranium": raw["uranium"].astype(float),
        }
    )


def label_with_n(series: pd.Series) -> pd.Series:
    counts = series.value_counts()
    return series.map(lambda v: f"{v} (N = {counts[v]:,})")
