"""Loaders and validation of pooling.data: happy paths and every bad-input case."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pooling import data
from pooling.data import (
    DataValidationError,
    label_with_n,
    load_new_countries,
    load_radon,
    load_survey,
    validate_columns,
    validate_radon,
    validate_survey,
)

HEADER = "respondent_id,country_name,party,antiauth,china,trade_china"
GOOD_ROWS = [
    "1,Nigeria,Nigeria: Party 1,2.50,3.10,15000.00",
    "2,Nigeria,Nigeria: Party 2,1.75,3.40,15000.00",
    "3,Tunisia,Tunisia: Party 1,3.00,2.90,1600.00",
    "4,Tunisia,Tunisia: Party 1,0.25,3.20,1600.00",
]


def write(tmp_path: Path, lines: list[str] | str, name: str = "survey.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    text = lines if isinstance(lines, str) else "\n".join(lines) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def survey_file(tmp_path: Path, rows: list[str] | None = None, header: str = HEADER, **kw) -> Path:
    return write(tmp_path, [header, *(GOOD_ROWS if rows is None else rows)], **kw)


def raises(match: str):
    return pytest.raises(DataValidationError, match=match)


# --------------------------------------------------------------------------- happy paths


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return load_survey()


def test_load_survey_schema(survey):
    assert list(survey.columns) == [
        "respondent_id",
        "country_name",
        "party",
        "antiauth",
        "china",
        "trade_china",
        "log_trade_china",
    ]
    assert survey["respondent_id"].dtype == np.int64
    for col in ("antiauth", "china", "trade_china", "log_trade_china"):
        assert survey[col].dtype == np.float64
    assert isinstance(survey["country_name"].dtype, pd.CategoricalDtype)
    assert isinstance(survey["party"].dtype, pd.CategoricalDtype)
    assert survey["country_name"].nunique() == 33
    assert len(survey["country_name"].cat.categories) == 33
    np.testing.assert_allclose(survey["log_trade_china"], np.log(survey["trade_china"]))
    cats = list(survey["country_name"].cat.categories)
    assert cats[0] == "Benin" and cats[-1] == "Zimbabwe"
    # accent-insensitive alphabetical order
    assert cats.index("São Tomé and Príncipe") < cats.index("Senegal")
    assert cats.index("Côte d'Ivoire") > cats.index("Cameroon")
    assert {"Nigeria", "Tanzania", "Tunisia", "Zimbabwe"} <= set(cats)


def test_load_survey_with_new_countries(survey):
    both = load_survey(with_new_countries=True)
    new = load_new_countries()
    assert len(both) == len(survey) + len(new)
    cats = list(both["country_name"].cat.categories)
    assert cats[-2:] == ["Zudan", "Zudania"]
    assert cats[:-2] == list(survey["country_name"].cat.categories)
    assert list(both["party"].cat.categories[-1:]) == ["Zudania: Party 4"]
    assert both["respondent_id"].is_unique
    assert set(new["country_name"].cat.categories) == {"Zudan", "Zudania"}
    assert list(new.columns) == list(survey.columns)


def test_load_radon():
    radon = load_radon()
    assert list(radon.columns) == ["county", "log_radon", "floor", "log_uranium"]
    assert radon.shape == (919, 4)
    assert isinstance(radon["county"].dtype, pd.CategoricalDtype)
    assert radon["county"].nunique() == 85 == len(radon["county"].cat.categories)
    assert radon["floor"].dtype == np.int64
    assert set(radon["floor"]) == {0, 1}
    # floor is the file's 'basement' column unchanged: 0 = basement, 1 = first floor
    raw = pd.read_csv(data.data_dir() / "radon.csv")
    np.testing.assert_array_equal(radon["floor"], raw["basement"])
    assert (radon["floor"] == 0).sum() > (radon["floor"] == 1).sum()  # most homes measured in the basement
    np.testing.assert_allclose(radon["log_radon"], raw["log.radon"])
    assert radon.groupby("county", observed=True)["log_uranium"].nunique().max() == 1
    validate_radon(radon)


def test_label_with_n():
    s = pd.Series(pd.Categorical(["B", "A", "B"] + ["C"] * 1200, categories=["B", "A", "C", "D"]))
    labels = label_with_n(s)
    assert labels.iloc[0] == "B (N = 2)"
    assert labels.iloc[-1] == "C (N = 1,200)"
    assert list(labels.cat.categories) == ["B (N = 2)", "A (N = 1)", "C (N = 1,200)"]
    plain = label_with_n(pd.Series(["x", "x", "y"]))
    assert plain.tolist() == ["x (N = 2)", "x (N = 2)", "y (N = 1)"]


def test_env_var_overrides_data_dir(tmp_path, monkeypatch):
    survey_file(tmp_path)
    monkeypatch.setenv("POOLING_DATA_DIR", str(tmp_path))
    assert data.data_dir() == tmp_path
    assert len(load_survey()) == len(GOOD_ROWS)


def test_original_course_layout_is_accepted(tmp_path):
    """No respondent_id, no party, an extra unnamed index column and another extra column."""
    path = write(
        tmp_path,
        [
            ",country_name,antiauth,china,trade_china,urban",
            "0,Nigeria,2.5,3,15000,1",
            "1,Tunisia,1.25,4,1600,0",
        ],
        name="ab_valid.csv",
    )
    df = load_survey(path)
    assert "party" not in df.columns and "respondent_id" not in df.columns
    assert "urban" in df.columns and "Unnamed: 0" in df.columns
    assert df["china"].tolist() == [3.0, 4.0]
    with raises("missing the required column 'party'.*three-level"):
        validate_survey(df, require_party=True)


def test_with_new_countries_from_other_paths(tmp_path):
    main = survey_file(tmp_path)
    new = write(
        tmp_path,
        [HEADER, "10,Zudan,Zudan: Party 1,2.0,2.0,35", "11,Zudania,Zudania: Party 1,2.0,4.0,12000"],
        name="new.csv",
    )
    df = load_survey(main, with_new_countries=True, new_countries_path=new)
    assert list(df["country_name"].cat.categories) == ["Nigeria", "Tunisia", "Zudan", "Zudania"]
    overlap = write(tmp_path, [HEADER, "10,Nigeria,Nigeria: Party 1,2.0,2.0,15000"], name="overlap.csv")
    with raises("appear both"):
        load_survey(main, with_new_countries=True, new_countries_path=overlap)
    same_ids = write(tmp_path, [HEADER, "1,Zudan,Zudan: Party 1,2.0,2.0,35"], name="same_ids.csv")
    with raises("respondent_id values \\[1\\] appear in both"):
        load_survey(main, with_new_countries=True, new_countries_path=same_ids)


def test_tidy_radon_layout_is_accepted(tmp_path):
    path = write(tmp_path, ["county,log_radon,floor,log_uranium", "A,1.0,0,0.5", "B,0.5,1,-0.2"], name="r.csv")
    radon = load_radon(path)
    assert radon["floor"].tolist() == [0, 1]


# --------------------------------------------------------------------------- file-level problems


def test_file_not_found(tmp_path):
    with raises("Survey file not found: .*nope.csv.*POOLING_DATA_DIR"):
        load_survey(tmp_path / "nope.csv")
    with raises("Radon file not found"):
        load_radon(tmp_path / "nope.csv")
    with raises("not found"):
        load_new_countries(tmp_path / "nope.csv")


def test_folder_instead_of_file(tmp_path):
    with raises("is a folder"):
        load_survey(tmp_path)


def test_empty_file(tmp_path):
    with raises("is empty"):
        load_survey(write(tmp_path, ""))
    with raises("is empty"):
        load_survey(write(tmp_path, "\n\n"))


def test_header_only(tmp_path):
    with raises("header but no data rows"):
        load_survey(survey_file(tmp_path, rows=[]))


@pytest.mark.parametrize("sep,shown", [(";", "';'"), ("\t", "tabs"), ("|", "'|'")])
def test_wrong_delimiter(tmp_path, sep, shown):
    lines = [line.replace(",", sep) for line in [HEADER, *GOOD_ROWS]]
    with raises(f"looks like it is separated by {re.escape(shown)}"):
        load_survey(write(tmp_path, lines))


def test_wrong_encoding_latin1(tmp_path):
    path = survey_file(tmp_path, rows=[*GOOD_ROWS, "5,Côte d'Ivoire,Côte d'Ivoire: Party 1,2.0,3.0,2300"], encoding="cp1252")
    with raises("not valid UTF-8 \\(byte 0xF4 on line 6\\); the expected encoding is UTF-8.*Windows-1252"):
        load_survey(path)


def test_wrong_encoding_utf16(tmp_path):
    with raises("UTF-16; the expected encoding is UTF-8"):
        load_survey(survey_file(tmp_path, encoding="utf-16"))


def test_spreadsheet_instead_of_csv(tmp_path):
    path = tmp_path / "survey.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)))
    with raises("looks like a spreadsheet workbook"):
        load_survey(path)


def test_utf8_bom_and_crlf_are_fine(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + "\r\n".join([HEADER, *GOOD_ROWS]) + "\r\n").encode("utf-8"))
    df = load_survey(path)
    assert list(df.columns)[0] == "respondent_id"
    assert len(df) == 4


def test_duplicate_header(tmp_path):
    header = "respondent_id,country_name,party,antiauth,china,china"
    with raises("duplicate column names in its header: 'china'"):
        load_survey(survey_file(tmp_path, header=header))


def test_ragged_row(tmp_path):
    with raises("could not be parsed as CSV"):
        load_survey(survey_file(tmp_path, rows=[*GOOD_ROWS, "5,Nigeria,Nigeria: Party 1,1,2,3,4,5"]))


# --------------------------------------------------------------------------- column-level problems


def test_missing_column(tmp_path):
    header = "respondent_id,country_name,party,antiauth,trade_china"
    rows = [",".join(r.split(",")[:4] + r.split(",")[5:]) for r in GOOD_ROWS]
    with raises("missing the required column 'china'\\. Columns found"):
        load_survey(survey_file(tmp_path, rows=rows, header=header))


def test_misspelled_column_gets_a_suggestion(tmp_path):
    header = "respondent_id,country_name,party,anti_auth,china,trade_china"
    with raises("'antiauth' \\(is the column 'anti_auth' a misspelling of 'antiauth'"):
        load_survey(survey_file(tmp_path, header=header))
    header = "respondent_id,Country Name,party,antiauth,china,trade_china"
    with raises("'Country Name' a misspelling of 'country_name'"):
        load_survey(survey_file(tmp_path, header=header))


def test_misspelled_radon_column(tmp_path):
    path = write(tmp_path, ["log_radon,basement,uranium,county,county.name", "1.0,0,0.5,1,A"], name="r.csv")
    with raises("'log.radon' \\(is the column 'log_radon' a misspelling"):
        load_radon(path)


def test_non_numeric_value(tmp_path):
    rows = [*GOOD_ROWS[:2], "3,Tunisia,Tunisia: Party 1,3.00,very high,1600.00", GOOD_ROWS[3]]
    with raises("column 'china' must be numeric, but 1 value is not a number \\(line 4: 'very high'\\)"):
        load_survey(survey_file(tmp_path, rows=rows))


def test_decimal_comma_is_reported_as_non_numeric(tmp_path):
    rows = [*GOOD_ROWS[:3], '4,Tunisia,Tunisia: Party 1,"0,25",3.20,1600.00']
    with raises("column 'antiauth' must be numeric.*line 5: '0,25'"):
        load_survey(survey_file(tmp_path, rows=rows))


def test_missing_values(tmp_path):
    rows = [GOOD_ROWS[0], "2,Nigeria,Nigeria: Party 2,,3.40,15000.00", GOOD_ROWS[2], "4,Tunisia,Tunisia: Party 1,NA,3.20,1600.00"]
    with raises("column 'antiauth' has 2 missing values \\(line 3, line 5\\)"):
        load_survey(survey_file(tmp_path, rows=rows))


def test_missing_group_name(tmp_path):
    rows = [*GOOD_ROWS[:3], "4,,Tunisia: Party 1,0.25,3.20,1600.00"]
    with raises("column 'country_name' has 1 missing group name \\(line 5\\)"):
        load_survey(survey_file(tmp_path, rows=rows))


@pytest.mark.parametrize(
    "row,match",
    [
        ("4,Tunisia,Tunisia: Party 1,4.25,3.20,1600.00", "'antiauth' must be between 0 and 4.*line 5: 4.25"),
        ("4,Tunisia,Tunisia: Party 1,-1,3.20,1600.00", "'antiauth' must be between 0 and 4.*line 5: -1.0"),
        ("4,Tunisia,Tunisia: Party 1,0.25,0,1600.00", "'china' must be between 1 and 5.*line 5: 0.0"),
        ("4,Tunisia,Tunisia: Party 1,0.25,7,1600.00", "'china' must be between 1 and 5.*line 5: 7.0"),
    ],
)
def test_out_of_range(tmp_path, row, match):
    with raises(match):
        load_survey(survey_file(tmp_path, rows=[*GOOD_ROWS[:3], row]))


def test_trade_must_be_positive(tmp_path):
    rows = [GOOD_ROWS[0], GOOD_ROWS[1], "3,Tunisia,Tunisia: Party 1,3.00,2.90,0", "4,Tunisia,Tunisia: Party 1,0.25,3.20,0"]
    with raises("'trade_china' must be greater than 0.*2 values are outside.*line 4: 0.0; line 5: 0.0"):
        load_survey(survey_file(tmp_path, rows=rows))


def test_trade_constant_within_country(tmp_path):
    rows = [*GOOD_ROWS[:3], "4,Tunisia,Tunisia: Party 1,0.25,3.20,1700.00"]
    with raises("'trade_china' is a country-level variable and must be constant within each 'country_name'.*Tunisia"):
        load_survey(survey_file(tmp_path, rows=rows))


def test_party_must_be_nested_in_country(tmp_path):
    rows = [*GOOD_ROWS[:3], "4,Tunisia,Party 1,0.25,3.20,1600.00", "5,Nigeria,Party 1,0.25,3.20,15000.00"]
    with raises("nested in countries.*'Party 1'"):
        load_survey(survey_file(tmp_path, rows=rows))


def test_duplicate_respondent_ids(tmp_path):
    rows = [*GOOD_ROWS[:3], "3,Tunisia,Tunisia: Party 1,0.25,3.20,1600.00"]
    with raises("'respondent_id' must be unique.*line 4: 3; line 5: 3"):
        load_survey(survey_file(tmp_path, rows=rows))


def test_radon_floor_values(tmp_path):
    path = write(
        tmp_path,
        ["log.radon,basement,uranium,county,county.name", "1.0,0,0.5,1,A", "1.0,2,0.5,1,A", "0.3,1,0.1,2,B"],
        name="r.csv",
    )
    with raises("'basement' must be one of 0, 1 \\(0 = basement, 1 = first floor\\).*line 3: 2.0"):
        load_radon(path)


def test_radon_uranium_constant_within_county(tmp_path):
    path = write(
        tmp_path,
        ["log.radon,basement,uranium,county,county.name", "1.0,0,0.5,1,A", "1.0,1,0.7,1,A"],
        name="r.csv",
    )
    with raises("'uranium' is a county-level variable.*A: 2 different values"):
        load_radon(path)


# --------------------------------------------------------------------------- DataFrames passed directly


def good_frame() -> pd.DataFrame:
    return load_survey(with_new_countries=True)


def test_validate_survey_accepts_loaded_frames():
    validate_survey(good_frame(), require_party=True)


def test_group_without_rows_after_filtering():
    df = good_frame()
    subset = df[df["country_name"] != "Zudan"]
    with raises("group 'Zudan' of column 'country_name' has no rows.*remove_unused_categories"):
        validate_survey(subset)
    subset = subset.assign(country_name=subset["country_name"].cat.remove_unused_categories())
    with raises("groups 'Zudan: Party 1', 'Zudan: Party 2' of column 'party' have no rows"):
        validate_survey(subset)


def test_empty_group_name_in_frame():
    df = pd.DataFrame({"country_name": ["A", "  "], "antiauth": [1.0, 2.0], "china": [3.0, 3.0], "trade_china": [5.0, 6.0]})
    with raises("column 'country_name' has 1 empty group name \\(row 1\\)"):
        validate_survey(df)


def test_frame_errors_name_index_labels():
    df = pd.DataFrame(
        {"country_name": ["A", "A", "B"], "antiauth": [1.0, 2.0, 3.0], "china": [3.0, 9.0, 3.0], "trade_china": 5.0},
        index=[10, 20, 30],
    )
    with raises("'china' must be between 1 and 5.*row 20: 9.0"):
        validate_survey(df)
    df = df.assign(china=["3", "x", "3"])
    with raises("'china' must be numeric.*row 20: 'x'"):
        validate_survey(df)


def test_frame_with_duplicate_columns():
    df = pd.DataFrame([[1.0, 2.0, 3.0, "A", 4.0]], columns=["antiauth", "china", "china", "country_name", "trade_china"])
    with raises("duplicate column names: 'china'"):
        validate_survey(df)


def test_not_a_frame():
    with raises("must be a pandas DataFrame"):
        validate_survey([1, 2, 3])
    with raises("must be a pandas DataFrame"):
        validate_radon("radon.csv")


def test_validate_radon_frame():
    radon = load_radon()
    with raises("'floor' must be one of 0, 1"):
        validate_radon(radon.assign(floor=radon["floor"] * 2))
    with raises("missing the required column 'log_uranium'"):
        validate_radon(radon.drop(columns="log_uranium"))
    with raises("'log_radon' has 1 missing value \\(row 5\\)"):
        validate_radon(radon.assign(log_radon=radon["log_radon"].where(radon.index != 5)))


def test_validate_columns_generic():
    radon = load_radon()
    validate_columns(radon, numeric=["log_radon", "floor"], groups=["county"])
    with raises("missing the required column 'floors' \\(is the column 'floors_'"):
        validate_columns(radon.rename(columns={"floor": "floors_"}), numeric=["floors"], groups=["county"])
    with raises("has no rows"):
        validate_columns(radon.iloc[:0], numeric=["log_radon"], groups=["county"])
    with raises("infinite"):
        validate_columns(radon.assign(log_radon=np.inf), numeric=["log_radon"])


def test_errors_are_value_errors():
    assert issubclass(DataValidationError, ValueError)
