"""pooling.tables.show_table: how numbers, gaps and labels appear on the page."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import pooling.tables
from pooling.tables import DASH, Table, show_table


@pytest.fixture
def summary() -> pd.DataFrame:
    """Shaped like pooling.fitting.summarize(): estimates, ESS and R-hat, labelled rows."""
    return pd.DataFrame(
        {
            "mean": [0.123456, -4189.623891, 0.0004],
            "sd": [0.0149, 2.5, np.nan],
            "ess_bulk": [1523.712, 33724.0, 402.5],
            "ess_tail": [988.1, 2001.9, np.nan],
            "r_hat": [1.00312, 1.0149, np.nan],
        },
        index=["alpha[Ghana]", "elpd", "sigma_y"],
    )


def cells(table: Table) -> dict[str, list[str]]:
    return {name: [row[i] for row in table.rows] for i, name in enumerate(table.header)}


def test_estimates_are_rounded_to_the_requested_digits(summary):
    two = cells(show_table(summary))
    assert two["mean"] == ["0.12", "-4,189.62", "0.00"]
    assert two["sd"][:2] == ["0.01", "2.50"]
    three = cells(show_table(summary, digits=3))
    assert three["mean"] == ["0.123", "-4,189.624", "0.000"]


def test_r_hat_has_its_own_digits(summary):
    assert cells(show_table(summary, digits=4))["r_hat"][:2] == ["1.00", "1.01"]
    assert cells(show_table(summary, rhat_digits=3))["r_hat"][:2] == ["1.003", "1.015"]


def test_counts_and_ess_are_whole_numbers_with_separators(summary):
    table = cells(show_table(summary, digits=3))
    assert table["ess_bulk"] == ["1,524", "33,724", "402"]  # 402.5 rounds half to even
    assert table["ess_tail"] == ["988", "2,002", DASH]
    counts = pd.DataFrame(
        {"n": [4.0, 3000.0], "count": [33724.0, 1.0], "divergences": [0.0, 12.0],
         "n_homes": [1.0, 116.0], "respondents": np.array([4, 3000], dtype="int64")},
        index=["Zudan", "Zudania"],
    )
    formatted = cells(show_table(counts))
    assert formatted["n"] == ["4", "3,000"]
    assert formatted["count"] == ["33,724", "1"]
    assert formatted["divergences"] == ["0", "12"]
    assert formatted["n_homes"] == ["1", "116"]
    assert formatted["respondents"] == ["4", "3,000"]  # integer dtype: a count too


def test_column_kind_is_read_from_the_words_of_its_name():
    frame = pd.DataFrame(
        {"min bulk ESS": [412.4], "draws per chain": [2000.0], "max r-hat": [1.0123],
         "sigma_y_over_sqrt_n": [0.0123], "N_obs": [12.0], "lowest ESS for": ["alpha[Zudan]"]},
        index=["fit"],
    )
    table = cells(show_table(frame, digits=3))
    assert table["min bulk ESS"] == ["412"]
    assert table["draws per chain"] == ["2,000"]
    assert table["max r-hat"] == ["1.01"]
    assert table["sigma_y_over_sqrt_n"] == ["0.012"]  # ends in n, but is not a count
    assert table["N_obs"] == ["12"]
    assert table["lowest ESS for"] == ["alpha[Zudan]"]  # text in a count column stays text


def test_int_cells_have_no_decimals_in_a_mixed_column():
    # a transposed table of mixed rows: ints and floats share object columns
    frame = pd.DataFrame({"survey": {"draws": 1000, "seconds": 12.345},
                          "radon": {"draws": 2000, "seconds": 3.0}}).T
    table = cells(show_table(frame))
    assert table["draws"] == ["1,000", "2,000"]
    assert table["seconds"] == ["12.35", "3.00"]
    mixed = pd.Series([3, 0.25], index=["n", "share"], dtype=object, name="value").to_frame()
    assert cells(show_table(mixed))["value"] == ["3", "0.25"]
    assert cells(show_table(mixed, formats={"value": 1}))["value"] == ["3.0", "0.2"]


def test_a_column_of_whole_numbers_gets_no_decimals():
    frame = pd.DataFrame({"trade_china": [30.0, 40000.0, np.nan], "share": [0.5, 1.0, 2.0]},
                         index=["a", "b", "c"])
    table = cells(show_table(frame))
    assert table["trade_china"] == ["30", "40,000", DASH]
    assert table["share"] == ["0.50", "1.00", "2.00"]  # one fraction: the column keeps its decimals
    assert cells(show_table(frame, formats={"trade_china": 2}))["trade_china"][0] == "30.00"


def test_identifiers_get_no_thousands_separator():
    frame = pd.DataFrame({"respondent_id": np.array([1, 12345], dtype="int64"), "china": [3.1, 2.9]})
    assert cells(show_table(frame))["respondent_id"] == ["1", "12345"]


def test_missing_values_become_a_dash():
    frame = pd.DataFrame(
        {"value": [1.5, np.nan, None], "label": ["a", None, "c"], "n": [3.0, np.nan, 5.0]},
        index=["x", "y", "z"],
    )
    table = cells(show_table(frame))
    assert table["value"] == ["1.50", DASH, DASH]
    assert table["label"] == ["a", DASH, "c"]
    assert table["n"] == ["3", DASH, "5"]
    assert "nan" not in show_table(frame).to_markdown().lower()
    assert "NaN" not in str(show_table(frame))


def test_no_negative_zero():
    frame = pd.DataFrame({"x": [-0.0004, -0.004]})
    assert cells(show_table(frame))["x"] == ["0.00", "0.00"]
    assert cells(show_table(frame, digits=3))["x"] == ["0.000", "-0.004"]


def test_text_and_booleans_are_kept_and_mixed_columns_formatted_cell_by_cell():
    # pd.DataFrame(rows).T gives object columns that mix numbers and text
    rows = {"Zudan": {"n": 4, "mean": 2.0412, "note": "small"},
            "Zudania": {"n": 3000, "mean": 3.91, "note": "large"}}
    frame = pd.DataFrame(rows).T
    frame["covers"] = [True, False]
    table = cells(show_table(frame))
    assert table["n"] == ["4", "3,000"]
    assert table["mean"] == ["2.04", "3.91"]
    assert table["note"] == ["small", "large"]
    assert table["covers"] == ["yes", "no"]


def test_the_index_is_shown_with_its_name():
    frame = pd.DataFrame({"mean_china": [2.1, 3.9]},
                         index=pd.Index(["Zudan", "Zudania"], name="country_name"))
    table = show_table(frame)
    assert table.header == ["country_name", "mean_china"]
    assert [row[0] for row in table.rows] == ["Zudan", "Zudania"]
    assert "| Zudan " in table.to_markdown()


def test_a_plain_range_index_is_hidden_unless_asked_for():
    frame = pd.DataFrame({"china": [3.0, 2.5]})
    assert show_table(frame).header == ["china"]
    assert show_table(frame, index=True).header == ["", "china"]
    named = frame.rename_axis("row")
    assert show_table(named).header == ["row", "china"]


def test_multiindex_rows_and_columns():
    index = pd.MultiIndex.from_tuples([("Ghana", "Party 1"), ("Ghana", "Party 2")],
                                      names=["country", "party"])
    columns = pd.MultiIndex.from_tuples([("china", "mean"), ("china", "n")])
    frame = pd.DataFrame([[3.123, 10.0], [2.0, 2000.0]], index=index, columns=columns)
    table = show_table(frame)
    assert table.header == ["country", "party", "china mean", "china n"]
    assert table.rows[1] == ["Ghana", "Party 2", "2.00", "2,000"]


def test_formats_override_the_rule():
    frame = pd.DataFrame({"elpd": [-4189.623891], "n": [33724.0], "code": [7.0]}, index=["pp"])
    table = cells(show_table(frame, formats={"elpd": 1, "n": 2, "code": "text"}))
    assert table["elpd"] == ["-4,189.6"]
    assert table["n"] == ["33,724.00"]
    assert table["code"] == ["7.0"]
    assert cells(show_table(frame, formats={"elpd": "integer"}))["elpd"] == ["-4,190"]


def test_markdown_is_a_pipe_table_with_numbers_right_aligned(summary):
    markdown = show_table(summary).to_markdown()
    lines = markdown.split("\n")
    assert len(lines) == 2 + len(summary)
    assert all(line.startswith("| ") and line.endswith(" |") for line in lines)
    rule = [cell.strip() for cell in lines[1].strip("|").split("|")]
    assert rule[0].startswith(":")  # labels left
    assert all(cell.endswith(":") and not cell.startswith(":") for cell in rule[1:])  # numbers right
    assert len({len(line) for line in lines}) == 1  # padded: readable as plain text too


def test_markdown_syntax_in_cells_is_escaped():
    frame = pd.DataFrame({"a|b": ["*x*", "_y_"], "hdi_3%": [1.0, 2.0]}, index=["$z$", "w"])
    markdown = show_table(frame).to_markdown()
    assert r"a\|b" in markdown and r"\*x\*" in markdown and r"\_y\_" in markdown
    assert r"\$z\$" in markdown
    assert "hdi_3%" in markdown  # an underscore inside a word is left alone


def test_display_is_markdown_only(summary):
    table = show_table(summary)
    from IPython.core.formatters import DisplayFormatter

    bundle, _ = DisplayFormatter().format(table)
    assert "text/markdown" in bundle
    assert "text/html" not in bundle
    assert bundle["text/markdown"] == table.to_markdown()
    assert bundle["text/plain"] == str(table)  # what a console shows


def test_print_gives_an_aligned_text_table(summary):
    text = str(show_table(summary))
    lines = text.split("\n")
    assert lines[0].split() == ["mean", "sd", "ess_bulk", "ess_tail", "r_hat"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].split() == ["alpha[Ghana]", "0.12", "0.01", "1,524", "988", "1.00"]
    assert "|" not in text
    assert repr(show_table(summary)) == text


def test_rejects_what_is_not_a_data_frame():
    with pytest.raises(TypeError, match=r"Series.*to_frame\(\)"):
        show_table(pd.Series([1.0, 2.0]))
    with pytest.raises(TypeError, match="needs a pandas DataFrame, got list"):
        show_table([[1, 2]])


def test_rejects_an_unknown_column_in_formats(summary):
    with pytest.raises(KeyError, match=r"\['ess'\].*its columns are"):
        show_table(summary, formats={"ess": "integer"})


@pytest.mark.parametrize("formats", [{"mean": "float"}, {"mean": -1}, {"mean": 1.5}, {"mean": True}])
def test_rejects_a_format_it_does_not_understand(summary, formats):
    with pytest.raises(ValueError, match=r"formats\['mean'\]"):
        show_table(summary, formats=formats)


@pytest.mark.parametrize("kwargs", [{"digits": -1}, {"digits": 2.5}, {"rhat_digits": "2"}])
def test_rejects_bad_digits(summary, kwargs):
    with pytest.raises(ValueError, match="must be a whole number >= 0"):
        show_table(summary, **kwargs)


def test_docstring_examples_run():
    result = doctest.testmod(pooling.tables)
    assert result.attempted > 0
    assert result.failed == 0


def test_a_share_in_a_column_named_like_a_count_keeps_its_decimals():
    # "P(|rho| > 0.5), draws" holds shares of draws, not a count: 0.276 must not print as 0
    table = show_table(pd.DataFrame({"P(|rho| > 0.5), draws": [0.276, 1.0], "ess_bulk": [1234.5, 400.2]}), digits=3)
    assert table.rows == [["0.276", "1,234"], ["1.000", "400"]]
